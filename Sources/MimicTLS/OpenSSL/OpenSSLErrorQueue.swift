private import COpenSSL

/// The thread's OpenSSL error queue, turned into Swift values at the boundary.
enum OpenSSLErrorQueue {
    /// What the queue held: the library's own words, and the symbolic reason of the most telling entry.
    struct Drained {
        var text: String
        var symbol: String?
        /// The reason code (`ERR_GET_REASON`) of the entry `symbol` names.
        var code: Int?
        /// The reason codes of every SSL-library entry, oldest first.
        var sslReasons: [Int32] = []
        var isEmpty: Bool { text.isEmpty }

        /// What the entries mean, before the alerts are considered.
        var kind: TLSFailure.Kind {
            let reasons = Set(sslReasons)
            if !reasons.isDisjoint(with: Self.noSharedCipher) { return .noSharedCipher }
            if !reasons.isDisjoint(with: Self.noSharedVersion) { return .noSharedVersion }
            if reasons.contains(SSL_R_CERTIFICATE_VERIFY_FAILED) { return .certificateRejected }
            return .library
        }

        private static let noSharedCipher: Set<Int32> = [
            SSL_R_NO_SHARED_CIPHER, SSL_R_INSUFFICIENT_SECURITY, SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY,
        ]
        private static let noSharedVersion: Set<Int32> = [
            SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_NO_PROTOCOLS_AVAILABLE, SSL_R_VERSION_TOO_LOW, SSL_R_VERSION_TOO_HIGH,
        ]
    }

    /// Bound on entries read: the queue is bounded by OpenSSL too, but a loop on C state gets its own limit.
    private static let maximumEntries = 32

    /// Empties the queue; entries are joined oldest first.
    static func drain() -> Drained {
        var texts: [String] = []
        var symbol: String?
        var sslSymbol: String?
        var firstCode: Int?
        var sslCode: Int?
        var sslReasons: [Int32] = []
        for _ in 0..<maximumEntries {
            let code = ERR_get_error()
            if code == 0 { break }
            let library = ERR_lib_error_string(code).map { String(cString: $0) }
            let reason = ERR_reason_error_string(code).map { String(cString: $0) }
            switch (library, reason) {
            case (let library?, let reason?): texts.append("\(library): \(reason)")
            case (nil, let reason?): texts.append(reason)
            default:
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &buffer, buffer.count)
                texts.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            let name = symbolicName(library: mimic_ERR_GET_LIB(code), reason: reason)
            let reasonCode = mimic_ERR_GET_REASON(code)
            if symbol == nil { (symbol, firstCode) = (name, Int(reasonCode)) }
            if mimic_ERR_GET_LIB(code) == ERR_LIB_SSL {
                sslReasons.append(reasonCode)
                if sslSymbol == nil { (sslSymbol, sslCode) = (name, Int(reasonCode)) }
            }
        }
        return Drained(
            text: texts.joined(separator: "; "), symbol: sslSymbol ?? symbol,
            code: sslSymbol != nil ? sslCode : firstCode, sslReasons: sslReasons)
    }

    static func clear() { ERR_clear_error() }

    /// OpenSSL's reason strings are its `<LIB>_R_<NAME>` macro names in lower case with spaces, so the symbol
    /// can be rebuilt from the text for the libraries whose prefix is known.
    private static func symbolicName(library: Int32, reason: String?) -> String? {
        guard let reason, !reason.isEmpty else { return nil }
        let prefixes: [Int32: String] = [
            ERR_LIB_SSL: "SSL_R_", ERR_LIB_X509: "X509_R_", ERR_LIB_X509V3: "X509V3_R_", ERR_LIB_PEM: "PEM_R_",
            ERR_LIB_ASN1: "ASN1_R_", ERR_LIB_EVP: "EVP_R_", ERR_LIB_RSA: "RSA_R_", ERR_LIB_EC: "EC_R_",
            ERR_LIB_BIO: "BIO_R_", ERR_LIB_PROV: "PROV_R_", ERR_LIB_OSSL_DECODER: "OSSL_DECODER_R_",
        ]
        guard let prefix = prefixes[library] else { return nil }
        let body = reason.uppercased().map { $0 == " " || $0 == "-" ? "_" : $0 }
        return prefix + String(body)
    }
}
