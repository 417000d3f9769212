import Foundation
import MimicCore
import MimicTLS
import MimicVerdict

/// Puts what a connection saw into its report and judges it: the dialog's findings, then the handshake's, the
/// certificate's and the network's through the pure verdict functions of `MimicVerdict`.
enum ProbeVerdict {
    static func assemble(_ base: ProbeReport, outcome: ProbeOutcome, options: ProbeOptions) -> ProbeReport {
        var report = base
        report.timings = outcome.timings
        report.transcript = outcome.transcript.entries.map(\.description)
        if let summary = outcome.summary { report.dialog = ProbeReport.DialogFacts(summary) }
        report.handshake = outcome.handshake
        report.dataChannel = outcome.dataChannel

        var findings = outcome.findings
        if outcome.tlsWherePlaintextWasDue { findings.append(HandshakeVerdict.tlsWherePlaintextWasDue) }
        if let failure = outcome.failure { findings.append(failure.finding) }
        if let network = outcome.networkFailure { findings.append(network) }

        if let handshake = outcome.handshake {
            if handshake.completed && options.offer != nil {
                // An enumeration's offer asks what the server accepts; its chain was judged by the probe itself.
                findings += HandshakeVerdict.findings(handshake, phase: .handshake)
            } else if handshake.completed {
                findings += HandshakeVerdict.findings(handshake, phase: .handshake)
                let certificate = CertificateVerdict(
                    verification: handshake.verification,
                    chain: handshake.peerChain,
                    anchors: options.trustAnchors,
                    hostname: report.target.verifyName,
                    thresholds: options.thresholds
                )
                report.chain = certificate.facts
                findings += certificate.findings
            } else if outcome.handshakeFailed || handshake.failure != nil {
                if let finding = HandshakeVerdict.plaintextWhereTLSWasDue(
                    outcome.bytesWhereTLSWasDue, mode: report.target.mode)
                {
                    findings.append(finding)
                } else if !findings.contains(where: { $0.code == .timeout }) {
                    findings.append(HandshakeVerdict.failure(handshake))
                }
            }
        }
        if let data = outcome.dataChannel {
            findings += HandshakeVerdict.dataChannel(data, control: outcome.handshake)
        }
        report.findings = findings
        return report
    }
}
