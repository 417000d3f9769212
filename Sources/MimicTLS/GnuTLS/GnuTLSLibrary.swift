private import CGnuTLS
import MimicCore

/// Process-wide GnuTLS state and the translation of its error codes into Swift values.
enum GnuTLSLibrary {
    /// `gnutls_global_init` runs once, the first time any GnuTLS type is used (Swift globals and static lets
    /// are initialised lazily and thread-safely); every entry into GnuTLS goes through `ensureInitialized` first,
    /// so that the `mimic` executable can tell the library's own constructor not to initialise it
    /// (Sources/mimic/GnuTLSStart.swift). GnuTLS counts calls, so in any other process this adds one to its count.
    private static let globalInitResult: Int32 = gnutls_global_init()

    static func ensureInitialized() throws(TLSFailure) {
        let result = globalInitResult
        if result < 0 { throw failure("gnutls_global_init", result) }
    }

    /// `GnuTLS 3.7.9`.
    static var version: String {
        guard let version = gnutls_check_version(nil) else { return "GnuTLS" }
        return "GnuTLS " + String(cString: version)
    }

    /// `GNUTLS_E_AGAIN` for `-28`; nil for codes GnuTLS has no name for.
    static func errorName(_ code: Int32) -> String? {
        gnutls_strerror_name(code).map { String(cString: $0) }
    }

    static func errorText(_ code: Int32) -> String {
        gnutls_strerror(code).map { String(cString: $0) } ?? "GnuTLS error \(code)"
    }

    /// A failure naming the call that failed, the library's text and its symbol.
    static func failure(_ call: String, _ code: Int32) -> TLSFailure {
        TLSFailure(
            kind(of: code), reason: "\(call): \(errorText(code))",
            libraryError: errorName(code) ?? "GnuTLS error \(code)", libraryCode: Int(code))
    }

    /// What a GnuTLS error code means, before the alerts that went with it are considered.
    static func kind(of code: Int32) -> TLSFailure.Kind {
        switch code {
        case GNUTLS_E_NO_CIPHER_SUITES, GNUTLS_E_UNKNOWN_CIPHER_SUITE, GNUTLS_E_INSUFFICIENT_SECURITY,
            GNUTLS_E_NO_COMMON_KEY_SHARE:
            .noSharedCipher
        case GNUTLS_E_UNSUPPORTED_VERSION_PACKET: .noSharedVersion
        case GNUTLS_E_CERTIFICATE_ERROR, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR: .certificateRejected
        default: .library
        }
    }
}
