import MimicCore
import MimicTLS
import Testing

@testable import MimicNet

/// Step 3 of the enumeration as a state machine, fed answers by hand: what it offers next, what it records, and
/// where it gives up to single offers. The real handshakes are `EnumerationCrossCheckTests`' business.
@Suite("Enumeration: the elimination of suites")
struct SuiteEliminationTests {
    /// A chain of every TLS 1.2 RSA-kind suite `backend` has, and its first offer.
    static func start(
        _ backend: TLSBackend
    ) throws -> (all: [TLSSuiteCandidate], chain: SuiteElimination, offer: [TLSSuiteCandidate]) {
        let all = TLSBackends.offerableSuites(backend).filter {
            $0.usable(at: .tls1_2) && Enumerator.authentication($0) == "RSA"
        }
        let chain = SuiteElimination(backend: backend, version: .tls1_2, suites: all)
        return (all, chain, try #require(chain.nextOffer()))
    }

    static func handshake(
        _ backend: TLSBackend, suite: String?, completed: Bool, alert: TLSAlert? = nil
    ) -> HandshakeReport {
        var report = HandshakeReport(backend: backend, libraryVersion: "test", role: .client)
        report.completed = completed
        report.cipherSuite = suite
        report.negotiatedVersion = suite == nil ? nil : .tls1_2
        report.alertReceived = alert
        return report
    }

    static let handshakeFailure = TLSAlert(code: 40)

    @Test("OpenSSL: each pick leaves the next offer; a refusal ends the chain with the rest refused")
    func openSSLChain() throws {
        let (all, started, first) = try Self.start(.openssl)
        var chain = started
        #expect(first == all)
        let picked = all[3]
        let records = chain.answered(
            first, completed: true, handshake: Self.handshake(.openssl, suite: picked.name, completed: true))
        #expect(records.map(\.candidate) == [picked])
        #expect(records.first?.handshake?.cipherSuite == picked.name)
        let second = try #require(chain.nextOffer())
        #expect(second.count == all.count - 1 && !second.contains(picked))
        let refused = chain.answered(
            second, completed: false,
            handshake: Self.handshake(.openssl, suite: nil, completed: false, alert: Self.handshakeFailure))
        #expect(refused.count == all.count - 1 && refused.allSatisfy { $0.handshake == nil })
        #expect(chain.nextOffer() == nil && !chain.fallback && chain.remaining.isEmpty)
    }

    @Test("a handshake that failed after the server chose records that suite refused and goes on")
    func failedAfterChoice() throws {
        let (all, started, offer) = try Self.start(.openssl)
        var chain = started
        let records = chain.answered(
            offer, completed: false, handshake: Self.handshake(.openssl, suite: all[0].name, completed: false))
        #expect(records.map(\.candidate) == [all[0]] && records[0].handshake == nil)
        #expect(chain.nextOffer()?.count == all.count - 1)
    }

    @Test("what cannot be told falls back to single offers")
    func fallback() throws {
        // A failure with no suite and no alert: the server may have chosen.
        let (all, started, first) = try Self.start(.openssl)
        var silent = started
        var offer = first
        #expect(
            silent.answered(offer, completed: false, handshake: Self.handshake(.openssl, suite: nil, completed: false))
                .isEmpty)
        #expect(silent.fallback && silent.nextOffer() == nil && silent.remaining == all)
        // A suite picked twice.
        var twice = started
        offer = first
        _ = twice.answered(
            offer, completed: true, handshake: Self.handshake(.openssl, suite: all[0].name, completed: true))
        offer = try #require(twice.nextOffer())
        #expect(
            twice.answered(
                offer, completed: true, handshake: Self.handshake(.openssl, suite: all[0].name, completed: true)
            ).isEmpty)
        #expect(twice.fallback && twice.remaining.count == all.count - 1)
        // One suite offered is the single offer itself, whatever the server names.
        var single = SuiteElimination(backend: .openssl, version: .tls1_2, suites: [all[0]])
        offer = try #require(single.nextOffer())
        let records = single.answered(
            offer, completed: true, handshake: Self.handshake(.openssl, suite: "SOMETHING_ELSE", completed: true))
        #expect(records.map(\.candidate) == [all[0]] && records[0].handshake?.cipherSuite == "SOMETHING_ELSE")
    }

    @Test("GnuTLS: the next offer's keywords bring back no suite the server picked")
    func gnuTLSKeywords() throws {
        let (all, started, first) = try Self.start(.gnutls)
        var chain = started
        var offer = first
        #expect(offer == all)
        var picked: [TLSSuiteCandidate] = []
        for _ in 0..<3 {
            let pick = offer[offer.count / 2]
            picked.append(pick)
            let name = SuiteElimination.ianaName(gnuTLS: pick)
            #expect(
                chain.answered(offer, completed: true, handshake: Self.handshake(.gnutls, suite: name, completed: true))
                    .map(\.candidate) == [pick])
            offer = try #require(chain.nextOffer())
            let keywords = (0..<3).map { index in Set(offer.map { $0.offer[index] }) }
            for old in picked {
                #expect(!(0..<3).allSatisfy { keywords[$0].contains(old.offer[$0]) }, "\(old.name) offered again")
            }
            #expect(!offer.isEmpty)
        }
    }

    @Test("GnuTLS suite names in IANA's spelling agree with OpenSSL's names for every code both have")
    func gnuTLSNames() {
        let openssl = Dictionary(
            TLSBackends.offerableSuites(.openssl).map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
        var compared = 0
        for suite in TLSBackends.offerableSuites(.gnutls) {
            guard let known = openssl[suite.code] else { continue }
            compared += 1
            // IANA calls ChaCha20 suites `…_POLY1305_SHA256`; GnuTLS leaves the hash out, and OpenSSL's name is used.
            if suite.name.hasSuffix("CHACHA20_POLY1305") { continue }
            #expect(SuiteElimination.ianaSpelling(gnuTLSName: suite.name) == known, "\(suite.name)")
        }
        #expect(compared > 30)
        #expect(
            SuiteElimination.ianaSpelling(gnuTLSName: "TLS_RSA_3DES_EDE_CBC_SHA1") == "TLS_RSA_WITH_3DES_EDE_CBC_SHA")
        #expect(
            SuiteElimination.ianaSpelling(gnuTLSName: "TLS_DH_ANON_ARCFOUR_128_MD5") == "TLS_DH_anon_WITH_RC4_128_MD5")
        #expect(SuiteElimination.ianaSpelling(gnuTLSName: "TLS_AES_128_GCM_SHA256") == "TLS_AES_128_GCM_SHA256")
    }
}
