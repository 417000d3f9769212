import Crypto
import Foundation
import MimicCore
import SwiftASN1
import Testing
import X509
import _CryptoExtras

@testable import MimicTLS

/// Certificates the engine PKI does not cover, minted in code for the verifier tests.
private enum Mint {
    static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    static func name(_ commonName: String) throws -> DistinguishedName {
        try DistinguishedName { CommonName(commonName) }
    }

    /// A leaf (or, with `ca`, an intermediate) issued by `issuer`.
    static func certificate(
        subject: String,
        publicKey: Certificate.PublicKey,
        issuer: String,
        issuerKey: Certificate.PrivateKey,
        signature: Certificate.SignatureAlgorithm = .ecdsaWithSHA256,
        ca: Bool = false,
        serverAuth: Bool = true,
        sans: [GeneralName] = []
    ) throws -> [UInt8] {
        let now = Date()
        let extensions = try Certificate.Extensions {
            if ca {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            } else {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage(serverAuth ? [.serverAuth] : [.clientAuth])
            }
            if !sans.isEmpty { SubjectAlternativeNames(sans) }
        }
        return try der(
            Certificate(
                version: .v3,
                serialNumber: .init(),
                publicKey: publicKey,
                notValidBefore: now - 86_400,
                notValidAfter: now + 86_400 * 30,
                issuer: try name(issuer),
                subject: try name(subject),
                signatureAlgorithm: signature,
                extensions: extensions,
                issuerPrivateKey: issuerKey
            )
        )
    }
}

@Suite("GnuTLS verifier")
struct GnuTLSVerifierTests {
    static let day = 86_400.0

    @Test func goodChainIsAccepted() throws {
        let pki = try TestPKI()
        let result = TLSBackends.verify(
            .gnutls,
            chain: pki.servedChain,
            anchors: [pki.root],
            hostname: "mail.example.test"
        )
        #expect(result.backend == .gnutls)
        #expect(result.accepted, "\(result.rawErrors)")
        #expect(result.rawErrors.isEmpty)
        #expect(result.findings.isEmpty)
        #expect(result.hostname == "mail.example.test")
        // Without a hostname only the chain and the purpose are checked.
        #expect(GnuTLSVerifier.verify(chain: pki.servedChain, anchors: [pki.root], hostname: nil, at: nil).accepted)
    }

    @Test func verificationTimeChangesTheVerdict() throws {
        let pki = try TestPKI()
        let now = Date().timeIntervalSince1970
        func verify(at time: Double?) -> MimicTLS.VerificationResult {
            GnuTLSVerifier.verify(chain: pki.servedChain, anchors: [pki.root], hostname: "mail.example.test", at: time)
        }
        #expect(verify(at: now).accepted)

        // The leaf starts one day ago.
        let past = verify(at: now - 5 * Self.day)
        #expect(past.accepted == false)
        #expect(past.findings.codes == [.notYetValid])
        #expect(past.rawErrors.map(\.code) == ["GNUTLS_CERT_NOT_ACTIVATED"])
        #expect(past.rawErrors.first?.value == 1 << 9)
        #expect(past.findings.first?.depth == 0)

        // The leaf ends in 90 days; the intermediate in 300, the root in 365.
        let future = verify(at: now + 120 * Self.day)
        #expect(future.findings.codes == [.expired])
        #expect(future.findings.first?.rawCode == "GNUTLS_CERT_EXPIRED")
        #expect(future.findings.first?.depth == 0)
        #expect(future.findings.first?.evidence.isEmpty == false)

        // The clock is the system's again afterwards.
        #expect(verify(at: nil).accepted)
    }

