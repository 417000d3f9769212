import Foundation
import MimicCerts
import MimicCore
import MimicDialogs
import MimicTLS

/// Turns what a connection saw into findings: the dialog's, the handshake's, the backend's verification, the
/// library-independent chain facts, and the network's.
enum ProbeVerdict {
    static func assemble(_ base: ProbeReport, outcome: ProbeOutcome, options: ProbeOptions) -> ProbeReport {
        var report = base
        report.timings = outcome.timings
        report.transcript = outcome.transcript.entries.map(\.description)
        if let summary = outcome.summary { report.dialog = ProbeReport.DialogFacts(summary) }
        report.handshake = outcome.handshake
        report.dataChannel = outcome.dataChannel

        var findings = outcome.findings
        if outcome.tlsWherePlaintextWasDue {
            findings.append(
                Finding(
                    .modeMismatch, phase: .greeting,
                    evidence: "TLS arrived where the plaintext dialog was due: the port speaks implicit TLS"))
        }
        if let failure = outcome.failure { findings.append(failure.finding) }
        if let network = outcome.networkFailure { findings.append(network) }

        if let handshake = outcome.handshake {
            if handshake.completed && options.offer != nil {
                // An enumeration's offer asks what the server accepts; its chain was judged by the probe itself.
                findings += tlsFindings(handshake, phase: .handshake)
            } else if handshake.completed {
                findings += tlsFindings(handshake, phase: .handshake)
                let certificate = CertificateVerdict(
                    verification: handshake.verification,
                    chain: handshake.peerChain,
                    anchors: options.trustAnchors,
                    hostname: report.target.verifyName,
                    warnDays: options.warnDays,
                    critDays: options.critDays
                )
                report.chain = certificate.facts
                findings += certificate.findings
            } else if outcome.handshakeFailed || handshake.failure != nil {
                if let finding = plaintextWhereTLSWasDue(outcome.bytesWhereTLSWasDue, mode: report.target.mode) {
                    findings.append(finding)
                } else if !findings.contains(where: { $0.code == .timeout }) {
                    findings.append(handshakeFailure(handshake))
                }
            }
        }
        if let data = outcome.dataChannel, !data.completed {
            // RFC 4217 §9: with PROT P the data channel must be TLS; one that is not is a failed upgrade too.
            findings.append(
                Finding(
                    .handshakeFailure, phase: .dataChannel,
                    evidence: "the data channel did not hand-shake: \(data.failure?.description ?? "no TLS")",
                    source: data.backend.rawValue, rawCode: data.failure?.libraryError))
        }
        if let data = outcome.dataChannel, data.completed {
            findings += tlsFindings(data, phase: .dataChannel)
            // A resumed session sends no certificate: only a full handshake can show another chain.
            if !data.sessionResumed, !data.peerChain.isEmpty, data.peerChain != outcome.handshake?.peerChain {
                findings.append(
                    Finding(
                        .unexpectedReply, severity: .warning, phase: .dataChannel,
                        evidence: "the data channel served another certificate chain than the control channel"))
            }
        }
        report.findings = findings
        return report
    }

    /// What plaintext where the handshake was due means: on an implicit port, a mode mix-up; after a go-ahead,
    /// injection when TLS followed it, otherwise a server that never switched to TLS. Nil when it was not plaintext.
    static func plaintextWhereTLSWasDue(_ bytes: [UInt8], mode: TLSMode) -> Finding? {
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

    static func tlsFindings(_ handshake: HandshakeReport, phase: Phase) -> [Finding] {
        var findings: [Finding] = []
        if let version = handshake.negotiatedVersion, version.isLegacy {
            findings.append(
                Finding(
                    .legacyVersion, phase: phase, evidence: "negotiated \(version.displayName) (RFC 8996)",
                    source: handshake.backend.rawValue))
        }
        if let suite = handshake.cipherSuite,
            ["_RC4_", "_3DES_", "_DES_", "_NULL_", "_EXPORT", "_anon_", "_MD5"].contains(where: suite.contains)
        {
            findings.append(
                Finding(.weakCipher, phase: phase, evidence: "negotiated \(suite)", source: handshake.backend.rawValue))
        }
        return findings
    }

    static func handshakeFailure(_ handshake: HandshakeReport) -> Finding {
        let failure = handshake.failure
        let text = failure?.description ?? "the handshake did not complete"
        let lowered = text.lowercased()
        let code: FindingCode =
            lowered.contains("no shared cipher") || lowered.contains("no_shared_cipher")
                || lowered.contains("insufficient_security") ? .noSharedCipher : .handshakeFailure
        return Finding(
            code, phase: .handshake, evidence: text, source: handshake.backend.rawValue,
            rawCode: failure?.libraryError)
    }
}
