/// An application protocol that carries TLS, either from the first byte or after an in-band upgrade.
public enum ServiceProtocol: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case smtp
    case imap
    case pop3
    case ftp
    case ldap
    case https

    public var description: String { rawValue }
}
