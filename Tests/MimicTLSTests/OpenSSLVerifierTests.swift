import Foundation
import MimicCore
import MimicTLS
import Testing

@Suite("OpenSSL verification")
struct OpenSSLVerifierTests {
    /// Handshakes a client against a server serving `pki`'s chain and returns the client's report.
    private func clientReport(
        _ pki: TestPKI,
        chain: [[UInt8]]? = nil,
        configure: (inout MimicTLSConfiguration) -> Void = { _ in }
    ) throws -> HandshakeReport {
        var client = pki.clientConfiguration()
        configure(&client)
        let pair = try makeOpenSSLPair(server: pki.serverConfiguration(chain: chain), client: client)
        let outcome = Pump().handshake(client: pair.client, server: pair.server)
        // Verification never fails a handshake.
        #expect(outcome.client.isComplete && outcome.server.isComplete)
        return pair.client.report
    }

    /// The client engine verifies the certificates its handshake read, without decoding their DER again; the
    /// verdict must be the one `TLSBackends.verify` reaches from the DER alone.
    @Test("the handshake's verdict is the offline verdict on the same DER")
    func handshakeMatchesOffline() throws {
        let good = try TestPKI()
        let expired = try TestPKI(leafValidity: (-86_400 * 30)...(-86_400 * 3))
        let rsa = try TestPKI(rsaLeaf: true)
        let cases: [(label: String, pki: TestPKI, chain: [[UInt8]]?, name: String, accepted: Bool)] = [
            ("good", good, nil, "mail.example.test", true),
            ("expired", expired, nil, "mail.example.test", false),
            ("other name", good, nil, "www.example.test", false),
            ("no intermediate", good, [good.leaf], "mail.example.test", false),
            ("with its root, RSA leaf", rsa, [rsa.leaf, rsa.intermediate, rsa.root], "mail.example.test", true),
        ]
        for (label, pki, chain, name, accepted) in cases {
            let report = try clientReport(pki, chain: chain) { $0.serverName = name }
            let handshake = try #require(report.verification, "\(label)")
            let offline = TLSBackends.verify(.openssl, chain: report.peerChain, anchors: [pki.root], hostname: name)
            #expect(handshake == offline, "\(label)")
            #expect(handshake.accepted == accepted, "\(label): \(handshake.rawErrors)")
        }
    }

    @Test("a good chain is accepted with no findings")
    func goodChain() throws {
        let report = try clientReport(try TestPKI())
        let verification = try #require(report.verification)
        #expect(verification.accepted)
        #expect(verification.rawErrors.isEmpty && verification.findings.isEmpty)
        #expect(verification.backend == .openssl && verification.hostname == "mail.example.test")
    }

    @Test("an expired leaf: expired at depth 0, facts still collected")
    func expiredLeaf() throws {
        let pki = try TestPKI(leafValidity: (-86_400 * 30)...(-86_400 * 3))
        let report = try clientReport(pki)
        let verification = try #require(report.verification)
        #expect(!verification.accepted)
        #expect(verification.findings.codes == [.expired])
        let finding = try #require(verification.findings.first)
        #expect(finding.depth == 0 && finding.phase == .verification && finding.source == "openssl")
        #expect(finding.rawCode == "X509_V_ERR_CERT_HAS_EXPIRED")
        #expect(finding.evidence == "certificate has expired (CN=mail.example.test)")
        #expect(verification.rawErrors.first?.value == 10)
        // The facts do not depend on the verdict.
        #expect(report.completed)
        #expect(report.peerChain == pki.servedChain)
        #expect(report.negotiatedVersion == .tls1_3)
        #expect(report.cipherSuite != nil)
    }

    @Test("a wrong hostname: hostnameMismatch; an IP literal is checked as an IP")
    func hostnameMismatch() throws {
        let pki = try TestPKI()
        let byName = try clientReport(pki) { $0.serverName = "www.example.test" }
        #expect(byName.verification?.findings.codes == [.hostnameMismatch])
        #expect(byName.verification?.rawErrors.map(\.code) == ["X509_V_ERR_HOSTNAME_MISMATCH"])
        #expect(byName.peerChain == pki.servedChain)

        let byVerifyName = try clientReport(pki) { $0.verifyHostname = "other.example.test" }
        #expect(byVerifyName.verification?.hostname == "other.example.test")
        #expect(byVerifyName.verification?.findings.codes == [.hostnameMismatch])

        let byIP = TLSBackends.verify(.openssl, chain: pki.servedChain, anchors: [pki.root], hostname: "192.0.2.7")
        #expect(byIP.rawErrors.map(\.code) == ["X509_V_ERR_IP_ADDRESS_MISMATCH"])
        #expect(byIP.findings.codes == [.hostnameMismatch])
    }

