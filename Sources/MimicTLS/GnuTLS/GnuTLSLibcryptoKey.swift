private import CGnuTLS
private import COpenSSL
import MimicCore

/// An RSA private key whose operations GnuTLS hands to libcrypto.
///
/// GnuTLS 3.7 signs with nettle's side-channel-silent RSA: 1.45 ms for one RSA-2048 signature on the bench machine,
/// against 0.27 ms for libcrypto's. A handshake's one signature is most of a GnuTLS server's work, so a GnuTLS-backed
/// mock answered half as many new handshakes a second as nginx. Everything else stays GnuTLS's: which signature
/// scheme is chosen, how it is encoded, the handshake and the record layer. What crosses over is the private-key
/// operation alone, and its output is the same bytes: PKCS#1 v1.5 signatures are deterministic, RSA-PSS ones are
/// salted by either library (salt as long as the hash, as GnuTLS does), and RSA key exchange yields the same
/// premaster secret.
///
/// Only `rsaEncryption` keys of 130 bytes or more (1033 bits and up) take this path: there every PSS scheme fits a
/// salt as long as its hash (RFC 8017 §9.1.1: the key's bytes ≥ 2 × 64 + 2 for SHA-512), which is what libcrypto is
/// asked for. Below that GnuTLS shortens the salt where TLS 1.2 allows it, which the external-key interface cannot
/// tell apart from TLS 1.3; such keys (the weak-key scenarios' RSA-1024) stay GnuTLS's own, as do RSA-PSS, ECDSA and
/// EdDSA keys.
enum GnuTLSLibcryptoKey {
    /// A GnuTLS key over libcrypto's copy of `bytes` when `native` (the same key, as GnuTLS imported it) is an RSA
    /// key; nil for any other kind, or if libcrypto cannot read it, and the caller keeps `native`.
    static func replacing(_ native: OpaquePointer, bytes: TLSPrivateKey) -> OpaquePointer? {
        var bits: UInt32 = 0
        guard gnutls_privkey_get_pk_algorithm(native, &bits) == Int32(GNUTLS_PK_RSA.rawValue),
            (bits + 7) / 8 >= 2 * 64 + 2
        else { return nil }
        guard let pkey = try? OpenSSLContext.privateKey(bytes) else {
            ERR_clear_error()
            return nil
        }
        guard EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA, EVP_PKEY_get_bits(pkey) == Int32(bits) else {
            EVP_PKEY_free(pkey)
            return nil
        }
        var key: OpaquePointer?
        guard gnutls_privkey_init(&key) >= 0, let key else {
            EVP_PKEY_free(pkey)
            return nil
        }
        // With a deinit function GnuTLS releases the libcrypto key when the GnuTLS key is released.
        let rc = gnutls_privkey_import_ext4(
            key, UnsafeMutableRawPointer(pkey), nil, libcryptoSignHash, libcryptoDecrypt, libcryptoRelease,
            libcryptoKeyInfo, UInt32(GNUTLS_PRIVKEY_IMPORT_AUTO_RELEASE.rawValue))
        guard rc >= 0 else {
            gnutls_privkey_deinit(key)
            EVP_PKEY_free(pkey)
            return nil
        }
        return key
    }

    /// libcrypto's digest for a GnuTLS signature algorithm's hash, by name (`SHA256`); nil when it has none.
    fileprivate static func digest(for algorithm: gnutls_sign_algorithm_t) -> OpaquePointer? {
        let hash = gnutls_sign_get_hash_algorithm(algorithm)
        guard hash != GNUTLS_DIG_UNKNOWN, let name = gnutls_digest_get_name(hash) else { return nil }
        return EVP_get_digestbyname(name)
    }

    /// One signature of `input` with libcrypto: `padding` PKCS#1 v1.5 over input as given (`digest` nil: GnuTLS's
    /// DigestInfo, or TLS 1.0/1.1's MD5+SHA-1), PKCS#1 v1.5 over a DigestInfo libcrypto builds, or PSS.
    fileprivate static func sign(
        _ pkey: OpaquePointer,
        padding: Int32,
        digest: OpaquePointer?,
        input: UnsafePointer<gnutls_datum_t>,
        output: UnsafeMutablePointer<gnutls_datum_t>
    ) -> Int32 {
        output.pointee = gnutls_datum_t(data: nil, size: 0)
        guard let context = EVP_PKEY_CTX_new(pkey, nil) else { return GNUTLS_E_MEMORY_ERROR }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_sign_init(context) == 1, EVP_PKEY_CTX_set_rsa_padding(context, padding) == 1 else {
            return failed(GNUTLS_E_PK_SIGN_FAILED)
        }
        if let digest {
            guard EVP_PKEY_CTX_set_signature_md(context, digest) == 1 else { return failed(GNUTLS_E_PK_SIGN_FAILED) }
        }
        if padding == RSA_PKCS1_PSS_PADDING {
            guard EVP_PKEY_CTX_set_rsa_pss_saltlen(context, RSA_PSS_SALTLEN_DIGEST) == 1 else {
                return failed(GNUTLS_E_PK_SIGN_FAILED)
            }
        }
        return write(pkey, into: output, failure: GNUTLS_E_PK_SIGN_FAILED) { bytes, length in
            EVP_PKEY_sign(context, bytes, &length, input.pointee.data, Int(input.pointee.size))
        }
    }

