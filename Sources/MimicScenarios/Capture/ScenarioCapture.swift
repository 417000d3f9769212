import Foundation
import MimicCerts
import MimicCore
import MimicNet
import MimicTLS

/// Turns what the probe saw of a real server into a scenario file whose mock makes the probe reach the same
/// verdict: the dialog's words, the TLS versions, the chain's shape (re-minted under the local CA, never its
/// keys), the names rewritten to `*.example.test` unless kept, and the verdict as the expectation.
///
/// What no scenario knob can express is written into the file as a comment and returned as a warning, never
/// dropped.
public enum ScenarioCapture {
    public struct Options: Sendable {
        /// Keep the server's own names (default: rewritten to reserved `*.example.test` names).
        public var keepNames: Bool
        /// Certificate validity as ISO 8601 instants instead of offsets from the time the scenario is run.
        public var absoluteDates: Bool
        /// When the dialog failed (timeout, reset, close), write a scenario up to that phase that fails the same
        /// way, instead of nothing.
        public var partial: Bool
        /// The URL as the user gave it, for the file's header (rewritten with the names).
        public var url: String
        /// Also enumerate what the server accepts (`--enumerate`): its versions, suites and order go into the
        /// scenario's TLS knobs, and the scenario enumerates too.
        public var enumerate = false
        /// The subjects of the trust anchors the probe was given: a certificate naming one as its issuer is issued
        /// by the local CA in the scenario even when its signature did not verify.
        public var anchorSubjects: Set<String> = []
        /// The verification policy the probe used (`strict` is written as `probe.policy`).
        public var policy: VerificationPolicy = .default
        /// The probe's per-phase timeout in seconds; written as `probe.timeout` when the server was slow (a
        /// greeting delay), so that the scenario's probe waits as long as the capture's did.
        public var timeout: Double?

        public init(
            keepNames: Bool = false, absoluteDates: Bool = false, partial: Bool = false, url: String,
            timeout: Double? = nil
        ) {
            self.keepNames = keepNames
            self.absoluteDates = absoluteDates
            self.partial = partial
            self.url = url
            self.timeout = timeout
        }
    }

    public struct Result: Sendable {
        /// The scenario file's text.
        public var yaml: String
        /// The scenario's id.
        public var id: String
        /// What the file cannot reproduce (also written into it as comments).
        public var warnings: [String]
    }

    /// The capture stopped because the server could not be talked to far enough.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var phase: Phase
        public var code: FindingCode
        public var evidence: String
        public var backend: TLSBackend

