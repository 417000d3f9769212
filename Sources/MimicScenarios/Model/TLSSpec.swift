import MimicCore
import MimicTLS

/// How the mock's TLS layer behaves.
public struct TLSSpec: Sendable, Hashable {
    /// The versions the mock accepts; nil leaves the library's defaults.
    public var versions: [MimicTLSVersion]? = nil
    /// An OpenSSL cipher list (only with the OpenSSL backend).
    public var ciphers: String? = nil
    /// A GnuTLS priority string (only with the GnuTLS backend).
    public var priority: String? = nil
    /// Answer the ClientHello with this fatal alert instead of a ServerHello.
    public var abortWithAlert: TLSAlert? = nil
    /// Close the TCP connection in the middle of the handshake (after reading the ClientHello).
    public var closeMidHandshake: Bool = false
    /// True: the mock picks by its own suite order (`SSL_OP_CIPHER_SERVER_PREFERENCE`, `%SERVER_PRECEDENCE`);
    /// false: by the client's; nil: the library's default (the client's, for both).
    public var serverOrder: Bool? = nil

    /// A well-behaved TLS server: the library's defaults.
    public init() {}

    /// True when nothing differs from a well-behaved TLS server.
    public var isDefault: Bool { self == TLSSpec() }

    /// The alert a name (`handshake_failure`) or number (`40`) denotes, or nil.
    public static func alert(named text: String) -> TLSAlert? {
        if let code = UInt8(text) { return TLSAlert(code: code) }
        return alertsByName[text.lowercased()]
    }

    /// The alert names `TLSAlert` knows, for error messages.
    public static var alertNames: [String] { alertsByName.keys.sorted() }

    private static let alertsByName: [String: TLSAlert] = {
        var table: [String: TLSAlert] = [:]
        for code in UInt8.min...UInt8.max {
            let alert = TLSAlert(code: code)
            if !alert.name.hasPrefix("alert_") { table[alert.name] = alert }
        }
        return table
    }()
}