    /// Runs one libcrypto operation into a buffer as long as the key, allocated for GnuTLS to free, and hands it
    /// over in `datum`; `failure` (with libcrypto's error queue emptied) when the operation does not return 1.
    fileprivate static func write(
        _ pkey: OpaquePointer,
        into datum: UnsafeMutablePointer<gnutls_datum_t>,
        failure: Int32,
        _ operation: (UnsafeMutablePointer<UInt8>, inout Int) -> Int32
    ) -> Int32 {
        let capacity = Int(EVP_PKEY_get_size(pkey))
        guard capacity > 0, let buffer = mimic_gnutls_malloc(capacity) else { return GNUTLS_E_MEMORY_ERROR }
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        var length = capacity
        guard operation(bytes, &length) == 1 else {
            mimic_gnutls_free(buffer)
            return failed(failure)
        }
        datum.pointee = gnutls_datum_t(data: bytes, size: UInt32(length))
        return 0
    }

    /// A failure's code, with libcrypto's error queue emptied: the queue is per thread, and an OpenSSL engine on
    /// the same event loop must not find this failure among its own.
    fileprivate static func failed(_ code: Int32) -> Int32 {
        ERR_clear_error()
        return code
    }
}

/// GnuTLS's signing callback: `GNUTLS_SIGN_RSA_RAW` for PKCS#1 v1.5 (GnuTLS has built the DigestInfo), an
/// `RSA-PSS-RSAE` scheme with the hash for PSS.
private func libcryptoSignHash(
    key: OpaquePointer?,
    algorithm: gnutls_sign_algorithm_t,
    userdata: UnsafeMutableRawPointer?,
    flags: UInt32,
    hash: UnsafePointer<gnutls_datum_t>?,
    signature: UnsafeMutablePointer<gnutls_datum_t>?
) -> Int32 {
    guard let userdata, let hash, let signature else { return GNUTLS_E_INVALID_REQUEST }
    let pkey = OpaquePointer(userdata)
    if algorithm == GNUTLS_SIGN_RSA_RAW {
        return GnuTLSLibcryptoKey.sign(pkey, padding: RSA_PKCS1_PADDING, digest: nil, input: hash, output: signature)
    }
    guard let digest = GnuTLSLibcryptoKey.digest(for: algorithm) else {
        return GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM
    }
    switch gnutls_sign_get_pk_algorithm(algorithm) {
    case GNUTLS_PK_RSA_PSS:
        return GnuTLSLibcryptoKey.sign(
            pkey, padding: RSA_PKCS1_PSS_PADDING, digest: digest, input: hash, output: signature)
    case GNUTLS_PK_RSA:
        return GnuTLSLibcryptoKey.sign(pkey, padding: RSA_PKCS1_PADDING, digest: digest, input: hash, output: signature)
    default:
        return GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM
    }
}

/// RSA key exchange: the client's encrypted premaster secret. GnuTLS hides a failure from the peer itself (it goes on
/// with a random premaster secret), so a failure here is only a code.
private func libcryptoDecrypt(
    key: OpaquePointer?,
    userdata: UnsafeMutableRawPointer?,
    ciphertext: UnsafePointer<gnutls_datum_t>?,
    plaintext: UnsafeMutablePointer<gnutls_datum_t>?
) -> Int32 {
    guard let plaintext else { return GNUTLS_E_INVALID_REQUEST }
    plaintext.pointee = gnutls_datum_t(data: nil, size: 0)
    guard let userdata, let ciphertext else { return GNUTLS_E_INVALID_REQUEST }
    let pkey = OpaquePointer(userdata)
    guard let context = EVP_PKEY_CTX_new(pkey, nil) else { return GNUTLS_E_MEMORY_ERROR }
    defer { EVP_PKEY_CTX_free(context) }
    guard EVP_PKEY_decrypt_init(context) == 1, EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1 else {
        return GnuTLSLibcryptoKey.failed(GNUTLS_E_DECRYPTION_FAILED)
    }
    return GnuTLSLibcryptoKey.write(pkey, into: plaintext, failure: GNUTLS_E_DECRYPTION_FAILED) { bytes, length in
        EVP_PKEY_decrypt(context, bytes, &length, ciphertext.pointee.data, Int(ciphertext.pointee.size))
    }
}

private func libcryptoRelease(key: OpaquePointer?, userdata: UnsafeMutableRawPointer?) {
    if let userdata { EVP_PKEY_free(OpaquePointer(userdata)) }
}

/// What GnuTLS asks of an external key: its algorithm, its size, and whether it can make a given signature (any
/// scheme an `rsaEncryption` key may make, with a hash libcrypto has).
private func libcryptoKeyInfo(key: OpaquePointer?, flags: UInt32, userdata: UnsafeMutableRawPointer?) -> Int32 {
    guard let userdata else { return -1 }
    let pkey = OpaquePointer(userdata)
    if flags & UInt32(GNUTLS_PRIVKEY_INFO_PK_ALGO) != 0 { return Int32(GNUTLS_PK_RSA.rawValue) }
    if flags & UInt32(GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS) != 0 { return EVP_PKEY_get_bits(pkey) }
    if flags & UInt32(GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO) != 0 {
        let algorithm = mimic_gnutls_flags_to_sign_algo(flags)
        if algorithm == GNUTLS_SIGN_RSA_RAW { return 1 }
        guard gnutls_sign_supports_pk_algorithm(algorithm, GNUTLS_PK_RSA) != 0 else { return 0 }
        return GnuTLSLibcryptoKey.digest(for: algorithm) == nil ? 0 : 1
    }
    return -1
}
