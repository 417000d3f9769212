/// A TLS alert (RFC 8446 §6), as sent or received.
public struct TLSAlert: Sendable, Hashable, Codable, CustomStringConvertible {
    public var code: UInt8
    /// Fatal or warning, where the library tells.
    public var fatal: Bool

    public init(code: UInt8, fatal: Bool = true) {
        self.code = code
        self.fatal = fatal
    }

    /// The RFC name: `handshake_failure`, `protocol_version`, `bad_certificate`, …
    public var name: String { Self.names[code] ?? "alert_\(code)" }

    public var description: String { "\(name)(\(code))" }

    public static let closeNotify = TLSAlert(code: 0, fatal: false)
    public static let unexpectedMessage = TLSAlert(code: 10)
    public static let handshakeFailure = TLSAlert(code: 40)
    public static let badCertificate = TLSAlert(code: 42)
    public static let protocolVersion = TLSAlert(code: 70)
    public static let insufficientSecurity = TLSAlert(code: 71)
    public static let internalError = TLSAlert(code: 80)
    public static let unrecognizedName = TLSAlert(code: 112)
    public static let noApplicationProtocol = TLSAlert(code: 120)

    static let names: [UInt8: String] = [
        0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
        22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate",
        42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
        45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
        49: "access_denied", 50: "decode_error", 51: "decrypt_error", 60: "export_restriction",
        70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
        86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation", 109: "missing_extension",
        110: "unsupported_extension", 111: "certificate_unobtainable", 112: "unrecognized_name",
        113: "bad_certificate_status_response", 114: "bad_certificate_hash_value", 115: "unknown_psk_identity",
        116: "certificate_required", 120: "no_application_protocol",
    ]
}
