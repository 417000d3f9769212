private import COpenSSL
import Synchronization

/// Certificates and private keys already parsed, by their bytes, shared by every context of the process.
///
/// A zoo serves a thousand mocks from a few dozen chains, and OpenSSL 3's decoders take longer to read a PEM key
/// than a handshake takes to use it: parsing each once made `mimic serve` of a large folder markedly faster.
/// Parsed objects are immutable and reference-counted, so contexts on any thread share them; every lookup hands
/// out a reference of its own, which the caller frees as it would a freshly parsed object. The cache keeps at
/// most `limit` of each and, once full, parses what is new without keeping it.
enum OpenSSLParsedObjects {
    static let limit = 512

    /// An `X509 *` or `EVP_PKEY *`: immutable once parsed and reference-counted, so safe to share.
    private struct Parsed: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private struct Store {
        var certificates: [[UInt8]: Parsed] = [:]
        var keys: [TLSPrivateKey: Parsed] = [:]
    }

    private static let store = Mutex(Store())

    /// A new reference to the certificate parsed from `der`, or nil when it was never kept.
    static func certificate(_ der: [UInt8]) -> OpaquePointer? {
        store.withLock { store -> Parsed? in
            guard let parsed = store.certificates[der], X509_up_ref(parsed.pointer) == 1 else { return nil }
            return Parsed(pointer: parsed.pointer)
        }?.pointer
    }

    /// A new reference to the key parsed from `key`, or nil when it was never kept.
    static func privateKey(_ key: TLSPrivateKey) -> OpaquePointer? {
        store.withLock { store -> Parsed? in
            guard let parsed = store.keys[key], EVP_PKEY_up_ref(parsed.pointer) == 1 else { return nil }
            return Parsed(pointer: parsed.pointer)
        }?.pointer
    }

    /// Keeps a reference of its own to `certificate` (the caller's stays the caller's).
    static func keep(certificate: OpaquePointer, for der: [UInt8]) {
        let parsed = Parsed(pointer: certificate)
        store.withLock { store in
            guard store.certificates.count < limit, store.certificates[der] == nil,
                X509_up_ref(certificate) == 1
            else { return }
            store.certificates[der] = parsed
        }
    }

    /// Keeps a reference of its own to `privateKey` (the caller's stays the caller's).
    static func keep(privateKey: OpaquePointer, for key: TLSPrivateKey) {
        let parsed = Parsed(pointer: privateKey)
        store.withLock { store in
            guard store.keys.count < limit, store.keys[key] == nil, EVP_PKEY_up_ref(privateKey) == 1 else { return }
            store.keys[key] = parsed
        }
    }
}
