import MimicCore

/// A server-side protocol dialog: a sans-I/O state machine that plays an SMTP, IMAP, POP3, FTP, LDAP or HTTPS
/// server, well-behaved by default and misbehaving on purpose when its `ServerDialogConfiguration` says so.
///
/// The caller's contract:
/// - `start()` once a connection is accepted: right away for STARTTLS (and `.none`) ports; after the caller's
///   own handshake for implicit-TLS ports (unless `implicitSpeaksPlaintext`, when the caller skips the handshake).
/// - `received(_:)` with every byte read (plaintext before an upgrade, decrypted after it), in order, in segments
///   of any size; also before `start()` or during a `.delay` (that is how early talk is seen).
/// - `.delay(milliseconds:)` is always the last action of its batch: wait that long, delivering any bytes that
///   arrive meanwhile, then call `delayElapsed()` for the actions that follow.
/// - `.startTLS`: insert the server TLS engine now; every later byte on the connection is TLS. Call
///   `tlsEstablished()` when the handshake completed (close the connection when it fails).
/// - `closed()` when the peer closed the connection.
/// - FTP only: `.listenForData` / `dataListenerReady(port:)` / `.transferData` / `dataTransferFinished(_:)`.
///
/// Actions are performed in order. After `.close` the caller closes the connection (after performing the sends
/// before it) and every later event returns `[]`.
public protocol ServerDialog {
    /// The protocol this dialog speaks.
    var serviceProtocol: ServiceProtocol { get }
    /// Every line (or message) exchanged so far; `C:` is the client, `S:` this server.
    var transcript: Transcript { get }
    /// True once the dialog asked for `.close` (or saw `closed()`).
    var isClosed: Bool { get }
    /// What the client did so far: verbs and booleans, never arguments or content.
    var observation: DialogObservation { get }

    mutating func start() -> [ServerAction]
    mutating func received(_ bytes: [UInt8]) -> [ServerAction]
    mutating func tlsEstablished() -> [ServerAction]
    mutating func closed() -> [ServerAction]
    mutating func delayElapsed() -> [ServerAction]
    mutating func dataListenerReady(port: Int) -> [ServerAction]
    mutating func dataListenerFailed() -> [ServerAction]
    mutating func dataTransferFinished(_ outcome: DataTransferOutcome) -> [ServerAction]
}

extension ServerDialog {
    /// Only the greeting delays; dialogs without one ignore the event.
    public mutating func delayElapsed() -> [ServerAction] { [] }
    /// Only FTP opens data listeners; other dialogs ignore the event.
    public mutating func dataListenerReady(port: Int) -> [ServerAction] { [] }
    /// Only FTP opens data listeners; other dialogs ignore the event.
    public mutating func dataListenerFailed() -> [ServerAction] { [] }
    /// Only FTP transfers data; other dialogs ignore the event.
    public mutating func dataTransferFinished(_ outcome: DataTransferOutcome) -> [ServerAction] { [] }
}

/// What a server dialog asks its caller to do.
public enum ServerAction: Sendable, Hashable {
    /// Write these bytes to the connection (through TLS once it is established).
    case send([UInt8])
    /// Wait this long, then call `delayElapsed()`. Always the last action of its batch.
    case delay(milliseconds: Int)
    /// The conversation entered this phase: `greeting`, `capabilities`, `upgrade`, `handshake`, `postTLS`,
    /// `dataChannel`, `close`. A network-fault handler keys its faults on it ("stall after the greeting").
    case enterPhase(Phase)
    /// Insert the server TLS engine now: every later byte (both ways) is TLS. Bytes the client pipelined after
    /// the upgrade command were discarded (the CVE-2011-0411 fix) unless the configuration says otherwise.
    case startTLS
    /// FTP passive mode: open a listener on 127.0.0.1:0 for one data connection, then call
    /// `dataListenerReady(port:)` (or `dataListenerFailed()`). When `tls` is true, hand-shake TLS as a server on
    /// the data connection as soon as it is accepted, shaped by `ServerDialogConfiguration.FTP.dataChannel`
    /// (another certificate, session resumption required).
    case listenForData(id: Int, tls: Bool)
    /// FTP: write these bytes on data connection `id` (accepting it first if needed), close it (with close_notify
    /// when TLS), then call `dataTransferFinished(_:)` with how it ended. Every transfer must end with that call,
    /// even when the connection never came or failed: the control channel waits for it (RFC 959's final reply).
    case transferData(id: Int, bytes: [UInt8])
    /// FTP: drop listener `id` and any connection it accepted.
    case closeDataListener(id: Int)
    /// Close the connection after performing the actions before this one.
    case close
}

/// How an FTP data transfer ended: the dialog's final reply to LIST depends on it.
public enum DataTransferOutcome: Sendable, Hashable {
    /// The bytes went out and the connection closed: 226.
    case sent
    /// No data connection came (or its listener was gone) before the deadline: 425.
    case noConnection
    /// A connection came but failed: its handshake failed, it did not resume the control session when that is
    /// required, or the peer closed it (a client that wanted TLS on a plaintext channel) before the bytes went out:
    /// 426, or vsftpd's 522 when session reuse is required.
    case connectionFailed
}

/// Makes the server dialog for a protocol.
public enum ServerDialogs {
    public static func make(
        for serviceProtocol: ServiceProtocol,
        configuration: ServerDialogConfiguration = ServerDialogConfiguration()
    ) -> any ServerDialog {
        switch serviceProtocol {
        case .smtp: SMTPServerDialog(configuration: configuration)
        case .imap: IMAPServerDialog(configuration: configuration)
        case .pop3: POP3ServerDialog(configuration: configuration)
        case .ftp: FTPServerDialog(configuration: configuration)
        case .ldap: LDAPServerDialog(configuration: configuration)
        case .https: HTTPServerDialog(configuration: configuration)
        }
    }
}

extension Transcript.Direction {
    /// In a server dialog's transcript: what the client said (`C:`).
    static let client = Transcript.Direction.sent
    /// In a server dialog's transcript: what the server said (`S:`).
    static let server = Transcript.Direction.received
}
