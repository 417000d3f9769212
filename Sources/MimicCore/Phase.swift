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
    /// What many short connections, each with its own offer, found together (`mimic probe --enumerate`).
    case enumeration

    public var description: String { rawValue }
}
