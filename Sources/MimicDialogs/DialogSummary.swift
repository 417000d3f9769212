import MimicCore

/// What a dialog that ran to its end learnt about the service.
public struct DialogSummary: Sendable, Hashable {
    public var serviceProtocol: ServiceProtocol
    public var mode: TLSMode
    /// The greeting or banner, one element per line (codes and markers stripped where the protocol has them).
    public var greeting: [String]
    /// Capabilities advertised before TLS (EHLO keywords, IMAP CAPABILITY atoms, CAPA lines, FEAT lines).
    public var capabilitiesBeforeTLS: [String]
    /// Capabilities advertised after TLS.
    public var capabilitiesAfterTLS: [String]
    /// True when the server advertised the upgrade before TLS.
    public var upgradeAdvertised: Bool
    /// The reply that allowed the upgrade (`220 2.0.0 Ready to start TLS`, `+OK`, `234 …`, `success (0)`).
    public var upgradeReply: String?
    /// FTP: the reply to `AUTH SSL`, tried only after `AUTH TLS` was refused (present in failures' findings).
    public var authSSLReply: String?
    /// FTP: the data channel the server offered, and the final reply to the listing over it.
    public var dataChannel: DataChannel?
    public var dataChannelReply: String?
    /// LDAP: RootDSE attributes (lower-cased names) read after TLS.
    public var rootDSE: [String: [String]]
    /// HTTP: the status code and reason after TLS, and the response headers (names lower-cased).
    public var httpStatus: Int?
    public var httpReason: String?
    public var httpHeaders: [HTTPHeader]
    /// True when the server ended a line with a bare LF instead of CRLF.
    public var bareLineFeeds: Bool
    /// LDAP: true when a response used a BER long-form length where the short form fits (`30 84 00 00 00 0C`,
    /// as Active Directory writes them); nil for other protocols.
    public var ldapLongFormLengths: Bool?
    /// The non-fatal findings, in order (also emitted as `.finding` actions).
    public var findings: [Finding]
    public var transcript: Transcript

    public struct DataChannel: Sendable, Hashable {
        /// The address the PASV reply named (nil after EPSV); the probe connects to the control peer regardless.
        public var host: String?
        public var port: Int
        /// `EPSV` or `PASV`.
        public var command: String
    }

    public struct HTTPHeader: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    init(serviceProtocol: ServiceProtocol, mode: TLSMode) {
        self.serviceProtocol = serviceProtocol
        self.mode = mode
        self.greeting = []
        self.capabilitiesBeforeTLS = []
        self.capabilitiesAfterTLS = []
        self.upgradeAdvertised = false
        self.rootDSE = [:]
        self.httpHeaders = []
        self.bareLineFeeds = false
        self.findings = []
        self.transcript = Transcript()
    }
}

/// Why a dialog stopped: where, the verdict code, and the server's own words.
public struct DialogFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var phase: Phase
    public var code: FindingCode
    /// The reply that caused the failure, escaped for display (NUL and other control bytes as `\xNN`).
    public var serverWords: String
    /// What the dialog expected or noticed, in its own words.
    public var detail: String
    public var transcript: Transcript

    /// The failure as a finding, for reports.
    public var finding: Finding {
        let evidence = serverWords.isEmpty ? detail : "\(detail): \(serverWords)"
        return Finding(code, phase: phase, evidence: evidence, source: "dialog")
    }

    public var description: String { "\(code) in \(phase): \(finding.evidence)" }
}
