private import COpenSSL
import MimicCore

/// The suites this OpenSSL can offer at security level 0, read from the library itself.
enum OpenSSLSuiteTable {
    static let candidates: [TLSSuiteCandidate] = {
        guard let context = OpenSSLContext.newContext() else { return [] }
        defer { SSL_CTX_free(context) }
        SSL_CTX_set_security_level(context, 0)
        guard SSL_CTX_set_cipher_list(context, "ALL:COMPLEMENTOFALL:!PSK:!SRP:@SECLEVEL=0") == 1 else { return [] }
        _ = SSL_CTX_set_ciphersuites(context, tls13Suites)
        ERR_clear_error()
        guard let stack = SSL_CTX_get_ciphers(context) else { return [] }
        var seen: Set<UInt16> = []
        var out: [TLSSuiteCandidate] = []
        for index in 0..<max(0, mimic_sk_SSL_CIPHER_num(stack)) {
            guard let cipher = mimic_sk_SSL_CIPHER_value(stack, index), let rawName = SSL_CIPHER_get_name(cipher)
            else { continue }
            let code = UInt16(truncatingIfNeeded: SSL_CIPHER_get_protocol_id(cipher))
            guard seen.insert(code).inserted else { continue }
            let libraryName = String(cString: rawName)
            let name = SSL_CIPHER_standard_name(cipher).map { String(cString: $0) } ?? libraryName
            // The lowest version the suite is defined for: `SSLv3`, `TLSv1.0`, `TLSv1.2`, `TLSv1.3`.
            let defined = SSL_CIPHER_get_version(cipher).map { String(cString: $0) } ?? ""
            let minimum: MimicTLSVersion =
                switch defined {
                case "TLSv1.3": .tls1_3
                case "TLSv1.2": .tls1_2
                case "TLSv1.1": .tls1_1
                default: .tls1_0
                }
            let maximum: MimicTLSVersion = minimum == .tls1_3 ? .tls1_3 : .tls1_2
            out.append(
                TLSSuiteCandidate(
                    backend: .openssl, code: code, libraryName: libraryName, name: name, minimumVersion: minimum,
                    maximumVersion: maximum, offer: [minimum == .tls1_3 ? name : libraryName]))
        }
        return out
    }()

    /// Every TLS 1.3 suite OpenSSL 3.0 implements (CCM ones are off by default).
    static let tls13Suites =
        "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:"
        + "TLS_AES_128_CCM_8_SHA256"
}
