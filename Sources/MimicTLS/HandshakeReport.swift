import Foundation
import MimicCore

/// The backend's own verification of a peer chain: its raw codes and the findings they map to.
public struct VerificationResult: Sendable, Hashable, Codable {
    /// One raw complaint from the library.
    public struct RawError: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The library's symbolic name: `X509_V_ERR_CERT_HAS_EXPIRED`, `GNUTLS_CERT_EXPIRED`.
        public var code: String
        /// The library's numeric value for it (OpenSSL error number, GnuTLS status bit).
        public var value: Int
        /// The library's own text for it.
        public var text: String
        /// Chain position the library blamed (OpenSSL reports one; GnuTLS does not).
        public var depth: Int?

        public init(code: String, value: Int, text: String, depth: Int? = nil) {
            self.code = code
            self.value = value
            self.text = text
            self.depth = depth
        }

        public var description: String {
            depth.map { "\(code) at depth \($0): \(text)" } ?? "\(code): \(text)"
        }
    }

    public var backend: TLSBackend
    public var accepted: Bool
    public var rawErrors: [RawError]
    /// The raw errors through the backend's mapping table.
    public var findings: [Finding]
    /// The hostname checked, if any.
    public var hostname: String?

    public init(backend: TLSBackend, accepted: Bool, rawErrors: [RawError], findings: [Finding], hostname: String?) {
        self.backend = backend
        self.accepted = accepted
        self.rawErrors = rawErrors
        self.findings = findings
        self.hostname = hostname
    }
}

/// Why a handshake did not complete: what happened as a typed ``Kind``, with the library's raw code and its own
/// words kept beside it for the report.
public struct TLSFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// What happened, as the engines classify the library's error codes and alerts. Verdicts switch on this, never
    /// on the text.
    public enum Kind: Sendable, Hashable {
        /// The peer closed the connection before the handshake completed (the engine was told of the end of the
        /// stream).
        case peerClosed
        /// The peer sent this fatal alert.
        case alertReceived(TLSAlert)
        /// Nothing offered was acceptable to both sides: no shared cipher suite (or one of insufficient security).
        case noSharedCipher
        /// No protocol version acceptable to both sides.
        case noSharedVersion
        /// The peer's certificate was rejected by the library's own verification.
        case certificateRejected
        /// A server engine cut the handshake as configured (`closeMidHandshake`): the caller closes the
        /// connection without sending anything.
        case closedMidHandshake
        /// A server engine aborted the handshake with its configured alert (`abortWithAlert`).
        case abortedWithAlert(TLSAlert)
        /// Our own set-up or use was wrong: a key, a chain, a cipher string, a call out of order, a bound passed.
        case local
        /// Any other error the library reported (``TLSFailure/libraryError`` and ``TLSFailure/libraryCode`` say
        /// which).
        case library
    }

    public var kind: Kind
    /// The library's own words (the OpenSSL error queue, `gnutls_strerror`).
    public var reason: String
    /// The library's symbolic error, where it has one (`SSL_R_UNSUPPORTED_PROTOCOL`, `GNUTLS_E_…`).
    public var libraryError: String?
    /// The library's numeric code for it: OpenSSL's reason code (`ERR_GET_REASON`), GnuTLS's negative error code.
    public var libraryCode: Int?
    public var alertSent: TLSAlert?
    public var alertReceived: TLSAlert?

    public init(
        _ kind: Kind = .library,
        reason: String,
        libraryError: String? = nil,
        libraryCode: Int? = nil,
        alertSent: TLSAlert? = nil,
        alertReceived: TLSAlert? = nil
    ) {
        self.kind = kind
        self.reason = reason
        self.libraryError = libraryError
        self.libraryCode = libraryCode
        self.alertSent = alertSent
        self.alertReceived = alertReceived
    }

    /// The peer closed before the handshake completed.
    public static func peerClosed(alertSent: TLSAlert? = nil, alertReceived: TLSAlert? = nil) -> TLSFailure {
        TLSFailure(
            .peerClosed, reason: "the peer closed the connection during the handshake",
            libraryError: Kind.peerClosed.mimicCode, alertSent: alertSent, alertReceived: alertReceived)
    }

    /// A server engine cut its handshake as configured (`closeMidHandshake`), letting out `kept` of the `written`
    /// bytes of its first flight (`limit`, the configured number, 0 when nothing at all).
    static func cutMidHandshake(limit: Int, kept: Int, written: Int) -> TLSFailure {
        let what =
            limit == 0
            ? "after the ClientHello, sending nothing"
            : "after \(kept) of the \(written) bytes of its first flight"
        return TLSFailure(
            .closedMidHandshake,
            reason: "the server cut the handshake \(what), as configured (closeMidHandshake)",
            libraryError: Kind.closedMidHandshake.mimicCode
        )
    }

    /// Whether the engine failed because it was configured to cut the connection mid-handshake.
    public var isCloseMidHandshake: Bool { kind == .closedMidHandshake }

    public var description: String {
        var parts = [reason]
        if let libraryError { parts.append("[\(libraryError)]") }
        if let alertSent { parts.append("alert sent: \(alertSent)") }
        if let alertReceived { parts.append("alert received: \(alertReceived)") }
        return parts.joined(separator: " ")
    }
}

