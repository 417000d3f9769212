import Foundation
import MimicCore
import MimicTLS
import Testing

@testable import MimicNet
@testable import MimicScenarios

/// The enumeration's scenario keys (`probe.enumerate`, `tls.server_order`, `server.close_after_connections`) from
/// YAML to the mock's and the probe's configuration, and the findings as a pure function of what was accepted.
@Suite("Enumeration: scenario keys and findings")
struct EnumerationModelTests {
    let loader = ScenarioLoader(knownProfiles: nil)

    static let yaml = """
        id: smtp::starttls::enum-keys
        summary: "keys"
        server: { protocol: smtp, tls: starttls, backend: gnutls, close_after_connections: 3 }
        tls: { priority: "NORMAL:+3DES-CBC", server_order: true }
        probe: { enumerate: true }
        expect: { verdict: [weakCipher] }
        """

    @Test("the keys decode and map onto the mock and the TLS configuration")
    func keys() throws {
        let scenario = try #require(try loader.load(yaml: Self.yaml, file: "keys.yaml").first)
        #expect(scenario.probe.enumerate)
        #expect(scenario.tls.serverOrder == true)
        #expect(scenario.server.limits.closeAfterConnections == 3)
        let configuration = ScenarioMapping.tls(scenario.tls, chain: [], key: .pem(""))
        #expect(configuration.serverPreference == true)
        #expect(FindingCode.weakCipher.defaultSeverity == .critical)
        // Absent keys keep the defaults.
        let plain = try #require(
            try loader.load(
                yaml: Self.yaml.replacingOccurrences(of: ", close_after_connections: 3", with: "")
                    .replacingOccurrences(of: ", server_order: true", with: "")
                    .replacingOccurrences(of: "probe: { enumerate: true }\n", with: ""),
                file: "plain.yaml"
            ).first)
        #expect(!plain.probe.enumerate)
        #expect(plain.tls.serverOrder == nil)
        #expect(plain.server.limits.closeAfterConnections == nil)
    }

    @Test(
        "wrong values are rejected at their key",
        arguments: [
            ("server_order: true", "server_order: maybe", "server_order"),
            ("close_after_connections: 3", "close_after_connections: 0", "close_after_connections"),
            ("enumerate: true", "enumerate: 3", "enumerate"),
        ])
    func rejected(original: String, replacement: String, key: String) {
        do {
            _ = try loader.load(yaml: Self.yaml.replacingOccurrences(of: original, with: replacement), file: "bad.yaml")
            Issue.record("\(replacement) was accepted")
        } catch {
            #expect(error.description.contains(key), "\(error.description)")
        }
    }

    @Test("enumerating a server without TLS is refused at probe.enumerate")
    func noTLS() {
        let yaml = """
            id: smtp::none::enum
            summary: "no TLS"
            server: { protocol: smtp, tls: none, backend: openssl }
            probe: { enumerate: true }
            expect: { verdict: [startTLSNotOffered] }
            """
        do {
            _ = try loader.load(yaml: yaml, file: "none.yaml")
            Issue.record("enumerating a plaintext server was accepted")
        } catch {
            #expect(error.description.contains("enumerate"), "\(error.description)")
        }
    }

    static func report(
        _ backend: TLSBackend, versions: [(MimicTLSVersion, [String])]
    ) -> EnumerationReport {
        EnumerationReport(
            backend: backend, libraryVersion: "test",
            versions: versions.map { version, names in
                EnumerationReport.VersionResult(
                    version: version, accepted: true,
                    suites: names.map { name in
                        EnumerationReport.Suite(
                            code: "0x0000", name: name, accepted: true, weakness: TLSSuiteTraits.weakness(name),
                            forwardSecret: TLSSuiteTraits.isForwardSecret(name))
                    })
            },
            groupsTried: [], groupsAccepted: [], serverOrder: nil, connections: 0, notOfferable: [], findings: [])
    }

    @Test("findings: legacy versions, broken suites, static key exchange only")
    func findings() {
        let modern = Self.report(
            .openssl,
            versions: [
                (.tls1_2, ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]), (.tls1_3, ["TLS_AES_128_GCM_SHA256"]),
            ])
        #expect(EnumerationFindings.findings(modern).isEmpty)

        let legacy = Self.report(
            .gnutls,
            versions: [
                (.tls1_0, ["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"]), (.tls1_2, ["TLS_RSA_WITH_3DES_EDE_CBC_SHA"]),
            ])
        let codes = EnumerationFindings.findings(legacy).map(\.code)
        #expect(codes == [.legacyVersion, .weakCipher])
        #expect(EnumerationFindings.findings(legacy).allSatisfy { $0.phase == .enumeration && $0.source == "gnutls" })

        let staticOnly = Self.report(
            .openssl, versions: [(.tls1_2, ["TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA"])])
        #expect(EnumerationFindings.findings(staticOnly).map(\.code) == [.noForwardSecrecy])
        #expect(EnumerationFindings.findings(staticOnly).first?.severity == .warning)

        // TLS 1.3 accepted: forward secrecy is there for a client that asks.
        let withTLS13 = Self.report(
            .openssl,
            versions: [(.tls1_2, ["TLS_RSA_WITH_AES_128_GCM_SHA256"]), (.tls1_3, ["TLS_AES_128_GCM_SHA256"])])
        #expect(EnumerationFindings.findings(withTLS13).isEmpty)
    }

    @Test("suite traits from IANA names")
    func traits() {
        #expect(TLSSuiteTraits.weakness("TLS_RSA_WITH_RC4_128_MD5") == "RC4")
        #expect(TLSSuiteTraits.weakness("TLS_ECDHE_ECDSA_WITH_NULL_SHA") == "NULL encryption")
        #expect(TLSSuiteTraits.weakness("TLS_DH_anon_WITH_AES_128_CBC_SHA") != nil)
        #expect(TLSSuiteTraits.weakness("TLS_RSA_EXPORT_WITH_DES40_CBC_SHA") == "EXPORT-grade")
        #expect(TLSSuiteTraits.weakness("TLS_RSA_WITH_DES_CBC_SHA") == "DES")
        #expect(TLSSuiteTraits.weakness("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") == nil)
        #expect(TLSSuiteTraits.isForwardSecret("TLS_AES_256_GCM_SHA384"))
        #expect(TLSSuiteTraits.isForwardSecret("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"))
        #expect(!TLSSuiteTraits.isForwardSecret("TLS_RSA_WITH_AES_128_GCM_SHA256"))
        #expect(!TLSSuiteTraits.isForwardSecret("TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA"))
    }

    @Test("disagreements: a suite only one library can offer is said so, not called a server finding")
    func disagreements() {
        var openssl = Self.report(.openssl, versions: [(.tls1_2, ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"])])
        var gnutls = Self.report(.gnutls, versions: [(.tls1_2, ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"])])
        openssl.versions[0].suites[0].code = "0xC02F"
        gnutls.versions[0].suites[0].code = "0xC02F"
        gnutls.versions[0].suites.append(
            EnumerationReport.Suite(
                code: "0x000A", name: "TLS_RSA_WITH_3DES_EDE_CBC_SHA", accepted: true, weakness: "3DES",
                forwardSecret: false))
        let said = EnumerationFindings.disagreements([openssl, gnutls])
        #expect(said.count == 1)
        #expect(said.first?.contains("only GnuTLS can offer it") == true, "\(said)")
        #expect(said.first?.contains("not a server finding") == true)
        // The same suite refused through one library and accepted through the other is a disagreement.
        openssl.versions[0].suites.append(
            EnumerationReport.Suite(
                code: "0x000A", name: "DES-CBC3-SHA", accepted: false, weakness: nil, forwardSecret: false))
        let both = EnumerationFindings.disagreements([openssl, gnutls])
        #expect(both.first?.contains("accepted through GnuTLS, refused through OpenSSL") == true, "\(both)")
    }

    @Test("each library's table: OpenSSL has no 3DES or RC4 here, GnuTLS has both; both have static RSA and NULL")
    func tables() {
        let openssl = TLSBackends.offerableSuites(.openssl)
        let gnutls = TLSBackends.offerableSuites(.gnutls)
        #expect(openssl.count > 40)
        #expect(gnutls.count > 30)
        #expect(!openssl.contains { $0.name.contains("3DES") || $0.name.contains("RC4") })
        #expect(gnutls.contains { $0.code == 0x000A })  // TLS_RSA_WITH_3DES_EDE_CBC_SHA
        #expect(gnutls.contains { $0.code == 0x0005 })  // TLS_RSA_WITH_RC4_128_SHA
        for table in [openssl, gnutls] {
            #expect(table.contains { $0.code == 0x0002 })  // TLS_RSA_WITH_NULL_SHA
            #expect(table.contains { $0.code == 0x002F })  // TLS_RSA_WITH_AES_128_CBC_SHA
            #expect(table.contains { $0.code == 0x1301 && $0.minimumVersion == .tls1_3 })
        }
    }
}
