import Foundation
import MimicCore
import Testing

@testable import MimicTLS

/// Helpers shared by the GnuTLS test suites.
enum GnuTLSTesting {
    static func engines(
        client: MimicTLSConfiguration,
        server: MimicTLSConfiguration
    ) throws -> (client: any TLSEngine, server: any TLSEngine) {
        let clientContext = try GnuTLSContext(configuration: client)
        let serverContext = try GnuTLSContext(configuration: server)
        return (try clientContext.makeEngine(), try serverContext.makeEngine())
    }

    /// A full handshake between fresh engines of the two configurations.
    static func handshake(
        client: MimicTLSConfiguration,
        server: MimicTLSConfiguration,
        chunk: Int = .max
    ) throws -> (client: any TLSEngine, server: any TLSEngine, outcome: Pump.Outcome) {
        let pair = try engines(client: client, server: server)
        let outcome = Pump(chunk: chunk).handshake(client: pair.client, server: pair.server)
        return (pair.client, pair.server, outcome)
    }
}

@Suite("GnuTLS engine")
struct GnuTLSEngineTests {
    @Test func libraryVersionNamesGnuTLS() {
        #expect(GnuTLSContext.libraryVersion.hasPrefix("GnuTLS 3."))
        #expect(TLSBackends.libraryVersion(.gnutls) == GnuTLSContext.libraryVersion)
    }

    @Test(arguments: MimicTLSVersion.allCases, [Int.max, 1])
    func handshakeAtEachVersion(version: MimicTLSVersion, chunk: Int) throws {
        let pki = try TestPKI(rsaLeaf: version.isLegacy)
        let (client, server, outcome) = try GnuTLSTesting.handshake(
            client: pki.clientConfiguration(minimumVersion: version, maximumVersion: version),
            server: pki.serverConfiguration(minimumVersion: version, maximumVersion: version),
            chunk: chunk
        )
        #expect(outcome.client.isComplete, "client: \(outcome.client)")
        #expect(outcome.server.isComplete, "server: \(outcome.server)")

        for report in [client.report, server.report] {
            #expect(report.backend == .gnutls)
            #expect(report.libraryVersion.hasPrefix("GnuTLS "))
            #expect(report.completed)
            #expect(report.negotiatedVersion == version)
            #expect(report.cipherSuite?.hasPrefix("TLS_") == true, "\(report.cipherSuite ?? "nil")")
            #expect(report.failure == nil)
            #expect(report.sessionResumed == false)
        }
        #expect(client.report.role == .client)
        #expect(server.report.role == .server)
        #expect(client.report.cipherSuite == server.report.cipherSuite)
        if version == .tls1_3 {
            #expect(client.report.cipherSuite?.contains("_WITH_") == false)
        } else {
            #expect(client.report.cipherSuite?.contains("_WITH_") == true)
        }
        // Every suite GnuTLS negotiates by default uses (EC)DHE; the group is named in IANA's lower case.
        let group = try #require(client.report.keyExchangeGroup)
        #expect(group == server.report.keyExchangeGroup)
        #expect(["x25519", "secp256r1", "secp384r1", "secp521r1", "x448"].contains(group) || group.hasPrefix("ffdhe"))

        #expect(server.report.serverName == "mail.example.test")
        #expect(client.report.serverName == "mail.example.test")
        #expect(client.report.peerChain == pki.servedChain)
        #expect(server.report.peerChain.isEmpty)
        let verification = try #require(client.report.verification)
        #expect(verification.accepted, "\(verification.rawErrors)")
        #expect(verification.findings.isEmpty)
        #expect(server.report.verification == nil)
    }

    @Test func cipherSuiteNamesAreIANA() throws {
        let pki = try TestPKI()
        var client = pki.clientConfiguration()
        var server = pki.serverConfiguration()
        client.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:-GROUP-ALL:+GROUP-X25519"
        server.priority = client.priority
        let tls13 = try GnuTLSTesting.handshake(client: client, server: server)
        #expect(tls13.client.report.cipherSuite == "TLS_AES_128_GCM_SHA256")
        #expect(tls13.client.report.keyExchangeGroup == "x25519")

        client.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:-GROUP-ALL:+GROUP-SECP384R1"
        server.priority = client.priority
        let tls12 = try GnuTLSTesting.handshake(client: client, server: server)
        #expect(tls12.client.report.cipherSuite == "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384")
        #expect(tls12.server.report.keyExchangeGroup == "secp384r1")
    }

