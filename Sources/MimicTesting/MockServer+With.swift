import Foundation
import MimicCerts
import MimicNet
import MimicScenarios

extension MockServer {
    /// Runs `body` with a mock server of `serviceProtocol` in `mode`, serving `chain`, with TLS from `backend`;
    /// the mock stops when the closure ends, whether it returns, throws or is cancelled.
    ///
    /// ```swift
    /// try await MockServer.with(.smtp, .startTLS, chain: .expiredLeaf, backend: .gnutls) { mock in
    ///     let result = try await myMonitor.check(mock.url, trusting: mock.trustAnchorsPEM)
    ///     #expect(result.isCritical == !mock.expectedVerdict.isOK)
    /// }
    /// ```
    public static func with<Result: Sendable>(
        _ serviceProtocol: ServiceProtocol, _ mode: TLSMode, chain: ChainProfileName = .good,
        backend: TLSBackend = .openssl, _ body: (MockService) async throws -> Result
    ) async throws -> Result {
        let profile = try MimicTesting.factory.profile(named: chain.rawValue)
        let expectation = profile.expectation
        var expect = "verdict: [\(expectation.findings.map(\.rawValue).joined(separator: ", "))]"
        let overrides = TLSBackend.allCases.compactMap { backend -> String? in
            let findings = expectation.findings(for: backend)
            guard Set(findings) != Set(expectation.findings) else { return nil }
            return "\(backend.rawValue): { verdict: [\(findings.map(\.rawValue).joined(separator: ", "))] }"
        }
        if !overrides.isEmpty {
            expect += ", backends: { \(overrides.joined(separator: ", ")) }, divergence: \"as the profile says\""
        }
        let yaml = """
            id: "testing::\(serviceProtocol.rawValue)::\(mode.rawValue)::\(chain.rawValue)"
            summary: "\(serviceProtocol.rawValue) over \(mode.rawValue) serving the \(chain.rawValue) chain"
            server: { protocol: \(serviceProtocol.rawValue), tls: \(mode.rawValue), backend: \(backend.rawValue) }
            pki: { profile: \(chain.rawValue) }
            probe: { servername: "\(profile.hostname)" }
            expect: { \(expect) }

            """
        let scenarios = try ScenarioLoader(knownProfiles: Set(try MimicTesting.factory.profileNames()))
            .load(yaml: yaml, file: "MockServer.with")
        return try await with(scenarios[0], body)
    }

    /// Runs `body` with the mock of a scenario of the shipped library (`smtp::starttls::expired-leaf`); see
    /// ``MimicLibrary`` for the ids.
    public static func with<Result: Sendable>(
        scenario id: String, _ body: (MockService) async throws -> Result
    ) async throws -> Result {
        guard let scenario = MimicLibrary.scenario(id: id) else {
            throw MimicTestingError(description: "no scenario '\(id)' in the shipped library")
        }
        return try await with(scenario, body)
    }

    /// Runs `body` with the mock of the scenario `id` in a scenario file of your own (the file's only scenario when
    /// `id` is nil).
    public static func with<Result: Sendable>(
        scenarioFile: URL, id: String? = nil, _ body: (MockService) async throws -> Result
    ) async throws -> Result {
        let loader = ScenarioLoader(knownProfiles: Set(try MimicTesting.factory.profileNames()))
        let scenarios = try loader.load(file: scenarioFile)
        let chosen = id.map { wanted in scenarios.filter { $0.id == wanted } } ?? scenarios
        guard chosen.count == 1, let scenario = chosen.first else {
            throw MimicTestingError(
                description: "\(scenarioFile.path): \(chosen.isEmpty ? "no scenario \(id ?? "")" : "several scenarios; pass id:") "
                    + "(it has \(scenarios.map(\.id).joined(separator: ", ")))")
        }
        return try await with(scenario, body)
    }

    /// Runs `body` with the mock of a loaded scenario.
    public static func with<Result: Sendable>(
        _ scenario: Scenario, _ body: (MockService) async throws -> Result
    ) async throws -> Result {
        let runner = ScenarioRunner(factory: MimicTesting.factory)
        let (prepared, errors) = runner.prepare([scenario])
        if let error = errors.first { throw error }
        guard let ready = prepared.first else { throw MimicTestingError(description: "\(scenario.id) did not prepare") }
        var configuration = ready.configuration
        configuration.port = 0
        let mock = try await MockServer.start(configuration)
        let service = MockService(
            host: mock.host == "0.0.0.0" ? "127.0.0.1" : mock.host, port: mock.port,
            serviceProtocol: scenario.server.serviceProtocol, mode: scenario.server.mode,
            serverName: ready.serverName, trustAnchorsDER: ready.anchors,
            expectedVerdict: ExpectedVerdict(scenario.expect, backends: scenario.probe.client.backends),
            scenario: scenario)
        do {
            let result = try await body(service)
            await mock.stop()
            return result
        } catch {
            await mock.stop()
            throw error
        }
    }
}

/// Why a mock could not be run.
public struct MimicTestingError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// The shared state of MimicTesting: one in-memory certificate factory per process (one local CA, so every mock
/// of a test run is trusted through the same anchor; nothing is written to disk).
public enum MimicTesting {
    public static let factory = CertificateFactory.inMemory()
}
