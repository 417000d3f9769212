import Foundation
import MimicCerts
import MimicCore
import MimicTLS
import MimicVerdict
import Testing

@Suite("Verdicts from reports, without a connection")
struct VerdictTests {
    static let factory = CertificateFactory.inMemory()

    @Test("a code the backend reported is not repeated from the chain facts", arguments: TLSBackend.allCases)
    func backendFirst(backend: TLSBackend) throws {
        let minted = try Self.factory.mint(profile: "expired-leaf")
        let verification = TLSBackends.verify(
            backend, chain: minted.served, anchors: minted.anchors, hostname: minted.hostname)
        let verdict = CertificateVerdict(
            verification: verification, chain: minted.served, anchors: minted.anchors, hostname: minted.hostname)
        #expect(verdict.facts != nil)
        #expect(verdict.findings.codes.filter { $0 == .expired }.count == 1, "\(verdict.findings)")
        #expect(Verdict(findings: verdict.findings).severity == .critical)
    }

    @Test("the thresholds decide when an expiry is close enough to warn")
    func thresholds() throws {
        let minted = try Self.factory.mint(profile: "good")
        let facts = try ChainFacts(
            chain: minted.served, anchors: minted.anchors, hostname: minted.hostname, at: Date())
        let days = try #require(facts.minimumDaysLeft)
        let wide = ExpiryThresholds(warnDays: days + 1, critDays: 0)
        let narrow = ExpiryThresholds(warnDays: max(0, days - 1), critDays: 0)
        #expect(CertificateVerdict.factFindings(facts, thresholds: wide).codes.contains(.expiringSoon))
        #expect(!CertificateVerdict.factFindings(facts, thresholds: narrow).codes.contains(.expiringSoon))
        let critical = ExpiryThresholds(warnDays: days + 1, critDays: days + 1)
        let soon = CertificateVerdict.factFindings(facts, thresholds: critical).first { $0.code == .expiringSoon }
        #expect(soon?.severity == .critical)
    }

    @Test("no chain at all is a verification error, not a crash")
    func noChain() {
        let verdict = CertificateVerdict(verification: nil, chain: [], anchors: [], hostname: nil)
        #expect(verdict.facts == nil)
        #expect(verdict.findings.codes == [.verificationError])
        let garbled = CertificateVerdict(verification: nil, chain: [[0x30, 0x00]], anchors: [], hostname: nil)
        #expect(garbled.findings.codes == [.malformedCertificate])
    }

    static func report(
        version: MimicTLSVersion? = .tls1_2, suite: String? = nil, completed: Bool = true
    ) -> HandshakeReport {
        var report = HandshakeReport(backend: .openssl, libraryVersion: "test", role: .client)
        report.completed = completed
        report.negotiatedVersion = version
        report.cipherSuite = suite
        return report
    }

    @Test("legacy versions and weak suites of a completed handshake")
    func handshakeFindings() {
        #expect(HandshakeVerdict.findings(Self.report(suite: "TLS_AES_128_GCM_SHA256"), phase: .handshake).isEmpty)
        #expect(
            HandshakeVerdict.findings(Self.report(version: .tls1_0), phase: .handshake).codes == [.legacyVersion])
        for suite in ["TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_DH_anon_WITH_AES_128_CBC_SHA"] {
            #expect(HandshakeVerdict.findings(Self.report(suite: suite), phase: .dataChannel).codes == [.weakCipher])
        }
    }

    @Test("a data channel without TLS, and one serving another chain")
    func dataChannel() {
        var control = Self.report()
        control.peerChain = [[1]]
        var data = Self.report(completed: false)
        #expect(HandshakeVerdict.dataChannel(data, control: control).codes == [.handshakeFailure])
        data.completed = true
        data.peerChain = [[1]]
        #expect(HandshakeVerdict.dataChannel(data, control: control).isEmpty)
        data.peerChain = [[2]]
        #expect(HandshakeVerdict.dataChannel(data, control: control).map(\.severity) == [.warning])
        data.sessionResumed = true
        #expect(HandshakeVerdict.dataChannel(data, control: control).isEmpty)
    }
}

@Suite("Verdicts: chain facts reused within a second")
struct RecentChainFactsTests {
    @Test("the same chain judged against other anchors of the same number is judged afresh")
    func otherAnchors() throws {
        let ours = CertificateFactory.inMemory()
        let theirs = CertificateFactory.inMemory()
        let minted = try ours.mint(profile: "good")
        let foreign = try theirs.mint(profile: "good").anchors
        try #require(foreign.count == minted.anchors.count && foreign != minted.anchors)
        let instant = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let trusted = CertificateVerdict(
            verification: nil, chain: minted.served, anchors: minted.anchors, hostname: minted.hostname, at: instant)
        let untrusted = CertificateVerdict(
            verification: nil, chain: minted.served, anchors: foreign, hostname: minted.hostname, at: instant)
        let again = CertificateVerdict(
            verification: nil, chain: minted.served, anchors: minted.anchors, hostname: minted.hostname, at: instant)
        #expect(trusted.facts?.anchor != nil)
        #expect(untrusted.facts?.anchor == nil, "facts cached for other anchors must not be reused")
        #expect(again.facts?.anchor == trusted.facts?.anchor)
        #expect(untrusted.findings.map(\.code) != trusted.findings.map(\.code))
    }
}
