import Foundation
import MimicCore
import MimicTLS
import Testing

/// A server with a chain per SNI name: which chain each client name gets, across both libraries.
@Suite("SNI chain selection")
struct SNISelectionTests {
    /// Distinct PKIs so that a chain served shows which credential was picked. The default leaf is RSA and the
    /// named ones P-256, so a credential switch that left the default key beside the new one would show.
    struct PKIs: Sendable {
        let fallback: TestPKI
        let mail: TestPKI
        let wildcard: TestPKI
        let bare: TestPKI
    }

    static let pkis = Result {
        PKIs(
            fallback: try TestPKI(hostname: "default.example.test", rsaLeaf: true),
            mail: try TestPKI(hostname: "mail.example.test"),
            wildcard: try TestPKI(hostname: "*.wild.example.test"),
            bare: try TestPKI(hostname: "bare.example.test")
        )
    }

    static func serverConfiguration(_ pkis: PKIs, version: MimicTLSVersion) -> MimicTLSConfiguration {
        var configuration = pkis.fallback.serverConfiguration(maximumVersion: version)
        configuration.serverNameChains = [
            "Mail.Example.Test": TLSServerCredential(
                certificateChain: pkis.mail.servedChain,
                privateKey: .pem(pkis.mail.leafKeyPEM)
            ),
            "*.wild.example.test": TLSServerCredential(
                certificateChain: pkis.wildcard.servedChain,
                privateKey: .pem(pkis.wildcard.leafKeyPEM)
            ),
            // Served exactly as configured: the leaf alone, then leaf, root and intermediate misordered.
            "bare.example.test": TLSServerCredential(
                certificateChain: [pkis.bare.leaf],
                privateKey: .pem(pkis.bare.leafKeyPEM)
            ),
            "odd.example.test": TLSServerCredential(
                certificateChain: [pkis.mail.leaf, pkis.mail.root, pkis.mail.intermediate],
                privateKey: .pem(pkis.mail.leafKeyPEM)
            ),
        ]
        return configuration
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let sni: String?
        let key: String
        let chain: @Sendable (PKIs) -> [[UInt8]]
        let anchor: @Sendable (PKIs) -> [UInt8]
        var testDescription: String { "\(sni ?? "no SNI") → \(key)" }
    }

    static let cases: [Case] = [
        Case(
            sni: "mail.example.test",
            key: "Mail.Example.Test",
            chain: { $0.mail.servedChain },
            anchor: { $0.mail.root }
        ),
        Case(
            sni: "MAIL.example.TEST",
            key: "Mail.Example.Test",
            chain: { $0.mail.servedChain },
            anchor: { $0.mail.root }
        ),
        Case(sni: nil, key: "default", chain: { $0.fallback.servedChain }, anchor: { $0.fallback.root }),
        Case(
            sni: "other.example.test",
            key: "default",
            chain: { $0.fallback.servedChain },
            anchor: { $0.fallback.root }
        ),
        Case(
            sni: "smtp.wild.example.test",
            key: "*.wild.example.test",
            chain: { $0.wildcard.servedChain },
            anchor: { $0.wildcard.root }
        ),
        Case(
            sni: "a.b.wild.example.test",
            key: "default",
            chain: { $0.fallback.servedChain },
            anchor: { $0.fallback.root }
        ),
        Case(
            sni: "wild.example.test",
            key: "default",
            chain: { $0.fallback.servedChain },
            anchor: { $0.fallback.root }
        ),
        Case(sni: "bare.example.test", key: "bare.example.test", chain: { [$0.bare.leaf] }, anchor: { $0.bare.root }),
        Case(
            sni: "odd.example.test",
            key: "odd.example.test",
            chain: { [$0.mail.leaf, $0.mail.root, $0.mail.intermediate] },
            anchor: { $0.mail.root }
        ),
    ]

