import MimicCore

/// A client-side protocol dialog: a sans-I/O state machine that speaks one application protocol up to the TLS
/// upgrade and after it. Bytes go in, actions come out; the caller does all I/O and all TLS.
///
/// The caller's contract:
/// - `start()` once the connection can speak the application protocol: right after connect in `.startTLS`
///   mode, right after the caller's handshake in `.implicit` mode.
/// - `received(_:)` with every byte read (plaintext before the upgrade, decrypted after it), in order, in
///   segments of any size.
/// - `tlsEstablished()` once the handshake requested by `.startTLS` has completed.
/// - `closed()` when the peer closed the connection.
/// - FTP only: `dataChannelOpened()` / `dataChannelFailed(_:)` after `.openDataChannel`.
///
/// Actions are performed in order. `.completed` and `.failed` are terminal: after them every event returns `[]`
/// and the caller closes the connection (after performing any `.send` that precedes them).
public protocol ClientDialog {
    /// The protocol this dialog speaks.
    var serviceProtocol: ServiceProtocol { get }
    /// Every line (or message) sent and received so far, in order.
    var transcript: Transcript { get }

    mutating func start() -> [DialogAction]
    mutating func received(_ bytes: [UInt8]) -> [DialogAction]
    mutating func tlsEstablished() -> [DialogAction]
    mutating func closed() -> [DialogAction]
    mutating func dataChannelOpened() -> [DialogAction]
    mutating func dataChannelFailed(_ reason: String) -> [DialogAction]
}

extension ClientDialog {
    /// Only FTP opens a data channel; other dialogs never ask for one and ignore the event.
    public mutating func dataChannelOpened() -> [DialogAction] { [] }
    /// Only FTP opens a data channel; other dialogs never ask for one and ignore the event.
    public mutating func dataChannelFailed(_ reason: String) -> [DialogAction] { [] }
}

/// What a dialog asks its caller to do.
public enum DialogAction: Sendable, Hashable {
    /// Write these bytes to the connection (through TLS once it is established).
    case send([UInt8])
    /// Start the TLS handshake now. `leftover` is always empty when a dialog emits it: bytes that arrived after
    /// the go-ahead are plaintext injection, which the dialog reports as `.failed(plaintextInjection)` instead
    /// of asking for TLS. A caller whose own decoder still holds bytes when it removes itself must treat them the
    /// same way.
    case startTLS(leftover: [UInt8])
    /// Connect a data channel (FTP passive mode) to `port` on the control connection's peer and hand-shake TLS on
    /// it, resuming the control session; then call `dataChannelOpened()` or `dataChannelFailed(_:)`.
    ///
    /// `announced` is the address a PASV reply named (nil after EPSV). It is never connected to: a peer must not
    /// steer the probe to another host. The caller compares it with the peer through
    /// `FTPDataChannelAddress.mismatch(announced:controlPeer:)`.
    case openDataChannel(announced: String?, port: Int)
    /// Something worth reporting that does not stop the dialog.
    case finding(Finding)
    /// The dialog ended as planned.
    case completed(DialogSummary)
    /// The dialog cannot go on. The failure is itself a finding (`failure.finding`); it is not repeated as a
    /// `.finding` action.
    case failed(DialogFailure)
}

/// How a dialog behaves.
public struct DialogOptions: Sendable, Hashable {
    /// `.startTLS`: plaintext dialog, upgrade, post-TLS steps. `.implicit`: post-TLS steps only. `.none` is not
    /// a dialog mode: `start()` fails with `modeMismatch`.
    public var mode: TLSMode
    /// Send the upgrade command even when the server does not advertise it. When it then succeeds, a warning
    /// `startTLSNotOffered` finding says so; when it is refused, the dialog fails with `startTLSNotOffered`.
    public var tryStartTLSAnyway: Bool
    /// The SMTP EHLO name: a syntactically valid FQDN, since servers reject bare words (sslyze #636).
    public var ehloName: String
    /// The host name for HTTP's `Host` header.
    public var host: String
    /// The port, added to HTTP's `Host` header when it is not 443.
    public var port: Int?
    /// FTP: open a data channel after PROT P (EPSV, else PASV) and list it.
    public var ftpDataChannel: Bool
    /// FTP: who logs in over TLS before the data channel is asked for.
    public var ftpUser: String
    public var ftpPassword: String
    public var limits: DialogLimits

    public init(
        mode: TLSMode = .startTLS,
        tryStartTLSAnyway: Bool = false,
        ehloName: String = "probe.mimic.test",
        host: String = "localhost",
        port: Int? = nil,
        ftpDataChannel: Bool = true,
        ftpUser: String = "anonymous",
        ftpPassword: String = "probe@mimic.test",
        limits: DialogLimits = DialogLimits()
    ) {
        self.mode = mode
        self.tryStartTLSAnyway = tryStartTLSAnyway
        self.ehloName = ehloName
        self.host = host
        self.port = port
        self.ftpDataChannel = ftpDataChannel
        self.ftpUser = ftpUser
        self.ftpPassword = ftpPassword
        self.limits = limits
    }
}

/// Bounds on everything a peer can make a dialog hold. Exceeding one is a `DialogFailure` (unexpectedReply).
public struct DialogLimits: Sendable, Hashable {
    /// Longest line, terminator excluded.
    public var maxLineLength: Int
    /// Most lines in one reply (an SMTP multi-line reply, a CAPA list, an HTTP header block).
    public var maxLinesPerReply: Int
    /// Most bytes in one reply, terminators included.
    public var maxReplyBytes: Int
    /// Largest LDAP message, header included.
    public var maxLDAPMessageBytes: Int
    /// Deepest BER nesting accepted.
    public var maxBERDepth: Int

    public init(
        maxLineLength: Int = 8192,
        maxLinesPerReply: Int = 1000,
        maxReplyBytes: Int = 256 * 1024,
        maxLDAPMessageBytes: Int = 64 * 1024,
        maxBERDepth: Int = 16
    ) {
        self.maxLineLength = maxLineLength
        self.maxLinesPerReply = maxLinesPerReply
        self.maxReplyBytes = maxReplyBytes
        self.maxLDAPMessageBytes = maxLDAPMessageBytes
        self.maxBERDepth = maxBERDepth
    }
}

/// Makes the client dialog for a protocol.
public enum ClientDialogs {
    public static func make(for serviceProtocol: ServiceProtocol, options: DialogOptions) -> any ClientDialog {
        switch serviceProtocol {
        case .smtp: SMTPClientDialog(options: options)
        case .imap: IMAPClientDialog(options: options)
        case .pop3: POP3ClientDialog(options: options)
        case .ftp: FTPClientDialog(options: options)
        case .ldap: LDAPClientDialog(options: options)
        case .https: HTTPClientDialog(options: options)
        }
    }
}
