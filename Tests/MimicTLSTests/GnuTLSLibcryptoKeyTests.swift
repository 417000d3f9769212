import MimicCore
import Testing

@testable import MimicTLS

/// A GnuTLS server's RSA key signs and decrypts through libcrypto (`GnuTLSLibcryptoKey`). Every signature scheme
/// and key exchange a GnuTLS server can choose with an RSA key is made here and checked by the other library's
/// client, which fails the handshake on a signature that does not verify or a premaster secret that does not match.
@Suite("GnuTLS key operations through libcrypto")
struct GnuTLSLibcryptoKeyTests {
    static let rsa = Result { try TestPKI(rsaLeaf: true) }
    static let ecdsa = Result { try TestPKI() }
    static let rsa1024 = Result { try TestPKI(rsaLeaf: true, rsaLeafBits: 1024) }

    /// A GnuTLS priority string pinning one version, key exchange and signature scheme; the suite each should
    /// negotiate (IANA name prefix).
    static let cases: [(priority: String, version: MimicTLSVersion, suite: String)] = [
        ("NORMAL:-VERS-ALL:+VERS-TLS1.3:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA256", .tls1_3, "TLS_AES_"),
        ("NORMAL:-VERS-ALL:+VERS-TLS1.3:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA384", .tls1_3, "TLS_AES_"),
        ("NORMAL:-VERS-ALL:+VERS-TLS1.3:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA512", .tls1_3, "TLS_AES_"),
        ("NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-RSA:-SIGN-ALL:+SIGN-RSA-SHA256", .tls1_2, "TLS_ECDHE_RSA_"),
        ("NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-RSA:-SIGN-ALL:+SIGN-RSA-SHA512", .tls1_2, "TLS_ECDHE_RSA_"),
        (
            "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-RSA:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA256", .tls1_2,
            "TLS_ECDHE_RSA_"
        ),
        ("NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+ECDHE-RSA:-SIGN-ALL:+SIGN-RSA-SHA384", .tls1_2, "TLS_ECDHE_RSA_"),
        ("NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA", .tls1_2, "TLS_RSA_WITH_"),
        ("NORMAL:-VERS-ALL:+VERS-TLS1.1:-KX-ALL:+ECDHE-RSA:+AES-128-CBC:+SHA1", .tls1_1, "TLS_ECDHE_RSA_"),
        ("NORMAL:-VERS-ALL:+VERS-TLS1.0:-KX-ALL:+RSA:+AES-128-CBC:+SHA1", .tls1_0, "TLS_RSA_WITH_"),
    ]

    @Test("an RSA-2048 key is handed to libcrypto; an ECDSA key and an RSA-1024 key stay GnuTLS's")
    func whichKeys() throws {
        let rsa = try TLSBackends.makeContext(.gnutls, configuration: Self.rsa.get().serverConfiguration())
        let ecdsa = try TLSBackends.makeContext(.gnutls, configuration: Self.ecdsa.get().serverConfiguration())
        let weak = try TLSBackends.makeContext(.gnutls, configuration: Self.rsa1024.get().serverConfiguration())
        #expect((rsa as? GnuTLSContext)?.keyOperationsInLibcrypto == true)
        #expect((ecdsa as? GnuTLSContext)?.keyOperationsInLibcrypto == false)
        #expect((weak as? GnuTLSContext)?.keyOperationsInLibcrypto == false)
    }

