import Crypto
import Foundation
import MimicCore
import MimicTLS
import SwiftASN1
import Testing
import X509
import _CryptoExtras

/// Chains a careful client refuses for their keys or signatures, built in code like `TestPKI`.
private struct WeakPKI {
    let root: [UInt8]
    let leaf: [UInt8]
    let leafKeyPEM: String

    enum Weakness { case rsa1024Leaf, sha1Signature }

    init(_ weakness: Weakness, hostname: String = "mail.example.test") throws {
        let now = Date()
        let rootKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let rootName = try DistinguishedName { CommonName("Mimic Weak Root") }
        let rootCert = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(rootKey.publicKey),
            notValidBefore: now - 86_400,
            notValidAfter: now + 86_400 * 30,
            issuer: rootName,
            subject: rootName,
            signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(rootKey)
        )

        let leafKey: Certificate.PrivateKey
        switch weakness {
        case .rsa1024Leaf:
            let key = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024))
            leafKey = .init(key)
            leafKeyPEM = key.pemRepresentation
        case .sha1Signature:
            let key = P256.Signing.PrivateKey()
            leafKey = .init(key)
            leafKeyPEM = key.pemRepresentation
        }
        let leafCert = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: leafKey.publicKey,
            notValidBefore: now - 86_400,
            notValidAfter: now + 86_400 * 30,
            issuer: rootName,
            subject: try DistinguishedName { CommonName(hostname) },
            signatureAlgorithm: weakness == .sha1Signature ? .sha1WithRSAEncryption : .sha256WithRSAEncryption,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: weakness == .rsa1024Leaf))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName(hostname)])
            },
            issuerPrivateKey: .init(rootKey)
        )

        func der(_ certificate: Certificate) throws -> [UInt8] {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        }
        root = try der(rootCert)
        leaf = try der(leafCert)
    }
}

@Suite("OpenSSL weak chains")
struct OpenSSLWeakChainTests {
    @Test(
        "weak chains are served and handshaken; the verdict names the weakness",
        arguments: [
            (WeakPKI.Weakness.rsa1024Leaf, FindingCode.weakKey, "X509_V_ERR_EE_KEY_TOO_SMALL"),
            (.sha1Signature, .weakSignature, "X509_V_ERR_CA_MD_TOO_WEAK"),
        ]
    )
    fileprivate func weakChain(weakness: WeakPKI.Weakness, code: FindingCode, raw: String) throws {
        let pki = try WeakPKI(weakness)
        let pair = try makeOpenSSLPair(
            server: MimicTLSConfiguration(role: .server, certificateChain: [pki.leaf], privateKey: .pem(pki.leafKeyPEM)),
            client: MimicTLSConfiguration(role: .client, serverName: "mail.example.test", trustAnchors: [pki.root])
        )
        let outcome = Pump().handshake(client: pair.client, server: pair.server)
        #expect(outcome.client.isComplete, "\(String(describing: outcome.client.failure))")
        #expect(outcome.server.isComplete, "\(String(describing: outcome.server.failure))")
        let report = pair.client.report
        #expect(report.peerChain == [pki.leaf])
        let verification = try #require(report.verification)
        #expect(verification.findings.codes == [code])
        #expect(verification.rawErrors.map(\.code) == [raw])
        #expect(verification.findings.first?.depth == 0)
    }
}
