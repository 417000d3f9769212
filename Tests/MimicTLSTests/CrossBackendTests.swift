import Foundation
import MimicCerts
import MimicCore
import MimicTLS
import Testing

/// The two libraries against each other in memory: OpenSSL client ↔ GnuTLS server and GnuTLS client ↔ OpenSSL
/// server, at every TLS version, byte by byte, and failing the way a version or cipher mismatch fails.
@Suite("OpenSSL ↔ GnuTLS")
struct CrossBackendTests {
    static let directions: [(TLSBackend, TLSBackend)] = [(.openssl, .gnutls), (.gnutls, .openssl)]

    static let pki = Result { try TestPKI(rsaLeaf: true) }

    func engines(
        client: TLSBackend,
        server: TLSBackend,
        clientConfiguration: MimicTLSConfiguration,
        serverConfiguration: MimicTLSConfiguration
    ) throws -> (any TLSEngine, any TLSEngine) {
        let clientEngine = try TLSBackends.makeContext(client, configuration: clientConfiguration).makeEngine()
        let serverEngine = try TLSBackends.makeContext(server, configuration: serverConfiguration).makeEngine()
        #expect(clientEngine.backend == client && clientEngine.role == .client)
        #expect(serverEngine.backend == server && serverEngine.role == .server)
        return (clientEngine, serverEngine)
    }

    @Test(
        "handshake at every version, both directions",
        arguments: [MimicTLSVersion.tls1_0, .tls1_1, .tls1_2, .tls1_3], [0, 1]
    )
    func everyVersion(version: MimicTLSVersion, direction: Int) throws {
        let (client, server) = Self.directions[direction]
        let pki = try Self.pki.get()
        let (clientEngine, serverEngine) = try engines(
            client: client,
            server: server,
            clientConfiguration: pki.clientConfiguration(minimumVersion: version, maximumVersion: version),
            serverConfiguration: pki.serverConfiguration(minimumVersion: version, maximumVersion: version)
        )
        let outcome = TLSPump().handshake(client: clientEngine, server: serverEngine)
        #expect(outcome.client.isComplete, "\(client) client: \(String(describing: outcome.client.failure))")
        #expect(outcome.server.isComplete, "\(server) server: \(String(describing: outcome.server.failure))")
        let report = clientEngine.report
        #expect(report.negotiatedVersion == version)
        #expect(serverEngine.report.negotiatedVersion == version)
        #expect(report.cipherSuite?.hasPrefix("TLS_") == true, "IANA name: \(report.cipherSuite ?? "nil")")
        #expect(report.cipherSuite == serverEngine.report.cipherSuite, "both libraries name the suite alike")
        #expect(report.peerChain == pki.servedChain)
        #expect(report.verification?.accepted == true, "\(report.verification?.rawErrors ?? [])")
        let message = Array("EHLO probe.mimic.test\r\n".utf8)
        #expect(try TLSPump().transfer(message, from: clientEngine, to: serverEngine) == message)
        #expect(try TLSPump().transfer(message, from: serverEngine, to: clientEngine) == message)
    }

    @Test(
        "every record delivered one byte at a time, both directions", arguments: [0, 1], [MimicTLSVersion.tls1_2, .tls1_3])
    func byteByByte(direction: Int, version: MimicTLSVersion) throws {
        let (client, server) = Self.directions[direction]
        let pki = try Self.pki.get()
        let (clientEngine, serverEngine) = try engines(
            client: client,
            server: server,
            clientConfiguration: pki.clientConfiguration(maximumVersion: version),
            serverConfiguration: pki.serverConfiguration(maximumVersion: version)
        )
        let pump = TLSPump(chunk: 1)
        let outcome = pump.handshake(client: clientEngine, server: serverEngine)
        #expect(outcome.client.isComplete && outcome.server.isComplete)
        #expect(clientEngine.report.negotiatedVersion == version)
        let message = Array(repeating: UInt8(ascii: "x"), count: 3000)
        #expect(try pump.transfer(message, from: serverEngine, to: clientEngine) == message)
    }

    @Test("a legacy client against a modern server: protocol_version, both directions", arguments: [0, 1])
    func legacyClientModernServer(direction: Int) throws {
        let (client, server) = Self.directions[direction]
        let pki = try Self.pki.get()
        let (clientEngine, serverEngine) = try engines(
            client: client,
            server: server,
            clientConfiguration: pki.clientConfiguration(minimumVersion: .tls1_0, maximumVersion: .tls1_1),
            serverConfiguration: pki.serverConfiguration(minimumVersion: .tls1_2)
        )
        let outcome = TLSPump().handshake(client: clientEngine, server: serverEngine)
        let serverFailure = try #require(outcome.server.failure)
        let clientFailure = try #require(outcome.client.failure)
        #expect(serverFailure.alertSent == .protocolVersion, "\(serverFailure)")
        #expect(clientFailure.alertReceived == .protocolVersion, "\(clientFailure)")
        #expect(clientEngine.report.completed == false)
        #expect(clientEngine.report.alertReceived == .protocolVersion)
    }

