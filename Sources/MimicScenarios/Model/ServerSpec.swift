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
    /// `server.max_connections`, `server.idle_timeout` and `server.close_after_connections`, kept as the mock takes
    /// them; absent keys keep the mock's defaults (256 connections, the protocol's idle timeout, no limit on
    /// connections in all).
    public var limits = MockServerLimits()

    public static let defaultAddress = "127.0.0.1"
}

extension ServerSpec {
    /// A mock of this protocol and mode on an ephemeral loopback port, with the mock's default limits.
    public init(serviceProtocol: ServiceProtocol, mode: TLSMode, backend: TLSBackend) {
        self.init(serviceProtocol: serviceProtocol, mode: mode, backend: backend, address: Self.defaultAddress)
    }
}
