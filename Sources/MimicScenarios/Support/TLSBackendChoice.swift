import MimicCore

/// `--backend openssl|gnutls|both` on every command that validates.
public enum TLSBackendChoice: String, Sendable, CaseIterable {
    case openssl
    case gnutls
    case both

    public var backends: [TLSBackend] {
        switch self {
        case .openssl: [.openssl]
        case .gnutls: [.gnutls]
        case .both: TLSBackend.allCases
        }
    }
}
