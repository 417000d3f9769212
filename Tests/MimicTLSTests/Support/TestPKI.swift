import Crypto
import Foundation
import MimicCore
import MimicTLS
import SwiftASN1
import X509
import _CryptoExtras

/// A small PKI built in code for the engine tests: root → intermediate → leaf, dates relative to now.
/// The profile matrix tests use the certificate factory instead; this keeps engine tests self-contained.
struct TestPKI: Sendable {
    let root: [UInt8]
    let intermediate: [UInt8]
    let leaf: [UInt8]
    let leafKeyPEM: String

    /// The chain a well-configured server sends: leaf, then intermediate.
    var servedChain: [[UInt8]] { [leaf, intermediate] }

    /// - Parameters:
    ///   - hostname: the leaf's DNS SAN.
    ///   - leafValidity: the leaf's validity window relative to now.
    ///   - rsaLeaf: an RSA leaf key instead of P-256 (for TLS 1.0/1.1 cipher suites that need RSA), of `rsaLeafBits`.
    init(
        hostname: String = "mail.example.test",
        leafValidity: ClosedRange<TimeInterval> = (-86_400)...(86_400 * 90),
        rsaLeaf: Bool = false,
        rsaLeafBits: Int = 2048
    ) throws {
        let now = Date()
        let rootKey = P256.Signing.PrivateKey()
        let rootName = try DistinguishedName { CommonName("Mimic Test Root") }
        let rootCert = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(rootKey.publicKey),
            notValidBefore: now - 86_400 * 10,
            notValidAfter: now + 86_400 * 365,
            issuer: rootName,
            subject: rootName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(rootKey)
        )

        let intermediateKey = P256.Signing.PrivateKey()
        let intermediateName = try DistinguishedName { CommonName("Mimic Test Intermediate") }
        let intermediateCert = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(intermediateKey.publicKey),
            notValidBefore: now - 86_400 * 10,
            notValidAfter: now + 86_400 * 300,
            issuer: rootName,
            subject: intermediateName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(rootKey)
        )

        let leafPrivate: Certificate.PrivateKey
        let leafPEM: String
        if rsaLeaf {
            let key = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: rsaLeafBits))
            leafPrivate = .init(key)
            leafPEM = key.pemRepresentation
        } else {
            let key = P256.Signing.PrivateKey()
            leafPrivate = .init(key)
            leafPEM = key.pemRepresentation
        }
        let leafName = try DistinguishedName { CommonName(hostname) }
        let leafCert = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: leafPrivate.publicKey,
            notValidBefore: now + leafValidity.lowerBound,
            notValidAfter: now + leafValidity.upperBound,
            issuer: intermediateName,
            subject: leafName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: rsaLeaf))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName(hostname)])
            },
            issuerPrivateKey: .init(intermediateKey)
        )

        func der(_ certificate: Certificate) throws -> [UInt8] {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        }
        root = try der(rootCert)
        intermediate = try der(intermediateCert)
        leaf = try der(leafCert)
        leafKeyPEM = leafPEM
    }

    func serverConfiguration(
        minimumVersion: MimicTLSVersion? = nil,
        maximumVersion: MimicTLSVersion? = nil,
        chain: [[UInt8]]? = nil
    ) -> MimicTLSConfiguration {
        MimicTLSConfiguration(
            role: .server,
            minimumVersion: minimumVersion,
            maximumVersion: maximumVersion,
            certificateChain: chain ?? servedChain,
            privateKey: .pem(leafKeyPEM)
        )
    }

    func clientConfiguration(
        serverName: String = "mail.example.test",
        minimumVersion: MimicTLSVersion? = nil,
        maximumVersion: MimicTLSVersion? = nil
    ) -> MimicTLSConfiguration {
        MimicTLSConfiguration(
            role: .client,
            minimumVersion: minimumVersion,
            maximumVersion: maximumVersion,
            serverName: serverName,
            trustAnchors: [root]
        )
    }
}
