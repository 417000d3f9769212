import Foundation
import MimicCore
import MimicTLS
import NIOCore
import NIOPosix
import Testing

@testable import MimicNet

/// `Prober.probeFuture` is the probe itself (the async `probe` waits on it): every step on the event loops, the
/// reports in the order of the backends, and a future that never fails, whatever the server does. A probe process
/// waits on it from its main thread, outside Swift concurrency.
@Suite("Probe: the future-based probe")
struct ProbeFutureTests {
    func target(_ server: MockServer, hostname: String) -> ProbeTarget {
        ProbeTarget(
            host: server.host, port: server.port, serviceProtocol: .smtp, mode: .startTLS, serverName: hostname)
    }

    /// Waits on a future from a thread of its own, as `mimic probe` waits on it from its main thread.
    func waitedFromAThread<Value: Sendable>(_ future: EventLoopFuture<Value>) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try future.wait() }) }
        }
    }

    @Test("both backends' reports, in the backends' order, waited on outside the concurrency pool")
    func bothBackends() async throws {
        let chain = try MockSupport.chain("good")
        let server = try await MockSupport.start(.smtp, .startTLS)
        defer { Task { await server.stop() } }
        for backends in [[TLSBackend.openssl, .gnutls], [.gnutls, .openssl], [.gnutls]] {
            let options = ProbeOptions(
                backends: backends, trustAnchors: chain.anchors, deadlines: ProbeDeadlines(timeout: 5))
            let future = Prober().probeFuture(target(server, hostname: chain.hostname), options: options)
            let reports = try await waitedFromAThread(future)
            #expect(reports.map(\.backend) == backends)
            for report in reports {
                #expect(report.handshake?.completed == true, "\(report.backend): \(report.findings)")
                #expect(report.verdict.codes.isEmpty, "\(report.backend): \(report.findings)")
                #expect(report.timings.map(\.phase).first == .connect)
            }
        }
    }

    @Test("a refused connection is each backend's report, not a failed future")
    func refused() async throws {
        // A port that was just free: bound, read and closed again.
        let socket = try await ServerBootstrap(group: MimicEventLoops.shared).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(socket.localAddress?.port)
        try await socket.close()
        let closed = ProbeTarget(
            host: "127.0.0.1", port: port, serviceProtocol: .smtp, mode: .startTLS, serverName: "mail.example.test")
        let options = ProbeOptions(
            backends: [.openssl, .gnutls], trustAnchors: [], deadlines: ProbeDeadlines(timeout: 5))
        let reports = try await waitedFromAThread(Prober().probeFuture(closed, options: options))
        #expect(reports.map(\.backend) == [.openssl, .gnutls])
        for report in reports {
            #expect(report.findings.map(\.code) == [.refused], "\(report.backend): \(report.findings)")
            #expect(report.timings.map(\.phase) == [.connect])
        }
    }

    /// `mimic probe` calls `prepare` on its main thread while the probe runs on the loops: whatever the trust
    /// anchors (none, bytes that are no certificate), it returns, and the probe beside it reaches its verdict:
    /// the server's chain trusted through the right anchor only.
    @Test("prepare, beside the probe, with any anchors", arguments: [[UInt8]]([[], [0x30, 0x03, 0x02, 0x01]]))
    func prepareBeside(junk: [UInt8]) async throws {
        let chain = try MockSupport.chain("good")
        let server = try await MockSupport.start(.smtp, .startTLS)
        defer { Task { await server.stop() } }
        let probed = target(server, hostname: chain.hostname)
        for anchors in [[], [junk], chain.anchors] {
            let options = ProbeOptions(
                backends: [.openssl, .gnutls], trustAnchors: anchors, deadlines: ProbeDeadlines(timeout: 5))
            let future = Prober().probeFuture(probed, options: options)
            Prober.prepare(for: probed, options: options)
            let reports = try await waitedFromAThread(future)
            for report in reports {
                #expect(report.handshake?.completed == true, "\(report.findings)")
                #expect(report.verdict.codes.isEmpty == (anchors == chain.anchors), "\(report.findings)")
            }
        }
    }

    /// `mimic probe`'s main thread makes the connections' contexts while they speak their plaintext dialog: given
    /// `ProbeContexts`, a connection takes its context from there (unmade, the connection makes it there itself),
    /// and a probe whose contexts were made ahead reaches the same reports, its trust anchors whatever they are.
    @Test("the connections take their contexts from ProbeContexts, made ahead or not")
    func sharedContexts() async throws {
        let chain = try MockSupport.chain("good")
        let server = try await MockSupport.start(.smtp, .startTLS)
        defer { Task { await server.stop() } }
        let probed = target(server, hostname: chain.hostname)
        for (anchors, ahead) in [(chain.anchors, false), (chain.anchors, true), ([], true), ([[0x30, 0x00]], true)] {
            let options = ProbeOptions(
                backends: [.openssl, .gnutls], trustAnchors: anchors, deadlines: ProbeDeadlines(timeout: 5))
            let contexts = ProbeContexts(probed, options: options)
            let future = Prober().probeFuture(probed, options: options, contexts: contexts)
            if ahead { Prober.prepare(for: probed, options: options, contexts: contexts) }
            let reports = try await waitedFromAThread(future)
            #expect(reports.map(\.backend) == [.openssl, .gnutls])
            for report in reports {
                #expect(contexts.isMade(report.backend), "\(report.backend) made its own context")
                #expect(report.handshake?.completed == true, "\(report.findings)")
                #expect(report.verdict.codes.isEmpty == (anchors == chain.anchors), "\(report.findings)")
            }
        }
    }

    /// Where a context is made, by whom and when, is the probe's business, not the report's.
    enum ContextMaking: CaseIterable {
        /// By the caller's task, before connecting (`probe`).
        case beforeConnecting
        /// By the connection, as its handshake starts (`probeFuture`).
        case onTheLoop
        /// By the caller's thread while the connection speaks its plaintext dialog (`ProbeContexts`, as `mimic
        /// probe`'s main thread does); here before it connects.
        case ahead
    }

    /// The caller's task makes the context before connecting; the future-based probe connects at once and makes it
    /// as the handshake starts, or takes it from `ProbeContexts`, made ahead. Every way, the report is the same:
    /// this side's failure, and nothing of what the connection did.
    @Test(
        "a context the library cannot make is reported alike, wherever it is made",
        arguments: TLSBackend.allCases, ContextMaking.allCases)
    func unbuildable(backend: TLSBackend, making: ContextMaking) async throws {
        let chain = try MockSupport.chain("good")
        let server = try await MockSupport.start(.smtp, .startTLS)
        defer { Task { await server.stop() } }
        var options = ProbeOptions(
            backends: [backend], trustAnchors: chain.anchors, deadlines: ProbeDeadlines(timeout: 5))
        options.offer = ProbeOffer(
            minimumVersion: .tls1_2, maximumVersion: .tls1_2, cipherList: "NO-SUCH-CIPHER",
            priority: "NO-SUCH-KEYWORD")
        let probed = target(server, hostname: chain.hostname)
        let reports: [ProbeReport]
        switch making {
        case .beforeConnecting: reports = await Prober().probe(probed, options: options)
        case .onTheLoop: reports = try await waitedFromAThread(Prober().probeFuture(probed, options: options))
        case .ahead:
            let contexts = ProbeContexts(probed, options: options)
            contexts.make()
            #expect(contexts.isMade(backend))
            reports = try await waitedFromAThread(Prober().probeFuture(probed, options: options, contexts: contexts))
        }
        let report = try #require(reports.first)
        #expect(report.findings.map(\.code) == [.handshakeFailure], "\(report.findings)")
        #expect(report.findings.first?.severity == .unknown, "a local failure, not the server's")
        #expect(report.timings.isEmpty && report.transcript.isEmpty, "\(report.timings) \(report.transcript)")
        #expect(report.handshake == nil)
    }
}

