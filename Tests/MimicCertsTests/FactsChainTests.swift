import Crypto
import Foundation
import MimicCore
import Testing
import X509

@testable import MimicCerts

@Suite("Chain facts: certificates, path, order")
struct FactsChainTests {
    let now = Date()

    @Test func goodChainIsCompleteInOrderMatchedAndClean() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let facts = try ChainFacts(chain: pki.served, anchors: pki.anchors, hostname: "mail.example.test", at: now)

        #expect(facts.certificates.count == 2)
        #expect(facts.path == [0, 1])
        #expect(facts.anchor == 0)
        #expect(facts.complete)
        #expect(facts.chainOrder)
        #expect(facts.unrelated.isEmpty)
        #expect(!facts.leafSelfSigned)
        #expect(facts.uncheckedSignatures.isEmpty)
        #expect(facts.hostnameMatch == .matched(san: "DNS:mail.example.test"))
        #expect(facts.anchorCertificate?.subject == "CN=Facts Root,O=Mimic Facts Tests")
        #expect(facts.anchorCertificate?.position == nil)
        #expect(facts.findings().isEmpty, "\(facts.findings())")
        #expect(facts.findings().severity == .ok)
        // The leaf expires first: 90 days from now.
        #expect(facts.minimumDaysLeft == 89 || facts.minimumDaysLeft == 90)
    }

    @Test func leafFactsDescribeTheCertificate() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let facts = try ChainFacts(chain: pki.served, anchors: pki.anchors, hostname: nil, at: now)
        let leaf = try #require(facts.leaf)

        #expect(leaf.position == 0)
        #expect(leaf.version == 3)
        #expect(leaf.subject == "CN=mail.example.test,O=Mimic Facts Tests")
        #expect(leaf.issuer == "CN=Facts Intermediate,O=Mimic Facts Tests")
        #expect(leaf.commonNames == ["mail.example.test"])
        #expect(leaf.subjectAlternativeNames == ["DNS:mail.example.test"])
        #expect(leaf.hasSubjectAlternativeNames)
        #expect(leaf.keyType == "EC")
        #expect(leaf.keySize == 256)
        #expect(leaf.curve == "P-256")
        #expect(leaf.signatureAlgorithm == "ecdsa-with-SHA256")
        #expect(leaf.signatureHash == "SHA-256")
        #expect(!leaf.isCA)
        #expect(leaf.pathLength == nil)
        #expect(leaf.keyUsage == ["digitalSignature"])
        #expect(leaf.extendedKeyUsage == ["serverAuth"])
        #expect(!leaf.selfIssued)
        #expect(!leaf.selfSigned)
        #expect(!leaf.hasWeakKey)
        #expect(!leaf.hasWeakSignature)
        #expect(abs(leaf.notAfter.timeIntervalSince(now + 90 * FactsTestPKI.day)) < 1.5)

        let expected = SHA256.hash(data: pki.leaf.der).map { String(format: "%02X", $0) }.joined(separator: ":")
        #expect(leaf.sha256Fingerprint == expected)
        #expect(leaf.sha256Fingerprint.count == 95)

        let serialBytes = pki.leaf.certificate.serialNumber.bytes.drop(while: { $0 == 0 })
        #expect(leaf.serial == serialBytes.map { String(format: "%02X", $0) }.joined())
        #expect(leaf.serial.allSatisfy { $0.isHexDigit && !$0.isLowercase })

        let intermediate = facts.certificates[1]
        #expect(intermediate.isCA)
        #expect(intermediate.pathLength == 0)
        #expect(intermediate.keyUsage == ["keyCertSign", "cRLSign"])
        #expect(intermediate.extendedKeyUsage == nil)
    }

    @Test("days left and days since expiry are whole days, counted the same way everywhere")
    func daysLeftCountsWholeDays() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let facts = try ChainFacts(chain: pki.served, anchors: pki.anchors, hostname: nil, at: now)
        let leaf = try #require(facts.leaf)
        #expect(leaf.daysLeft(at: leaf.notAfter) == 0)
        #expect(leaf.daysLeft(at: leaf.notAfter - 1) == 0)
        #expect(leaf.daysLeft(at: leaf.notAfter - 86_401) == 1)
        #expect(leaf.daysLeft(at: leaf.notAfter + 1) == 0, "expired today")
        let threeDaysAndAnHour = leaf.notAfter + 3 * 86_400 + 3_600
        #expect(leaf.daysLeft(at: threeDaysAndAnHour) == -3)
        #expect(leaf.expiryPhrase(at: threeDaysAndAnHour) == "expired 3 day(s) ago")
        #expect(leaf.expiryPhrase(at: leaf.notAfter - 86_401) == "expires in 1 day(s)")
    }

    @Test("the facts' finding and mimic verify's chain say the same of an expired leaf")
    func oneWording() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let leafFacts = try #require(
            try ChainFacts(chain: pki.served, anchors: pki.anchors, hostname: nil, at: now).leaf)
        // Three days and most of a fourth after expiry: rounding down would say 4 here, rounding toward zero 3.
        let later = leafFacts.notAfter + 3 * 86_400 + 80_000
        let facts = try ChainFacts(chain: pki.served, anchors: pki.anchors, hostname: nil, at: later)
        let expired = try #require(facts.findings().first { $0.code == .expired })
        #expect(expired.evidence.contains("expired 3 day(s) ago"), "\(expired.evidence)")
        #expect(try #require(facts.leaf).expiryPhrase(at: later) == "expired 3 day(s) ago")
    }

    @Test func rsaKeysReportModulusBits() throws {
        let root = try FactsTestPKI.root(key: FactsTestKey.rsa2048, now: now)
        let leaf = try FactsTestPKI.leaf(issuer: root, now: now)
        let facts = try ChainFacts(chain: [leaf.der], anchors: [root.der], hostname: nil, at: now)
        let anchor = try #require(facts.anchorCertificate)
        #expect(anchor.keyType == "RSA")
        #expect(anchor.keySize == 2048)
        #expect(anchor.curve == nil)
        #expect(anchor.selfIssued)
        #expect(anchor.selfSigned)
        #expect(facts.leaf?.signatureAlgorithm == "sha256WithRSAEncryption")
        #expect(facts.complete)
        #expect(facts.uncheckedSignatures.isEmpty)
    }

    @Test func servedRootThatIsTheAnchorEndsThePath() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let facts = try ChainFacts(
            chain: pki.served + [pki.root.der],
            anchors: pki.anchors,
            hostname: "mail.example.test",
            at: now
        )
        #expect(facts.path == [0, 1, 2])
        #expect(facts.anchor == 0)
        #expect(facts.anchorCertificate == nil)
        #expect(facts.complete)
        #expect(facts.chainOrder)
        #expect(facts.findings().isEmpty, "\(facts.findings())")
    }

    @Test func anAnchorAmongManyIsFoundByName() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let others = try (0..<5).map { try FactsTestPKI.root("Other Root \($0)", now: now).der }
        let facts = try ChainFacts(chain: pki.served, anchors: others + pki.anchors, hostname: nil, at: now)
        #expect(facts.anchor == 5)
        #expect(facts.complete)
    }

    @Test func issuerWithTheRightNameButAnotherKeyIsNotTheIssuer() throws {
        let pki = try FactsTestPKI.chain(now: now)
        // Same subject name as the real intermediate, different key: the leaf's signature does not verify with it.
        let impostor = try FactsTestPKI.intermediate(issuer: pki.root, now: now)
        let facts = try ChainFacts(chain: [pki.leaf.der, impostor.der], anchors: pki.anchors, hostname: nil, at: now)
        #expect(facts.path == [0])
        #expect(!facts.complete)
        #expect(facts.unrelated == [1])
        #expect(facts.findings().codes.contains(.incompleteChain))
    }

    @Test func reversedIntermediatesAreOutOfOrder() throws {
        let root = try FactsTestPKI.root(now: now)
        let upper = try FactsTestPKI.intermediate("Upper CA", issuer: root, now: now, pathLength: 1)
        let lower = try FactsTestPKI.intermediate("Lower CA", issuer: upper, now: now, pathLength: 0)
        let leaf = try FactsTestPKI.leaf(issuer: lower, now: now)

        let inOrder = try ChainFacts(
            chain: [leaf.der, lower.der, upper.der],
            anchors: [root.der],
            hostname: nil,
            at: now
        )
        #expect(inOrder.chainOrder)
        #expect(inOrder.findings().isEmpty, "\(inOrder.findings())")

        let facts = try ChainFacts(
            chain: [leaf.der, upper.der, lower.der],
            anchors: [root.der],
            hostname: nil,
            at: now
        )
        #expect(facts.path == [0, 2, 1])
        #expect(facts.complete)
        #expect(!facts.chainOrder)
        #expect(facts.unrelated.isEmpty)
        let findings = facts.findings()
        #expect(findings.codes == [.chainOrder])
        #expect(findings.first?.severity == .warning)
        #expect(findings.first?.evidence.contains("out of order") == true)
        #expect(findings.first?.source == "facts")
        #expect(findings.first?.phase == .verification)
    }

    @Test func unrelatedCertificateIsNamedWithItsPosition() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let stranger = try FactsTestPKI.leaf(
            "other.example.test",
            issuer: try FactsTestPKI.root("Other", now: now),
            now: now
        )
        let facts = try ChainFacts(
            chain: pki.served + [stranger.der],
            anchors: pki.anchors,
            hostname: "mail.example.test",
            at: now
        )
        #expect(facts.path == [0, 1])
        #expect(facts.chainOrder)
        #expect(facts.complete)
        #expect(facts.unrelated == [2])
        let findings = facts.findings()
        #expect(findings.codes == [.chainOrder])
        #expect(findings.first?.depth == 2)
        #expect(findings.first?.evidence.contains("CN=other.example.test") == true)
        #expect(findings.first?.evidence.contains("unrelated") == true)
        #expect(findings.severity == .warning)
    }

    @Test func cyclesEndTheWalk() throws {
        // Two CAs that issued each other: the walk must stop, not loop.
        let keyA = FactsTestKey.p256()
        let keyB = FactsTestKey.p256()
        let nameA = try DistinguishedName {
            OrganizationName("Mimic Facts Tests")
            CommonName("Cycle A")
        }
        let nameB = try DistinguishedName {
            OrganizationName("Mimic Facts Tests")
            CommonName("Cycle B")
        }
        let signerB = FactsTestCert(
            certificate: try FactsTestPKI.make("Cycle B", key: keyB, now: now).certificate,
            key: keyB
        )
        let a = try FactsTestPKI.make(
            "Cycle A",
            key: keyA,
            issuer: signerB,
            issuerName: nameB,
            now: now,
            basicConstraints: .isCertificateAuthority(maxPathLength: nil)
        )
        let signerA = FactsTestCert(certificate: a.certificate, key: keyA)
        let b = try FactsTestPKI.make(
            "Cycle B",
            key: keyB,
            issuer: signerA,
            issuerName: nameA,
            now: now,
            basicConstraints: .isCertificateAuthority(maxPathLength: nil)
        )
        let leaf = try FactsTestPKI.leaf(issuer: a, now: now)
        let facts = try ChainFacts(chain: [leaf.der, a.der, b.der], anchors: [], hostname: nil, at: now)
        #expect(facts.path == [0, 1, 2])
        #expect(!facts.complete)
        #expect(facts.findings().codes.contains(.untrustedRoot))
    }

    @Test func factsRoundTripThroughJSON() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let facts = try ChainFacts(chain: pki.served, anchors: pki.anchors, hostname: "mail.example.test", at: now)
        let data = try JSONEncoder().encode(facts)
        let decoded = try JSONDecoder().decode(ChainFacts.self, from: data)
        #expect(decoded.certificates == facts.certificates)
        #expect(decoded.path == facts.path)
        #expect(decoded.hostnameMatch == facts.hostnameMatch)
        #expect(decoded.anchorCertificate == facts.anchorCertificate)
        #expect(decoded.findings() == facts.findings())
    }
}
