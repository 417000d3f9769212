/// Where in a connection something happened. Every finding and every timing names one.
public enum Phase: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case resolve
    case connect
    case greeting
    case capabilities
    case upgrade
    case handshake
    case verification
    case postTLS = "post-tls"
    case dataChannel = "data-channel"
    case close
    /// Facts about certificates read offline, outside any connection.
    case offline

    public var description: String { rawValue }
}
