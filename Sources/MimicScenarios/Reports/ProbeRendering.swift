import Foundation
import MimicCerts
import MimicCore
import MimicNet
import MimicTLS
import MimicVerdict

/// Output formats for `mimic probe`.
public enum ProbeFormat: String, Sendable, CaseIterable, Codable {
    case text
    case json
    /// One Nagios plugin line per target, with perfdata.
    case nagios
}

/// The reports of one target, one per backend.
public struct ProbeResult: Sendable, Codable {
    public var target: ProbeTarget
    public var reports: [ProbeReport]
    /// `--enumerate`: every backend's offers, the libraries' disagreements, notes and the time it took.
    public var enumeration: EnumerationResult?

    public init(target: ProbeTarget, reports: [ProbeReport], enumeration: EnumerationResult? = nil) {
        self.target = target
        self.reports = reports
        self.enumeration = enumeration
        if let enumeration {
            for index in self.reports.indices { self.reports[index].add(enumeration) }
        }
    }

    public var severity: Severity { reports.map(\.severity).max() ?? .unknown }

    /// Every finding, once per code and phase, naming the backends that reported it.
    public var mergedFindings: [(Finding, [TLSBackend])] {
        var merged: [(Finding, [TLSBackend])] = []
        for report in reports {
            for finding in report.findings {
                if let index = merged.firstIndex(where: { $0.0.code == finding.code && $0.0.phase == finding.phase }) {
                    if !merged[index].1.contains(report.backend) { merged[index].1.append(report.backend) }
                } else {
                    merged.append((finding, [report.backend]))
                }
            }
        }
        return merged
    }
}

public enum ProbeRendering {
    public static func render(
        _ results: [ProbeResult], format: ProbeFormat, warnDays: Int = ExpiryThresholds.defaultWarnDays,
        critDays: Int = ExpiryThresholds.defaultCritDays
    )
        -> String
    {
        switch format {
        case .json: JSONReport.encode(results)
        case .nagios: results.map { nagios($0, warnDays: warnDays, critDays: critDays) }.joined(separator: "\n")
        case .text: results.map(text).joined(separator: "\n\n")
        }
    }

    /// The worst severity of all targets, as a Nagios exit code.
    public static func exitCode(_ results: [ProbeResult]) -> Int32 {
        (results.map(\.severity).max() ?? .unknown).exitCode
    }

    // MARK: - Text

    public static func text(_ result: ProbeResult) -> String {
        var out: [String] = []
        let target = result.target
        let name = target.serverName.map { "  servername \($0)" } ?? ""
        out.append("\(target)\(name)")
        if let first = result.reports.first, !first.transcript.isEmpty {
            out.append("Dialog (\(first.backend.displayName) connection)")
            out += first.transcript.prefix(60).map { "  \($0)" }
            if first.transcript.count > 60 {
                out.append("  … \(first.transcript.count - 60) more lines (see --format json)")
            }
        }
        out.append("")
        var table = TextTable(
            header: [""] + result.reports.map { "\($0.backend.displayName) \(shortVersion($0.libraryVersion))" })
        table.add(["handshake"] + result.reports.map(handshakeCell))
        table.add(["cipher"] + result.reports.map { $0.handshake?.cipherSuite ?? "-" })
        table.add(["group"] + result.reports.map { $0.handshake?.keyExchangeGroup ?? "-" })
        table.add(
            ["chain served"]
                + result.reports.map { report in
                    guard let handshake = report.handshake, handshake.completed else { return "-" }
                    return "\(handshake.peerChain.count) certificate(s)"
                })
        if result.reports.contains(where: { $0.dataChannel != nil }) {
            table.add(
                ["data channel"]
                    + result.reports.map { report in
                        guard let data = report.dataChannel else { return "-" }
                        guard data.completed else { return "failed" }
                        return
                            "\(data.negotiatedVersion?.displayName ?? "?")\(data.sessionResumed ? ", resumed" : ", NOT resumed")"
                    })
        }
        table.add(
            ["verification"]
                + result.reports.map { report in
                    guard let verification = report.handshake?.verification else { return "-" }
                    return verification.accepted ? "accepted" : "REJECTED"
                })
        table.add(
            ["raw codes"]
                + result.reports.map { report in
                    let raw = report.handshake?.verification?.rawErrors ?? []
                    return raw.isEmpty
                        ? "-"
                        : raw.map { error in error.depth.map { "\(error.code)@\($0)" } ?? error.code }
                            .joined(separator: "\n")
                })
        table.add(
            ["timings"]
                + result.reports.map { report in
                    report.timings.map { "\($0.phase) \($0.milliseconds.fixed(1)) ms" }.joined(
                        separator: "\n")
                })
        table.add(
            ["verdict"]
                + result.reports.map { "\($0.severity)\n" + ($0.verdict.codes.map(\.rawValue).joined(separator: "\n")) }
        )
        out.append(table.render(separator: "   "))
        if let leaf = result.reports.compactMap({ $0.chain?.leaf }).first {
            out.append("")
            out.append("Leaf")
            out += ChainVerification.describe(leaf, at: Date()).map { "  " + $0.trimmingCharacters(in: .whitespaces) }
        }
        if let enumeration = result.enumeration {
            out.append("")
            out += enumerationText(enumeration)
        }
        let findings = result.mergedFindings
        if !findings.isEmpty {
            out.append("")
            out.append("Findings")
            for (finding, backends) in findings {
                let who =
                    backends.count == result.reports.count && backends.count > 1
                    ? "all" : backends.map(\.rawValue).joined(separator: ",")
                out.append(
                    "  \(finding.severity.rawValue.padding(to: 8)) \(finding.code.rawValue) [\(finding.phase), \(who)]: \(finding.evidence)"
                )
            }
        }
        out.append("")
        out.append("Result: \(result.severity)")
        return out.joined(separator: "\n")
    }

