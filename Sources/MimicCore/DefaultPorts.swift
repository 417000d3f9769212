/// The registered ports of each protocol and the TLS mode each port implies.
///
/// A monitor that sends STARTTLS to 465, or no STARTTLS to 587, reports a false alarm: the mode must follow
/// the port unless the user says otherwise, and a port that implies nothing must be an error, not a guess.
public enum DefaultPorts {
    public struct Entry: Sendable, Hashable {
        public let port: Int
        public let serviceProtocol: ServiceProtocol
        public let mode: TLSMode
        /// The URL scheme conventionally used for this port (`submission` for 587, `smtps` for 465, …).
        public let scheme: String
    }

    public static let entries: [Entry] = [
        Entry(port: 465, serviceProtocol: .smtp, mode: .implicit, scheme: "smtps"),
        Entry(port: 587, serviceProtocol: .smtp, mode: .startTLS, scheme: "submission"),
        Entry(port: 25, serviceProtocol: .smtp, mode: .startTLS, scheme: "smtp"),
        Entry(port: 993, serviceProtocol: .imap, mode: .implicit, scheme: "imaps"),
        Entry(port: 143, serviceProtocol: .imap, mode: .startTLS, scheme: "imap"),
        Entry(port: 995, serviceProtocol: .pop3, mode: .implicit, scheme: "pop3s"),
        Entry(port: 110, serviceProtocol: .pop3, mode: .startTLS, scheme: "pop3"),
        Entry(port: 990, serviceProtocol: .ftp, mode: .implicit, scheme: "ftps"),
        Entry(port: 21, serviceProtocol: .ftp, mode: .startTLS, scheme: "ftp"),
        Entry(port: 636, serviceProtocol: .ldap, mode: .implicit, scheme: "ldaps"),
        Entry(port: 389, serviceProtocol: .ldap, mode: .startTLS, scheme: "ldap"),
        Entry(port: 443, serviceProtocol: .https, mode: .implicit, scheme: "https"),
    ]

    /// The TLS mode a well-known port implies, or nil for a port that implies nothing.
    public static func mode(forPort port: Int) -> TLSMode? {
        entries.first { $0.port == port }?.mode
    }

    /// The well-known entry for a port, or nil.
    public static func entry(forPort port: Int) -> Entry? {
        entries.first { $0.port == port }
    }

    /// The entry a URL scheme names (`smtps`, `submission`, `imap`, …), or nil.
    public static func entry(forScheme scheme: String) -> Entry? {
        let lowered = scheme.lowercased()
        return entries.first { $0.scheme == lowered }
    }

    /// The default port for a protocol in a mode: the first registered one (587 before 25 for SMTP).
    public static func port(for serviceProtocol: ServiceProtocol, mode: TLSMode) -> Int? {
        entries.first { $0.serviceProtocol == serviceProtocol && $0.mode == mode }?.port
    }
}
