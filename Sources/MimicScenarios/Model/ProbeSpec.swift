import MimicCore
import MimicTLS

/// How the probe is pointed at the mock.
public struct ProbeSpec: Sendable, Hashable {
    /// The SNI and the name the certificate is checked against; nil lets the runner pick its default.
    public var servername: String?
    /// The client-side libraries to probe with, each one connection.
    public var backends: [TLSBackend]
    /// Probe in this mode instead of the server's (to provoke a mode mismatch on purpose).
    public var mode: TLSMode?
    public var timeout: Duration?
    /// Start the handshake even when the upgrade was refused (as s_client does), to check the probe's own
    /// handling of a server that answers with TLS anyway.
    public var startTLSAnyway: Bool
    /// How strictly each backend judges the chain (`default` or `strict`, ``VerificationPolicy``).
    public var policy: VerificationPolicy = .default
    /// Also enumerate what the mock accepts (`mimic probe --enumerate`): its findings join each backend's.
    public var enumerate: Bool = false

    public init(
        servername: String? = nil,
        backends: [TLSBackend] = TLSBackend.allCases,
        mode: TLSMode? = nil,
        timeout: Duration? = nil,
        startTLSAnyway: Bool = false
    ) {
        self.servername = servername
        self.backends = backends
        self.mode = mode
        self.timeout = timeout
        self.startTLSAnyway = startTLSAnyway
    }
}