    /// A TLS 1.2 client meeting a TLS 1.3-only GnuTLS server: GnuTLS accepts "1.2" as the legacy version every
    /// 1.3 client advertises, then finds no TLS 1.2 suite enabled, so the failure is handshake_failure, not
    /// protocol_version (OpenSSL sends protocol_version here).
    @Test func priorityFollowsTheVersionBounds() {
        func priority(_ minimum: MimicTLSVersion?, _ maximum: MimicTLSVersion?) -> String {
            GnuTLSContext.priorityString(
                for: MimicTLSConfiguration(role: .client, minimumVersion: minimum, maximumVersion: maximum)
            )
        }
        #expect(priority(nil, nil) == "NORMAL")
        #expect(priority(.tls1_2, nil) == "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3")
        #expect(priority(nil, .tls1_2) == "NORMAL:-VERS-ALL:+VERS-TLS1.2")
        #expect(
            priority(.tls1_0, .tls1_1) == "NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1:+AES-128-CBC:+AES-256-CBC:+SHA1"
        )
        // A server without bounds: TLS 1.2 and 1.3 only, unless a bound below 1.2 is asked for.
        func server(_ minimum: MimicTLSVersion?, _ maximum: MimicTLSVersion?) -> String {
            GnuTLSContext.priorityString(
                for: MimicTLSConfiguration(role: .server, minimumVersion: minimum, maximumVersion: maximum)
            )
        }
        #expect(server(nil, nil) == "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3")
        #expect(server(nil, .tls1_1) == "NORMAL:-VERS-ALL:+VERS-TLS1.1:+AES-128-CBC:+AES-256-CBC:+SHA1")
        #expect(server(.tls1_0, nil).hasPrefix("NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1:+VERS-TLS1.2:+VERS-TLS1.3"))
        var configured = MimicTLSConfiguration(role: .server, minimumVersion: .tls1_3)
        configured.priority = "SECURE256"
        #expect(GnuTLSContext.priorityString(for: configured) == "SECURE256")
    }

    @Test func staticRSAKeyExchangeHasNoGroup() throws {
        let pki = try TestPKI(rsaLeaf: true)
        var client = pki.clientConfiguration()
        var server = pki.serverConfiguration()
        client.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA"
        server.priority = client.priority
        let (c, s, outcome) = try GnuTLSTesting.handshake(client: client, server: server)
        #expect(outcome.client.isComplete && outcome.server.isComplete)
        #expect(c.report.cipherSuite?.hasPrefix("TLS_RSA_WITH_") == true)
        #expect(c.report.keyExchangeGroup == nil)
        #expect(s.report.keyExchangeGroup == nil)
    }

    @Test func inboundBufferIsBounded() throws {
        let pki = try TestPKI()
        let server = try GnuTLSContext(configuration: pki.serverConfiguration()).makeEngine()
        let block = [UInt8](repeating: 0x16, count: 1024 * 1024)
        for _ in 0...GnuTLSEngine.maximumInbound / block.count { server.receivedFromNetwork(block) }
        let failure = try #require(server.handshake().failure)
        #expect(failure.reason.contains("not yet consumed"))
    }

    @Test func versionMismatchAroundTLS12FailsWithHandshakeFailure() throws {
        let pki = try TestPKI()
        let (client, server, outcome) = try GnuTLSTesting.handshake(
            client: pki.clientConfiguration(maximumVersion: .tls1_2),
            server: pki.serverConfiguration(minimumVersion: .tls1_3)
        )
        let serverFailure = try #require(outcome.server.failure)
        let clientFailure = try #require(outcome.client.failure)
        #expect(serverFailure.libraryError == "GNUTLS_E_NO_CIPHER_SUITES")
        #expect(serverFailure.kind == .noSharedCipher)
        #expect(serverFailure.alertSent == .handshakeFailure)
        #expect(clientFailure.libraryError == "GNUTLS_E_FATAL_ALERT_RECEIVED")
        #expect(clientFailure.libraryCode == -12, "GNUTLS_E_FATAL_ALERT_RECEIVED")
        #expect(clientFailure.kind == .alertReceived(.handshakeFailure))
        #expect(clientFailure.alertReceived == .handshakeFailure)
        #expect(client.report.alertReceived == .handshakeFailure)
        #expect(server.report.alertSent == .handshakeFailure)
        #expect(client.report.completed == false)
        #expect(server.report.failure == serverFailure)
        // The failed engine stays failed.
        #expect(client.handshake().failure == clientFailure)
    }

    @Test func legacyClientMeetingModernServerGetsProtocolVersion() throws {
        let pki = try TestPKI(rsaLeaf: true)
        let (client, server, outcome) = try GnuTLSTesting.handshake(
            client: pki.clientConfiguration(minimumVersion: .tls1_0, maximumVersion: .tls1_1),
            server: pki.serverConfiguration(minimumVersion: .tls1_2)
        )
        let serverFailure = try #require(outcome.server.failure)
        let clientFailure = try #require(outcome.client.failure)
        #expect(serverFailure.libraryError == "GNUTLS_E_UNSUPPORTED_VERSION_PACKET")
        #expect(serverFailure.kind == .noSharedVersion)
        #expect(clientFailure.kind == .alertReceived(.protocolVersion))
        #expect(serverFailure.alertSent == .protocolVersion)
        #expect(clientFailure.alertReceived == .protocolVersion)
        #expect(client.report.alertReceived == .protocolVersion)
        #expect(server.report.alertSent == .protocolVersion)
    }

    @Test func disjointCiphersFailWithHandshakeFailure() throws {
        let pki = try TestPKI()
        var client = pki.clientConfiguration()
        var server = pki.serverConfiguration()
        client.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM"
        server.priority = "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+CHACHA20-POLY1305"
        let (_, server2, outcome) = try GnuTLSTesting.handshake(client: client, server: server)
        let serverFailure = try #require(outcome.server.failure)
        let clientFailure = try #require(outcome.client.failure)
        #expect(serverFailure.libraryError == "GNUTLS_E_NO_CIPHER_SUITES")
        #expect(serverFailure.alertSent == .handshakeFailure)
        #expect(clientFailure.alertReceived == .handshakeFailure)
        #expect(server2.report.alertSent == .handshakeFailure)
    }

    @Test(arguments: [MimicTLSVersion.tls1_2, .tls1_3], [Int.max, 1])
    func applicationDataBothWaysThenClose(version: MimicTLSVersion, chunk: Int) throws {
        let pki = try TestPKI()
        let (client, server, outcome) = try GnuTLSTesting.handshake(
            client: pki.clientConfiguration(maximumVersion: version),
            server: pki.serverConfiguration(),
            chunk: chunk
        )
        try #require(outcome.client.isComplete && outcome.server.isComplete)
        let pump = Pump(chunk: chunk)
        let request = Array("EHLO probe.example.test\r\n".utf8)
        #expect(try pump.transfer(request, from: client, to: server) == request)
        // Larger than one record, so it spans several.
        let reply = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(try pump.transfer(reply, from: server, to: client) == reply)
        #expect(server.readPlaintext() == .wouldBlock)

        client.close()
        pump.deliver(client.takeNetworkOutput(), to: server)
        #expect(server.readPlaintext() == .closed)
        #expect(server.report.alertReceived == .closeNotify)
    }

    @Test func writeBeforeHandshakeThrows() throws {
        let pki = try TestPKI()
        let engine = try GnuTLSContext(configuration: pki.clientConfiguration()).makeEngine()
        #expect(throws: TLSFailure.self) { try engine.write(plaintext: [1, 2, 3]) }
        #expect(engine.readPlaintext() == .wouldBlock)
        #expect(engine.sessionForResumption() == nil)
    }

    @Test func alpnIsNegotiated() throws {
        let pki = try TestPKI()
        var client = pki.clientConfiguration()
        var server = pki.serverConfiguration()
        client.alpn = ["h2", "http/1.1"]
        server.alpn = ["http/1.1"]
        let (c, s, outcome) = try GnuTLSTesting.handshake(client: client, server: server)
        try #require(outcome.client.isComplete)
        #expect(c.report.alpn == "http/1.1")
        #expect(s.report.alpn == "http/1.1")
    }

    @Test(arguments: [MimicTLSVersion.tls1_2, .tls1_3])
    func sessionsResumeAcrossEnginesOfOneServerContext(version: MimicTLSVersion) throws {
        let pki = try TestPKI()
        let serverContext = try GnuTLSContext(configuration: pki.serverConfiguration())
        let clientConfiguration = pki.clientConfiguration(maximumVersion: version)
        let pump = Pump()

        let firstClient = try GnuTLSContext(configuration: clientConfiguration).makeEngine()
        let firstServer = try serverContext.makeEngine()
        try #require(pump.handshake(client: firstClient, server: firstServer).client.isComplete)
        #expect(firstClient.report.sessionResumed == false)
        // TLS 1.3 tickets follow the handshake: the client has them once it read what the server sent.
        _ = try pump.transfer(Array("hello".utf8), from: firstServer, to: firstClient)
        let session = try #require(firstClient.sessionForResumption())
        #expect(session.backend == .gnutls)

        var resuming = clientConfiguration
        resuming.resumeSession = session
        let secondClient = try GnuTLSContext(configuration: resuming).makeEngine()
        let secondServer = try serverContext.makeEngine()
        let outcome = pump.handshake(client: secondClient, server: secondServer)
        #expect(outcome.client.isComplete && outcome.server.isComplete)
        #expect(secondClient.report.sessionResumed)
        #expect(secondServer.report.sessionResumed)
        #expect(secondClient.report.negotiatedVersion == version)
        // The resumed session still knows the peer's chain, so the verdict is reported again.
        #expect(secondClient.report.peerChain == pki.servedChain)
        #expect(secondClient.report.verification?.accepted == true)
        // A resumed TLS 1.2 session runs no key exchange; TLS 1.3 resumption here is psk_dhe_ke and does.
        #expect((secondClient.report.keyExchangeGroup == nil) == (version == .tls1_2))

        // Another server context has another ticket key: the same session does not resume there.
        let otherServer = try GnuTLSContext(configuration: pki.serverConfiguration()).makeEngine()
        let thirdClient = try GnuTLSContext(configuration: resuming).makeEngine()
        #expect(pump.handshake(client: thirdClient, server: otherServer).client.isComplete)
        #expect(thirdClient.report.sessionResumed == false)
    }

    @Test func noResumptionWhenTheServerTurnsItOff() throws {
        let pki = try TestPKI()
        var serverConfiguration = pki.serverConfiguration(maximumVersion: .tls1_2)
        serverConfiguration.sessionResumption = false
        let serverContext = try GnuTLSContext(configuration: serverConfiguration)
        let pump = Pump()
        let firstClient = try GnuTLSContext(configuration: pki.clientConfiguration()).makeEngine()
        try #require(pump.handshake(client: firstClient, server: try serverContext.makeEngine()).client.isComplete)
        var resuming = pki.clientConfiguration()
        resuming.resumeSession = firstClient.sessionForResumption()
        let secondClient = try GnuTLSContext(configuration: resuming).makeEngine()
        #expect(pump.handshake(client: secondClient, server: try serverContext.makeEngine()).client.isComplete)
        #expect(secondClient.report.sessionResumed == false)
    }

    // MARK: - The served chain, exactly as configured

    @Test(arguments: [MimicTLSVersion.tls1_2, .tls1_3])
    func servedChainOrderIsPreserved(version: MimicTLSVersion) throws {
        let pki = try TestPKI()
        let unrelated = try TestPKI(hostname: "other.example.test")
        let chains: [[[UInt8]]] = [
            [pki.leaf, pki.intermediate],
            [pki.leaf],
            [pki.leaf, pki.root, pki.intermediate],
            [pki.leaf, unrelated.leaf, pki.intermediate],
            [pki.leaf, pki.intermediate, pki.root],
        ]
        for chain in chains {
            let (client, _, outcome) = try GnuTLSTesting.handshake(
                client: pki.clientConfiguration(maximumVersion: version),
                server: pki.serverConfiguration(chain: chain)
            )
            #expect(outcome.client.isComplete)
            #expect(client.report.peerChain == chain)
        }
    }

    @Test func reversedChainIsServedReversed() throws {
        // The key belongs to certificateChain[0], so the leaf leads; what follows it is served reversed
        // (root before the intermediate that it signed).
        let pki = try TestPKI()
        let reversed = [pki.leaf, pki.root, pki.intermediate]
        let (client, _, outcome) = try GnuTLSTesting.handshake(
            client: pki.clientConfiguration(),
            server: pki.serverConfiguration(chain: reversed)
        )
        #expect(outcome.client.isComplete)
        #expect(client.report.peerChain == reversed)
        // GnuTLS's verification tolerates the order (it sorts what it verifies), and says so by accepting.
        #expect(client.report.verification?.accepted == true)
    }

    // MARK: - Verification after the handshake

    @Test func verificationFindingsWithFactsPresent() throws {
        let pki = try TestPKI()
        let expired = try TestPKI(leafValidity: (-86_400 * 30)...(-86_400))

        let cases: [(TestPKI, MimicTLSConfiguration, MimicTLSConfiguration, FindingCode)] = [
            (expired, expired.clientConfiguration(), expired.serverConfiguration(), .expired),
            (
                pki, pki.clientConfiguration(serverName: "wrong.example.test"), pki.serverConfiguration(),
                .hostnameMismatch
            ),
            (pki, pki.clientConfiguration(), pki.serverConfiguration(chain: [pki.leaf]), .incompleteChain),
            (
                pki,
                {
                    var c = pki.clientConfiguration()
                    c.trustAnchors = []
                    return c
                }(), pki.serverConfiguration(), .untrustedRoot
            ),
        ]
        for (pki, clientConfiguration, serverConfiguration, expected) in cases {
            let (client, _, outcome) = try GnuTLSTesting.handshake(
                client: clientConfiguration,
                server: serverConfiguration
            )
            // The handshake never fails on verification.
            #expect(outcome.client.isComplete && outcome.server.isComplete)
            let verification = try #require(client.report.verification)
            #expect(verification.accepted == false)
            #expect(verification.findings.codes == [expected], "\(verification.rawErrors)")
            #expect(verification.findings.allSatisfy { $0.source == "gnutls" && $0.phase == .verification })
            #expect(verification.hostname == clientConfiguration.effectiveVerifyHostname)
            // The facts are all there anyway.
            #expect(client.report.negotiatedVersion == .tls1_3)
            #expect(client.report.cipherSuite != nil)
            #expect(client.report.peerChain == serverConfiguration.certificateChain)
            #expect(client.report.peerChain.first == pki.leaf)
        }
    }

    @Test func verifyHostnameOverridesServerName() throws {
        let pki = try TestPKI()
        var configuration = pki.clientConfiguration(serverName: "mail.example.test")
        configuration.verifyHostname = "smtp.example.test"
        let (client, _, _) = try GnuTLSTesting.handshake(client: configuration, server: pki.serverConfiguration())
        let verification = try #require(client.report.verification)
        #expect(verification.hostname == "smtp.example.test")
        #expect(verification.findings.codes == [.hostnameMismatch])
        #expect(verification.rawErrors.map(\.code) == ["GNUTLS_CERT_UNEXPECTED_OWNER"])
    }

    @Test func noVerificationWhenNotAsked() throws {
        let pki = try TestPKI()
        var configuration = pki.clientConfiguration()
        configuration.verifyPeer = false
        let (client, _, outcome) = try GnuTLSTesting.handshake(client: configuration, server: pki.serverConfiguration())
        #expect(outcome.client.isComplete)
        #expect(client.report.verification == nil)
        #expect(client.report.peerChain == pki.servedChain)
    }

    // MARK: - Hostile input and bad configuration

    @Test(arguments: [Int.max, 1])
    func garbageFromThePeerFailsWithoutCrashing(chunk: Int) throws {
        let pki = try TestPKI()
        let garbage: [[UInt8]] = [
            Array("EHLO this is not TLS\r\n".utf8),
            [0x16, 0x03, 0x01, 0xFF, 0xFF] + [UInt8](repeating: 0x41, count: 300),
            [0x16, 0x03, 0x03, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00],
            [UInt8](repeating: 0, count: 64),
        ]
        for bytes in garbage {
            let server = try GnuTLSContext(configuration: pki.serverConfiguration()).makeEngine()
            var step = server.handshake()
            for piece in Pump(chunk: chunk).pieces(bytes) {
                server.receivedFromNetwork(piece)
                step = server.handshake()
                if step.failure != nil { break }
            }
            let failure = try #require(step.failure, "\(bytes.prefix(8)) gave \(step)")
            #expect(failure.libraryError?.hasPrefix("GNUTLS_E_") == true)
            #expect(server.report.failure == failure)
            #expect(server.report.completed == false)
            #expect(server.readPlaintext() == .failed(failure))
        }
    }

    @Test func garbageAfterTheHandshakeFailsTheRead() throws {
        let pki = try TestPKI()
        let (client, server, outcome) = try GnuTLSTesting.handshake(
            client: pki.clientConfiguration(),
            server: pki.serverConfiguration()
        )
        try #require(outcome.server.isComplete)
        _ = client
        server.receivedFromNetwork([0x17, 0x03, 0x03, 0x00, 0x20] + [UInt8](repeating: 0x55, count: 32))
        guard case .failed(let failure) = server.readPlaintext() else {
            Issue.record("expected a failed read")
            return
        }
        #expect(failure.libraryError == "GNUTLS_E_DECRYPTION_FAILED")
        #expect(failure.alertSent == TLSAlert(code: 20))
    }

    @Test func unreadableKeyThrowsAReadableReason() throws {
        let pki = try TestPKI()
        var configuration = pki.serverConfiguration()
        configuration.privateKey = .pem("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
        do {
            _ = try GnuTLSContext(configuration: configuration)
            Issue.record("context accepted a bad key")
        } catch {
            #expect(error.reason.contains("private key"))
            #expect(error.libraryError?.hasPrefix("GNUTLS_E_") == true)
        }

        configuration.privateKey = .pkcs8DER([0x30, 0x03, 0x02, 0x01, 0x00])
        #expect(throws: TLSFailure.self) { try GnuTLSContext(configuration: configuration) }
    }

    @Test func keyOfAnotherCertificateIsRefused() throws {
        let pki = try TestPKI()
        let other = try TestPKI()
        var configuration = pki.serverConfiguration()
        configuration.privateKey = .pem(other.leafKeyPEM)
        do {
            _ = try GnuTLSContext(configuration: configuration)
            Issue.record("context accepted a key that does not match the leaf")
        } catch {
            #expect(error.reason.contains("does not match"))
        }
    }

    @Test func badPriorityStringThrows() throws {
        var configuration = MimicTLSConfiguration(role: .client)
        configuration.priority = "NORMAL:+NO-SUCH-THING"
        do {
            _ = try GnuTLSContext(configuration: configuration)
            Issue.record("context accepted a bad priority string")
        } catch {
            #expect(error.reason.contains("NO-SUCH-THING"))
            #expect(error.libraryError == "GNUTLS_E_INVALID_REQUEST")
        }
    }

    @Test func pkcs8DERKeysLoad() throws {
        let pki = try TestPKI()
        // The PEM body of a PKCS#8 key is its DER.
        let body = pki.leafKeyPEM.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let der = try #require(Data(base64Encoded: body)).map { $0 }
        var configuration = pki.serverConfiguration()
        configuration.privateKey = .pkcs8DER(der)
        let (_, _, outcome) = try GnuTLSTesting.handshake(client: pki.clientConfiguration(), server: configuration)
        #expect(outcome.client.isComplete && outcome.server.isComplete)
    }
}
