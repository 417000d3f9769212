import Testing

@testable import MimicCerts

/// Signature checks remember their outcomes for the links that come back; an outcome must follow the certificate's
/// bytes and the issuer's key, never only one of them.
@Suite("Chain facts: signature checks")
struct SignatureCheckTests {
    @Test("each link's own outcome, asked twice, with a tampered signature and the wrong key in between")
    func remembered() throws {
        let minted = try FactoryFixture.sharedFactory().mint(profile: "rsa2048-good")
        let leaf = try ParsedCertificate(der: try #require(minted.certificates["leaf-rsa"]))
        let intermediate = try ParsedCertificate(der: try #require(minted.certificates["intermediate-rsa"]))
        let anchor = try ParsedCertificate(der: try #require(minted.anchors.first))
        var tamperedDER = leaf.der
        tamperedDER[tamperedDER.count - 5] ^= 0x01
        let tampered = try ParsedCertificate(der: tamperedDER, tolerant: true)

        for round in 1...2 {
            #expect(SignatureCheck(leaf, signedBy: intermediate) == .valid, "round \(round)")
            #expect(SignatureCheck(tampered, signedBy: intermediate) == .invalid, "round \(round)")
            #expect(SignatureCheck(leaf, signedBy: anchor) == .invalid, "round \(round)")
            #expect(SignatureCheck(intermediate, signedBy: anchor) == .valid, "round \(round)")
            #expect(SignatureCheck(anchor, signedBy: anchor) == .valid, "round \(round)")
            #expect(SignatureCheck(intermediate, signedBy: intermediate) == .invalid, "round \(round)")
        }
    }
}