@Suite("Event loops sized for a probe's connections")
struct SizedEventLoopsTests {
    @Test("one loop per connection, at most one per core, each size made once")
    func sized() {
        let one = MimicEventLoops.group(forConnections: 1)
        #expect(Array(one.makeIterator()).count == 1)
        let two = MimicEventLoops.group(forConnections: 2)
        #expect(Array(two.makeIterator()).count == min(2, System.coreCount))
        let many = MimicEventLoops.group(forConnections: 10_000)
        #expect(Array(many.makeIterator()).count == System.coreCount)
        #expect(MimicEventLoops.group(forConnections: 1) === one)
        #expect(MimicEventLoops.group(forConnections: 0) === one)
        #expect(TickCounter.shared.ticks(of: one.next()) != nil, "the loops count their ticks for the deadlines")
    }

    @Test("the runnable threads, read from /proc/loadavg's text; nil for anything else")
    func runnable() {
        func parse(_ text: String) -> Int? { MimicEventLoops.runnableThreads(loadavg: ArraySlice(Array(text.utf8))) }
        #expect(parse("0.65 1.21 1.28 3/114 16361\n") == 3)
        #expect(parse("12.00 9.50 4.25 130/2048 99") == 130)
        let malformed = [
            "", "0.65 1.21 1.28", "0.65 1.21 1.28 /114 1", "0.65 1.21 1.28 x/114 1", "1 2 3 4", "1 2 3 -1/5 6",
            "1 2 3 99999999999999999999/5 6",
        ]
        for text in malformed { #expect(parse(text) == nil, "\(text)") }
        #expect(MimicEventLoops.runnableThreads(loadavg: "/nonexistent/loadavg") == nil)
        let idle = try? #require(MimicEventLoops.idleCores(), "Linux has /proc/loadavg")
        #expect(idle.map { (0...System.coreCount).contains($0) } == true)
    }
}
