/// The TLS libraries Mimic drives side by side.
public enum TLSBackend: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case openssl
    case gnutls

    public var displayName: String {
        switch self {
        case .openssl: "OpenSSL"
        case .gnutls: "GnuTLS"
        }
    }

    public var description: String { rawValue }
}
