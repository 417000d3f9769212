import Foundation
import MimicCore
import MimicDialogs
import MimicTLS
import Synchronization
import Testing

@testable import MimicNet

/// The server's own bounds and lifecycle: many connections at once, the connection limit, lifetime and byte
/// caps, and a stop that closes everything and frees the port.
@Suite("Mock server: limits and lifecycle", .timeLimit(.minutes(1)))
struct MockLifecycleTests {
    @Test("fifty concurrent probes are all served", arguments: TLSBackend.allCases)
    func concurrent(_ backend: TLSBackend) async throws {
        let server = try await MockSupport.start(.smtp, .startTLS, backend: backend)
        let chain = try MockSupport.chain("good")
        let target = ProbeTarget(
            host: server.host,
            port: server.port,
            serviceProtocol: .smtp,
            mode: .startTLS,
            serverName: chain.hostname
        )
        let options = ProbeOptions(
            backends: [backend == .openssl ? .gnutls : .openssl],
            trustAnchors: chain.anchors,
            deadlines: ProbeDeadlines(timeout: 10)
        )
        let results = await Prober().probe(Array(repeating: target, count: 50), options: options, concurrency: 50)
        await server.stop()
        let reports = results.flatMap { $0 }
        #expect(reports.count == 50)
        #expect(
            reports.allSatisfy { $0.findings.isEmpty && $0.handshake?.completed == true },
            "\(reports.map(\.findings))"
        )
        #expect(server.openConnections == 0)
    }

    @Test("beyond maxConnections a connection hears 421 too many connections, then the close")
    func connectionLimit() async throws {
        let server = try await MockSupport.start(.smtp, .startTLS) { $0.limits.maxConnections = 2 }
        let port = server.port
        let (served, third) = try await withClient(port: port) { first in
            let second = try? BlockingClient(port: port)
            let greetings = [first, second].compactMap { $0 }.map {
                $0.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
            }
            let third = (try? BlockingClient(port: port))?.read(for: .seconds(5))
            return (greetings, third)
        }
        await server.stop()
        #expect(served.count == 2)
        #expect(served.allSatisfy { $0.end == .stopped && $0.text.hasPrefix("220 ") })
        let refused = try #require(third)
        #expect(refused.text == "421 4.7.0 mail.example.test Error: too many connections\r\n", "\(refused.text)")
        #expect(refused.end == .eof, "\(refused.end)")
    }

    @Test("a connection is closed when its lifetime is up")
    func lifetime() async throws {
        let server = try await MockSupport.start(.imap, .startTLS) { $0.limits.connectionLifetime = 0.3 }
        let trace = try await withClient(port: server.port) { client in client.read(for: .seconds(5)) }
        await server.stop()
        #expect(trace.text.hasPrefix("* OK"))
        // Closed by the server (not the client's own 5 s deadline), and not before the lifetime.
        #expect(trace.end == .eof)
        #expect(trace.elapsed >= .milliseconds(300))
    }

    @Test("a connection is closed after maxBytesReceived")
    func byteLimit() async throws {
        let server = try await MockSupport.start(.smtp, .startTLS) { $0.limits.maxBytesReceived = 64 }
        let trace = try await withClient(port: server.port) { client in
            _ = client.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
            client.send(String(repeating: "NOOP\r\n", count: 20))
            return client.read(for: .seconds(5))
        }
        await server.stop()
        #expect(trace.end == .eof || trace.end == .reset, "\(trace.end)")
    }

    @Test("a stalled connection is closed by the lifetime too, not held for the stall limit")
    func lifetimeEndsAStall() async throws {
        let server = try await MockSupport.start(.smtp, .startTLS) {
            $0.faults = [.stall(in: .greeting)]
            $0.limits.connectionLifetime = 0.3
        }
        let trace = try await withClient(port: server.port) { client in client.read(for: .seconds(5)) }
        await server.stop()
        #expect(trace.chunks.isEmpty)
        // Closed by the server before the client's 5 s deadline (that would end in `.timeout`).
        #expect(trace.end == .eof || trace.end == .reset, "\(trace.end)")
    }

    @Test("stop() closes every connection and data listener, and frees the port")
    func stop() async throws {
        // A port below the kernel's ephemeral range: once freed, no other test's ephemeral bind can take it before
        // this test looks at it again.
        let server = try await MockSupport.startBelowEphemeralRange(.ftp, .none)
        let port = server.port
        let stopped = StopSignal()
        let openBeforeStop = OpenCount()
        let (greeting, passive, end) = try await withClient(port: port) { client in
            let greeting = client.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
            client.send("PASV\r\n")
            let passive = client.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
            stopped.ready()
            let end = client.read(for: .seconds(10))
            return (greeting, passive, end)
        } stopping: {
            await stopped.waitUntilReady()
            openBeforeStop.value = server.openChannels
            await server.stop()
        }
        #expect(openBeforeStop.value == 2, "the control connection and its data listener")
        #expect(server.openChannels == 0)
        #expect(greeting.text.hasPrefix("220 "))
        #expect(passive.text.hasPrefix("227 "), "\(passive.text)")
        #expect(end.end == .eof || end.end == .reset, "\(end.end)")
        if let dataPort = Self.port(fromPASV: passive.text) {
            #expect(await !MockSupport.isListening(port: dataPort), "the data listener is closed")
        } else {
            Issue.record("no port in \(passive.text)")
        }
        #expect(await !MockSupport.isListening(port: port))
        #expect(server.openConnections == 0)
        // The port can be bound again at once.
        let again = try await MockSupport.start(.smtp, .startTLS) { $0.port = port }
        #expect(again.port == port)
        await again.stop()
    }

    @Test("stop() does not wait for replies a fault holds back")
    func stopIsPrompt() async throws {
        let server = try await MockSupport.start(.smtp, .startTLS) {
            $0.faults = [.latency(milliseconds: 60_000, in: .capabilities)]
        }
        let stopped = StopSignal()
        let end = try await withClient(port: server.port) { client in
            _ = client.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
            client.send("EHLO probe.example.test\r\n")
            stopped.ready()
            return client.read(for: .seconds(10))
        } stopping: {
            await stopped.waitUntilReady()
            await server.stop()
        }
        #expect(end.chunks.isEmpty, "the held EHLO reply never went out")
        // The stop closed the connection: the reply held for 60 s and the client's 10 s deadline end otherwise.
        #expect(end.end == .eof || end.end == .reset, "\(end.end)")
    }

    /// The port in `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2).`
    static func port(fromPASV text: String) -> Int? {
        guard let open = text.firstIndex(of: "("), let close = text.firstIndex(of: ")"), open < close else {
            return nil
        }
        let numbers = text[text.index(after: open)..<close].split(separator: ",").compactMap { Int($0) }
        guard numbers.count == 6 else { return nil }
        return numbers[4] * 256 + numbers[5]
    }

    @Test("a data connection that never comes: the transfer fails with 425 at its deadline")
    func dataConnectionDeadline() async throws {
        let server = try await MockSupport.start(.ftp, .none) { $0.limits.dataConnectionTimeout = 0.3 }
        let trace = try await withClient(port: server.port) { client in
            _ = client.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
            client.send("PASV\r\n")
            _ = client.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
            client.send("LIST\r\n")
            return client.read(for: .seconds(5)) { $0.contains("425 ") && $0.hasSuffix("\r\n") }
        }
        await server.stop()
        #expect(trace.end == .stopped, "\(trace.text)")
        #expect(trace.text.hasPrefix("150 ") && trace.text.contains("\r\n425 "), "\(trace.text)")
        #expect(trace.elapsed >= .milliseconds(300))
    }

    @Test("a TLS context that cannot be made fails start()")
    func badConfiguration() async throws {
        let configuration = MockServerConfiguration(
            serviceProtocol: .smtp,
            mode: .implicit,
            tls: MimicTLSConfiguration(role: .server, certificateChain: [[0x30, 0x00]], privateKey: .pem("not a key"))
        )
        await #expect(throws: MockServerError.self) { _ = try await MockServer.start(configuration) }
    }
}

final class OpenCount: Sendable {
    private let count = Mutex(-1)
    var value: Int {
        get { count.withLock { $0 } }
        set { count.withLock { $0 = newValue } }
    }
}

/// Lets a blocking client tell the async side that it is ready for the server to stop.
final class StopSignal: Sendable {
    private let state = Mutex<(isReady: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func ready() {
        let waiter = state.withLock { state in
            state.isReady = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns once `ready()` was called. The client calling it has its own deadlines on every read and calls it
    /// on every path, so the wait is bounded by them.
    func waitUntilReady() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let already = state.withLock { state in
                if !state.isReady { state.waiter = continuation }
                return state.isReady
            }
            if already { continuation.resume() }
        }
    }
}

/// Runs a blocking client on a dispatch thread while `stopping` runs on the async side.
func withClient<T: Sendable, S: Sendable>(
    port: Int,
    _ body: @escaping @Sendable (BlockingClient) -> T,
    stopping: @Sendable () async -> S
) async throws -> T {
    async let client = withClient(port: port, body)
    _ = await stopping()
    return try await client
}
