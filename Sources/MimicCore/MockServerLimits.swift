/// Bounds on what one connection may cost, so a misbehaving client cannot keep a mock busy forever.
public struct MockServerLimits: Sendable, Hashable {
    /// Connections served at once. One more is refused as a real server of the protocol refuses it
    /// (`ServerDialogConfiguration.tooManyConnections(for:hostname:)`: SMTP `421 4.7.0 … too many
    /// connections`, IMAP `* BYE`, …, over TLS on an implicit port), then closed. 256 by default: far more than
    /// a monitor opens, and with the refusals still within a 1024-descriptor soft limit.
    public var maxConnections: Int
    /// A connection that sends nothing for this long (seconds) is closed; nil is the protocol's default
    /// (`defaultIdleTimeout(for:)`). The clock restarts with every byte received or sent, and does not run
    /// while a greeting delay holds the server's own answer back.
    public var idleTimeout: Double?
    /// A connection is closed after this long, whatever it is doing (seconds): the backstop against a client
    /// that trickles a byte now and then to dodge the idle timeout. Ten minutes by default (the mock's ceiling
    /// on any wait), longer than every protocol's idle timeout; a shorter one cuts the idle timeout short.
    public var connectionLifetime: Double
    /// A connection is closed after receiving this many bytes.
    public var maxBytesReceived: Int
    /// FTP: how long a transfer waits for the client's data connection (and its handshake) before it fails
    /// (seconds).
    public var dataConnectionTimeout: Double
    /// After this many connections in all, every later one is refused as one beyond `maxConnections` is (a
    /// server that rate-limits a scanner); nil: no such limit.
    public var closeAfterConnections: Int? = nil
    /// Connections being refused at once (beyond `maxConnections`); more are closed on accept, unanswered.
    /// A refusal is quick on a plaintext port, but waits for the handshake on an implicit-TLS port and for
    /// the request on HTTPS: this bounds what a flood of them holds.
    public var maxRefusals: Int
    /// How long a refused connection may take to hear its refusal (seconds): its handshake and, for HTTPS,
    /// its request. Never longer than the idle timeout.
    public var refusalLifetime: Double

    public init(
        maxConnections: Int = MockServerLimits.defaultMaxConnections,
        idleTimeout: Double? = nil,
        connectionLifetime: Double = 600,
        maxBytesReceived: Int = 1 << 20,
        dataConnectionTimeout: Double = 10,
        maxRefusals: Int = 1024,
        refusalLifetime: Double = 10
    ) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.connectionLifetime = connectionLifetime
        self.maxBytesReceived = maxBytesReceived
        self.dataConnectionTimeout = dataConnectionTimeout
        self.maxRefusals = maxRefusals
        self.refusalLifetime = refusalLifetime
    }

    public static let defaultMaxConnections = 256
    /// The range `maxConnections` takes in a scenario (`server.max_connections`).
    public static let maxConnectionsRange = 1...100_000
    /// The range `closeAfterConnections` takes in a scenario (`server.close_after_connections`).
    public static let closeAfterConnectionsRange = 1...1_000_000
    /// The range `idleTimeout` takes in a scenario (`server.idle_timeout`), in seconds: a second up to the mock's
    /// ten-minute ceiling on any wait.
    public static let idleTimeoutRange = 1.0...600.0

    /// How long a real server of the protocol waits for a silent client before it hangs up (seconds), bounded
    /// by the mock's ten-minute ceiling:
    /// - SMTP 300: Postfix `smtpd_timeout`, RFC 5321 §4.5.3.2.7's five minutes.
    /// - IMAP and POP3 180: Dovecot's login process drops a client that has not authenticated within three
    ///   minutes (the mock never authenticates; RFC 9051's 30 minutes and RFC 1939's 10 are for sessions that
    ///   did).
    /// - FTP 300: vsftpd `idle_session_timeout`.
    /// - LDAP 300: slapd has no idle timeout by default (`idletimeout 0`) and Active Directory's
    ///   `MaxConnIdleTime` is 900 s; five minutes keeps a bound, like the mail servers'.
    /// - HTTPS 60: nginx `client_header_timeout` (and near its 75 s `keepalive_timeout`).
    public static func defaultIdleTimeout(for serviceProtocol: ServiceProtocol) -> Double {
        switch serviceProtocol {
        case .smtp, .ftp, .ldap: 300
        case .imap, .pop3: 180
        case .https: 60
        }
    }

    /// The idle timeout this server applies: the configured one, else the protocol's.
    public func effectiveIdleTimeout(for serviceProtocol: ServiceProtocol) -> Double {
        idleTimeout ?? Self.defaultIdleTimeout(for: serviceProtocol)
    }
}