extension TLSFailure.Kind {
    /// The raw code a report shows for a failure of Mimic's own making, where no library has one; a decoded report
    /// gets its kind back from it.
    public var mimicCode: String? {
        switch self {
        case .peerClosed: "MIMIC_PEER_CLOSED"
        case .closedMidHandshake: "MIMIC_CLOSE_MID_HANDSHAKE"
        case .abortedWithAlert: "MIMIC_ABORT_WITH_ALERT"
        case .alertReceived, .noSharedCipher, .noSharedVersion, .certificateRejected, .local, .library: nil
        }
    }

    /// The kind a library error gets once the alerts that went with it are known: an `insufficient_security`
    /// alert either way means nothing offered was good enough; a fatal alert received otherwise names the failure;
    /// else the kind the library's code gave.
    public func refined(alertSent: TLSAlert?, alertReceived: TLSAlert?) -> TLSFailure.Kind {
        switch self {
        case .library, .noSharedVersion, .certificateRejected, .alertReceived, .noSharedCipher:
            if alertSent == .insufficientSecurity || alertReceived == .insufficientSecurity { return .noSharedCipher }
            if self == .library, let alertReceived, alertReceived.fatal { return .alertReceived(alertReceived) }
            return self
        case .peerClosed, .closedMidHandshake, .abortedWithAlert, .local:
            return self
        }
    }
}

// The kind is not written: a report reads as it always has, and the raw code it came from is in it. A decoded
// failure gets back what its fields tell (Mimic's own codes, an alert), else `.library`.
extension TLSFailure: Codable {
    // Encoding is synthesised from these keys alone.
    private enum CodingKeys: String, CodingKey {
        case reason, libraryError, alertSent, alertReceived
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let alertSent = try container.decodeIfPresent(TLSAlert.self, forKey: .alertSent)
        let alertReceived = try container.decodeIfPresent(TLSAlert.self, forKey: .alertReceived)
        let libraryError = try container.decodeIfPresent(String.self, forKey: .libraryError)
        let kind: TLSFailure.Kind =
            switch libraryError {
            case TLSFailure.Kind.peerClosed.mimicCode: .peerClosed
            case TLSFailure.Kind.closedMidHandshake.mimicCode: .closedMidHandshake
            case TLSFailure.Kind.abortedWithAlert(.handshakeFailure).mimicCode:
                .abortedWithAlert(alertSent ?? .handshakeFailure)
            default: TLSFailure.Kind.library.refined(alertSent: alertSent, alertReceived: alertReceived)
            }
        self.init(
            kind,
            reason: try container.decode(String.self, forKey: .reason),
            libraryError: libraryError,
            alertSent: alertSent,
            alertReceived: alertReceived
        )
    }
}

/// Everything one handshake revealed, collected even when it or the verification failed.
public struct HandshakeReport: Sendable, Hashable, Codable {
    public var backend: TLSBackend
    /// `OpenSSL 3.0.19 …`, `GnuTLS 3.7.9`.
    public var libraryVersion: String
    public var role: TLSRole
    public var completed: Bool
    public var negotiatedVersion: MimicTLSVersion?
    /// IANA name: `TLS_AES_128_GCM_SHA256`, `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
    public var cipherSuite: String?
    /// `x25519`, `secp256r1`, `ffdhe2048`, …
    public var keyExchangeGroup: String?
    public var alpn: String?
    /// The SNI name the client sent (as seen by either side).
    public var serverName: String?
    /// Server: which chain was served — the `serverNameChains` key matched, or `"default"` for
    /// `certificateChain`. Nil until the server chose one (a handshake aborted at the ClientHello).
    public var servedCredential: String?
    /// Client: whether the server sent a CertificateRequest (answered with an empty list unless a client
    /// certificate is configured).
    public var certificateRequested: Bool
    /// The peer's chain, DER, in the order it was sent.
    public var peerChain: [[UInt8]]
    public var sessionResumed: Bool
    /// Client: the handshake was stopped, as asked, once the server's hello was read (enumeration of groups): the
    /// version, suite and group are the hello's, and nothing after it was read. `completed` stays false.
    public var endedAtServerHello: Bool = false
    /// Client role with `verifyPeer`: the backend's verdict on the peer chain.
    public var verification: VerificationResult?
    public var alertSent: TLSAlert?
    public var alertReceived: TLSAlert?
    public var failure: TLSFailure?

