import MimicCerts
import MimicCore

/// Reads `mimic probe` targets: `SCHEME://HOST[:PORT]`, with the TLS mode picked by port.
///
/// Nothing else is accepted: user information, a path, a query or a fragment would be dropped without effect, and
/// a host that is neither a valid DNS name (RFC 1123) nor an IP literal is refused before any lookup.
///
/// The mode follows the port, because that is what a server on that port speaks: STARTTLS sent to 465, or
/// none sent to 587, is the false alarm Mimic exists to catch. A scheme ending in `s` (smtps, imaps, …) states
/// implicit TLS; a port with no registered mode needs that or an explicit `--mode`.
public enum ProbeURL {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// A list rather than a dictionary of tuples: read at every launch (the probe's help names the schemes), and a
    /// dictionary of tuples costs the Swift runtime a generic metadata instantiation there.
    static let schemes: [(name: String, serviceProtocol: ServiceProtocol, implicit: Bool, defaultPort: Int)] = [
        ("smtp", .smtp, false, 25), ("submission", .smtp, false, 587), ("smtps", .smtp, true, 465),
        ("imap", .imap, false, 143), ("imaps", .imap, true, 993),
        ("pop3", .pop3, false, 110), ("pop3s", .pop3, true, 995),
        ("ftp", .ftp, false, 21), ("ftps", .ftp, true, 990),
        ("ldap", .ldap, false, 389), ("ldaps", .ldap, true, 636),
        ("https", .https, true, 443),
    ]

    public static var supportedSchemes: [String] { schemes.map(\.name).sorted() }

    public static func parse(
        _ text: String, mode explicitMode: TLSMode? = nil, serverName: String? = nil
    )
        throws(ParseError) -> ProbeTarget
    {
        guard text.count <= 2048 else { throw ParseError(description: "target is too long") }
        guard let separator = text.utf8Range(of: "://") else {
            throw ParseError(
                description: "'\(text)': expected SCHEME://HOST[:PORT], e.g. submission://mail.example.test")
        }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard let (_, serviceProtocol, schemeImplicit, defaultPort) = schemes.first(where: { $0.name == scheme }) else {
            throw ParseError(
                description:
                    "'\(text)': unknown scheme '\(scheme)' (use one of \(supportedSchemes.joined(separator: ", ")))")
        }
        let afterScheme = text[separator.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { "/?#".contains($0) }) ?? afterScheme.endIndex
        let authority = String(afterScheme[..<authorityEnd])
        if authority.contains("@" as Character) {
            // The text is not repeated: it holds a password.
            throw ParseError(
                description: "\(scheme)://…@…: user information (user:password@) is not accepted in a probe target; "
                    + "the probe does not log in with it, so leave it out")
        }
        try checkNothingAfterAuthority(afterScheme[authorityEnd...], original: text)
        let (host, portText) = try splitHostPort(authority, original: text)
        guard !host.isEmpty else { throw ParseError(description: "'\(text)': no host") }
        if let problem = HostName.problem(host, allowIPv6: authority.hasPrefix("[")) {
            throw ParseError(description: "'\(text)': \(problem)")
        }
        if authority.hasPrefix("["), !host.contains(":" as Character) {
            throw ParseError(description: "'\(text)': brackets are for IPv6 addresses only")
        }
        if let serverName, let problem = HostName.problem(serverName) {
            throw ParseError(description: "--servername: \(problem)")
        }
        var port = defaultPort
        if let portText {
            guard portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(portText),
                (1...65535).contains(value)
            else {
                throw ParseError(description: "'\(text)': port '\(portText)' is not a number from 1 to 65535")
            }
            port = value
        }
        let mode: TLSMode
        if let explicitMode {
            guard explicitMode != .none else {
                throw ParseError(description: "--mode none probes nothing: use implicit or starttls")
            }
            mode = explicitMode
        } else if let byPort = DefaultPorts.mode(forPort: port) {
            if schemeImplicit && byPort == .startTLS {
                throw ParseError(
                    description: "'\(text)': \(scheme):// names implicit TLS but port \(port) speaks STARTTLS; "
                        + "pass --mode implicit or --mode starttls")
            }
            mode = byPort
        } else if schemeImplicit {
            mode = .implicit
        } else {
            throw ParseError(
                description:
                    "'\(text)': port \(port) has no registered TLS mode; pass --mode implicit or --mode starttls")
        }
        return ProbeTarget(host: host, port: port, serviceProtocol: serviceProtocol, mode: mode, serverName: serverName)
    }

    /// A target names a service, not a resource: a path (other than a lone `/`), a query or a fragment would be
    /// silently ignored, so a target that has one is refused instead.
    private static func checkNothingAfterAuthority(_ rest: Substring, original: String) throws(ParseError) {
        guard let first = rest.first else { return }
        switch first {
        case "?":
            throw ParseError(description: "'\(original)': a query ('\(rest)') is not allowed; use SCHEME://HOST[:PORT]")
        case "#":
            throw ParseError(
                description: "'\(original)': a fragment ('\(rest)') is not allowed; use SCHEME://HOST[:PORT]")
        default:
            let pathEnd = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? rest.endIndex
            let path = rest[..<pathEnd]
            guard path == "/" else {
                throw ParseError(
                    description: "'\(original)': a path ('\(path)') is not allowed; use SCHEME://HOST[:PORT]")
            }
            try checkNothingAfterAuthority(rest[pathEnd...], original: original)
        }
    }

    private static func splitHostPort(_ authority: String, original: String) throws(ParseError) -> (String, String?) {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw ParseError(description: "'\(original)': unclosed '[' in an IPv6 address")
            }
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty { return (host, nil) }
            guard after.hasPrefix(":") else { throw ParseError(description: "'\(original)': junk after ']'") }
            return (host, String(after.dropFirst()))
        }
        let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return (authority, nil)
        case 2: return (String(parts[0]), String(parts[1]))
        default:
            throw ParseError(description: "'\(original)': write IPv6 addresses in brackets, e.g. ldaps://[::1]:636")
        }
    }
}
