import MimicCore

/// The mock server: which protocol it speaks, how it reaches TLS, and which library serves the TLS.
public struct ServerSpec: Sendable, Hashable {
    public var serviceProtocol: ServiceProtocol
    public var mode: TLSMode
    /// The TLS library the mock serves with.
    public var backend: TLSBackend
    /// Loopback unless the scenario asks otherwise: a mock must not listen beyond it by accident.
    public var address: String
    /// 0 asks the system for an ephemeral port.
    public var port: Int

    public static let defaultAddress = "127.0.0.1"

    public init(
        serviceProtocol: ServiceProtocol,
        mode: TLSMode,
        backend: TLSBackend,
        address: String = ServerSpec.defaultAddress,
        port: Int = 0
    ) {
        self.serviceProtocol = serviceProtocol
        self.mode = mode
        self.backend = backend
        self.address = address
        self.port = port
    }
}
