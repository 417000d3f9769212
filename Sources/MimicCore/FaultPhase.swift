/// The part of a conversation in which a `NetworkFault` applies.
///
/// The server's dialog handler moves the `NetworkFaultHandler` from one phase to the next with
/// `NetworkFaultHandler.enter(_:)`. The names mirror `MimicCore.Phase` where a server has a matching moment;
/// `any` is not a moment but "the whole connection".
public enum FaultPhase: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// From accept until the greeting (banner) has been sent.
    case greeting
    /// EHLO / CAPABILITY / CAPA / FEAT and their replies.
    case capabilities
    /// The STARTTLS (AUTH TLS, LDAP extended request) exchange and its go-ahead reply.
    case upgrade
    /// The TLS handshake itself: the bytes are ciphertext records.
    case handshake
    /// Everything after the handshake completed.
    case postTLS = "post-tls"
    /// Every phase of the connection, from accept to close.
    case any

    public var description: String { rawValue }

    /// The fault phase for a `MimicCore.Phase`, or nil for phases a server never enters on a connection
    /// (resolve, connect, verification, data channel, close, offline).
    public init?(_ phase: Phase) {
        switch phase {
        case .greeting: self = .greeting
        case .capabilities: self = .capabilities
        case .upgrade: self = .upgrade
        case .handshake: self = .handshake
        case .postTLS: self = .postTLS
        case .resolve, .connect, .verification, .dataChannel, .close, .offline, .enumeration: return nil
        }
    }
}
