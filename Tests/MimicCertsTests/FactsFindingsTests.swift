import Foundation
import MimicCore
import Testing
import X509

@testable import MimicCerts

@Suite("Chain facts: findings")
struct FactsFindingsTests {
    let now = Date()
    let day = FactsTestPKI.day

    private func facts(
        _ chain: [FactsTestCert],
        anchors: [FactsTestCert],
        hostname: String? = "mail.example.test"
    ) throws -> ChainFacts {
        try ChainFacts(chain: chain.map(\.der), anchors: anchors.map(\.der), hostname: hostname, at: now)
    }

    // MARK: Validity

    @Test func expiredLeaf() throws {
        let root = try FactsTestPKI.root(now: now)
        let intermediate = try FactsTestPKI.intermediate(issuer: root, now: now)
        let leaf = try FactsTestPKI.leaf(
            issuer: intermediate,
            now: now,
            validFrom: -100 * day,
            validUntil: -3 * day - 3_600
        )
        let findings = try facts([leaf, intermediate], anchors: [root]).findings()
        #expect(findings.codes == [.expired])
        let finding = try #require(findings.first)
        #expect(finding.severity == .critical)
        #expect(finding.depth == 0)
        #expect(finding.days == -3)
        #expect(finding.source == "facts")
        #expect(finding.phase == .verification)
        #expect(finding.evidence.contains("CN=mail.example.test"))
        #expect(finding.evidence.contains("position 0"))
    }

    @Test func expiredIntermediate() throws {
        let root = try FactsTestPKI.root(now: now)
        let intermediate = try FactsTestPKI.intermediate(
            issuer: root,
            now: now,
            validFrom: -400 * day,
            validUntil: -1 * day - 60
        )
        let leaf = try FactsTestPKI.leaf(issuer: intermediate, now: now)
        let result = try facts([leaf, intermediate], anchors: [root])
        let findings = result.findings()
        #expect(findings.codes == [.expired])
        #expect(findings.first?.depth == 1)
        #expect(findings.first?.evidence.contains("CN=Facts Intermediate") == true)
        // Expired a day and a minute ago: one whole day, as the finding says.
        #expect(result.minimumDaysLeft == -1)
        #expect(findings.first?.evidence.contains("expired 1 day(s) ago") == true)
    }

    @Test func expiredTrustAnchorIsReported() throws {
        let root = try FactsTestPKI.make(
            "Old Root",
            now: now,
            validFrom: -3_000 * day,
            validUntil: -5 * day,
            basicConstraints: .isCertificateAuthority(maxPathLength: nil)
        )
        let leaf = try FactsTestPKI.leaf(issuer: root, now: now)
        let findings = try facts([leaf], anchors: [root]).findings()
        #expect(findings.codes == [.expired])
        #expect(findings.first?.depth == nil)
        #expect(findings.first?.evidence.contains("trust anchor") == true)
    }

