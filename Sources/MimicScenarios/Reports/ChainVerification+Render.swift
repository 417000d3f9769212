import Foundation
import MimicCerts
import MimicCore
import MimicTLS

/// Output formats for a report.
public enum ReportFormat: String, Sendable, CaseIterable, Codable {
    case text
    case json

    /// `text()` in this format, or `value` as JSON: how `mimic verify` and `mimic certs matrix` print.
    func render(_ value: some Encodable, text: () -> String) -> String {
        switch self {
        case .text: text()
        case .json: JSONReport.encode(value)
        }
    }
}

extension ChainVerification {
    public func render(_ format: ReportFormat) -> String { format.render(self, text: renderText) }

    /// A person reads this at a glance: the chain, the facts, each backend's verdict side by side, the result.
    public func renderText() -> String {
        var out: [String] = []
        let host = hostname.map { " for \($0)" } ?? " (no hostname checked)"
        let count =
            facts.tooLong
            ? "\(facts.servedCount) certificate(s) (the first \(facts.certificates.count) examined)"
            : "\(facts.certificates.count) certificate(s)"
        out.append("Chain of \(count) as served\(host), at \(Self.format(time)), \(policy) policy")
        for certificate in facts.certificates {
            out.append(contentsOf: Self.describe(certificate, at: time))
        }
        out.append("")
        out.append("Facts (library-independent)")
        out.append("  path      \(pathDescription)")
        out.append("  hostname  \(hostnameDescription)")
        if !facts.unreadableAnchors.isEmpty {
            out.append(
                "  anchors   unreadable, left out of the facts: "
                    + facts.unreadableAnchors.map { "#\($0)" }.joined(separator: ", "))
        }
        if factFindings.isEmpty {
            out.append("  findings  none")
        } else {
            for finding in factFindings {
                out.append(
                    "  \(finding.severity.rawValue.padding(to: 8))  \(finding.code.rawValue): \(finding.evidence)")
            }
        }
        out.append("")
        var table = TextTable(header: [""] + backends.map(\.libraryVersion))
        table.add(["library"] + backends.map { $0.accepted ? "ACCEPT" : "REJECT" })
        table.add(["library says"] + backends.map { Self.codes($0.verification.findings) })
        table.add(["verdict"] + backends.map { "\($0.verdict.severity)\n" + Self.codes($0.findings) })
        table.add(
            ["raw codes"]
                + backends.map { result in
                    result.verification.rawErrors.isEmpty
                        ? "-"
                        : result.verification.rawErrors.map { error in
                            error.depth.map { "\(error.code)@\($0)" } ?? error.code
                        }.joined(separator: "\n")
                })
        out.append(table.render(separator: "   "))
        out.append("")
        let rejectedBy = backends.filter { !$0.accepted }.map(\.backend.rawValue)
        let summary =
            rejectedBy.isEmpty
            ? "accepted by every backend"
            : "rejected by \(rejectedBy.joined(separator: ", "))"
        out.append(
            "Result: \(verdict.severity) — \(summary)\(verdict.codes.isEmpty ? "" : " [" + verdict.codes.map(\.rawValue).joined(separator: ", ") + "]")"
        )
        return out.joined(separator: "\n")
    }

    private var pathDescription: String {
        guard !facts.path.isEmpty else { return "no certificates" }
        var text = facts.path.map { "#\($0)" }.joined(separator: " → ")
        text += facts.complete ? " → trust anchor (complete)" : " → issuer not found (incomplete or untrusted)"
        if !facts.chainOrder { text += "; served out of order" }
        if !facts.unrelated.isEmpty {
            text += "; unrelated: " + facts.unrelated.map { "#\($0)" }.joined(separator: ", ")
        }
        return text
    }

    private var hostnameDescription: String {
        switch facts.hostnameMatch {
        case .matched(let san): "matched \(san)"
        case .commonNameOnly(let cn): "matched only the subject CN \(cn) (no SAN)"
        case .mismatch: "MISMATCH for \(hostname ?? "")"
        case .notChecked: "not checked"
        }
    }

    static func codes(_ findings: [Finding]) -> String {
        findings.isEmpty ? "-" : findings.codes.map(\.rawValue).joined(separator: "\n")
    }

    static func describe(_ certificate: CertificateFacts, at time: Date) -> [String] {
        let key = [certificate.keyType, certificate.keySize.map { "\($0)" }, certificate.curve]
            .compactMap { $0 }.joined(separator: " ")
        var lines = [
            "  #\(certificate.position.map(String.init) ?? "anchor") \(certificate.subject)\(certificate.isCA ? "  [CA]" : "")",
            "      issuer   \(certificate.issuer)",
            "      valid    \(format(certificate.notBefore)) → \(format(certificate.notAfter)) (\(certificate.expiryPhrase(at: time)))",
            "      key      \(key), signed \(certificate.signatureAlgorithm)",
        ]
        if !certificate.subjectAlternativeNames.isEmpty {
            lines.append("      SAN      \(certificate.subjectAlternativeNames.joined(separator: ", "))")
        }
        lines.append("      SHA-256  \(certificate.sha256Fingerprint)")
        for problem in certificate.malformed ?? [] {
            lines.append("      MALFORMED \(problem)")
        }
        return lines
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// JSON with every fact: sorted keys, ISO 8601 dates, DER as base64.
public enum JSONReport {
    public static func encode<Value: Encodable>(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            // Every report type is plain Codable data; a failure here is a programming error worth seeing.
            return "{\"error\": \"cannot encode report: \(error)\"}"
        }
    }
}
