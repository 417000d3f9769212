/// A judgement: the findings that support it and the severity they add up to.
public struct Verdict: Sendable, Hashable, Codable, CustomStringConvertible {
    public var findings: [Finding]

    public init(findings: [Finding]) {
        self.findings = findings
    }

    public var severity: Severity { findings.severity }
    public var codes: [FindingCode] { findings.codes }
    /// True when nothing in it would make a careful client refuse the service.
    public var accepted: Bool { severity < .unknown }

    public var description: String {
        codes.isEmpty ? "\(severity)" : "\(severity) " + codes.map(\.rawValue).joined(separator: ",")
    }
}