    @Test func notYetValidLeaf() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let leaf = try FactsTestPKI.leaf(issuer: pki.intermediate, now: now, validFrom: 2 * day, validUntil: 90 * day)
        let findings = try facts([leaf, pki.intermediate], anchors: [pki.root]).findings()
        #expect(findings.codes == [.notYetValid])
        #expect(findings.first?.severity == .critical)
        #expect(findings.first?.depth == 0)
    }

    @Test func expiringInTenDaysWarnsThenGoesCritical() throws {
        let pki = try FactsTestPKI.chain(now: now)
        // An hour over ten days, so "ten whole days left" holds however long the test takes to get here.
        let leaf = try FactsTestPKI.leaf(issuer: pki.intermediate, now: now, validUntil: 10 * day + 3_600)
        let result = try facts([leaf, pki.intermediate], anchors: [pki.root])
        #expect(result.minimumDaysLeft == 10)

        let warning = result.findings(warnDays: 30, critDays: 7)
        #expect(warning.codes == [.expiringSoon])
        #expect(warning.first?.severity == .warning)
        #expect(warning.first?.days == 10)
        #expect(warning.first?.depth == 0)

        let critical = result.findings(warnDays: 30, critDays: 14)
        #expect(critical.codes == [.expiringSoon])
        #expect(critical.first?.severity == .critical)

        #expect(result.findings(warnDays: 5, critDays: 2).isEmpty)
    }

    @Test func onlyTheSoonestExpiringCertificateIsReported() throws {
        let root = try FactsTestPKI.root(now: now)
        let intermediate = try FactsTestPKI.intermediate(issuer: root, now: now, validUntil: 5 * day + 3_600)
        let leaf = try FactsTestPKI.leaf(issuer: intermediate, now: now, validUntil: 20 * day)
        let findings = try facts([leaf, intermediate], anchors: [root]).findings(warnDays: 30, critDays: 7)
        #expect(findings.count == 1)
        #expect(findings.first?.code == .expiringSoon)
        #expect(findings.first?.depth == 1)
        #expect(findings.first?.days == 5)
        #expect(findings.first?.severity == .critical)
    }

    // MARK: Identity

    @Test func wrongHost() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let result = try facts([pki.leaf, pki.intermediate], anchors: [pki.root], hostname: "imap.example.test")
        #expect(result.hostnameMatch == .mismatch)
        let findings = result.findings()
        #expect(findings.codes == [.hostnameMismatch])
        #expect(findings.first?.severity == .critical)
        #expect(findings.first?.evidence.contains("imap.example.test") == true)
        #expect(findings.first?.evidence.contains("DNS:mail.example.test") == true)
    }

    @Test func commonNameOnlyIsAWarning() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let leaf = try FactsTestPKI.make(
            "mail.example.test",
            issuer: pki.intermediate,
            now: now,
            validUntil: 90 * day,
            keyUsage: KeyUsage(digitalSignature: true),
            extendedKeyUsage: [.serverAuth],
            subjectAlternativeNames: nil
        )
        let result = try facts([leaf, pki.intermediate], anchors: [pki.root])
        #expect(result.leaf?.hasSubjectAlternativeNames == false)
        #expect(result.hostnameMatch == .commonNameOnly(cn: "mail.example.test"))
        let findings = result.findings()
        #expect(findings.codes == [.hostnameMismatch])
        #expect(findings.first?.severity == .warning)
        #expect(findings.first?.evidence.contains("matched only the subject CN; RFC 9525 clients reject it") == true)
    }

    @Test func emptySANExtensionDoesNotFallBackToTheCN() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let leaf = try FactsTestPKI.leaf(
            issuer: pki.intermediate,
            now: now,
            subjectAlternativeNames: [.rfc822Name("postmaster@example.test")]
        )
        let result = try facts([leaf, pki.intermediate], anchors: [pki.root])
        #expect(result.leaf?.subjectAlternativeNames == ["email:postmaster@example.test"])
        #expect(result.hostnameMatch == .mismatch)
    }

    @Test(arguments: [
        ("*.example.test", "mail.example.test", true),
        ("*.example.test", "a.mail.example.test", false),
        ("*.example.test", "example.test", false),
        ("f*.example.test", "foo.example.test", false),
        ("*.test", "example.test", false),
    ])
    func wildcardLeaves(pattern: String, hostname: String, matches: Bool) throws {
        let pki = try FactsTestPKI.chain(now: now)
        let leaf = try FactsTestPKI.leaf(pattern, issuer: pki.intermediate, now: now)
        let result = try facts([leaf, pki.intermediate], anchors: [pki.root], hostname: hostname)
        #expect(result.hostnameMatch == (matches ? .matched(san: "DNS:\(pattern)") : .mismatch))
        #expect(result.findings().codes == (matches ? [] : [.hostnameMismatch]))
    }

    @Test func ipLiteralMatchesIPSANsOnly() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let ipLeaf = try FactsTestPKI.leaf(
            issuer: pki.intermediate,
            now: now,
            subjectAlternativeNames: [.dnsName("mail.example.test"), .ipAddress(.init(contentBytes: [127, 0, 0, 1]))]
        )
        let matched = try facts([ipLeaf, pki.intermediate], anchors: [pki.root], hostname: "127.0.0.1")
        #expect(matched.leaf?.subjectAlternativeNames == ["DNS:mail.example.test", "IP:127.0.0.1"])
        #expect(matched.hostnameMatch == .matched(san: "IP:127.0.0.1"))
        #expect(matched.findings().isEmpty)

        let dnsSpelled = try FactsTestPKI.leaf(
            issuer: pki.intermediate,
            now: now,
            subjectAlternativeNames: [.dnsName("127.0.0.1")]
        )
        let mismatch = try facts([dnsSpelled, pki.intermediate], anchors: [pki.root], hostname: "127.0.0.1")
        #expect(mismatch.hostnameMatch == .mismatch)
        #expect(mismatch.findings().codes == [.hostnameMismatch])
    }

    @Test(arguments: ["::1", "[::1]", "0:0:0:0:0:0:0:1", "0000::0001"])
    func ipv6LiteralMatches(hostname: String) throws {
        let pki = try FactsTestPKI.chain(now: now)
        let loopback: [UInt8] = Array(repeating: 0, count: 15) + [1]
        let leaf = try FactsTestPKI.leaf(
            issuer: pki.intermediate,
            now: now,
            subjectAlternativeNames: [.ipAddress(.init(contentBytes: loopback[...]))]
        )
        let result = try facts([leaf, pki.intermediate], anchors: [pki.root], hostname: hostname)
        #expect(result.leaf?.subjectAlternativeNames == ["IP:::1"])
        #expect(result.hostnameMatch == .matched(san: "IP:::1"))
        let other = try facts([leaf, pki.intermediate], anchors: [pki.root], hostname: "::2")
        #expect(other.hostnameMatch == .mismatch)
    }

    @Test func noHostnameIsNotChecked() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let result = try facts([pki.leaf, pki.intermediate], anchors: [pki.root], hostname: nil)
        #expect(result.hostnameMatch == .notChecked)
        #expect(result.findings().isEmpty)
    }

    // MARK: Trust

    @Test func selfSignedLeaf() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let leaf = try FactsTestPKI.make(
            "mail.example.test",
            now: now,
            keyUsage: KeyUsage(digitalSignature: true),
            extendedKeyUsage: [.serverAuth],
            subjectAlternativeNames: [.dnsName("mail.example.test")]
        )
        let result = try facts([leaf], anchors: [pki.root])
        #expect(result.leafSelfSigned)
        #expect(result.leaf?.selfIssued == true)
        #expect(result.path == [0])
        #expect(!result.complete)
        let findings = result.findings()
        #expect(findings.codes == [.selfSigned])
        #expect(findings.first?.severity == .critical)
        #expect(findings.first?.depth == 0)

        // Trusted as its own anchor (a pinned self-signed server), it is fine.
        let pinned = try facts([leaf], anchors: [pki.root, leaf])
        #expect(pinned.complete)
        #expect(pinned.anchor == 1)
        #expect(pinned.findings().isEmpty, "\(pinned.findings())")
    }

    @Test func untrustedRootServed() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let otherRoot = try FactsTestPKI.root("Someone Else's Root", now: now)
        let result = try facts([pki.leaf, pki.intermediate, pki.root], anchors: [otherRoot])
        #expect(result.path == [0, 1, 2])
        #expect(!result.complete)
        let findings = result.findings()
        #expect(findings.codes == [.untrustedRoot])
        #expect(findings.first?.depth == 2)
        #expect(findings.first?.evidence.contains("self-signed") == true)
    }

    @Test func untrustedRootNotServed() throws {
        // The top of the path is a CA whose issuer nobody knows: an untrusted root, not a missing intermediate.
        let pki = try FactsTestPKI.chain(now: now)
        let otherRoot = try FactsTestPKI.root("Someone Else's Root", now: now)
        let findings = try facts([pki.leaf, pki.intermediate], anchors: [otherRoot]).findings()
        #expect(findings.codes == [.untrustedRoot])
        #expect(findings.first?.depth == 1)
    }

    @Test func missingIntermediate() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let result = try facts([pki.leaf], anchors: [pki.root])
        #expect(!result.complete)
        #expect(result.path == [0])
        let findings = result.findings()
        #expect(findings.codes == [.incompleteChain])
        #expect(findings.first?.depth == 0)
        #expect(findings.first?.evidence.contains("CN=Facts Intermediate") == true)
    }

    // MARK: Strength

    @Test func rsa1024LeafIsAWeakKey() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let leaf = try FactsTestPKI.leaf(
            key: FactsTestKey.rsa1024,
            issuer: pki.intermediate,
            now: now,
            keyUsage: KeyUsage(digitalSignature: true, keyEncipherment: true)
        )
        let result = try facts([leaf, pki.intermediate], anchors: [pki.root])
        #expect(result.leaf?.keyType == "RSA")
        #expect(result.leaf?.keySize == 1024)
        #expect(result.complete)
        let findings = result.findings()
        #expect(findings.codes == [.weakKey])
        #expect(findings.first?.depth == 0)
        #expect(findings.first?.evidence.contains("1024-bit RSA") == true)
    }

    @Test func sha1SignedLeafIsAWeakSignature() throws {
        let root = try FactsTestPKI.root(now: now)
        let intermediate = try FactsTestPKI.intermediate(key: FactsTestKey.rsa2048, issuer: root, now: now)
        let leaf = try FactsTestPKI.leaf(issuer: intermediate, now: now, signatureAlgorithm: .sha1WithRSAEncryption)
        let result = try facts([leaf, intermediate], anchors: [root])
        #expect(result.leaf?.signatureAlgorithm == "sha1WithRSAEncryption")
        #expect(result.leaf?.signatureHash == "SHA-1")
        // The SHA-1 signature was checked, not taken on trust.
        #expect(result.complete)
        #expect(result.uncheckedSignatures.isEmpty)
        let findings = result.findings()
        #expect(findings.codes == [.weakSignature])
        #expect(findings.first?.depth == 0)
        #expect(findings.first?.evidence.contains("sha1WithRSAEncryption") == true)
    }

    @Test func sha1SelfSignatureOfATrustAnchorDoesNotCount() throws {
        let root = try FactsTestPKI.make(
            "SHA-1 Root",
            key: FactsTestKey.rsa2048,
            now: now,
            validFrom: -30 * day,
            validUntil: 3_000 * day,
            basicConstraints: .isCertificateAuthority(maxPathLength: nil),
            signatureAlgorithm: .sha1WithRSAEncryption
        )
        let leaf = try FactsTestPKI.leaf(issuer: root, now: now)
        let notServed = try facts([leaf], anchors: [root])
        #expect(notServed.anchorCertificate?.signatureAlgorithm == "sha1WithRSAEncryption")
        #expect(notServed.findings().isEmpty, "\(notServed.findings())")
        let served = try facts([leaf, root], anchors: [root])
        #expect(served.path == [0, 1])
        #expect(served.findings().isEmpty, "\(served.findings())")
    }

    // MARK: Constraints and purpose

    @Test func intermediateWithoutCAFlag() throws {
        let root = try FactsTestPKI.root(now: now)
        let intermediate = try FactsTestPKI.intermediate(issuer: root, now: now, isCA: false)
        let leaf = try FactsTestPKI.leaf(issuer: intermediate, now: now)
        let result = try facts([leaf, intermediate], anchors: [root])
        #expect(result.complete)
        let findings = result.findings()
        #expect(findings.codes == [.notACA])
        #expect(findings.first?.depth == 1)
        #expect(findings.first?.severity == .critical)
    }

    @Test func pathLengthZeroAboveAnotherIntermediate() throws {
        let root = try FactsTestPKI.root(now: now)
        let upper = try FactsTestPKI.intermediate("Upper CA", issuer: root, now: now, pathLength: 0)
        let lower = try FactsTestPKI.intermediate("Lower CA", issuer: upper, now: now, pathLength: 0)
        let leaf = try FactsTestPKI.leaf(issuer: lower, now: now)
        let findings = try facts([leaf, lower, upper], anchors: [root]).findings()
        #expect(findings.codes == [.pathLength])
        #expect(findings.first?.depth == 2)
        #expect(findings.first?.evidence.contains("CN=Upper CA") == true)
    }

    @Test func rootPathLengthIsEnforcedToo() throws {
        let root = try FactsTestPKI.root(now: now, pathLength: 0)
        let upper = try FactsTestPKI.intermediate("Upper CA", issuer: root, now: now, pathLength: nil)
        let lower = try FactsTestPKI.intermediate("Lower CA", issuer: upper, now: now, pathLength: 0)
        let leaf = try FactsTestPKI.leaf(issuer: lower, now: now)
        let findings = try facts([leaf, lower, upper], anchors: [root]).findings()
        #expect(findings.codes == [.pathLength])
        #expect(findings.first?.depth == nil)
    }

    @Test func clientAuthOnlyLeafIsTheWrongPurpose() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let leaf = try FactsTestPKI.leaf(issuer: pki.intermediate, now: now, extendedKeyUsage: [.clientAuth])
        let findings = try facts([leaf, pki.intermediate], anchors: [pki.root]).findings()
        #expect(findings.codes == [.wrongPurpose])
        #expect(findings.first?.depth == 0)
        #expect(findings.first?.evidence.contains("clientAuth") == true)
    }

    @Test func keyUsageWithoutSigningOrEnciphermentIsTheWrongPurpose() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let leaf = try FactsTestPKI.leaf(issuer: pki.intermediate, now: now, keyUsage: KeyUsage(cRLSign: true))
        let findings = try facts([leaf, pki.intermediate], anchors: [pki.root]).findings()
        #expect(findings.codes == [.wrongPurpose])
        #expect(findings.first?.evidence.contains("keyUsage") == true)
    }

    @Test func anyExtendedKeyUsageIsFine() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let leaf = try FactsTestPKI.leaf(issuer: pki.intermediate, now: now, extendedKeyUsage: [.any])
        let result = try facts([leaf, pki.intermediate], anchors: [pki.root])
        #expect(result.leaf?.extendedKeyUsage == ["anyExtendedKeyUsage"])
        #expect(result.findings().isEmpty)
    }
}

