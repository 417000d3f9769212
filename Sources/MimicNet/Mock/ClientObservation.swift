import Foundation
import MimicCore
import MimicDialogs
import MimicTLS

/// What one client did on one control connection of a mock, from accept to close: what it offered in its
/// ClientHello, whether the handshake completed, and what the server dialog saw it do (`dialog`). A plain value
/// for a log or a grader; no password, argument or message content is ever in it, only verbs and booleans.
///
/// A mock hands one to `MockServerConfiguration.observer` when each control connection closes, including the
/// connections `MockServer.stop()` closes.
public struct ClientObservation: Sendable, Hashable, Codable {
    /// Who ended the connection.
    public enum Closer: String, Sendable, Hashable, Codable {
        /// The client closed or reset it, or ended the handshake with an alert.
        case client
        /// The server did, as its dialog or handshake said (after QUIT, a refusal, a failed handshake).
        case server
        /// The connection was silent for `Limits.idleTimeout`, outlived `Limits.connectionLifetime` or sent more
        /// than `Limits.maxBytesReceived`.
        case limit
        /// `MockServer.stop()` closed it.
        case serverStopped
    }

    /// 1 for the server's first accepted control connection, then in accept order.
    public var sequence: Int
    public var serviceProtocol: ServiceProtocol
    public var mode: TLSMode
    /// The client's address and port: `127.0.0.1:50123`, `[::1]:50123`; nil when the socket did not say.
    public var peerAddress: String?
    public var started: Date
    public var ended: Date

    /// Bytes that began as a TLS handshake record arrived where TLS was due.
    public var clientHelloSeen: Bool
    /// The ClientHello, when it was whole and well-formed (see `ClientHelloParser`); nil otherwise.
    public var clientHello: TLSClientHello?
    /// The SNI host_name; nil when none was sent (or no ClientHello could be read).
    public var serverName: String?
    /// `1.0` … `1.3`: from supported_versions, else the legacy_version alone.
    public var offeredVersions: [String]
    /// IANA code points (`0x1301`), GREASE left out, in the client's order.
    public var offeredCipherSuites: [String]
    /// ALPN protocol names, in the client's order.
    public var offeredALPN: [String]
    public var handshakeCompleted: Bool
    public var negotiatedVersion: MimicTLSVersion?

    /// What the dialog saw: capabilities read, upgrade asked and refused, plaintext after it, credentials and
    /// mail in the clear, commands over TLS, goodbye.
    public var dialog: DialogObservation
    public var closedBy: Closer

    public init(
        sequence: Int,
        serviceProtocol: ServiceProtocol,
        mode: TLSMode,
        peerAddress: String?,
        started: Date,
        ended: Date,
        clientHelloSeen: Bool = false,
        clientHello: TLSClientHello? = nil,
        handshakeCompleted: Bool = false,
        negotiatedVersion: MimicTLSVersion? = nil,
        dialog: DialogObservation = DialogObservation(),
        closedBy: Closer
    ) {
        self.sequence = sequence
        self.serviceProtocol = serviceProtocol
        self.mode = mode
        self.peerAddress = peerAddress
        self.started = started
        self.ended = ended
        self.clientHelloSeen = clientHelloSeen || clientHello != nil
        self.clientHello = clientHello
        self.serverName = clientHello?.serverName
        self.offeredVersions = clientHello?.offeredVersions ?? []
        self.offeredCipherSuites = clientHello?.offeredCipherSuites ?? []
        self.offeredALPN = clientHello?.alpn ?? []
        self.handshakeCompleted = handshakeCompleted
        self.negotiatedVersion = negotiatedVersion
        self.dialog = dialog
        self.closedBy = closedBy
    }
}
