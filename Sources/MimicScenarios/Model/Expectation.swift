import MimicCore

/// The verdict the probe must reach, for every backend or per backend where they legitimately differ.
public struct Expectation: Sendable, Hashable {
    /// The finding codes every backend must report (as a set: order does not matter); empty means OK.
    public var verdict: [FindingCode]
    public var severity: Severity
    /// Per-backend overrides of `verdict` and/or `severity`.
    public var backends: [TLSBackend: BackendOverride]
    /// Why the backends' expectations differ; required whenever they do.
    public var divergence: String?
    /// What a monitor must report, where the file says so (`expect.monitor`); nil derives it
    /// (`Scenario.monitorExpectation`).
    public var monitor: MonitorExpectation?

    public init(
        verdict: [FindingCode],
        severity: Severity? = nil,
        backends: [TLSBackend: BackendOverride] = [:],
        divergence: String? = nil,
        monitor: MonitorExpectation? = nil
    ) {
        self.verdict = verdict
        self.severity = severity ?? Self.defaultSeverity(for: verdict)
        self.backends = backends
        self.divergence = divergence
        self.monitor = monitor
    }

    public struct BackendOverride: Sendable, Hashable {
        public var verdict: [FindingCode]?
        public var severity: Severity?

        public init(verdict: [FindingCode]? = nil, severity: Severity? = nil) {
            self.verdict = verdict
            self.severity = severity
        }
    }

    /// What one backend must report: its override where given, else the common expectation. A verdict
    /// override without a severity takes the severity its codes imply.
    public func expected(for backend: TLSBackend) -> (verdict: Set<FindingCode>, severity: Severity) {
        let override = backends[backend]
        let verdict = override?.verdict ?? self.verdict
        let severity =
            override?.severity
            ?? (override?.verdict != nil ? Self.defaultSeverity(for: verdict) : self.severity)
        return (Set(verdict), severity)
    }

    /// The worst default severity of the codes; OK for none.
    public static func defaultSeverity(for codes: [FindingCode]) -> Severity {
        codes.map(\.defaultSeverity).max() ?? .ok
    }
}
