import MimicCore
import MimicDialogs
import MimicTLS
import MimicVerdict

/// Deadlines for each phase of a probe and for the whole of it. Every network wait has one.
public struct ProbeDeadlines: Sendable, Hashable, Codable {
    public var connect: Double
    /// Each reply in the plaintext dialog, the greeting included.
    public var reply: Double
    public var handshake: Double
    /// The whole probe of one target through one backend.
    public var overall: Double

    public init(connect: Double = 5, reply: Double = 10, handshake: Double = 10, overall: Double = 30) {
        self.connect = connect
        self.reply = reply
        self.handshake = handshake
        self.overall = overall
    }

    /// Every deadline bounded by one timeout (`--timeout`): phases get the timeout, the whole probe three times it.
    public init(timeout: Double) {
        self.init(connect: timeout, reply: timeout, handshake: timeout, overall: timeout * 3)
    }
}

/// How to probe.
public struct ProbeOptions: Sendable {
    /// The libraries to probe with, how strictly they judge the served chain, and whether the upgrade is tried
    /// unasked (what a scenario's `probe` section sets too).
    public var client: ProbeClientSettings
    /// Trust anchors (DER). Never the OS store.
    public var trustAnchors: [[UInt8]]
    public var deadlines: ProbeDeadlines
    /// When a certificate's coming expiry is a WARNING and when it is CRITICAL (`--warn-days`, `--crit-days`).
    public var thresholds: ExpiryThresholds
    public var ehloName: String
    public var minimumVersion: MimicTLSVersion?
    public var maximumVersion: MimicTLSVersion?
    /// FTP: open the data channel after PROT P and hand-shake on it.
    public var ftpDataChannel: Bool
    /// After a completed handshake, connect again offering its session and report whether the server resumed it
    /// (`ProbeReport.resumption`); `mimic capture` does.
    public var checkResumption = false
    /// Enumeration: offer exactly this instead of the library's defaults (replaces the version bounds above).
    public var offer: ProbeOffer? = nil
    /// Enumeration: end the handshake once a TLS 1.3 server's hello is read (``TLSEngineHandler``): its version,
    /// suite and group are known then, and the key exchange after it is not made. Older versions' hellos do not
    /// name the group, so their handshakes go on as usual.
    public var stopAtServerHello = false

    public init(
        backends: [TLSBackend] = TLSBackend.allCases,
        trustAnchors: [[UInt8]] = [],
        deadlines: ProbeDeadlines = ProbeDeadlines(),
        warnDays: Int = ExpiryThresholds.defaultWarnDays,
        critDays: Int = ExpiryThresholds.defaultCritDays,
        ehloName: String = DialogOptions().ehloName,
        tryStartTLSAnyway: Bool = false,
        minimumVersion: MimicTLSVersion? = nil,
        maximumVersion: MimicTLSVersion? = nil,
        ftpDataChannel: Bool = true
    ) {
        self.client = ProbeClientSettings(backends: backends, tryStartTLSAnyway: tryStartTLSAnyway)
        self.trustAnchors = trustAnchors
        self.deadlines = deadlines
        self.thresholds = ExpiryThresholds(warnDays: warnDays, critDays: critDays)
        self.ehloName = ehloName
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.ftpDataChannel = ftpDataChannel
    }
}