    @Test("partial wildcards and suffixes do not match")
    func noPartialMatch() throws {
        let pki = try TestPKI(hostname: "mail.example.test")
        for name in ["example.test", "xmail.example.test", "mail.example.test.evil"] {
            let result = TLSBackends.verify(.openssl, chain: pki.servedChain, anchors: [pki.root], hostname: name)
            #expect(result.findings.codes == [.hostnameMismatch], "\(name)")
        }
        let upper = TLSBackends.verify(
            .openssl,
            chain: pki.servedChain,
            anchors: [pki.root],
            hostname: "MAIL.example.TEST"
        )
        #expect(upper.accepted)
    }

    @Test("no anchors: untrustedRoot at the top of the served chain")
    func noAnchors() throws {
        let pki = try TestPKI()
        let report = try clientReport(pki) { $0.trustAnchors = [] }
        let verification = try #require(report.verification)
        #expect(verification.findings.codes == [.untrustedRoot])
        #expect(verification.findings.first?.depth == 1)
        #expect(verification.findings.first?.rawCode == "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY")
        #expect(report.peerChain == pki.servedChain)
    }

    @Test("a root served but not trusted: untrustedRoot")
    func untrustedRootInChain() throws {
        let pki = try TestPKI()
        let stranger = try TestPKI()
        let chain = [pki.leaf, pki.intermediate, pki.root]
        let result = TLSBackends.verify(.openssl, chain: chain, anchors: [], hostname: "mail.example.test")
        #expect(result.findings.codes == [.untrustedRoot])
        #expect(result.rawErrors.first?.code == "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN")
        #expect(result.rawErrors.first?.depth == 2)

        // An anchor with the root's name but another key: OpenSSL picks it as the issuer by name, and the
        // intermediate's signature does not verify under it.
        let impostor = TLSBackends.verify(.openssl, chain: chain, anchors: [stranger.root], hostname: nil)
        #expect(impostor.rawErrors.first?.code == "X509_V_ERR_CERT_SIGNATURE_FAILURE")
        #expect(impostor.rawErrors.first?.depth == 1)
        #expect(impostor.findings.codes == [.verificationError])
    }

    @Test("a self-signed certificate alone: selfSigned")
    func selfSigned() throws {
        let pki = try TestPKI()
        let result = TLSBackends.verify(.openssl, chain: [pki.root], anchors: [], hostname: nil)
        #expect(!result.accepted)
        #expect(result.findings.codes.first == .selfSigned)
        #expect(result.rawErrors.first?.code == "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT")
    }

    @Test("verification time: the past and the future change the verdict")
    func verificationTime() throws {
        let pki = try TestPKI()  // Leaf valid from a day ago for 90 days.
        let now = Date().timeIntervalSince1970
        let verify = { (time: Double?) in
            TLSBackends.verify(
                .openssl,
                chain: pki.servedChain,
                anchors: [pki.root],
                hostname: "mail.example.test",
                at: time
            )
        }
        #expect(verify(nil).accepted)
        #expect(verify(now + 86_400 * 30).accepted)
        let past = verify(now - 86_400 * 2)
        #expect(past.findings.codes == [.notYetValid])
        #expect(past.findings.first?.depth == 0)
        let future = verify(now + 86_400 * 120)
        #expect(future.findings.codes == [.expired])
        #expect(future.findings.first?.depth == 0)
        // Past every certificate's end: each one is reported, once, at its own depth.
        let farFuture = verify(now + 86_400 * 400)
        #expect(farFuture.findings.compactMap(\.depth).sorted() == [0, 1, 2])
        #expect(farFuture.findings.codes == [.expired])
    }

    @Test("verifyPeer off: no verdict, facts still there")
    func verifyOff() throws {
        let pki = try TestPKI()
        let report = try clientReport(pki) { $0.verifyPeer = false }
        #expect(report.verification == nil)
        #expect(report.peerChain == pki.servedChain)
    }

    @Test("garbage instead of a chain is a complaint, never an acceptance")
    func garbageChain() throws {
        let pki = try TestPKI()
        #expect(!TLSBackends.verify(.openssl, chain: [], anchors: [pki.root], hostname: nil).accepted)
        let result = TLSBackends.verify(.openssl, chain: [[0x30, 0x82, 0xFF]], anchors: [pki.root], hostname: nil)
        #expect(!result.accepted)
        #expect(result.findings.codes == [.verificationError])
    }
}
