import Foundation
import Testing

@testable import MimicCerts

/// An independent opinion on the minted chains: the real `openssl verify`, which shares no code with the factory.
@Suite struct FactoryOpenSSLTests {
    /// Writes the chain and runs `openssl verify -CAfile ca.pem -untrusted chain.pem [extra] leaf.pem`.
    static func verify(_ profile: String, extra: [String] = []) throws -> (status: Int32, output: String) {
        let minted = try FactoryFixture.sharedFactory().mint(profile: profile)
        let dir = FactoryFixture.makeTemporaryHome(prefix: "verify-\(profile)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try minted.write(to: dir)
        let leafName = try #require(minted.servedNames.first)
        return try FactoryFixture.run(
            FactoryFixture.opensslPath,
            [
                "verify", "-CAfile", dir.appendingPathComponent("ca.pem").path,
                "-untrusted", dir.appendingPathComponent("chain.pem").path,
            ]
                + extra + [dir.appendingPathComponent("\(leafName).pem").path]
        )
    }

    @Test func goodVerifies() throws {
        let result = try Self.verify("good", extra: ["-verify_hostname", "mail.example.test"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains(": OK"))
    }

    @Test func expiredLeafIsExpired() throws {
        let result = try Self.verify("expired-leaf")
        #expect(result.status != 0)
        #expect(result.output.contains("certificate has expired"), "\(result.output)")
    }

    @Test func notYetValidIsNotYetValid() throws {
        let result = try Self.verify("not-yet-valid")
        #expect(result.status != 0)
        #expect(result.output.contains("not yet valid"), "\(result.output)")
    }

    @Test func missingIntermediateCannotBeChained() throws {
        let result = try Self.verify("missing-intermediate")
        #expect(result.status != 0)
        #expect(result.output.contains("unable to get local issuer certificate"), "\(result.output)")
    }

    @Test func wrongHostMismatches() throws {
        let result = try Self.verify("wrong-host", extra: ["-verify_hostname", "mail.example.test"])
        #expect(result.status != 0)
        #expect(result.output.contains("hostname mismatch"), "\(result.output)")
    }

    @Test func wildcardsCoverOneLabel() throws {
        let good = try Self.verify("wildcard-good", extra: ["-verify_hostname", "mail.example.test"])
        #expect(good.status == 0, "\(good.output)")
        let deep = try Self.verify("wildcard-too-deep", extra: ["-verify_hostname", "a.mail.example.test"])
        #expect(deep.status != 0, "\(deep.output)")
    }

    @Test func ipSANMatchesTheAddress() throws {
        let result = try Self.verify("ip-san", extra: ["-verify_ip", "127.0.0.1"])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func reversedAndExtraChainsStillVerify() throws {
        #expect(try Self.verify("reversed-chain").status == 0)
        #expect(try Self.verify("extra-unrelated-cert").status == 0)
    }

    @Test func structuralDefectsAreRejected() throws {
        let notCA = try Self.verify("intermediate-not-ca")
        #expect(notCA.output.contains("invalid CA certificate"), "\(notCA.output)")
        let pathLength = try Self.verify("path-length-exceeded")
        #expect(pathLength.output.contains("path length constraint exceeded"), "\(pathLength.output)")
        let untrusted = try Self.verify("untrusted-root")
        #expect(untrusted.status != 0, "\(untrusted.output)")
        let selfSigned = try Self.verify("self-signed")
        #expect(selfSigned.output.contains("self-signed certificate"), "\(selfSigned.output)")
        let clientOnly = try Self.verify("eku-client-only", extra: ["-purpose", "sslserver"])
        #expect(clientOnly.output.contains("unsuitable certificate purpose"), "\(clientOnly.output)")
    }

    @Test func weakKeyAndSignatureFailOnlyAtSecurityLevelTwo() throws {
        #expect(try Self.verify("rsa1024-leaf").status == 0)
        let weakKey = try Self.verify("rsa1024-leaf", extra: ["-auth_level", "2"])
        #expect(weakKey.output.contains("key too weak"), "\(weakKey.output)")
        #expect(try Self.verify("sha1-leaf").status == 0)
        let weakSignature = try Self.verify("sha1-leaf", extra: ["-auth_level", "2"])
        #expect(weakSignature.output.contains("too weak"), "\(weakSignature.output)")
    }
}