    public init(backend: TLSBackend, libraryVersion: String, role: TLSRole) {
        self.backend = backend
        self.libraryVersion = libraryVersion
        self.role = role
        self.completed = false
        self.peerChain = []
        self.sessionResumed = false
        self.certificateRequested = false
    }

    /// `servedCredential` for the default chain.
    public static let defaultCredential = "default"
}

extension HandshakeReport {
    private enum CodingKeys: String, CodingKey {
        case backend, libraryVersion, role, completed, negotiatedVersion, cipherSuite, keyExchangeGroup, alpn
        case serverName, peerChain, sessionResumed, verification, alertSent, alertReceived, failure
        case servedCredential, certificateRequested, endedAtServerHello
    }

    // The peer chain travels as base64 DER (what `openssl x509 -inform DER` and PEM bodies use), not as
    // arrays of numbers.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(backend, forKey: .backend)
        try container.encode(libraryVersion, forKey: .libraryVersion)
        try container.encode(role, forKey: .role)
        try container.encode(completed, forKey: .completed)
        try container.encodeIfPresent(negotiatedVersion, forKey: .negotiatedVersion)
        try container.encodeIfPresent(cipherSuite, forKey: .cipherSuite)
        try container.encodeIfPresent(keyExchangeGroup, forKey: .keyExchangeGroup)
        try container.encodeIfPresent(alpn, forKey: .alpn)
        try container.encodeIfPresent(serverName, forKey: .serverName)
        try container.encodeIfPresent(servedCredential, forKey: .servedCredential)
        // Written only when true, so that reports of ordinary handshakes read as before.
        if certificateRequested { try container.encode(true, forKey: .certificateRequested) }
        if endedAtServerHello { try container.encode(true, forKey: .endedAtServerHello) }
        try container.encode(peerChain.map { Data($0).base64EncodedString() }, forKey: .peerChain)
        try container.encode(sessionResumed, forKey: .sessionResumed)
        try container.encodeIfPresent(verification, forKey: .verification)
        try container.encodeIfPresent(alertSent, forKey: .alertSent)
        try container.encodeIfPresent(alertReceived, forKey: .alertReceived)
        try container.encodeIfPresent(failure, forKey: .failure)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            backend: try container.decode(TLSBackend.self, forKey: .backend),
            libraryVersion: try container.decode(String.self, forKey: .libraryVersion),
            role: try container.decode(TLSRole.self, forKey: .role)
        )
        completed = try container.decode(Bool.self, forKey: .completed)
        negotiatedVersion = try container.decodeIfPresent(MimicTLSVersion.self, forKey: .negotiatedVersion)
        cipherSuite = try container.decodeIfPresent(String.self, forKey: .cipherSuite)
        keyExchangeGroup = try container.decodeIfPresent(String.self, forKey: .keyExchangeGroup)
        alpn = try container.decodeIfPresent(String.self, forKey: .alpn)
        serverName = try container.decodeIfPresent(String.self, forKey: .serverName)
        servedCredential = try container.decodeIfPresent(String.self, forKey: .servedCredential)
        certificateRequested = try container.decodeIfPresent(Bool.self, forKey: .certificateRequested) ?? false
        endedAtServerHello = try container.decodeIfPresent(Bool.self, forKey: .endedAtServerHello) ?? false
        peerChain = try container.decode([String].self, forKey: .peerChain).map { text in
            guard let data = Data(base64Encoded: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .peerChain, in: container, debugDescription: "peer chain entry is not base64")
            }
            return [UInt8](data)
        }
        sessionResumed = try container.decode(Bool.self, forKey: .sessionResumed)
        verification = try container.decodeIfPresent(VerificationResult.self, forKey: .verification)
        alertSent = try container.decodeIfPresent(TLSAlert.self, forKey: .alertSent)
        alertReceived = try container.decodeIfPresent(TLSAlert.self, forKey: .alertReceived)
        failure = try container.decodeIfPresent(TLSFailure.self, forKey: .failure)
    }
}
