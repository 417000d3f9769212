import Foundation
import MimicCerts
import MimicCore
import MimicNet

/// A scenario's mock listening for a monitor under test (`mimic serve`): where it is, what to expect of it, and
/// the CA file to trust.
public struct ServedScenario: Sendable {
    public var prepared: PreparedScenario
    public var mock: any RunningMock
    /// PEM of `prepared.anchors`.
    public var caFile: URL

    public var scenario: Scenario { prepared.scenario }

    /// `127.0.0.1:2587`, `[::1]:2587`.
    public var address: String {
        let host = mock.host.contains(":") ? "[\(mock.host)]" : mock.host
        return "\(host):\(mock.port)"
    }

    /// The lines `mimic serve` prints for it.
    public var description: String {
        let expect = scenario.expect
        var lines = [
            "\(scenario.id) — \(scenario.summary)",
            "  address   \(address)",
            "  protocol  \(scenario.server.serviceProtocol), \(scenario.server.mode) (TLS by \(scenario.server.backend))",
            "  name      \(prepared.serverName)",
            "  expect    \(BackendOutcome.describe(expect.verdict.sortedByName(), expect.severity))",
        ]
        for (backend, _) in expect.backends.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let (verdict, severity) = expect.expected(for: backend)
            lines.append("    \(backend): \(BackendOutcome.describe(Array(verdict).sortedByName(), severity))")
        }
        lines.append("  trust     \(caFile.path)")
        return lines.joined(separator: "\n")
    }
}

/// Starts scenarios' mocks on the scenarios' own addresses and ports and keeps them up until stopped.
public enum ScenarioServing {
    /// Starts every mock; on the first failure stops those already started and throws.
    ///
    /// - Parameter caDirectory: each scenario's anchors go to `caDirectory/<id>/ca.pem`.
    public static func start(
        _ scenarios: [PreparedScenario],
        caDirectory: URL,
        startMock: @Sendable (MockServerConfiguration) async throws -> any RunningMock = {
            try await MockServer.start($0)
        }
    ) async throws -> [ServedScenario] {
        var served: [ServedScenario] = []
        do {
            for prepared in scenarios {
                if !prepared.unsupported.isEmpty {
                    throw MockServerError(
                        description: "\(prepared.scenario.id): not supported by the mock: "
                            + prepared.unsupported.joined(separator: "; "))
                }
                let folder = caDirectory.appendingPathComponent(fileName(for: prepared.scenario.id), isDirectory: true)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let caFile = folder.appendingPathComponent("ca.pem")
                let pem = prepared.anchors.map { PEM.encode(der: $0, label: "CERTIFICATE") }.joined()
                try Data(pem.utf8).write(to: caFile, options: .atomic)
                let mock: any RunningMock
                do {
                    mock = try await startMock(prepared.configuration)
                } catch {
                    let where_ = "\(prepared.configuration.host):\(prepared.configuration.port)"
                    throw MockServerError(description: "\(prepared.scenario.id): cannot listen on \(where_): \(error)")
                }
                served.append(ServedScenario(prepared: prepared, mock: mock, caFile: caFile))
            }
        } catch {
            await stop(served)
            throw error
        }
        return served
    }

    public static func stop(_ served: [ServedScenario]) async {
        for scenario in served { await scenario.mock.stop() }
    }

    /// A file name for an id: `smtp::starttls::expired-leaf` → `smtp--starttls--expired-leaf`.
    static func fileName(for id: String) -> String {
        let mapped = id.replacingOccurrences(of: "::", with: "--").map { character -> Character in
            character.isLetter || character.isNumber || "-_.".contains(character) ? character : "_"
        }
        let name = String(mapped)
        return name.isEmpty || name.hasPrefix(".") ? "_" + name : name
    }
}
