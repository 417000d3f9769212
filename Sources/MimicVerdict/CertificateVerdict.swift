import Foundation
import MimicCerts
import MimicCore
import MimicTLS

/// One backend's verdict on a certificate chain: the backend's own verification, plus what only the
/// library-independent chain facts can say (an expiry coming soon, a chain served out of order, a name matched
/// only through the subject CN). A code the backend already reported is not repeated from the facts.
///
/// The probe, `mimic verify` and the profile matrix all judge chains through this one function, so the same
/// chain gets the same verdict wherever it is seen.
public struct CertificateVerdict: Sendable {
    public var facts: ChainFacts?
    public var findings: [Finding]

    public init(
        verification: VerificationResult?,
        chain: [[UInt8]],
        anchors: [[UInt8]],
        hostname: String?,
        at time: Date = Date(),
        thresholds: ExpiryThresholds = .default
    ) {
        var findings = verification?.findings ?? []
        var reported = Set(findings.map(\.code))
        do {
            let facts = try RecentChainFacts.facts(chain: chain, anchors: anchors, hostname: hostname, at: time)
            self.facts = facts
            for finding in Self.factFindings(facts, thresholds: thresholds) where !reported.contains(finding.code) {
                findings.append(finding)
                reported.insert(finding.code)
            }
        } catch {
            self.facts = nil
            findings.append(Finding(.verificationError, phase: .verification, evidence: "\(error)", source: "facts"))
        }
        self.findings = findings
    }

    /// What the chain facts alone say, judged with `thresholds`.
    public static func factFindings(_ facts: ChainFacts, thresholds: ExpiryThresholds = .default) -> [Finding] {
        facts.findings(warnDays: thresholds.warnDays, critDays: thresholds.critDays)
    }
}
