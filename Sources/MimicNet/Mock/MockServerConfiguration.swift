import MimicCore
import MimicDialogs
import MimicTLS

/// Everything one mock server needs: what it speaks, how it reaches TLS, with which library and chain, how its
/// dialog misbehaves, and which network faults shape its bytes. Plain values; the scenario runner builds one
/// from a scenario file, and tests build them in code.
public struct MockServerConfiguration: Sendable {
    /// Bounds on what one connection may cost (declared in MimicCore, where a scenario's `server` section holds
    /// one too).
    public typealias Limits = MockServerLimits

    public var serviceProtocol: ServiceProtocol
    /// `.implicit`: TLS from the first byte; `.startTLS`: plaintext dialog that upgrades; `.none`: no TLS.
    public var mode: TLSMode
    /// Loopback unless the user asks for another address.
    public var host: String
    /// 0 for an ephemeral port.
    public var port: Int
    /// The TLS library the server hand-shakes with.
    public var backend: TLSBackend
    /// The server-role TLS configuration: chain and key (served exactly as given), per-SNI chains, versions,
    /// cipher list or priority string, abort with an alert, cut mid-handshake, client-certificate request.
    public var tls: MimicTLSConfiguration
    /// The dialog and its misbehaviour knobs, with the two mode mix-ups (`implicitSpeaksPlaintext`,
    /// `startTLSSpeaksTLS`) the server acts on. The server sets its `mode` to `mode` (to `.implicit` for a
    /// STARTTLS port that speaks TLS at once, which then runs the post-TLS dialog).
    public var dialog: ServerDialogConfiguration
    /// Toxiproxy-style faults, each active in its phase.
    public var faults: [NetworkFault]
    /// FTP `other_certificate`: the data channel's own TLS configuration; nil serves the control channel's.
    public var dataChannelTLS: MimicTLSConfiguration?
    public var limits: Limits
    /// Called once for each control connection when it closes (also when `MockServer.stop()` closes it), with
    /// what the client did. Called on the connection's event loop: it must return quickly and never block. Nil
    /// (the default) observes nothing and costs nothing.
    public var observer: (@Sendable (ClientObservation) -> Void)?

    public init(
        serviceProtocol: ServiceProtocol,
        mode: TLSMode,
        host: String = "127.0.0.1",
        port: Int = 0,
        backend: TLSBackend = .openssl,
        tls: MimicTLSConfiguration,
        dialog: ServerDialogConfiguration? = nil,
        faults: [NetworkFault] = [],
        dataChannelTLS: MimicTLSConfiguration? = nil,
        limits: Limits = Limits(),
        observer: (@Sendable (ClientObservation) -> Void)? = nil
    ) {
        self.serviceProtocol = serviceProtocol
        self.mode = mode
        self.host = host
        self.port = port
        self.backend = backend
        self.tls = tls
        self.dialog = dialog ?? ServerDialogConfiguration(mode: mode)
        self.faults = faults
        self.dataChannelTLS = dataChannelTLS
        self.limits = limits
        self.observer = observer
    }
}
