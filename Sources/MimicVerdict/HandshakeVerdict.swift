import MimicCore
import MimicTLS

/// What a handshake, its failure, or the bytes where one was due mean as findings. Pure functions over the
/// engines' reports: the probe assembles its verdict from them, and they are tested without a connection.
public enum HandshakeVerdict {
    /// IANA cipher-suite name parts that make a negotiated suite weak: no or broken encryption, export grade,
    /// anonymous key exchange, MD5 record MACs.
    public static let weakCipherMarkers = ["_RC4_", "_3DES_", "_DES_", "_NULL_", "_EXPORT", "_anon_", "_MD5"]

    /// Whether a negotiated suite is weak (``weakCipherMarkers``).
    public static func isWeak(cipherSuite suite: String) -> Bool {
        weakCipherMarkers.contains { suite.utf8Range(of: $0) != nil }
    }

    /// A completed handshake's own findings: a legacy protocol version (RFC 8996), a weak suite.
    public static func findings(_ handshake: HandshakeReport, phase: Phase) -> [Finding] {
        var findings: [Finding] = []
        if let version = handshake.negotiatedVersion, version.isLegacy {
            findings.append(
                Finding(
                    .legacyVersion, phase: phase, evidence: "negotiated \(version.displayName) (RFC 8996)",
                    source: handshake.backend.rawValue))
        }
        if let suite = handshake.cipherSuite, isWeak(cipherSuite: suite) {
            findings.append(
                Finding(.weakCipher, phase: phase, evidence: "negotiated \(suite)", source: handshake.backend.rawValue))
        }
        return findings
    }

    /// A handshake that did not complete: `noSharedCipher` when nothing offered was acceptable, otherwise
    /// `handshakeFailure`, with the library's words as evidence and its raw code beside them.
    public static func failure(_ handshake: HandshakeReport) -> Finding {
        let failure = handshake.failure
        return Finding(
            failure.map { code(for: $0.kind) } ?? .handshakeFailure, phase: .handshake,
            evidence: failure?.description ?? "the handshake did not complete", source: handshake.backend.rawValue,
            rawCode: failure?.libraryError)
    }

    /// The finding a failed handshake earns, by what failed. The alert, the library's words and its raw code go
    /// into the finding's evidence beside it.
    public static func code(for kind: TLSFailure.Kind) -> FindingCode {
        switch kind {
        case .noSharedCipher: .noSharedCipher
        case .peerClosed, .alertReceived, .noSharedVersion, .certificateRejected, .closedMidHandshake,
            .abortedWithAlert, .local, .library:
            .handshakeFailure
        }
    }

    /// A TLS record where the plaintext dialog was due: the port speaks implicit TLS.
    public static let tlsWherePlaintextWasDue = Finding(
        .modeMismatch, phase: .greeting,
        evidence: "TLS arrived where the plaintext dialog was due: the port speaks implicit TLS")

    /// What plaintext where the handshake was due means: on an implicit port, a mode mix-up; after a go-ahead,
    /// injection when TLS followed it, otherwise a server that never switched to TLS. Nil when it was not plaintext.
    public static func plaintextWhereTLSWasDue(_ bytes: [UInt8], mode: TLSMode) -> Finding? {
        let received = PeerBytes.classify(bytes)
        guard received.isPlaintext else { return nil }
        if mode == .implicit {
            return Finding(
                .modeMismatch, phase: .handshake,
                evidence: "the implicit-TLS port answered in plaintext: \(received.evidence)")
        }
        if PeerBytes.isTextThenTLS(bytes) {
            return Finding(
                .plaintextInjection, phase: .upgrade,
                evidence: "plaintext arrived after the go-ahead, ahead of the server's TLS: \(received.evidence)")
        }
        return Finding(
            .noTLSAfterGoAhead, phase: .handshake,
            evidence: "the server said go ahead, then answered the ClientHello in plaintext: \(received.evidence)")
    }

    /// An FTP data channel's findings: one that did not hand-shake is a failed upgrade (RFC 4217 §9: with
    /// PROT P it must be TLS); one that did is judged like any handshake, and warned about when it served
    /// another chain than the control channel.
    public static func dataChannel(_ data: HandshakeReport, control: HandshakeReport?) -> [Finding] {
        guard data.completed else {
            return [
                Finding(
                    .handshakeFailure, phase: .dataChannel,
                    evidence: "the data channel did not hand-shake: \(data.failure?.description ?? "no TLS")",
                    source: data.backend.rawValue, rawCode: data.failure?.libraryError)
            ]
        }
        var findings = findings(data, phase: .dataChannel)
        // A resumed session sends no certificate: only a full handshake can show another chain.
        if !data.sessionResumed, !data.peerChain.isEmpty, data.peerChain != control?.peerChain {
            findings.append(
                Finding(
                    .unexpectedReply, severity: .warning, phase: .dataChannel,
                    evidence: "the data channel served another certificate chain than the control channel"))
        }
        return findings
    }
}