    /// The enumeration as text: per version, the suites each backend saw accepted; groups; order; disagreements.
    public static func enumerationText(_ enumeration: EnumerationResult) -> [String] {
        var out: [String] = []
        let reports = enumeration.reports
        out.append(
            "Enumeration (\(enumeration.connections) connections, at most \(enumeration.concurrency) at once, "
                + "\(enumeration.milliseconds.fixed(0)) ms\(enumeration.complete ? "" : ", INCOMPLETE"))")
        var table = TextTable(header: [""] + reports.map { "\($0.backend.displayName) \(shortVersion($0.libraryVersion))" })
        for version in MimicTLSVersion.allCases {
            let cells = reports.map { report -> String in
                guard let result = report.versions.first(where: { $0.version == version }) else { return "not tried" }
                guard result.accepted else { return "refused" }
                let suites = result.acceptedSuites
                let listed = suites.map { suite in suite.name + (suite.weakness.map { "  [\($0)]" } ?? "") }
                return (["accepted, \(suites.count) of \(result.suites.count) suites"] + listed).joined(separator: "\n")
            }
            table.add([version.displayName] + cells)
        }
        table.add(
            ["groups"]
                + reports.map { $0.groupsAccepted.isEmpty ? "-" : $0.groupsAccepted.joined(separator: "\n") })
        table.add(
            ["server order"]
                + reports.map { report in
                    switch report.serverOrder {
                    case true?: "enforced"
                    case false?: "client's"
                    case nil: "cannot tell"
                    }
                })
        table.add(["connections"] + reports.map { "\($0.connections)" })
        out.append(table.render(separator: "   "))
        if !enumeration.disagreements.isEmpty {
            out.append("Libraries disagree")
            out += enumeration.disagreements.map { "  \($0)" }
        }
        if !enumeration.notes.isEmpty {
            out.append("Notes")
            out += enumeration.notes.map { "  \($0)" }
        }
        return out
    }

    static func handshakeCell(_ report: ProbeReport) -> String {
        guard let handshake = report.handshake else { return "not reached" }
        guard handshake.completed else {
            if let alert = handshake.alertReceived ?? handshake.failure?.alertReceived {
                return "FAILED (alert \(alert.name))"
            }
            return "FAILED"
        }
        return (handshake.negotiatedVersion?.displayName ?? "?") + (handshake.alpn.map { ", ALPN \($0)" } ?? "")
    }

    static func shortVersion(_ library: String) -> String {
        library.split(separator: " ").dropFirst().first.map(String.init) ?? library
    }

    // MARK: - Nagios

    /// `MIMIC CRITICAL - submission://host:587 (starttls): expired [openssl,gnutls] | days_left=-3;30;7 …`
    public static func nagios(
        _ result: ProbeResult, warnDays: Int = ExpiryThresholds.defaultWarnDays,
        critDays: Int = ExpiryThresholds.defaultCritDays
    ) -> String {
        let severity = result.severity
        let problems = result.mergedFindings.filter { $0.0.severity != .ok }
        let summary: String
        if problems.isEmpty {
            let leaf = result.reports.compactMap { $0.chain?.leaf }.first
            let version = result.reports.compactMap { $0.handshake?.negotiatedVersion?.displayName }.first ?? "TLS"
            summary =
                "\(version) OK through \(result.reports.map(\.backend.rawValue).joined(separator: ", "))"
                + (leaf.map { ", leaf expires in \($0.daysLeft(at: Date())) days" } ?? "")
        } else {
            summary = problems.map { finding, backends in
                "\(finding.code.rawValue) [\(backends.map(\.rawValue).joined(separator: ","))]"
            }.joined(separator: ", ")
        }
        var perf: [String] = []
        if let days = result.reports.compactMap({ $0.chain?.minimumDaysLeft }).min() {
            perf.append("days_left=\(days);\(warnDays):;\(critDays):")
        }
        for report in result.reports {
            for timing in report.timings {
                perf.append(
                    "'\(report.backend.rawValue)_\(timing.phase.rawValue)_ms'=\(timing.milliseconds.fixed(1))ms"
                )
            }
        }
        if let enumeration = result.enumeration {
            perf.append("'enumerate_ms'=\(enumeration.milliseconds.fixed(1))ms")
            perf.append("'enumerate_connections'=\(enumeration.connections)")
        }
        let line = "MIMIC \(severity) - \(result.target): \(summary)"
        return perf.isEmpty ? line : line + " | " + perf.joined(separator: " ")
    }
}
