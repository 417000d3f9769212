import MimicCore

/// The probe's client side, the same wherever it is set (a scenario's `probe` section, `mimic probe` and
/// `mimic capture`): which libraries connect, how strictly they judge the chain, and whether the upgrade is tried
/// when the server did not offer it. `ProbeOptions` (MimicNet) holds one, and so does the scenario model's
/// `ProbeSpec`, which must not see MimicNet.
public struct ProbeClientSettings: Sendable, Hashable {
    /// The client-side libraries to probe with, each one connection.
    public var backends: [TLSBackend]
    /// How strictly each backend judges the served chain (`--policy`, `probe.policy`).
    public var verificationPolicy: VerificationPolicy
    /// Send the upgrade and start the handshake even when the server did not advertise it or refused it (as
    /// s_client does), to check the probe's own handling of a server that answers with TLS anyway
    /// (`--starttls-anyway`, `probe.starttls_anyway`).
    public var tryStartTLSAnyway: Bool

    public init(
        backends: [TLSBackend] = TLSBackend.allCases, verificationPolicy: VerificationPolicy = .default,
        tryStartTLSAnyway: Bool = false
    ) {
        self.backends = backends
        self.verificationPolicy = verificationPolicy
        self.tryStartTLSAnyway = tryStartTLSAnyway
    }
}
