import Foundation
import MimicCerts
import MimicCore
import MimicDialogs
import MimicTLS

/// Everything one probe of one target through one backend saw, and the verdict it adds up to.
public struct ProbeReport: Sendable, Codable {
    /// How long a phase took.
    public struct Timing: Sendable, Hashable, Codable {
        public var phase: Phase
        public var milliseconds: Double
    }

    /// What the plaintext and post-TLS dialog learnt, as plain data.
    public struct DialogFacts: Sendable, Hashable, Codable {
        public var greeting: [String] = []
        public var capabilitiesBeforeTLS: [String] = []
        public var capabilitiesAfterTLS: [String] = []
        public var upgradeAdvertised = false
        public var upgradeReply: String?
        public var authSSLReply: String?
        public var dataChannelReply: String?
        public var rootDSE: [String: [String]] = [:]
        public var httpStatus: Int?
        public var httpReason: String?
        public var bareLineFeeds = false
        /// LDAP: responses used long-form BER lengths (Active Directory); nil for other protocols.
        public var ldapLongFormLengths: Bool?
    }

    public var target: ProbeTarget
    public var backend: TLSBackend
    public var libraryVersion: String
    public var startedAt: Date
    public var timings: [Timing]
    /// `C: EHLO probe.mimic.test`, `S: 250-mail.example.test`, … in order.
    public var transcript: [String]
    public var dialog: DialogFacts?
    public var handshake: HandshakeReport?
    /// FTP: the data channel's handshake (its chain and whether it resumed the control session).
    public var dataChannel: HandshakeReport?
    /// Library-independent facts of the chain the server sent.
    public var chain: ChainFacts?
    public var findings: [Finding]
    /// Whether the server resumed the session on a second connection (`ProbeOptions.checkResumption`); nil when
    /// not tried.
    public var resumption: Bool?
    /// `--enumerate`: what this backend's offers found the server to accept (its findings are in `findings` too).
    public var enumeration: EnumerationReport?

    public var verdict: Verdict { Verdict(findings: findings) }
    public var severity: Severity { findings.isEmpty ? .ok : verdict.severity }

    /// Total time of the probe in milliseconds.
    public var totalMilliseconds: Double { timings.map(\.milliseconds).reduce(0, +) }
}

extension ProbeReport.DialogFacts {
    init(_ summary: DialogSummary) {
        greeting = summary.greeting
        capabilitiesBeforeTLS = summary.capabilitiesBeforeTLS
        capabilitiesAfterTLS = summary.capabilitiesAfterTLS
        upgradeAdvertised = summary.upgradeAdvertised
        upgradeReply = summary.upgradeReply
        authSSLReply = summary.authSSLReply
        dataChannelReply = summary.dataChannelReply
        rootDSE = summary.rootDSE
        httpStatus = summary.httpStatus
        httpReason = summary.httpReason
        bareLineFeeds = summary.bareLineFeeds
        ldapLongFormLengths = summary.ldapLongFormLengths
    }
}

extension ProbeReport {
    /// Adds an enumeration's report for this backend, and its findings.
    public mutating func add(_ enumeration: EnumerationResult) {
        guard let mine = enumeration.report(for: backend) else { return }
        self.enumeration = mine
        findings += mine.findings
    }
}
