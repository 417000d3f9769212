import MimicCore
import MimicTLS

/// How the probe is pointed at the mock.
public struct ProbeSpec: Sendable, Hashable {
    /// The SNI and the name the certificate is checked against; nil lets the runner pick its default.
    public var servername: String? = nil
    /// The client-side libraries to probe with, each one connection.
    public var backends: [TLSBackend] = TLSBackend.allCases
    /// Probe in this mode instead of the server's (to provoke a mode mismatch on purpose).
    public var mode: TLSMode? = nil
    public var timeout: Duration? = nil
    /// Start the handshake even when the upgrade was refused (as s_client does), to check the probe's own
    /// handling of a server that answers with TLS anyway.
    public var startTLSAnyway: Bool = false
    /// How strictly each backend judges the chain (`default` or `strict`, ``VerificationPolicy``).
    public var policy: VerificationPolicy = .default
    /// Also enumerate what the mock accepts (`mimic probe --enumerate`): its findings join each backend's.
    public var enumerate: Bool = false
}

extension ProbeSpec {
    /// The probe with nothing else set: the server's mode, the runner's default name and timeout.
    public init(backends: [TLSBackend] = TLSBackend.allCases) {
        self.backends = backends
    }
}
