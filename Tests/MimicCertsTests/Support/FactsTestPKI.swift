import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// A key for test certificates: P-256 (fast) or RSA (for SHA-1 signatures and weak keys).
enum FactsTestKey: Sendable {
    case p256(P256.Signing.PrivateKey)
    case rsa(_RSA.Signing.PrivateKey)

    static func p256() -> FactsTestKey { .p256(P256.Signing.PrivateKey()) }

    /// RSA keys are slow to generate: the tests share these.
    static let rsa2048: FactsTestKey = .rsa(try! _RSA.Signing.PrivateKey(keySize: .bits2048))
    static let rsa1024: FactsTestKey = .rsa(try! _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024)))

    var privateKey: Certificate.PrivateKey {
        switch self {
        case .p256(let key): .init(key)
        case .rsa(let key): .init(key)
        }
    }

    var publicKey: Certificate.PublicKey {
        switch self {
        case .p256(let key): .init(key.publicKey)
        case .rsa(let key): .init(key.publicKey)
        }
    }

    var defaultSignatureAlgorithm: Certificate.SignatureAlgorithm {
        switch self {
        case .p256: .ecdsaWithSHA256
        case .rsa: .sha256WithRSAEncryption
        }
    }
}

/// One certificate with the key that can sign for its subject.
struct FactsTestCert: Sendable {
    let certificate: Certificate
    let key: FactsTestKey

    var name: DistinguishedName { certificate.subject }

    var der: [UInt8] {
        var serializer = DER.Serializer()
        try! serializer.serialize(certificate)
        return serializer.serializedBytes
    }
}

/// Test PKIs built in code, dated from a reference time: never a checked-in PEM that expires.
enum FactsTestPKI {
    static let day: TimeInterval = 86_400

    /// Issues a certificate; without `issuer` it is self-signed.
    static func make(
        _ commonName: String,
        key: FactsTestKey = .p256(),
        issuer: FactsTestCert? = nil,
        issuerName: DistinguishedName? = nil,
        now: Date,
        validFrom: TimeInterval = -10 * day,
        validUntil: TimeInterval = 300 * day,
        basicConstraints: BasicConstraints? = .notCertificateAuthority,
        keyUsage: KeyUsage? = nil,
        extendedKeyUsage: [ExtendedKeyUsage.Usage]? = nil,
        subjectAlternativeNames: [GeneralName]? = nil,
        signatureAlgorithm: Certificate.SignatureAlgorithm? = nil
    ) throws -> FactsTestCert {
        let subject = try DistinguishedName {
            OrganizationName("Mimic Facts Tests")
            CommonName(commonName)
        }
        let signer = issuer?.key ?? key
        let extensions = try Certificate.Extensions {
            if let basicConstraints { Critical(basicConstraints) }
            if let keyUsage { Critical(keyUsage) }
            if let extendedKeyUsage { try ExtendedKeyUsage(extendedKeyUsage) }
            if let subjectAlternativeNames { SubjectAlternativeNames(subjectAlternativeNames) }
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: key.publicKey,
            notValidBefore: now + validFrom,
            notValidAfter: now + validUntil,
            issuer: issuerName ?? issuer?.name ?? subject,
            subject: subject,
            signatureAlgorithm: signatureAlgorithm ?? signer.defaultSignatureAlgorithm,
            extensions: extensions,
            issuerPrivateKey: signer.privateKey
        )
        return FactsTestCert(certificate: certificate, key: key)
    }

    static func root(
        _ name: String = "Facts Root",
        key: FactsTestKey = .p256(),
        now: Date,
        pathLength: Int? = nil
    )
        throws -> FactsTestCert
    {
        try make(
            name,
            key: key,
            now: now,
            validFrom: -30 * day,
            validUntil: 3_650 * day,
            basicConstraints: .isCertificateAuthority(maxPathLength: pathLength),
            keyUsage: KeyUsage(keyCertSign: true, cRLSign: true)
        )
    }

    static func intermediate(
        _ name: String = "Facts Intermediate",
        key: FactsTestKey = .p256(),
        issuer: FactsTestCert,
        now: Date,
        pathLength: Int? = 0,
        validFrom: TimeInterval = -20 * day,
        validUntil: TimeInterval = 1_000 * day,
        isCA: Bool = true
    ) throws -> FactsTestCert {
        try make(
            name,
            key: key,
            issuer: issuer,
            now: now,
            validFrom: validFrom,
            validUntil: validUntil,
            basicConstraints: isCA ? .isCertificateAuthority(maxPathLength: pathLength) : .notCertificateAuthority,
            keyUsage: KeyUsage(keyCertSign: true, cRLSign: true)
        )
    }

    static func leaf(
        _ hostname: String = "mail.example.test",
        key: FactsTestKey = .p256(),
        issuer: FactsTestCert,
        now: Date,
        validFrom: TimeInterval = -1 * day,
        validUntil: TimeInterval = 90 * day,
        subjectAlternativeNames: [GeneralName]? = nil,
        extendedKeyUsage: [ExtendedKeyUsage.Usage]? = [.serverAuth],
        keyUsage: KeyUsage? = KeyUsage(digitalSignature: true),
        signatureAlgorithm: Certificate.SignatureAlgorithm? = nil
    ) throws -> FactsTestCert {
        try make(
            hostname,
            key: key,
            issuer: issuer,
            now: now,
            validFrom: validFrom,
            validUntil: validUntil,
            keyUsage: keyUsage,
            extendedKeyUsage: extendedKeyUsage,
            subjectAlternativeNames: subjectAlternativeNames ?? [.dnsName(hostname)],
            signatureAlgorithm: signatureAlgorithm
        )
    }

    /// root → intermediate → leaf, all valid, the leaf for `mail.example.test`.
    struct Chain: Sendable {
        let root: FactsTestCert
        let intermediate: FactsTestCert
        let leaf: FactsTestCert
        var served: [[UInt8]] { [leaf.der, intermediate.der] }
        var anchors: [[UInt8]] { [root.der] }
    }

    static func chain(now: Date, hostname: String = "mail.example.test") throws -> Chain {
        let root = try root(now: now)
        let intermediate = try intermediate(issuer: root, now: now)
        let leaf = try leaf(hostname, issuer: intermediate, now: now)
        return Chain(root: root, intermediate: intermediate, leaf: leaf)
    }
}
