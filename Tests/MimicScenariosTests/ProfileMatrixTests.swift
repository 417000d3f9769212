import Foundation
import MimicCerts
import MimicCore
import MimicScenarios
import MimicTLS
import Testing

/// Every certificate profile served by one library and judged by the other, in memory, both directions: the
/// findings must be those the profile's file expects of the client library.
@Suite("Profile matrix")
struct ProfileMatrixTests {
    static let profileNames: [String] = (try? ChainProfile.profileNames(in: Fixtures.profiles)) ?? []

    @Test("the profile library has every profile the foundation promised")
    func required() throws {
        let required = [
            "good", "expired-leaf", "not-yet-valid", "expiring-soon", "expired-intermediate", "wrong-host",
            "cn-only-no-san", "wildcard-good", "wildcard-too-deep", "ip-san", "self-signed", "untrusted-root",
            "missing-intermediate", "reversed-chain", "extra-unrelated-cert", "rsa1024-leaf", "sha1-leaf",
            "intermediate-not-ca", "path-length-exceeded", "eku-client-only",
        ]
        #expect(
            Set(required).isSubset(of: Set(Self.profileNames)),
            "missing: \(Set(required).subtracting(Self.profileNames))")
    }

    @Test("each profile gives its expected findings through both libraries, both directions", arguments: profileNames)
    func profile(name: String) throws {
        let matrix = try ProfileMatrix.run(factory: Fixtures.factory, profiles: [name])
        let row = try #require(matrix.rows.first)
        #expect(row.cells.count == 2)
        for cell in row.cells {
            #expect(
                cell.handshake.completed, "\(name): \(cell.client) client ← \(cell.server) server did not hand-shake")
            #expect(
                Set(cell.found) == Set(cell.expected),
                "\(name): \(cell.client) client found \(cell.found), expected \(cell.expected); raw \(cell.handshake.verification?.rawErrors ?? [])"
            )
            #expect(cell.handshake.peerChain.count == row.servedNames.count, "\(name): served chain altered")
        }
        // Both server libraries served the same certificates in the same order.
        #expect(row.cells[0].handshake.peerChain == row.cells[1].handshake.peerChain)
    }

    @Test("offline verification agrees with the handshake for every profile", arguments: profileNames)
    func offlineAgrees(name: String) throws {
        let minted = try Fixtures.factory.mint(profile: name)
        let profile = try ChainProfile.load(named: name, in: Fixtures.profiles)
        let verification = try ChainVerification(
            chain: minted.served, anchors: minted.anchors, hostname: minted.hostname)
        for result in verification.backends {
            #expect(
                Set(result.verdict.codes) == Set(profile.expectedFindings(for: result.backend)),
                "\(name) offline \(result.backend): \(result.verdict.codes)"
            )
        }
    }

    @Test("findings name the library's raw code and the depth where the library gives one")
    func rawCodes() throws {
        let minted = try Fixtures.factory.mint(profile: "expired-leaf")
        let verification = try ChainVerification(
            chain: minted.served, anchors: minted.anchors, hostname: minted.hostname)
        let openssl = try #require(verification.backends.first { $0.backend == .openssl })
        let gnutls = try #require(verification.backends.first { $0.backend == .gnutls })
        #expect(openssl.verification.rawErrors.map(\.code) == ["X509_V_ERR_CERT_HAS_EXPIRED"])
        #expect(openssl.verification.rawErrors.first?.depth == 0)
        #expect(gnutls.verification.rawErrors.map(\.code) == ["GNUTLS_CERT_EXPIRED"])
        #expect(!verification.accepted && verification.exitCode == 2)
    }

    @Test("the matrix renders every profile with a verdict column")
    func rendering() throws {
        let matrix = try ProfileMatrix.run(factory: Fixtures.factory, profiles: ["good", "expired-leaf"])
        let text = matrix.render(.text)
        #expect(text.contains("good") && text.contains("expired-leaf"))
        #expect(text.contains("2 of 2 profiles as expected"))
        let json = matrix.render(.json)
        let decoded = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        #expect(decoded?.count == 2)
    }
}