    /// A server given no version bounds is a current server whichever library runs it: TLS 1.2 and 1.3 only. GnuTLS
    /// 3.7's NORMAL alone would accept 1.0 and 1.1, which is how a monitor could tell a GnuTLS mock from the rest.
    @Test(
        "a server without version bounds refuses TLS 1.0/1.1 and serves 1.2/1.3, with either library",
        arguments: [TLSBackend.openssl, .gnutls], [TLSBackend.openssl, .gnutls]
    )
    func serverDefaultIsModern(server: TLSBackend, client: TLSBackend) throws {
        let pki = try Self.pki.get()
        for legacy in [MimicTLSVersion.tls1_0, .tls1_1] {
            let (clientEngine, serverEngine) = try engines(
                client: client,
                server: server,
                clientConfiguration: pki.clientConfiguration(minimumVersion: legacy, maximumVersion: legacy),
                serverConfiguration: pki.serverConfiguration()
            )
            let outcome = TLSPump().handshake(client: clientEngine, server: serverEngine)
            let failure = try #require(outcome.server.failure, "\(server) server accepted \(legacy)")
            #expect(failure.alertSent == .protocolVersion, "\(failure)")
            #expect(serverEngine.report.completed == false)
        }
        for version in [MimicTLSVersion.tls1_2, .tls1_3] {
            let (clientEngine, serverEngine) = try engines(
                client: client,
                server: server,
                clientConfiguration: pki.clientConfiguration(minimumVersion: version, maximumVersion: version),
                serverConfiguration: pki.serverConfiguration()
            )
            let outcome = TLSPump().handshake(client: clientEngine, server: serverEngine)
            #expect(outcome.server.isComplete, "\(String(describing: outcome.server.failure))")
            #expect(serverEngine.report.negotiatedVersion == version)
        }
    }

    /// A TLS 1.2 client meeting a TLS 1.3-only server: OpenSSL says protocol_version; GnuTLS takes the
    /// ClientHello's legacy version 1.2 as a version it knows, finds no 1.2 suite enabled and says
    /// handshake_failure (certs/DIVERGENCES.md).
    @Test("a TLS 1.2 client against a TLS 1.3-only server: the alert each server library sends", arguments: [0, 1])
    func tls12ClientTLS13Server(direction: Int) throws {
        let (client, server) = Self.directions[direction]
        let pki = try Self.pki.get()
        let (clientEngine, serverEngine) = try engines(
            client: client,
            server: server,
            clientConfiguration: pki.clientConfiguration(maximumVersion: .tls1_2),
            serverConfiguration: pki.serverConfiguration(minimumVersion: .tls1_3)
        )
        let outcome = TLSPump().handshake(client: clientEngine, server: serverEngine)
        let expected: TLSAlert = server == .openssl ? .protocolVersion : .handshakeFailure
        let serverFailure = try #require(outcome.server.failure)
        let clientFailure = try #require(outcome.client.failure)
        #expect(serverFailure.alertSent == expected, "\(serverFailure)")
        #expect(clientFailure.alertReceived == expected, "\(clientFailure)")
        #expect(clientEngine.report.alertReceived == expected)
    }

    @Test("no shared cipher fails with handshake_failure, both directions", arguments: [0, 1])
    func cipherMismatch(direction: Int) throws {
        let (client, server) = Self.directions[direction]
        let pki = try Self.pki.get()
        var clientConfiguration = pki.clientConfiguration(maximumVersion: .tls1_2)
        var serverConfiguration = pki.serverConfiguration(maximumVersion: .tls1_2)
        // The client offers only AES-128-GCM, the server only AES-256-GCM.
        clientConfiguration.cipherList = "ECDHE-RSA-AES128-GCM-SHA256"
        clientConfiguration.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM"
        serverConfiguration.cipherList = "ECDHE-RSA-AES256-GCM-SHA384"
        serverConfiguration.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM"
        let (clientEngine, serverEngine) = try engines(
            client: client,
            server: server,
            clientConfiguration: clientConfiguration,
            serverConfiguration: serverConfiguration
        )
        let outcome = TLSPump().handshake(client: clientEngine, server: serverEngine)
        let serverFailure = try #require(outcome.server.failure)
        let clientFailure = try #require(outcome.client.failure)
        #expect(serverFailure.alertSent == .handshakeFailure, "\(serverFailure)")
        #expect(clientFailure.alertReceived == .handshakeFailure, "\(clientFailure)")
    }

    @Test("sessions resume across libraries' own contexts", arguments: [0, 1], [MimicTLSVersion.tls1_2, .tls1_3])
    func resumption(direction: Int, version: MimicTLSVersion) throws {
        let (client, server) = Self.directions[direction]
        let pki = try Self.pki.get()
        let serverContext = try TLSBackends.makeContext(
            server, configuration: pki.serverConfiguration(maximumVersion: version))
        var clientConfiguration = pki.clientConfiguration(maximumVersion: version)
        let pump = TLSPump()

        let first = try TLSBackends.makeContext(client, configuration: clientConfiguration).makeEngine()
        let firstServer = try serverContext.makeEngine()
        #expect(pump.handshake(client: first, server: firstServer).client.isComplete)
        // TLS 1.3 tickets arrive after the handshake: read once so the client processes them.
        _ = try pump.transfer(Array("ping".utf8), from: firstServer, to: first)
        let session = try #require(first.sessionForResumption())
        #expect(first.report.sessionResumed == false)

        clientConfiguration.resumeSession = session
        let second = try TLSBackends.makeContext(client, configuration: clientConfiguration).makeEngine()
        let secondServer = try serverContext.makeEngine()
        #expect(pump.handshake(client: second, server: secondServer).client.isComplete)
        #expect(second.report.sessionResumed)
        #expect(secondServer.report.sessionResumed)
    }
}
