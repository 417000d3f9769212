import MimicCore

/// The mock server: which protocol it speaks, how it reaches TLS, and which library serves the TLS.
public struct ServerSpec: Sendable, Hashable {
    public var serviceProtocol: ServiceProtocol
    public var mode: TLSMode
    /// The TLS library the mock serves with.
    public var backend: TLSBackend
    /// Loopback unless the scenario asks otherwise: a mock must not listen beyond it by accident.
    public var address: String = ServerSpec.defaultAddress
    /// 0 asks the system for an ephemeral port.
    public var port: Int = 0
    /// Connections served at once; one more hears the protocol's "too many connections". Nil: the mock's default
    /// (256, `MockServerConfiguration.Limits.defaultMaxConnections`).
    public var maxConnections: Int? = nil
    /// A connection silent both ways this long is closed. Nil: the protocol's default (what a real server does).
    public var idleTimeout: Duration? = nil
    /// After this many connections in all, every later one hears the protocol's "too many connections" (a server
    /// that rate-limits a scanner). Nil: no such limit.
    public var closeAfterConnections: Int? = nil

    public static let defaultAddress = "127.0.0.1"
    /// The range `server.max_connections` accepts.
    public static let maxConnectionsRange = 1...100_000
    /// The range `server.close_after_connections` accepts.
    public static let closeAfterConnectionsRange = 1...1_000_000
    /// The range `server.idle_timeout` accepts: a second up to the mock's ten-minute ceiling on any wait.
    public static let idleTimeoutRange = Duration.seconds(1)...Duration.seconds(600)
}

extension ServerSpec {
    /// A mock of this protocol and mode on an ephemeral loopback port, with the mock's default limits.
    public init(serviceProtocol: ServiceProtocol, mode: TLSMode, backend: TLSBackend) {
        self.init(serviceProtocol: serviceProtocol, mode: mode, backend: backend, address: Self.defaultAddress)
    }
}
