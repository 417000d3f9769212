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

    /// Every registered port: protocol by protocol, the implicit-TLS port, then the STARTTLS ports.
    public static let entries: [Entry] = ports.flatMap { row in
        let implicit = Entry(
            port: row.implicit.port, serviceProtocol: row.serviceProtocol, mode: .implicit, scheme: row.implicit.scheme)
        return [implicit]
            + row.startTLS.map {
                Entry(port: $0.port, serviceProtocol: row.serviceProtocol, mode: .startTLS, scheme: $0.scheme)
            }
    }

    private typealias Port = (port: Int, scheme: String)

    /// Each protocol's ports with their URL schemes; the first STARTTLS port is the default (587 before 25).
    private static let ports: [(serviceProtocol: ServiceProtocol, implicit: Port, startTLS: [Port])] = [
        (.smtp, implicit: (465, "smtps"), startTLS: [(587, "submission"), (25, "smtp")]),
        (.imap, implicit: (993, "imaps"), startTLS: [(143, "imap")]),
        (.pop3, implicit: (995, "pop3s"), startTLS: [(110, "pop3")]),
        (.ftp, implicit: (990, "ftps"), startTLS: [(21, "ftp")]),
        (.ldap, implicit: (636, "ldaps"), startTLS: [(389, "ldap")]),
        (.https, implicit: (443, "https"), startTLS: []),
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
