import MimicCore
import MimicTLS
import Testing

@Suite("OpenSSL served chain")
struct OpenSSLChainTests {
    /// The chain the client saw when the server was configured with `chain`.
    private func observedChain(_ pki: TestPKI, serving chain: [[UInt8]]) throws -> HandshakeReport {
        let pair = try makeOpenSSLPair(
            server: pki.serverConfiguration(chain: chain),
            client: pki.clientConfiguration()
        )
        let outcome = Pump().handshake(client: pair.client, server: pair.server)
        #expect(outcome.client.isComplete && outcome.server.isComplete)
        return pair.client.report
    }

    @Test("the chain is served exactly as configured", arguments: [1.2, 1.3])
    func servedAsConfigured(version: Double) throws {
        let pki = try TestPKI()
        let stranger = try TestPKI().root
        let tlsVersion: MimicTLSVersion = version == 1.2 ? .tls1_2 : .tls1_3
        let chains: [[[UInt8]]] = [
            [pki.leaf, pki.intermediate],
            [pki.leaf, pki.intermediate, pki.root],
            [pki.leaf, pki.root, pki.intermediate],
            [pki.leaf, stranger, pki.intermediate],
            [pki.leaf],
        ]
        for chain in chains {
            let pair = try makeOpenSSLPair(
                server: pki.serverConfiguration(maximumVersion: tlsVersion, chain: chain),
                client: pki.clientConfiguration(maximumVersion: tlsVersion)
            )
            #expect(Pump().handshake(client: pair.client, server: pair.server).client.isComplete)
            #expect(pair.client.report.negotiatedVersion == tlsVersion)
            #expect(pair.client.report.peerChain == chain, "served \(chain.count) certificates")
        }
    }

    @Test("a reversed chain still verifies (OpenSSL builds the path) and is reported in the served order")
    func reversedChainVerifies() throws {
        let pki = try TestPKI()
        let report = try observedChain(pki, serving: [pki.leaf, pki.root, pki.intermediate])
        #expect(report.peerChain == [pki.leaf, pki.root, pki.intermediate])
        #expect(report.verification?.accepted == true)
    }

    @Test("a leaf-only chain is reported incomplete, with the facts still there")
    func leafOnly() throws {
        let pki = try TestPKI()
        let report = try observedChain(pki, serving: [pki.leaf])
        #expect(report.peerChain == [pki.leaf])
        let verification = try #require(report.verification)
        #expect(!verification.accepted)
        #expect(verification.findings.codes == [.incompleteChain])
        #expect(verification.findings.first?.depth == 0)
        #expect(verification.findings.first?.evidence.contains("CN=mail.example.test") == true)
    }
}