    @Test("the chain served for each name", arguments: BackendPair.all, cases)
    func chainForName(pair: BackendPair, testCase: Case) throws {
        let pkis = try Self.pkis.get()
        for version in [MimicTLSVersion.tls1_2, .tls1_3] {
            var clientConfiguration = MimicTLSConfiguration(
                role: .client,
                maximumVersion: version,
                serverName: testCase.sni,
                trustAnchors: [testCase.anchor(pkis)],
                verifyPeer: true
            )
            clientConfiguration.verifyHostname = testCase.sni
            let (client, server) = try pair.engines(
                client: clientConfiguration,
                server: Self.serverConfiguration(pkis, version: version)
            )
            let outcome = TLSPump().handshake(client: client, server: server)
            #expect(outcome.client.isComplete, "\(version): \(String(describing: outcome.client.failure))")
            #expect(outcome.server.isComplete, "\(version): \(String(describing: outcome.server.failure))")
            #expect(client.report.peerChain == testCase.chain(pkis), "\(version): the chain exactly as configured")
            #expect(server.report.servedCredential == testCase.key, "\(version)")
            #expect(server.report.serverName?.lowercased() == testCase.sni?.lowercased(), "\(version)")
            #expect(client.report.servedCredential == nil, "a client serves nothing")
            // The well-formed named chains verify; the others are served as configured, broken on purpose.
            if testCase.key == "Mail.Example.Test" || testCase.key == "*.wild.example.test" {
                #expect(
                    client.report.verification?.accepted == true,
                    "\(version): \(client.report.verification?.rawErrors ?? [])"
                )
            }
        }
    }

    @Test("the default chain alone (no serverNameChains) is reported as served", arguments: BackendPair.all)
    func defaultOnly(pair: BackendPair) throws {
        let pkis = try Self.pkis.get()
        let (client, server) = try pair.engines(
            client: pkis.mail.clientConfiguration(),
            server: pkis.mail.serverConfiguration()
        )
        let outcome = TLSPump(chunk: 1).handshake(client: client, server: server)
        #expect(outcome.client.isComplete && outcome.server.isComplete)
        #expect(server.report.servedCredential == HandshakeReport.defaultCredential)
        #expect(server.report.serverName == "mail.example.test")
    }

    @Test(
        "a named credential whose key does not match its leaf is refused when the context is built",
        arguments: [TLSBackend.openssl, .gnutls]
    )
    func mismatchedKey(backend: TLSBackend) throws {
        let pkis = try Self.pkis.get()
        var configuration = pkis.fallback.serverConfiguration()
        configuration.serverNameChains["mail.example.test"] = TLSServerCredential(
            certificateChain: pkis.mail.servedChain,
            privateKey: .pem(pkis.wildcard.leafKeyPEM)
        )
        #expect(throws: TLSFailure.self) { try TLSBackends.makeContext(backend, configuration: configuration) }
    }

    @Test func nameMatching() {
        var configuration = MimicTLSConfiguration(role: .server)
        let credential = TLSServerCredential(certificateChain: [], privateKey: .pem(""))
        configuration.serverNameChains = [
            "mail.example.test": credential, "*.Example.Test": credential, "*.deep.example.test": credential,
        ]
        #expect(configuration.serverNameChainKey(for: "mail.example.test") == "mail.example.test")
        #expect(configuration.serverNameChainKey(for: "MAIL.EXAMPLE.TEST.") == "mail.example.test")
        #expect(configuration.serverNameChainKey(for: "imap.example.test") == "*.Example.Test")
        #expect(configuration.serverNameChainKey(for: "x.deep.example.test") == "*.deep.example.test")
        #expect(configuration.serverNameChainKey(for: "a.b.example.test") == nil)
        #expect(configuration.serverNameChainKey(for: "example.test") == nil)
        #expect(configuration.serverNameChainKey(for: ".example.test") == nil)
        #expect(configuration.serverNameChainKey(for: "") == nil)
        #expect(configuration.serverNameChainKey(for: nil) == nil)
        #expect(MimicTLSConfiguration(role: .server).serverNameChainKey(for: "mail.example.test") == nil)
    }
}