    @Test func concurrentTimedVerificationsDoNotSeeEachOthersClock() async throws {
        let pki = try TestPKI()
        let now = Date().timeIntervalSince1970
        let times = (0..<40).map { $0 % 2 == 0 ? now : now + 200 * Self.day }
        let verdicts = await withTaskGroup(of: (Double, Bool).self) { group in
            for time in times {
                group.addTask {
                    let result = GnuTLSVerifier.verify(
                        chain: pki.servedChain,
                        anchors: [pki.root],
                        hostname: "mail.example.test",
                        at: time
                    )
                    return (time, result.accepted)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(verdicts.count == times.count)
        for (time, accepted) in verdicts { #expect(accepted == (time == now)) }
    }

    @Test func expiredLeafAndWrongHostGiveOneFindingEach() throws {
        let pki = try TestPKI(leafValidity: (-30 * Self.day)...(-Self.day))
        let result = GnuTLSVerifier.verify(
            chain: pki.servedChain,
            anchors: [pki.root],
            hostname: "www.example.test",
            at: nil
        )
        #expect(result.accepted == false)
        #expect(Set(result.findings.codes) == [.expired, .hostnameMismatch])
        #expect(Set(result.rawErrors.map(\.code)) == ["GNUTLS_CERT_EXPIRED", "GNUTLS_CERT_UNEXPECTED_OWNER"])
        // The summary bit is no finding of its own.
        #expect(!result.rawErrors.contains { $0.code == "GNUTLS_CERT_INVALID" })
        #expect(
            result.findings.allSatisfy {
                $0.source == "gnutls" && $0.phase == .verification && $0.severity == .critical
            }
        )
    }

    @Test func missingSignersAreToldApart() throws {
        let pki = try TestPKI()
        let stranger = try TestPKI()
        func codes(_ chain: [[UInt8]], _ anchors: [[UInt8]]) -> [FindingCode] {
            GnuTLSVerifier.verify(chain: chain, anchors: anchors, hostname: "mail.example.test", at: nil).findings.codes
        }
        // The intermediate is missing: the leaf's issuer is not found.
        #expect(codes([pki.leaf], [pki.root]) == [.incompleteChain])
        // An unknown root: the top intermediate's issuer is not found.
        let otherKey = P256.Signing.PrivateKey()
        let otherRoot = try Mint.certificate(
            subject: "Other Root",
            publicKey: .init(otherKey.publicKey),
            issuer: "Other Root",
            issuerKey: .init(otherKey),
            ca: true
        )
        #expect(codes(pki.servedChain, [otherRoot]) == [.untrustedRoot])
        // An anchor with the root's name but another key (no key identifiers to tell them apart): GnuTLS takes it
        // as the issuer and reports the signature, not a missing signer.
        let impostor = GnuTLSVerifier.verify(chain: pki.servedChain, anchors: [stranger.root], hostname: nil, at: nil)
        #expect(impostor.rawErrors.map(\.code) == ["GNUTLS_CERT_SIGNATURE_FAILURE"])
        #expect(impostor.findings.codes == [.verificationError])
        #expect(codes(pki.servedChain, []) == [.untrustedRoot])
        // The root served along, but not trusted.
        #expect(codes(pki.servedChain + [pki.root], []) == [.untrustedRoot])
        // Order does not matter to GnuTLS's verification.
        #expect(codes([pki.leaf, pki.root, pki.intermediate], [pki.root]) == [])
    }

    @Test func selfSignedLeaf() throws {
        let key = P256.Signing.PrivateKey()
        let leaf = try Mint.certificate(
            subject: "mail.example.test",
            publicKey: .init(key.publicKey),
            issuer: "mail.example.test",
            issuerKey: .init(key),
            sans: [.dnsName("mail.example.test")]
        )
        let result = GnuTLSVerifier.verify(chain: [leaf], anchors: [], hostname: "mail.example.test", at: nil)
        #expect(result.findings.codes == [.selfSigned])
        #expect(result.rawErrors.map(\.code) == ["GNUTLS_CERT_SIGNER_NOT_FOUND"])
        #expect(result.findings.first?.depth == 0)
        // Trusted as its own anchor it is fine.
        #expect(GnuTLSVerifier.verify(chain: [leaf], anchors: [leaf], hostname: "mail.example.test", at: nil).accepted)
    }

    @Test func ipLiteralsMatchIPAddressSANs() throws {
        let key = P256.Signing.PrivateKey()
        let leafKey = P256.Signing.PrivateKey()
        let root = try Mint.certificate(
            subject: "IP Root",
            publicKey: .init(key.publicKey),
            issuer: "IP Root",
            issuerKey: .init(key),
            ca: true
        )
        let leaf = try Mint.certificate(
            subject: "loopback",
            publicKey: .init(leafKey.publicKey),
            issuer: "IP Root",
            issuerKey: .init(key),
            sans: [.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
        )
        #expect(GnuTLSVerifier.verify(chain: [leaf], anchors: [root], hostname: "127.0.0.1", at: nil).accepted)
        let other = GnuTLSVerifier.verify(chain: [leaf], anchors: [root], hostname: "127.0.0.2", at: nil)
        #expect(other.findings.codes == [.hostnameMismatch])
    }

    @Test func rsa1024LeafIsAWeakKey() throws {
        let caKey = P256.Signing.PrivateKey()
        let weak = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024))
        let root = try Mint.certificate(
            subject: "Weak Root",
            publicKey: .init(caKey.publicKey),
            issuer: "Weak Root",
            issuerKey: .init(caKey),
            ca: true
        )
        let leaf = try Mint.certificate(
            subject: "mail.example.test",
            publicKey: .init(weak.publicKey),
            issuer: "Weak Root",
            issuerKey: .init(caKey),
            sans: [.dnsName("mail.example.test")]
        )
        let result = GnuTLSVerifier.verify(chain: [leaf], anchors: [root], hostname: "mail.example.test", at: nil)
        #expect(result.findings.codes == [.weakKey], "\(result.rawErrors)")
        #expect(result.rawErrors.map(\.code) == ["GNUTLS_CERT_INSECURE_ALGORITHM"])
    }

    @Test func sha1SignatureIsWeak() throws {
        let caKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let leafKey = P256.Signing.PrivateKey()
        let root = try Mint.certificate(
            subject: "SHA1 Root",
            publicKey: .init(caKey.publicKey),
            issuer: "SHA1 Root",
            issuerKey: .init(caKey),
            signature: .sha256WithRSAEncryption,
            ca: true
        )
        let leaf = try Mint.certificate(
            subject: "mail.example.test",
            publicKey: .init(leafKey.publicKey),
            issuer: "SHA1 Root",
            issuerKey: .init(caKey),
            signature: .sha1WithRSAEncryption,
            sans: [.dnsName("mail.example.test")]
        )
        let result = GnuTLSVerifier.verify(chain: [leaf], anchors: [root], hostname: "mail.example.test", at: nil)
        #expect(result.findings.codes == [.weakSignature], "\(result.rawErrors)")
    }

    @Test func clientAuthOnlyLeafIsTheWrongPurpose() throws {
        let caKey = P256.Signing.PrivateKey()
        let leafKey = P256.Signing.PrivateKey()
        let root = try Mint.certificate(
            subject: "EKU Root",
            publicKey: .init(caKey.publicKey),
            issuer: "EKU Root",
            issuerKey: .init(caKey),
            ca: true
        )
        let leaf = try Mint.certificate(
            subject: "mail.example.test",
            publicKey: .init(leafKey.publicKey),
            issuer: "EKU Root",
            issuerKey: .init(caKey),
            serverAuth: false,
            sans: [.dnsName("mail.example.test")]
        )
        let result = GnuTLSVerifier.verify(chain: [leaf], anchors: [root], hostname: "mail.example.test", at: nil)
        #expect(result.findings.codes == [.wrongPurpose], "\(result.rawErrors)")
    }

    @Test func endEntityActingAsIssuerIsNotACA() throws {
        let rootKey = P256.Signing.PrivateKey()
        let middleKey = P256.Signing.PrivateKey()
        let leafKey = P256.Signing.PrivateKey()
        let root = try Mint.certificate(
            subject: "Real Root",
            publicKey: .init(rootKey.publicKey),
            issuer: "Real Root",
            issuerKey: .init(rootKey),
            ca: true
        )
        let middle = try Mint.certificate(
            subject: "Not A CA",
            publicKey: .init(middleKey.publicKey),
            issuer: "Real Root",
            issuerKey: .init(rootKey)
        )
        let leaf = try Mint.certificate(
            subject: "mail.example.test",
            publicKey: .init(leafKey.publicKey),
            issuer: "Not A CA",
            issuerKey: .init(middleKey),
            sans: [.dnsName("mail.example.test")]
        )
        let result = GnuTLSVerifier.verify(
            chain: [leaf, middle],
            anchors: [root],
            hostname: "mail.example.test",
            at: nil
        )
        #expect(result.accepted == false)
        #expect(result.findings.codes.contains(.notACA), "\(result.rawErrors)")
    }

    @Test func unusableInputIsAVerificationError() throws {
        let pki = try TestPKI()
        let empty = GnuTLSVerifier.verify(chain: [], anchors: [pki.root], hostname: nil, at: nil)
        #expect(empty.accepted == false)
        #expect(empty.findings.codes == [.verificationError])
        #expect(empty.rawErrors.first?.code == "GNUTLS_E_NO_CERTIFICATE_FOUND")

        let garbage = GnuTLSVerifier.verify(
            chain: [pki.leaf, [0x30, 0x01]],
            anchors: [pki.root],
            hostname: nil,
            at: nil
        )
        #expect(garbage.accepted == false)
        #expect(garbage.findings.codes == [.verificationError])
        #expect(garbage.rawErrors.first?.depth == 1)
        #expect(garbage.rawErrors.first?.code.hasPrefix("GNUTLS_E_") == true)

        // Unreadable anchors trust nothing.
        let badAnchor = GnuTLSVerifier.verify(chain: pki.servedChain, anchors: [[1, 2, 3]], hostname: nil, at: nil)
        #expect(badAnchor.findings.codes == [.untrustedRoot])
    }
}

@Suite("GnuTLS finding map")
struct GnuTLSFindingMapTests {
    @Test func summaryBitIsNoFinding() {
        #expect(GnuTLSFindingMap.bits(of: (1 << 1) | (1 << 10) | (1 << 14)) == [1 << 10, 1 << 14])
        #expect(GnuTLSFindingMap.bits(of: 0).isEmpty)
    }

    @Test func fixedEntries() {
        let facts = GnuTLSChainFacts()
        let expected: [(String, FindingCode)] = [
            ("GNUTLS_CERT_EXPIRED", .expired), ("GNUTLS_CERT_NOT_ACTIVATED", .notYetValid),
            ("GNUTLS_CERT_UNEXPECTED_OWNER", .hostnameMismatch), ("GNUTLS_CERT_SIGNER_NOT_CA", .notACA),
            ("GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE", .pathLength), ("GNUTLS_CERT_PURPOSE_MISMATCH", .wrongPurpose),
            ("GNUTLS_CERT_REVOKED", .verificationError), ("GNUTLS_CERT_SIGNATURE_FAILURE", .verificationError),
            ("GNUTLS_CERT_MISMATCH", .verificationError),
        ]
        for (name, code) in expected {
            let entry = GnuTLSFindingMap.table.first { $0.name == name }
            #expect(entry != nil, "\(name) is in the table")
            #expect(entry.map { GnuTLSFindingMap.code(for: $0.rule, facts: facts) } == code, "\(name)")
        }
        // Unknown bits still become a finding, with a name that says which bit.
        #expect(GnuTLSFindingMap.entry(forBit: 1 << 30).name == "GNUTLS_CERT_STATUS_1073741824")
    }

    @Test func signerNotFoundFollowsTheChainShape() {
        var facts = GnuTLSChainFacts()
        #expect(GnuTLSFindingMap.code(for: .signerNotFound, facts: facts) == .incompleteChain)
        facts.topOfPathIsCA = true
        #expect(GnuTLSFindingMap.code(for: .signerNotFound, facts: facts) == .untrustedRoot)
        facts.leafSelfIssued = true
        #expect(GnuTLSFindingMap.code(for: .signerNotFound, facts: facts) == .selfSigned)
    }

    @Test func insecureAlgorithmIsAKeyOrASignature() {
        var facts = GnuTLSChainFacts()
        #expect(GnuTLSFindingMap.code(for: .insecureAlgorithm, facts: facts) == .weakSignature)
        facts.hasWeakKey = true
        #expect(GnuTLSFindingMap.code(for: .insecureAlgorithm, facts: facts) == .weakKey)
    }
}
