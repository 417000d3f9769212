/// How a service reaches TLS.
public enum TLSMode: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// TLS from the first byte on a dedicated port (SMTPS 465, IMAPS 993, …).
    case implicit
    /// A plaintext dialog that upgrades in band (SMTP STARTTLS, POP3 STLS, FTP AUTH TLS, LDAP StartTLS).
    case startTLS = "starttls"
    /// No TLS at all.
    case none

    public var description: String { rawValue }
}
