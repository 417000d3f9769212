import MimicCore
import MimicTLS

/// How the probe is pointed at the mock.
public struct ProbeSpec: Sendable, Hashable {
    /// The SNI and the name the certificate is checked against; nil lets the runner pick its default.
    public var servername: String? = nil
    /// The libraries to probe with (each one connection), how strictly they judge the chain (`policy`, default or
    /// strict) and whether the handshake starts when the upgrade was refused (`starttls_anyway`): what the probe's
    /// `ProbeOptions.client` gets.
    public var client = ProbeClientSettings()
    /// Probe in this mode instead of the server's (to provoke a mode mismatch on purpose).
    public var mode: TLSMode? = nil
    public var timeout: Duration? = nil
    /// Also enumerate what the mock accepts (`mimic probe --enumerate`): its findings join each backend's.
    public var enumerate: Bool = false
}

extension ProbeSpec {
    /// The probe with nothing else set: the server's mode, the runner's default name and timeout.
    public init(backends: [TLSBackend] = TLSBackend.allCases) {
        self.client = ProbeClientSettings(backends: backends)
    }
}
