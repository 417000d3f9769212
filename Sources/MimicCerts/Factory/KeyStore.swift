import Crypto
import Foundation
import Synchronization
import X509
import _CryptoExtras

/// A private key with the two forms the factory needs: one to sign with, one (PKCS#8 PEM) to hand to a server.
struct FactoryKey: Sendable {
    let type: KeyType
    let privateKey: Certificate.PrivateKey
    let pkcs8PEM: String

    var publicKey: Certificate.PublicKey { privateKey.publicKey }

    static func generate(_ type: KeyType) throws -> FactoryKey {
        switch type {
        case .p256:
            let key = P256.Signing.PrivateKey()
            return FactoryKey(type: type, privateKey: .init(key), pkcs8PEM: key.pemRepresentation)
        case .p384:
            let key = P384.Signing.PrivateKey()
            return FactoryKey(type: type, privateKey: .init(key), pkcs8PEM: key.pemRepresentation)
        case .rsa1024, .rsa2048, .rsa3072, .rsa4096:
            // `unsafeKeySize` because 1024-bit keys are the point of the weak-key profiles.
            let key = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: type.rsaBits ?? 2048))
            return FactoryKey(type: type, privateKey: .init(key), pkcs8PEM: key.pkcs8PEMRepresentation)
        }
    }

    /// Loads a PKCS#8 PEM key; nil when the PEM holds a key of another type or size than `type`.
    static func load(_ type: KeyType, pem: String) -> FactoryKey? {
        switch type {
        case .p256:
            guard let key = try? P256.Signing.PrivateKey(pemRepresentation: pem) else { return nil }
            return FactoryKey(type: type, privateKey: .init(key), pkcs8PEM: key.pemRepresentation)
        case .p384:
            guard let key = try? P384.Signing.PrivateKey(pemRepresentation: pem) else { return nil }
            return FactoryKey(type: type, privateKey: .init(key), pkcs8PEM: key.pemRepresentation)
        case .rsa1024, .rsa2048, .rsa3072, .rsa4096:
            guard let key = try? _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem),
                key.keySizeInBits == type.rsaBits
            else { return nil }
            return FactoryKey(type: type, privateKey: .init(key), pkcs8PEM: key.pkcs8PEMRepresentation)
        }
    }
}

/// Private keys cached on disk under `home/.keys/` (directory 0700, files 0600) and in memory, keyed by
/// certificate name and key type, so RSA generation happens once per machine and minting stays fast.
///
/// Keys are reused across chains that share a certificate name; chains stay apart because CA subjects carry the
/// chain's name (see ``CertificateFactory``).
final class KeyStore: Sendable {
    /// Process-wide, keyed by file path: every factory on the same home shares it.
    private static let memory = KeyStore()

    private let keys = Mutex<[String: FactoryKey]>([:])

    static func key(name: String, type: KeyType, directory: URL) throws -> FactoryKey {
        try memory.key(name: name, type: type, directory: directory)
    }

    /// A key kept in this process only (in-memory factories), generated on first use.
    static func memoryKey(name: String, type: KeyType) throws -> FactoryKey {
        try memory.memoryKey(name: name, type: type)
    }

    private func memoryKey(name: String, type: KeyType) throws -> FactoryKey {
        let slot = "memory:\(name)-\(type.rawValue)"
        return try keys.withLock { keys in
            if let cached = keys[slot] { return cached }
            let key = try FactoryKey.generate(type)
            keys[slot] = key
            return key
        }
    }

    private func key(name: String, type: KeyType, directory: URL) throws -> FactoryKey {
        let file = directory.appendingPathComponent("\(name)-\(type.rawValue).pem")
        // One lock for lookup and generation: two threads never both generate the same RSA key.
        return try keys.withLock { keys in
            if let cached = keys[file.path] { return cached }
            if let pem = try FactoryFiles.readText(file), let loaded = FactoryKey.load(type, pem: pem) {
                keys[file.path] = loaded
                return loaded
            }
            // Missing or unusable (wrong type, damaged): make a new one and replace the file atomically.
            let key = try FactoryKey.generate(type)
            try FactoryFiles.makeDirectory(directory, mode: 0o700)
            try FactoryFiles.writeAtomically(key.pkcs8PEM, to: file, mode: 0o600)
            keys[file.path] = key
            return key
        }
    }
}
