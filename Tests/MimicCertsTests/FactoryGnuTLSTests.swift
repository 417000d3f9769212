import Foundation
import Testing

@testable import MimicCerts

/// A second independent opinion: GnuTLS's `certtool --verify` (package gnutls-bin) on the served chain, with the
/// hostname and the TLS server purpose, as a GnuTLS client would check them.
@Suite struct FactoryGnuTLSTests {
    static func verify(_ profile: String) throws -> String {
        let minted = try FactoryFixture.sharedFactory().mint(profile: profile)
        let dir = FactoryFixture.makeTemporaryHome(prefix: "certtool-\(profile)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try minted.write(to: dir)
        let result = try FactoryFixture.run(
            "/usr/bin/certtool",
            [
                "--verify", "--load-ca-certificate", dir.appendingPathComponent("ca.pem").path,
                "--infile", dir.appendingPathComponent("chain.pem").path,
                "--verify-hostname", minted.hostname, "--verify-purpose", "1.3.6.1.5.5.7.3.1",
            ]
        )
        return result.output
    }

    @Test(arguments: ["good", "wildcard-good", "ip-san", "reversed-chain", "extra-unrelated-cert", "cn-only-no-san"])
    func acceptedChainsVerify(profile: String) throws {
        let output = try Self.verify(profile)
        #expect(output.contains("Chain verification output: Verified"), "\(output)")
    }

    @Test(arguments: [
        ("expired-leaf", "expired certificate"),
        ("not-yet-valid", "not yet valid"),
        ("wrong-host", "does not match"),
        ("wildcard-partial", "does not match"),
        ("missing-intermediate", "issuer is unknown"),
        ("intermediate-not-ca", "not a CA"),
        ("path-length-exceeded", "signer's constraints"),
        ("eku-client-only", "intended purpose"),
        ("sha1-leaf", "insecure algorithm"),
    ])
    func defectiveChainsFail(profile: String, reason: String) throws {
        let output = try Self.verify(profile)
        #expect(output.contains("Not verified"), "\(output)")
        #expect(output.contains(reason), "\(output)")
    }
}
