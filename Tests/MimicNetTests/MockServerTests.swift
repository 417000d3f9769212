import Foundation
import MimicCerts
import MimicCore
import MimicDialogs
import MimicNet
import MimicTLS
import MimicTestSupport
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Every protocol in every mode, served by both TLS libraries, probed through both: the good chain gives a
/// complete dialog and a clean verdict; an expired leaf and a wrong host give exactly their findings.
@Suite("Mock server: every protocol, mode and backend", .timeLimit(.minutes(3)))
struct MockServerTests {
    @Test("good chain: complete dialog, clean verdict", arguments: MockCase.all(profiles: ["good"]))
    func good(_ mock: MockCase) async throws {
        let server = try await MockSupport.start(mock.serviceProtocol, mock.mode, backend: mock.backend)
        let reports = try await MockSupport.probe(server)
        await server.stop()
        #expect(reports.map(\.backend) == [.openssl, .gnutls])
        for report in reports {
            let where_ = "\(mock) via \(report.backend)"
            let handshake = try #require(report.handshake, "\(where_): no handshake; \(report.findings)")
            #expect(handshake.completed, "\(where_): \(report.findings)")
            #expect(report.findings.isEmpty, "\(where_): \(report.findings) \(report.transcript)")
            #expect(report.severity == .ok, "\(where_)")
            #expect(handshake.peerChain == (try MockSupport.chain("good")).served, "\(where_): the chain as served")
            let dialog = try #require(report.dialog, "\(where_): the dialog did not run to its end")
            if mock.mode == .startTLS && mock.serviceProtocol != .ldap {
                #expect(dialog.upgradeAdvertised, "\(where_)")
            }
            if mock.serviceProtocol == .https { #expect(dialog.httpStatus == 200, "\(where_)") }
            if mock.serviceProtocol == .ftp {
                let data = try #require(report.dataChannel, "\(where_): no data channel")
                #expect(data.completed, "\(where_): \(data)")
                #expect(data.sessionResumed, "\(where_): the data channel resumes the control session")
                #expect(dialog.dataChannelReply?.hasPrefix("226") == true, "\(where_): \(report.transcript)")
            }
        }
    }

    @Test(
        "expired leaf and wrong host: exactly that finding",
        arguments: MockCase.all(profiles: ["expired-leaf", "wrong-host"])
    )
    func badChain(_ mock: MockCase) async throws {
        let expected: FindingCode = mock.profile == "expired-leaf" ? .expired : .hostnameMismatch
        let server = try await MockSupport.start(
            mock.serviceProtocol,
            mock.mode,
            backend: mock.backend,
            profile: mock.profile
        )
        let reports = try await MockSupport.probe(server, profile: mock.profile)
        await server.stop()
        #expect(reports.count == 2)
        for report in reports {
            let where_ = "\(mock) via \(report.backend)"
            #expect(report.handshake?.completed == true, "\(where_): \(report.findings)")
            #expect(report.verdict.codes == [expected], "\(where_): \(report.findings)")
            #expect(report.severity == .critical, "\(where_)")
            #expect(report.dialog != nil, "\(where_): the dialog ran to its end")
        }
    }
}

/// What the mock-server tests share: chains minted once per profile, server configurations built from them, and
/// the probe run against a mock with deadlines.
enum MockSupport {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let factory = CertificateFactory(
        home: Scratch.cache("mimic-mock-tests-home"),
        profiles: repository.appendingPathComponent("certs/profiles")
    )

    private static let minted = Mutex<[String: MintedChain]>([:])

    /// The chain of a profile, minted once per test run (the factory caches keys; this caches certificates).
    static func chain(_ profile: String) throws -> MintedChain {
        try minted.withLock { minted in
            if let chain = minted[profile] { return chain }
            let chain = try factory.mint(profile: profile)
            minted[profile] = chain
            return chain
        }
    }

    static func serverTLS(_ chain: MintedChain) -> MimicTLSConfiguration {
        MimicTLSConfiguration(role: .server, certificateChain: chain.served, privateKey: .pem(chain.leafKeyPEM))
    }

    /// A mock for `profile`, tweaked by the caller.
    static func start(
        _ serviceProtocol: ServiceProtocol,
        _ mode: TLSMode,
        backend: TLSBackend = .openssl,
        profile: String = "good",
        configure: (inout MockServerConfiguration) -> Void = { _ in }
    ) async throws -> MockServer {
        let chain = try chain(profile)
        var configuration = MockServerConfiguration(
            serviceProtocol: serviceProtocol,
            mode: mode,
            backend: backend,
            tls: serverTLS(chain)
        )
        configure(&configuration)
        return try await MockServer.start(configuration)
    }

    /// A mock on a port from 15000 to 15999 (below the ephemeral range, where other tests' ephemeral mocks never
    /// land), the first that binds.
    static func startBelowEphemeralRange(_ serviceProtocol: ServiceProtocol, _ mode: TLSMode) async throws -> MockServer {
        let first = 15000 + Int(getpid() % 500)
        var lastError: (any Error)?
        for port in first..<(first + 500) {
            do {
                return try await start(serviceProtocol, mode) { $0.port = port }
            } catch {
                lastError = error
            }
        }
        throw lastError ?? MockServerError(description: "no free port from \(first)")
    }

    /// Probes a mock through the given client backends, trusting the factory's anchors.
    static func probe(
        _ server: MockServer,
        backends: [TLSBackend] = TLSBackend.allCases,
        profile: String = "good",
        deadlines: ProbeDeadlines = ProbeDeadlines(timeout: 5)
    ) async throws -> [ProbeReport] {
        let chain = try chain(profile)
        let target = ProbeTarget(
            host: server.host,
            port: server.port,
            serviceProtocol: server.configuration.serviceProtocol,
            mode: server.configuration.mode,
            serverName: chain.hostname
        )
        let options = ProbeOptions(backends: backends, trustAnchors: chain.anchors, deadlines: deadlines)
        return await Prober().probe(target, options: options)
    }

    /// Every protocol and the modes it has.
    static let protocolModes: [(ServiceProtocol, TLSMode)] = ServiceProtocol.allCases.flatMap { serviceProtocol in
        serviceProtocol == .https
            ? [(serviceProtocol, .implicit)] : [(serviceProtocol, .implicit), (serviceProtocol, .startTLS)]
    }

    /// Whether something still accepts connections on 127.0.0.1:`port`.
    static func isListening(port: Int) async -> Bool {
        let bootstrap = ClientBootstrap(group: MimicEventLoops.shared)
            .connectTimeout(.seconds(2))
        guard let channel = try? await bootstrap.connect(host: "127.0.0.1", port: port).get() else { return false }
        try? await channel.close()
        return true
    }
}

/// One mock-server case: protocol, mode, the server's TLS library, a chain profile.
struct MockCase: Sendable, CustomStringConvertible {
    var serviceProtocol: ServiceProtocol
    var mode: TLSMode
    var backend: TLSBackend
    var profile: String

    var description: String { "\(serviceProtocol)/\(mode) served by \(backend) with \(profile)" }

    static func all(profiles: [String]) -> [MockCase] {
        profiles.flatMap { profile in
            MockSupport.protocolModes.flatMap { serviceProtocol, mode in
                TLSBackend.allCases.map {
                    MockCase(serviceProtocol: serviceProtocol, mode: mode, backend: $0, profile: profile)
                }
            }
        }
    }
}
