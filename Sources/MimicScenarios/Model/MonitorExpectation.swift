import MimicCore

/// What a monitor pointed at a scenario's mock must report — a weaker promise than the probe's exact verdict.
///
/// A scenario's `expect.verdict` is what Mimic's own probe, with the scenario's probe options, must find. A
/// monitor has its own timeouts, its own TLS library and its own way of saying "broken" (a Nagios plugin calls a
/// refused connection CRITICAL where the probe says UNKNOWN), so it is held to this instead: the file's
/// `expect.monitor` where given, else the rule in `Scenario.monitorExpectation`.
public enum MonitorExpectation: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// A healthy server: the monitor must report OK.
    case ok
    /// Something is wrong: any state but OK (WARNING, CRITICAL, UNKNOWN) is right.
    case alert
    /// Exactly WARNING, or worse where the adapter allows it.
    case warning
    /// Exactly CRITICAL.
    case critical
    /// Either answer is right: it depends on the monitor's own settings or TLS library, not on the server.
    case either

    /// The sentence the manifest and reports give a monitor author.
    public var rule: String {
        switch self {
        case .ok: "must report OK"
        case .alert: "must not report OK"
        case .warning: "must report WARNING (or worse)"
        case .critical: "must report CRITICAL"
        case .either: "may report OK or an alert"
        }
    }

    public var description: String { rawValue }
}

extension Scenario {
    /// What a monitor must report for this scenario, and why: `expect.monitor` where the file gives it, else
    /// derived by these rules, in order —
    /// 1. the backends the probe uses disagree on whether the server is OK: `either` (a monitor built on one
    ///    library is right to side with it);
    /// 2. every backend expects OK: `ok`;
    /// 3. the probe's finding is a timeout and the mock only slows down (a greeting delay, latency, trickle) without
    ///    stalling: `either` — whether that is a timeout depends on the monitor's own deadline;
    /// 4. otherwise `alert`: any non-OK state is right, whatever the probe's own severity (a Nagios plugin calls a
    ///    refused connection CRITICAL where the probe says UNKNOWN).
    /// Probe options (`starttls_anyway`, a probe mode other than the server's, one backend) never make a monitor's
    /// expectation differ: a monitor is asked to check the mode the probe checks, and a broken upgrade is broken
    /// whether or not a client tries TLS after it.
    public var monitorExpectation: (expect: MonitorExpectation, reason: String) {
        if let explicit = expect.monitor { return (explicit, "set in the scenario file") }
        let severities = probe.client.backends.map { expect.expected(for: $0).severity }
        let okCount = severities.filter { $0 == .ok }.count
        if okCount > 0, okCount < severities.count {
            return (.either, "the TLS libraries legitimately disagree about this server")
        }
        if okCount == severities.count { return (.ok, "the probe expects OK") }
        let verdicts = Set(probe.client.backends.flatMap { expect.expected(for: $0).verdict })
        if verdicts.contains(.timeout), !network.contains(where: { $0.kind == .stall }) {
            return (.either, "only slow: a timeout depends on the monitor's own deadline")
        }
        return (.alert, "the probe expects \(severities.max() ?? .critical)")
    }
}
