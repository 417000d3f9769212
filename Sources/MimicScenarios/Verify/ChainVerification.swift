import Foundation
import MimicCerts
import MimicCore
import MimicTLS
import MimicVerdict

/// One chain judged offline by each TLS backend side by side, with the library-independent chain facts.
///
/// This is what `mimic verify` prints, and what the handshake matrix compares with a live handshake: the same
/// library code verifies in both places.
public struct ChainVerification: Sendable, Codable {
    /// One backend's judgement.
    public struct BackendResult: Sendable, Codable {
        public var backend: TLSBackend
        public var libraryVersion: String
        public var verification: VerificationResult
        /// The backend's findings plus what only the chain facts say, as the probe would report them.
        public var findings: [Finding]

        /// The library's own answer.
        public var accepted: Bool { verification.accepted }
        public var verdict: Verdict { Verdict(findings: findings) }
    }

    public var hostname: String?
    public var time: Date
    /// How strictly the backends judged (``VerificationPolicy``).
    public var policy: VerificationPolicy
    public var facts: ChainFacts
    public var factFindings: [Finding]
    public var backends: [BackendResult]

    /// True when every backend accepts the chain.
    public var accepted: Bool { backends.allSatisfy(\.accepted) }

    /// Everything found, by the backends and the facts, for the overall severity.
    public var verdict: Verdict { Verdict(findings: backends.flatMap(\.findings) + factFindings) }

    /// `mimic verify`'s exit status: 0 every backend accepts, 2 any rejects. It follows the libraries alone: a
    /// certificate Mimic could not read (`malformedCertificate`) or a served order it objects to is in the verdict,
    /// not in the exit status, so the status always agrees with what the libraries' own tools say.
    public var exitCode: Int32 { accepted ? 0 : 2 }

    public init(
        chain: [[UInt8]],
        anchors: [[UInt8]],
        hostname: String?,
        at time: Date? = nil,
        backends: [TLSBackend] = TLSBackend.allCases,
        warnDays: Int = ExpiryThresholds.defaultWarnDays,
        critDays: Int = ExpiryThresholds.defaultCritDays,
        policy: VerificationPolicy = .default
    ) throws(ChainFactsError) {
        self.hostname = hostname
        self.policy = policy
        self.time = time ?? Date()
        self.facts = try ChainFacts(chain: chain, anchors: anchors, hostname: hostname, at: self.time)
        let thresholds = ExpiryThresholds(warnDays: warnDays, critDays: critDays)
        self.factFindings = CertificateVerdict.factFindings(facts, thresholds: thresholds)
        let checkedAt = self.time
        self.backends = backends.map { backend in
            let verification = TLSBackends.verify(
                backend,
                chain: chain,
                anchors: anchors,
                hostname: hostname,
                at: time?.timeIntervalSince1970,
                policy: policy
            )
            return BackendResult(
                backend: backend,
                libraryVersion: TLSBackends.libraryVersion(backend),
                verification: verification,
                findings: CertificateVerdict(
                    verification: verification, chain: chain, anchors: anchors, hostname: hostname, at: checkedAt,
                    thresholds: thresholds
                ).findings
            )
        }
    }
}
