import MimicCore
import MimicNet
import MimicTLS

/// A scenario with everything resolved that can be resolved before a socket opens: its chains minted, its mock
/// server's configuration built, and what the probe must trust and ask for. Only `ScenarioRunner.prepare` makes one.
public struct PreparedScenario: Sendable {
    public var scenario: Scenario
    /// The mock server, with `host` and `port` from the scenario (`ScenarioRunner` binds an ephemeral port).
    public var configuration: MockServerConfiguration
    /// What the probe trusts: the anchors of every chain the mock may serve. Written to a CA file by `serve`.
    public var anchors: [[UInt8]]
    /// The SNI and verification name: `probe.servername`, else the chain's host name.
    public var serverName: String

    /// The mode the probe connects in: the scenario's `probe.mode`, else the server's.
    public var probeMode: TLSMode { scenario.probe.mode ?? scenario.server.mode }

    /// The probe's target for a mock listening at `host:port`.
    public func target(host: String, port: Int) -> ProbeTarget {
        ProbeTarget(
            host: host, port: port, serviceProtocol: scenario.server.serviceProtocol, mode: probeMode,
            serverName: serverName)
    }

    /// The probe's options: this scenario's anchors, deadlines, and its backends, `policy` and `starttls_anyway`.
    public func probeOptions(defaultTimeout: Duration, scale: Double = 1) -> ProbeOptions {
        let timeout = (scenario.probe.timeout ?? defaultTimeout) * scale
        var options = ProbeOptions(trustAnchors: anchors, deadlines: ProbeDeadlines(timeout: timeout.seconds))
        options.client = scenario.probe.client
        return options
    }
}

extension Duration {
    /// Seconds as a Double, the unit the probe's deadlines use.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }

    /// Whole milliseconds, clamped to what `NetworkFault` accepts.
    var faultMilliseconds: Int {
        Int(min(max(0, (seconds * 1000).rounded()), Double(NetworkFault.maximumMilliseconds)))
    }
}
