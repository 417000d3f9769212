import Foundation
import MimicCore
import MimicTLS
import Testing

@testable import MimicNet

/// Enumeration ends a group's handshake at a TLS 1.3 server's hello: the answer (version, suite, group) is the one
/// the whole handshake gives, over a real socket, for both libraries on both sides. What the hello cannot answer
/// (an older version's hello, a HelloRetryRequest, a refusal) goes to the engine as before.
@Suite("Probe: a handshake stopped at the server's hello")
struct ProbeStopAtServerHelloTests {
    func probe(
        _ server: MockServer, client: TLSBackend, offer: ProbeOffer, stop: Bool
    ) async throws -> ProbeReport? {
        let chain = try MockSupport.chain("good")
        let target = ProbeTarget(
            host: server.host, port: server.port, serviceProtocol: .smtp, mode: .startTLS,
            serverName: chain.hostname)
        var options = ProbeOptions(
            backends: [client], trustAnchors: chain.anchors, deadlines: ProbeDeadlines(timeout: 5))
        options.offer = offer
        options.stopAtServerHello = stop
        return await Prober().probe(target, options: options).first
    }

    @Test("TLS 1.3: the hello's answer is the handshake's", arguments: TLSBackend.allCases, TLSBackend.allCases)
    func sameAnswer(server backend: TLSBackend, client: TLSBackend) async throws {
        let server = try await MockSupport.start(.smtp, .startTLS, backend: backend)
        defer { Task { await server.stop() } }
        for group in ["x25519", "secp256r1", "ffdhe2048"] {
            let offer = ProbeOffer.everything(client, at: .tls1_3, groups: [group])
            let stoppedReport = try #require(try await probe(server, client: client, offer: offer, stop: true))
            let stopped = try #require(stoppedReport.handshake)
            let whole = try #require(try await probe(server, client: client, offer: offer, stop: false)?.handshake)
            #expect(
                stopped.endedAtServerHello && !stopped.completed, "\(group): \(String(describing: stopped.failure))")
            #expect(whole.completed && !whole.endedAtServerHello)
            #expect(stopped.keyExchangeGroup == group)
            #expect(stopped.keyExchangeGroup == whole.keyExchangeGroup)
            #expect(stopped.negotiatedVersion == whole.negotiatedVersion)
            #expect(stopped.cipherSuite == whole.cipherSuite)
            #expect(stopped.peerChain.isEmpty && stopped.verification == nil, "nothing after the hello was read")
            #expect(Enumerator.answer(stoppedReport).isAccepted, "enumeration counts the group as taken")
        }
    }

    @Test("what the hello cannot answer is left to the handshake", arguments: TLSBackend.allCases)
    func leftToTheEngine(client: TLSBackend) async throws {
        // A TLS 1.2 server: its hello names no group; the handshake goes on and completes.
        let legacy = try await MockSupport.start(.smtp, .startTLS) { $0.tls.maximumVersion = .tls1_2 }
        defer { Task { await legacy.stop() } }
        let offer12 = ProbeOffer.everything(client, at: .tls1_2, groups: ["secp256r1"])
        let old = try #require(try await probe(legacy, client: client, offer: offer12, stop: true)?.handshake)
        #expect(old.completed && !old.endedAtServerHello)
        // A group the server does not take: its refusal reaches the engine, which fails the handshake.
        let picky = try await MockSupport.start(.smtp, .startTLS) { $0.tls.groups = ["x25519"] }
        defer { Task { await picky.stop() } }
        let refused = try #require(
            try await probe(
                picky, client: client, offer: .everything(client, at: .tls1_3, groups: ["ffdhe2048"]), stop: true)?
                .handshake)
        #expect(!refused.completed && !refused.endedAtServerHello && refused.failure != nil)
    }

    @Test("a hello cut short by the server's close fails as it does without the stop", arguments: TLSBackend.allCases)
    func cutHello(client: TLSBackend) async throws {
        // The first 60 bytes of the first flight, then a close: the bytes held for the reader go to the engine, and
        // the failure is the one a probe without the stop reports.
        let server = try await MockSupport.start(.smtp, .startTLS) {
            $0.tls.closeMidHandshake = .afterServerHello(bytes: 60)
        }
        defer { Task { await server.stop() } }
        let offer = ProbeOffer.everything(client, at: .tls1_3, groups: ["x25519"])
        let stopped = try #require(try await probe(server, client: client, offer: offer, stop: true)?.handshake)
        let whole = try #require(try await probe(server, client: client, offer: offer, stop: false)?.handshake)
        #expect(!stopped.completed && !stopped.endedAtServerHello)
        #expect(stopped.failure?.kind == whole.failure?.kind)
        #expect(stopped.failure?.libraryError == whole.failure?.libraryError)
    }

    @Test("enumeration stops at the hello for group offers at TLS 1.3 only")
    func whichJobs() {
        func job(_ version: MimicTLSVersion, _ purpose: Enumerator.Job.Purpose) -> Enumerator.Job {
            Enumerator.Job(
                backend: .openssl, offer: .everything(.openssl, at: version, groups: ["x25519"]), purpose: purpose)
        }
        #expect(job(.tls1_3, .group("x25519")).stopAtServerHello)
        #expect(!job(.tls1_2, .group("x25519")).stopAtServerHello)
        #expect(!job(.tls1_3, .version(.tls1_3)).stopAtServerHello)
        #expect(TLSGroups.name(wireValue: 0x0102) == "ffdhe4096")
        #expect(TLSGroups.name(wireValue: 0x6399) == "group_0x6399")
    }

    @Test("a HelloRetryRequest goes to the engine, which completes the handshake")
    func helloRetry() async throws {
        // OpenSSL's client shares a key for its first group only; the server takes only the second and asks again.
        let server = try await MockSupport.start(.smtp, .startTLS) { $0.tls.groups = ["secp256r1"] }
        defer { Task { await server.stop() } }
        let offer = ProbeOffer.everything(.openssl, at: .tls1_3, groups: ["x25519", "secp256r1"])
        let report = try #require(try await probe(server, client: .openssl, offer: offer, stop: true)?.handshake)
        #expect(report.completed && !report.endedAtServerHello)
        #expect(report.keyExchangeGroup == "secp256r1")
    }
}

extension Enumerator.Answer {
    var isAccepted: Bool { if case .accepted = self { true } else { false } }
}
