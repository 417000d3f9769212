import Foundation
import MimicCerts
import MimicCore
import MimicNet

/// A scenario's mock listening for a monitor under test (`mimic serve`, `mimic grade`): where it is, what to
/// expect of it, and the CA file to trust.
public struct ServedScenario: Sendable {
    public var prepared: PreparedScenario
    public var mock: any RunningMock
    /// The zoo's one CA file: every served scenario's anchors.
    public var caFile: URL

    public var scenario: Scenario { prepared.scenario }

    /// Where a client connects: a wildcard bind is reached through loopback.
    public var connectHost: String { ScenarioRunner.connectHost(for: mock.host) }

    /// `127.0.0.1:2587`, `[::1]:2587`.
    public var address: String {
        let host = connectHost.contains(":") ? "[\(connectHost)]" : connectHost
        return "\(host):\(mock.port)"
    }

    /// The mode a monitor is asked to check in: the probe's (a plaintext-only server is checked for STARTTLS).
    public var monitorMode: TLSMode {
        let mode = prepared.probeMode
        return mode == TLSMode.none ? .startTLS : mode
    }

    /// The probe's URL form: `submission://127.0.0.1:40587`, `ldaps://[::1]:40636`.
    public var url: String {
        "\(Self.scheme(for: scenario.server.serviceProtocol, mode: monitorMode))://\(address)"
    }

    /// The URL scheme of a protocol in a mode, as `mimic probe` reads it (`submission` for SMTP STARTTLS).
    public static func scheme(for serviceProtocol: ServiceProtocol, mode: TLSMode) -> String {
        DefaultPorts.port(for: serviceProtocol, mode: mode == .implicit ? .implicit : .startTLS)
            .flatMap { DefaultPorts.entry(forPort: $0)?.scheme } ?? serviceProtocol.rawValue
    }

    /// The lines `mimic serve` prints for it.
    public var description: String {
        let expect = scenario.expect
        let monitor = scenario.monitorExpectation
        var lines = [
            "\(scenario.id) — \(scenario.summary)",
            "  address   \(address)    \(url)",
            "  protocol  \(scenario.server.serviceProtocol), \(scenario.server.mode) (TLS by \(scenario.server.backend))",
            "  name      \(prepared.serverName)",
            "  expect    \(BackendOutcome.describe(expect.verdict.sortedByName(), expect.severity))",
        ]
        for (backend, _) in expect.backends.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let (verdict, severity) = expect.expected(for: backend)
            lines.append("    \(backend): \(BackendOutcome.describe(Array(verdict).sortedByName(), severity))")
        }
        lines.append("  monitor   \(monitor.expect.rule) (\(monitor.reason))")
        lines.append("  trust     \(caFile.path)")
        return lines.joined(separator: "\n")
    }
}

/// Starts scenarios' mocks on the scenarios' own addresses and ports (or the zoo's fixed ports) and keeps them up
/// until stopped.
public enum ScenarioServing {
    /// Starts every mock; on the first failure stops those already started and throws.
    ///
    /// - Parameters:
    ///   - caDirectory: a private folder (see `PrivateDirectory`); the zoo's one CA file goes to `ca.pem` in it.
    ///   - ports: a port per scenario id (`ZooPorts`), overriding `server.port`.
    ///   - observer: told what each client did on each connection, with the scenario's id.
    public static func start(
        _ scenarios: [PreparedScenario],
        caDirectory: URL,
        ports: [String: Int] = [:],
        observer: (@Sendable (String, ClientObservation) -> Void)? = nil,
        startMock: @escaping @Sendable (MockServerConfiguration) async throws -> any RunningMock = {
            try await MockServer.start($0)
        }
    ) async throws -> [ServedScenario] {
        let caFile = caDirectory.appendingPathComponent("ca.pem")
        try PrivateDirectory.write(caPEM(scenarios), to: caFile)
        // Each mock's start is mostly its TLS contexts being built: on several cores at once, in scenario order
        // all the same, and on the first failure every mock already up is stopped.
        let width = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))
        var started: [ServedScenario?] = Array(repeating: nil, count: scenarios.count)
        var failure: (any Error)?
        await withTaskGroup(of: (Int, Result<any RunningMock, MockServerError>).self) { tasks in
            var next = 0
            func launch() {
                guard next < scenarios.count, failure == nil else { return }
                let index = next
                next += 1
                let prepared = scenarios[index]
                var configuration = prepared.configuration
                if let port = ports[prepared.scenario.id] { configuration.port = port }
                if let observer {
                    let id = prepared.scenario.id
                    configuration.observer = { observer(id, $0) }
                }
                tasks.addTask {
                    do {
                        return (index, .success(try await startMock(configuration)))
                    } catch {
                        return (index, .failure(MockServerError(
                            description:
                                "\(prepared.scenario.location(of: "server.port")): \(prepared.scenario.id): \(error) — is the port taken?"
                        )))
                    }
                }
            }
            for _ in 0..<width { launch() }
            for await (index, result) in tasks {
                switch result {
                case .success(let mock):
                    started[index] = ServedScenario(prepared: scenarios[index], mock: mock, caFile: caFile)
                case .failure(let error):
                    if failure == nil { failure = error }
                }
                launch()
            }
        }
        let served = started.compactMap { $0 }
        if let failure {
            await stop(served)
            throw failure
        }
        return served
    }

    /// Every scenario's anchors, each once, in scenario order: one file a monitor is told to trust for the zoo.
    public static func caPEM(_ scenarios: [PreparedScenario]) -> String {
        var anchors: [[UInt8]] = []
        for prepared in scenarios {
            for anchor in prepared.anchors where !anchors.contains(anchor) { anchors.append(anchor) }
        }
        return anchors.map { PEM.encode(der: $0, label: "CERTIFICATE") }.joined()
    }

    /// `/etc/hosts` lines mapping every served name to the address its mock listens on, for monitors that must
    /// connect by name (the certificate's) without a DNS entry for it.
    public static func hostsLines(_ served: [ServedScenario]) -> String {
        var names: [String: [String]] = [:]
        var order: [String] = []
        for scenario in served {
            let name = scenario.prepared.serverName.lowercased()
            guard !name.isEmpty, IPAddress.parse(name) == nil,
                name.allSatisfy({ $0.isLetter || $0.isNumber || "-.".contains($0) })
            else { continue }
            let address = scenario.connectHost
            if names[address] == nil { order.append(address) }
            if !(names[address]?.contains(name) ?? false) { names[address, default: []].append(name) }
        }
        var text = "# Written by mimic serve: the zoo's server names, for a private /etc/hosts (never the system's).\n"
        for address in order { text += "\(address) \(names[address]!.sorted().joined(separator: " "))\n" }
        return text
    }

    public static func stop(_ served: [ServedScenario]) async {
        for scenario in served { await scenario.mock.stop() }
    }
}