    @Test("RSA-1024 with PSS-SHA512: TLS 1.2 hand-shakes with GnuTLS's shortened salt, TLS 1.3 fails on the server")
    func shortKeyLongHash() throws {
        // Where a salt as long as the hash does not fit, GnuTLS shortens it in TLS 1.2 and refuses in TLS 1.3
        // (RFC 8446 §4.2.3 fixes the salt): the key stays GnuTLS's, so the mock behaves as GnuTLS does.
        let pki = try Self.rsa1024.get()
        for (version, completes) in [(MimicTLSVersion.tls1_2, true), (.tls1_3, false)] {
            var serverConfiguration = pki.serverConfiguration(minimumVersion: version, maximumVersion: version)
            serverConfiguration.priority =
                "NORMAL:-VERS-ALL:+VERS-TLS\(version.rawValue):-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA512"
            let server = try TLSBackends.makeContext(.gnutls, configuration: serverConfiguration).makeEngine()
            let client = try TLSBackends.makeContext(
                .gnutls, configuration: pki.clientConfiguration(minimumVersion: version, maximumVersion: version)
            ).makeEngine()
            let outcome = TLSPump().handshake(client: client, server: server)
            #expect(outcome.client.isComplete == completes, "\(version): \(String(describing: outcome.client.failure))")
            if !completes { #expect(server.report.failure != nil, "the server is the side that fails") }
        }
    }

    @Test(
        "every signature scheme and key exchange, checked by either library's client", arguments: 0..<cases.count,
        [TLSBackend.openssl, .gnutls])
    func everyScheme(index: Int, client: TLSBackend) throws {
        let (priority, version, suite) = Self.cases[index]
        let pki = try Self.rsa.get()
        var serverConfiguration = pki.serverConfiguration(minimumVersion: version, maximumVersion: version)
        serverConfiguration.priority = priority
        let context = try TLSBackends.makeContext(.gnutls, configuration: serverConfiguration)
        #expect((context as? GnuTLSContext)?.keyOperationsInLibcrypto == true)
        let server = try context.makeEngine()
        let clientEngine = try TLSBackends.makeContext(
            client,
            configuration: pki.clientConfiguration(minimumVersion: version, maximumVersion: version)
        ).makeEngine()
        let pump = TLSPump()
        let outcome = pump.handshake(client: clientEngine, server: server)
        #expect(outcome.client.isComplete, "\(priority): \(String(describing: outcome.client.failure))")
        #expect(outcome.server.isComplete, "\(priority): \(String(describing: outcome.server.failure))")
        #expect(clientEngine.report.negotiatedVersion == version)
        #expect(
            clientEngine.report.cipherSuite?.hasPrefix(suite) == true, "\(clientEngine.report.cipherSuite ?? "nil")")
        #expect(clientEngine.report.verification?.accepted == true)
        let message = Array("EHLO probe.mimic.test\r\n".utf8)
        #expect(try pump.transfer(message, from: clientEngine, to: server) == message)
    }

    @Test(
        "a GnuTLS client's certificate, signed for through libcrypto, is accepted by either server",
        arguments: [MimicTLSVersion.tls1_2, .tls1_3], [TLSBackend.openssl, .gnutls])
    func clientCertificate(version: MimicTLSVersion, server: TLSBackend) throws {
        let pki = try Self.rsa.get()
        var clientConfiguration = pki.clientConfiguration(maximumVersion: version)
        clientConfiguration.certificateChain = pki.servedChain
        clientConfiguration.privateKey = .pem(pki.leafKeyPEM)
        var serverConfiguration = pki.serverConfiguration(maximumVersion: version)
        serverConfiguration.requestClientCertificate = true
        let clientContext = try TLSBackends.makeContext(.gnutls, configuration: clientConfiguration)
        #expect((clientContext as? GnuTLSContext)?.keyOperationsInLibcrypto == true)
        let clientEngine = try clientContext.makeEngine()
        let serverEngine = try TLSBackends.makeContext(server, configuration: serverConfiguration).makeEngine()
        let outcome = TLSPump().handshake(client: clientEngine, server: serverEngine)
        #expect(outcome.client.isComplete, "\(String(describing: outcome.client.failure))")
        #expect(outcome.server.isComplete, "\(String(describing: outcome.server.failure))")
        #expect(serverEngine.report.peerChain == pki.servedChain, "the server took the client's certificate")
    }
}
