import Crypto
import Foundation
import MimicCore
import SwiftASN1
import X509

/// The persistent local CA under `home/local/` (`ca.pem`, `ca.key`): created on first use, reused afterwards, so a
/// monitor under test is told once to trust it (like mkcert's CAROOT).
public struct LocalCA: Sendable {
    static let keyType = KeyType.p256
    static let commonName = "Mimic Local CA"
    static let organization = "Mimic"
    static let validity: TimeInterval = 10 * 365 * 86_400

    /// The CA certificate, DER.
    public let certificateDER: [UInt8]
    /// Where the CA certificate (PEM) lives: the file to give a client as its trust anchor; nil for the CA of an
    /// in-memory factory, which writes nothing.
    public let pemPath: URL?
    /// Where the CA key (PKCS#8 PEM, mode 0600) lives; nil in memory.
    public let keyPath: URL?
    /// SHA-256 of the DER, upper-case hex separated by colons (as `openssl x509 -fingerprint -sha256` shows it).
    public let sha256Fingerprint: String

    let certificate: Certificate
    let key: FactoryKey

    /// The CA certificate as PEM, for a client's trust anchors.
    public var certificatePEM: String { PEM.encode(der: certificateDER, label: "CERTIFICATE") }

    init(certificate: Certificate, der: [UInt8], key: FactoryKey, pemPath: URL?, keyPath: URL?) {
        self.certificate = certificate
        self.certificateDER = der
        self.key = key
        self.pemPath = pemPath
        self.keyPath = keyPath
        self.sha256Fingerprint = Hex.string(SHA256.hash(data: der), separator: ":")
    }

    /// Loads the CA from `directory`, creating it when absent. Holds a file lock meanwhile so two processes never
    /// create two CAs (or pair one's key with the other's certificate).
    static func loadOrCreate(in directory: URL, referenceTime: Date) throws -> LocalCA {
        try FactoryFiles.makeDirectory(directory, mode: 0o755)
        let pemPath = directory.appendingPathComponent("ca.pem")
        let keyPath = directory.appendingPathComponent("ca.key")
        return try FactoryFiles.withLock(directory.appendingPathComponent(".lock")) {
            if let pem = try FactoryFiles.readText(pemPath) {
                return try load(pem: pem, pemPath: pemPath, keyPath: keyPath)
            }
            let (certificate, key) = try make(referenceTime: referenceTime)
            let der = try certificate.derBytes()
            // Key first: the certificate's presence is what says the CA is complete.
            try FactoryFiles.writeAtomically(key.pkcs8PEM, to: keyPath, mode: 0o600)
            try FactoryFiles.writeAtomically(PEM.encode(der: der, label: "CERTIFICATE"), to: pemPath, mode: 0o644)
            return LocalCA(certificate: certificate, der: der, key: key, pemPath: pemPath, keyPath: keyPath)
        }
    }

    /// A CA of the same shape that lives only in memory (a fresh key each process), for factories that write
    /// nothing.
    static func ephemeral(referenceTime: Date) throws -> LocalCA {
        let (certificate, key) = try make(referenceTime: referenceTime)
        return LocalCA(certificate: certificate, der: try certificate.derBytes(), key: key, pemPath: nil, keyPath: nil)
    }

    /// A new CA certificate and its key.
    private static func make(referenceTime: Date) throws -> (Certificate, FactoryKey) {
        let key = try FactoryKey.generate(keyType)
        let name = try DistinguishedName {
            CommonName(commonName)
            OrganizationName(organization)
        }
        // Back-dated a year so that verifying at a past time (`--at=-30d`) still finds the CA valid.
        let notBefore = min(referenceTime, Date()).addingTimeInterval(-365 * 86_400)
        let certificate = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: key.publicKey,
            notValidBefore: notBefore,
            notValidAfter: notBefore.addingTimeInterval(validity),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key.privateKey
        )
        return (certificate, key)
    }

    private static func load(pem: String, pemPath: URL, keyPath: URL) throws -> LocalCA {
        guard let der = try PEM.decodeCertificates(pem).first else {
            throw FactoryFileError(path: pemPath.path, message: "no certificate")
        }
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: der)
        } catch {
            throw FactoryFileError(path: pemPath.path, message: "not a readable certificate: \(error)")
        }
        guard let keyPEM = try FactoryFiles.readText(keyPath), let key = FactoryKey.load(keyType, pem: keyPEM) else {
            throw FactoryFileError(
                path: keyPath.path,
                message: "missing or not a P-256 PKCS#8 key (delete ca.pem and ca.key to remake the CA)"
            )
        }
        guard key.publicKey == certificate.publicKey else {
            throw FactoryFileError(
                path: keyPath.path,
                message: "does not match ca.pem (delete ca.pem and ca.key to remake the CA)"
            )
        }
        return LocalCA(certificate: certificate, der: der, key: key, pemPath: pemPath, keyPath: keyPath)
    }
}

extension Certificate {
    func derBytes() throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(self)
        return serializer.serializedBytes
    }
}