@Suite("Chain facts: algorithms swift-certificates refuses")
struct FactsLegacyAlgorithmTests {
    let now = Date()

    /// Rewrites both signature algorithm fields of a sha256WithRSAEncryption certificate to md5WithRSAEncryption:
    /// the OIDs differ in their last byte only. The signature no longer matches, which is the point: MD5 cannot
    /// be checked here, so the link is taken on the issuer's name and said to be unchecked.
    private func md5(_ der: [UInt8]) -> [UInt8] {
        let sha256WithRSA: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B]
        var out = der
        var index = 0
        var replaced = 0
        while index + sha256WithRSA.count <= out.count {
            if Array(out[index..<index + sha256WithRSA.count]) == sha256WithRSA {
                out[index + sha256WithRSA.count - 1] = 0x04
                replaced += 1
            }
            index += 1
        }
        #expect(replaced == 2)
        return out
    }

    @Test func md5SignedLeafIsDescribedNotRefused() throws {
        let root = try FactsTestPKI.root(now: now)
        let intermediate = try FactsTestPKI.intermediate(key: FactsTestKey.rsa2048, issuer: root, now: now)
        let leaf = try FactsTestPKI.leaf(issuer: intermediate, now: now)
        let leafDER = md5(leaf.der)
        // swift-certificates alone would refuse this certificate.
        #expect(throws: (any Error).self) { try X509.Certificate(derEncoded: leafDER) }

        let facts = try ChainFacts(
            chain: [leafDER, intermediate.der],
            anchors: [root.der],
            hostname: "mail.example.test",
            at: now
        )
        #expect(facts.leaf?.signatureAlgorithm == "md5WithRSAEncryption")
        #expect(facts.leaf?.signatureHash == "MD5")
        #expect(facts.path == [0, 1])
        #expect(facts.complete)
        #expect(facts.uncheckedSignatures == [0])
        let findings = facts.findings()
        #expect(findings.codes == [.weakSignature])
        #expect(findings.first?.evidence.contains("md5WithRSAEncryption") == true)
    }

    @Test func rsa1024CertificateThatSwiftCertificatesRefusesStillParses() throws {
        let root = try FactsTestPKI.root(key: FactsTestKey.rsa1024, now: now)
        #expect(throws: (any Error).self) { try X509.Certificate(derEncoded: root.der) }
        let leaf = try FactsTestPKI.leaf(issuer: root, now: now)
        let facts = try ChainFacts(chain: [leaf.der], anchors: [root.der], hostname: nil, at: now)
        // The 1024-bit key still verifies the leaf's signature.
        #expect(facts.complete)
        #expect(facts.uncheckedSignatures.isEmpty)
        #expect(facts.anchorCertificate?.keySize == 1024)
        #expect(facts.findings().codes == [.weakKey])
        #expect(facts.findings().first?.evidence.contains("trust anchor") == true)
    }
}