        public var description: String {
            "the probe (\(backend)) failed in phase \(phase) with \(code): \(evidence)"
        }
    }

    /// Probes `target` through every backend of `probeOptions` and captures what it saw.
    public static func capture(
        _ target: ProbeTarget, probeOptions: ProbeOptions, options: Options, prober: Prober = Prober()
    ) async throws(Failure) -> Result {
        var probeOptions = probeOptions
        probeOptions.checkResumption = true
        var reports = await prober.probe(target, options: probeOptions)
        probeOptions.checkResumption = false
        if options.enumerate {
            let result = await Enumerator(prober: prober, concurrency: 4).enumerate(target, options: probeOptions)
            for index in reports.indices { reports[index].add(result) }
        }
        var options = options
        options.anchorSubjects = anchorSubjects(probeOptions.trustAnchors)
        return try build(reports: reports, target: target, options: options)
    }

    /// The subjects of DER trust anchors, as the chain facts write names.
    public static func anchorSubjects(_ anchors: [[UInt8]]) -> Set<String> {
        Set(anchors.prefix(ChainFacts.maximumAnchors).compactMap { der in
            (try? ChainFacts(chain: [der], anchors: [], hostname: nil))?.certificates.first?.subject
        })
    }

    /// The network failures capture cannot take for the server's own behaviour.
    static let connectionFailures: Set<FindingCode> = [.refused, .timeout, .reset, .closed]

    /// Builds the scenario from the probe's reports of one target (one per backend).
    public static func build(reports: [ProbeReport], target: ProbeTarget, options: Options, now: Date = Date())
        throws(Failure) -> Result
    {
        precondition(!reports.isEmpty, "capture needs at least one report")
        var names = NameRewriter(enabled: !options.keepNames)
        var warnings: [String] = []
        var notes: [String] = []
        var sections = ScenarioSections()

        // A connection failure is the capture's failure unless --partial turns it into a fault.
        let failures = reports.compactMap { report in
            report.findings.first { connectionFailures.contains($0.code) }.map { (report, $0) }
        }
        if let (report, finding) = failures.first {
            guard options.partial, let fault = faultReproducing(finding, in: report, target: target) else {
                throw Failure(phase: finding.phase, code: finding.code, evidence: finding.evidence, backend: report.backend)
            }
            sections.network.append(fault)
            notes.append(
                "--partial: the probe (\(report.backend)) met \(finding.code) in \(finding.phase); a '\(fault)' fault "
                    + "reproduces it")
        }

        let primary = reports.max { progress($0) < progress($1) }!
        let serverName = names.rewriteServerName(target.verifyName)

        // The dialog.
        var dialog = DialogCapture(report: primary, target: target, names: names)
        dialog.capture()
        names = dialog.names
        warnings += dialog.warnings
        sections.dialog = dialog.lines

        // TLS.
        let handshakes = reports.compactMap(\.handshake)
        // Versions agreed to: a server that speaks only an old version is met by the backend that can still offer
        // it (GnuTLS offers TLS 1.0 where OpenSSL at security level 2 fails the handshake).
        let versions = Set(handshakes.filter(\.completed).compactMap(\.negotiatedVersion))
        let enumerations = reports.compactMap(\.enumeration)
        var serverBackend: String?
        if !enumerations.isEmpty {
            let offers = TLSOffersCapture(enumerations)
            sections.tls += offers.lines
            notes += offers.notes
            serverBackend = offers.serverBackend
        } else if versions.count == 1, let version = versions.first, version < .tls1_3 {
            sections.tls.append("versions: [\"\(version.rawValue)\"]")
            notes.append("TLS \(version.rawValue) was the newest version the server agreed to (capture with --enumerate "
                + "where available to learn every version it accepts)")
        }
        let explainedElsewhere: Set<FindingCode> = [.noTLSAfterGoAhead, .modeMismatch, .plaintextInjection]
        let allCodes = Set(reports.flatMap { $0.findings.map(\.code) })
        if let failed = handshakes.first(where: { !$0.completed && $0.failure != nil }), let failure = failed.failure,
            reports.allSatisfy({ $0.handshake?.completed != true }), allCodes.isDisjoint(with: explainedElsewhere)
        {
            if failure.kind == .noSharedVersion && failed.backend == .openssl && failure.alertReceived == nil {
                // The server chose a version older than OpenSSL's oldest at its security level (TLS 1.2).
                sections.tls.append("versions: [\"1.0\", \"1.1\"]")
                notes.append("the server chose a version older than TLS 1.2; which of 1.0 and 1.1 it speaks is not "
                    + "known (--enumerate tells)")
            } else if !failed.peerChain.isEmpty {
                warnings.append("the handshake failed after the server's certificate (\(failure.reason)); no knob "
                    + "reproduces this failure exactly")
            } else if let alert = failure.alertReceived {
                sections.tls.append("abort_with_alert: \(alert.name)")
            } else if failure.kind == .peerClosed {
                sections.tls.append("close_mid_handshake: true")
            } else {
                warnings.append("the handshake failed before the server's certificate (\(failure.reason)); no knob "
                    + "reproduces this failure exactly")
            }
        }

        // Resumption: the mock resumes sessions (its session cache and tickets); one that did not has no knob.
        if reports.contains(where: { $0.resumption == false }) {
            warnings.append("the server did not resume a TLS session on a second connection; the mock always can")
        }

        // The chain.
        if let report = reports.first(where: { $0.chain != nil }), let facts = report.chain {
            let chain = CapturedChain(
                facts: facts, capturedAt: facts.checkedAt, absoluteDates: options.absoluteDates,
                anchorSubjects: options.anchorSubjects, names: &names)
            sections.pki = chain.lines
            warnings += chain.warnings
            notes += chain.notes
        } else if reports.contains(where: { !($0.handshake?.peerChain.isEmpty ?? true) }) {
            warnings.append("the served chain could not be read; the scenario serves the default chain")
        }
        if !names.partialWildcards.isEmpty {
            warnings.append("partial wildcards (\(names.partialWildcards.joined(separator: ", "))) next to renamed "
                + "labels may match differently; use --keep-names to keep them exact")
        }

        // The expectation: what each backend concluded.
        let outcomes = reports.map { ($0.backend, $0.verdict.codes.sortedByName(), $0.severity) }
        var expect: [String] = []
        let first = outcomes[0]
        expect.append("verdict: [\(first.1.map(\.rawValue).joined(separator: ", "))]")
        expect.append("severity: \(first.2.scenarioName)")
        let others = outcomes.dropFirst().filter { Set($0.1) != Set(first.1) || $0.2 != first.2 }
        if !others.isEmpty {
            expect.append("backends:")
            for (backend, codes, severity) in others {
                expect.append("  \(backend.rawValue): { verdict: [\(codes.map(\.rawValue).joined(separator: ", "))], "
                    + "severity: \(severity.scenarioName) }")
            }
            expect.append("divergence: \(CaptureYAML.quoted("captured: the backends judged the real server differently"))")
        }

        // Header and file.
        let host = IPAddress.parse(target.host) == nil ? names.rewrite(target.host) : names.rewriteIP(target.host)
        let slug = serverName.map { $0.isLetter || $0.isNumber ? $0 : "-" }
        let id = "\(target.serviceProtocol.rawValue)::\(target.mode.rawValue)::captured-\(String(slug).lowercased())"
        var lines: [String] = []
        lines.append(CaptureYAML.comment("Captured by mimic capture \(names.rewriteText(options.url)) on "
            + CapturedChain.iso8601(now)))
        for report in reports {
            lines.append(CaptureYAML.comment("\(report.backend) (\(report.libraryVersion)): "
                + describe(report, names: &names)))
        }
        if !options.keepNames {
            lines.append("# Names rewritten to reserved ones (--keep-names keeps them): "
                + (names.mappingDescription.isEmpty ? "none needed" : names.mappingDescription.joined(separator: ", ")))
        }
        for note in notes { lines.append(CaptureYAML.comment("Note: \(note)")) }
        for warning in warnings { lines.append(CaptureYAML.comment("Cannot reproduce: \(warning)")) }
        lines.append("id: \(CaptureYAML.quoted(id))")
        lines.append("summary: \(CaptureYAML.quoted("Captured from \(target.serviceProtocol.rawValue) \(target.mode.rawValue) at \(host):\(target.port)"))")
        lines.append("tags: [captured]")
        var server = "protocol: \(target.serviceProtocol.rawValue), tls: \(target.mode.rawValue), "
            + "backend: \(serverBackend ?? dialog.serverBackend ?? "openssl")"
        if reports.contains(where: { report in
            report.findings.contains { $0.phase == .enumeration && $0.code == .greetingRejected }
        }) {
            // The server turned connections away part-way through the enumeration: after the probe's own
            // connections and about as many offers as went through.
            let offers = enumerations.map(\.connections).reduce(0, +)
            server += ", close_after_connections: \(reports.count + max(1, offers - enumerations.count))"
            notes.append("the server refused connections after a while; the mock refuses after as many")
        }
        lines.append("server: { \(server) }")
        for (key, body, indent) in [
            ("pki", sections.pki, "  "), ("tls", sections.tls, "  "), ("dialog", sections.dialog, "  "),
            ("network", sections.network, "  - "),
        ] where !body.isEmpty {
            lines.append("\(key):")
            lines += body.map { indent + $0 }
        }
        let backends = reports.map(\.backend.rawValue).joined(separator: ", ")
        var probe = "servername: \(CaptureYAML.quoted(serverName)), backends: [\(backends)]"
        for extra in dialog.probeExtras { probe += ", \(extra)" }
        if options.policy != .default { probe += ", policy: \(options.policy.rawValue)" }
        if !enumerations.isEmpty { probe += ", enumerate: true" }
        if let timeout = options.timeout, sections.dialog.contains(where: { $0.hasPrefix("greeting_delay:") }) {
            probe += ", timeout: \(Int((timeout * 1000).rounded()))ms"
        }
        lines.append("probe: { \(probe) }")
        lines.append("expect:")
        lines += expect.map { "  " + $0 }
        return Result(yaml: lines.joined(separator: "\n") + "\n", id: id, warnings: warnings)
    }

    /// How far a report got: the later the phase of its first failure, the more it saw.
    static func progress(_ report: ProbeReport) -> Int {
        var score = report.transcript.count
        if let handshake = report.handshake {
            score += 1000
            if handshake.completed { score += 1000 }
        }
        return score
    }

    /// The network fault that makes the mock fail as the server did, in the phase it did.
    static func faultReproducing(_ finding: Finding, in report: ProbeReport, target: ProbeTarget) -> String? {
        let mode = target.mode
        // The probe's phase is where it waited; the mock's is where the server was: after the upgrade command
        // (the transcript's last line is the client's), the server was in its upgrade phase.
        let upgradeSent =
            report.transcript.last.map { line in
                line.hasPrefix("C: ") && ["STARTTLS", "STLS", "AUTH TLS", "EXTENDEDREQUEST STARTTLS"].contains {
                    line.uppercased().contains($0)
                }
            } ?? false
        let phase: String
        switch finding.phase {
        case .greeting: phase = target.serviceProtocol == .ldap ? "upgrade" : "greeting"
        case .capabilities:
            phase = upgradeSent || target.serviceProtocol == .ldap ? "upgrade" : "capabilities"
        case .upgrade: phase = mode == .startTLS ? "upgrade" : "handshake"
        case .handshake, .verification: phase = "handshake"
        case .postTLS, .dataChannel, .close: phase = "post-tls"
        case .resolve, .connect, .offline, .enumeration: return nil
        }
        switch finding.code {
        case .timeout: return "{ kind: stall, phase: \(phase) }"
        case .reset: return "{ kind: reset, phase: \(phase) }"
        case .closed: return "{ kind: close_after, bytes: 0, phase: \(phase) }"
        default: return nil
        }
    }

    /// One line per backend for the header: where it got, what it negotiated, its verdict and raw codes.
    static func describe(_ report: ProbeReport, names: inout NameRewriter) -> String {
        var parts: [String] = []
        if let handshake = report.handshake {
            if handshake.completed {
                var negotiated = "TLS \(handshake.negotiatedVersion?.rawValue ?? "?")"
                if let suite = handshake.cipherSuite { negotiated += " \(suite)" }
                if let group = handshake.keyExchangeGroup { negotiated += " \(group)" }
                if let alpn = handshake.alpn { negotiated += " ALPN \(alpn)" }
                parts.append(negotiated)
                if let resumed = report.resumption {
                    parts.append(resumed ? "resumes sessions" : "does not resume sessions")
                }
            } else if let failure = handshake.failure {
                parts.append("handshake failed: \(failure)")
            }
            if let verification = handshake.verification, !verification.rawErrors.isEmpty {
                parts.append("raw \(verification.rawErrors.map(\.code).joined(separator: ", "))")
            }
        }
        let codes = report.verdict.codes.map(\.rawValue)
        parts.append("verdict \(report.severity.scenarioName) [\(codes.joined(separator: ", "))]")
        for finding in report.findings.prefix(6) {
            parts.append("\(finding.code) in \(finding.phase): \(names.rewriteText(String(finding.evidence.prefix(160))))")
        }
        return parts.joined(separator: "; ")
    }
}

/// The blocks of the scenario file being built, as lines relative to their key.
struct ScenarioSections {
    var pki: [String] = []
    var tls: [String] = []
    var dialog: [String] = []
    var network: [String] = []
}

extension Severity {
    /// The spelling scenario files use (`ok`, `warning`, `critical`, `unknown`).
    var scenarioName: String {
        switch self {
        case .ok: "ok"
        case .warning: "warning"
        case .critical: "critical"
        case .unknown: "unknown"
        }
    }
}

extension NameRewriter {
    /// The name the probe checked: an IP literal through `rewriteIP`, a DNS name through `rewrite`.
    mutating func rewriteServerName(_ name: String) -> String {
        IPAddress.parse(name) == nil ? rewrite(name) : rewriteIP(name)
    }
}
