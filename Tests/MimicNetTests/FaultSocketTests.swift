import Dispatch
import Foundation
import MimicCore
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import MimicNet

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Faults on real TCP sockets on 127.0.0.1: a NIO server with the fault handler in front of a tiny greeting
/// dialog, and a blocking POSIX client with a deadline on every read. Times are asserted as lower bounds only.
@Suite("Network faults: real sockets", .timeLimit(.minutes(1)))
struct FaultSocketTests {
    static let greeting = "220 mimic.test ESMTP ready\r\n"

    @Test func latencyDelaysTheGreeting() async throws {
        let server = try await FaultServer.start(faults: [.latency(milliseconds: 200, in: .greeting)])
        let trace = try await withClient(port: server.port) { client in
            client.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
        }
        await server.stop()
        #expect(trace.text == Self.greeting)
        let first = try #require(trace.chunks.first)
        #expect(first.at >= .milliseconds(200))
    }

    @Test func trickleSpreadsTheGreetingOverTime() async throws {
        let greeting = "220 slow\r\n"  // 10 bytes: 5 pieces of 2, 4 intervals apart at least
        let server = try await FaultServer.start(
            faults: [.trickle(bytes: 2, intervalMilliseconds: 60)],
            greeting: greeting
        )
        let trace = try await withClient(port: server.port) { client in
            client.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
        }
        await server.stop()
        #expect(trace.text == greeting)
        #expect(trace.chunks.count >= 2)
        let last = try #require(trace.chunks.last)
        #expect(last.at >= .milliseconds(4 * 60))
    }

    @Test func sliceDeliversEveryByteInOrder() async throws {
        let server = try await FaultServer.start(faults: [.slice(bytes: 1)])
        let trace = try await withClient(port: server.port) { client in
            client.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
        }
        await server.stop()
        #expect(trace.text == Self.greeting)
        #expect(trace.end == .stopped)
    }

    @Test func stallSendsNothingAndReadsNothing() async throws {
        let server = try await FaultServer.start(faults: [.stall(in: .greeting)])
        let trace = try await withClient(port: server.port) { client in
            client.send("EHLO probe.test\r\n")
            return client.read(for: .milliseconds(300))
        }
        // stop() returns once every connection closed and its handlers ran: nothing read by then, nothing read.
        await server.stop()
        #expect(trace.end == .timeout)
        #expect(trace.chunks.isEmpty)
        #expect(server.received.value == 0)
    }

    @Test func aStallEndsWithACloseAtTheStallLimit() async throws {
        let server = try await FaultServer.start(faults: [.stall()], stallLimit: .milliseconds(200))
        let trace = try await withClient(port: server.port) { client in
            client.read(for: .seconds(5))
        }
        await server.stop()
        #expect(trace.end == .eof)
        #expect(trace.chunks.isEmpty)
        #expect(trace.elapsed >= .milliseconds(200))
    }

    @Test func resetGivesTheClientAConnectionResetInsteadOfAGreeting() async throws {
        let server = try await FaultServer.start(faults: [.reset(in: .greeting)])
        let trace = try await withClient(port: server.port) { client in
            client.read(for: .seconds(5))
        }
        await server.stop()
        #expect(trace.end == .reset)
        #expect(trace.chunks.isEmpty)
    }

    @Test func closeAfterSendsExactlyNBytesThenEOF() async throws {
        let server = try await FaultServer.start(faults: [.closeAfter(bytes: 5)])
        let trace = try await withClient(port: server.port) { client in
            client.read(for: .seconds(5))
        }
        await server.stop()
        #expect(trace.text == String(Self.greeting.prefix(5)))
        #expect(trace.end == .eof)
    }

    @Test func aPostTLSCloseAfterLeavesTheGreetingAloneThenCuts() async throws {
        let server = try await FaultServer.start(faults: [.closeAfter(bytes: 3, in: .postTLS)])
        let (greeting, after) = try await withClient(port: server.port) { client in
            let greeting = client.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
            client.send("GO\r\n")
            return (greeting, client.read(for: .seconds(5)))
        }
        await server.stop()
        #expect(greeting.text == Self.greeting)
        #expect(greeting.end == .stopped)
        #expect(after.text == "250")
        #expect(after.end == .eof)
    }

    @Test func aPostTLSResetLeavesTheGreetingAloneThenResets() async throws {
        let server = try await FaultServer.start(faults: [.reset(in: .postTLS)])
        let (greeting, after) = try await withClient(port: server.port) { client in
            let greeting = client.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
            client.send("GO\r\n")
            return (greeting, client.read(for: .seconds(5)))
        }
        await server.stop()
        #expect(greeting.text == Self.greeting)
        #expect(after.end == .reset)
        #expect(after.chunks.isEmpty)
    }
}

// MARK: - Server

/// Bytes the server's dialog received; read from the test's thread, written on the event loop.
final class ReceivedBytes: Sendable {
    private let count = Mutex(0)

    var value: Int { count.withLock { $0 } }
    func add(_ bytes: Int) { count.withLock { $0 += bytes } }
}

/// A stand-in for a mail server's dialog: greets, and on `GO` moves to post-TLS and answers.
private final class GreetingDialog: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let faults: NetworkFaultHandler
    private let greeting: String
    private let received: ReceivedBytes
    private var line = ""

    init(faults: NetworkFaultHandler, greeting: String, received: ReceivedBytes) {
        self.faults = faults
        self.greeting = greeting
        self.received = received
    }

    func channelActive(context: ChannelHandlerContext) {
        faults.enter(.greeting)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: greeting)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        received.add(buffer.readableBytes)
        line += String(buffer: buffer)
        guard line.count < 1024 else {
            context.close(promise: nil)
            return
        }
        if line.hasSuffix("GO\r\n") {
            line = ""
            faults.enter(.postTLS)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "250 after the upgrade\r\n")), promise: nil)
        }
    }
}

private struct FaultServer {
    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    let port: Int
    let received: ReceivedBytes

    static func start(
        faults: [NetworkFault],
        greeting: String = FaultSocketTests.greeting,
        stallLimit: TimeAmount = .seconds(30)
    ) async throws -> FaultServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let received = ReceivedBytes()
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let faultHandler = NetworkFaultHandler(faults: faults, stallLimit: stallLimit)
                        let dialog = GreetingDialog(faults: faultHandler, greeting: greeting, received: received)
                        try channel.pipeline.syncOperations.addHandlers([faultHandler, dialog])
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .get()
            let port = try #require(channel.localAddress?.port)
            return FaultServer(group: group, channel: channel, port: port, received: received)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    func stop() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

// MARK: - Client

/// What a client saw: the reads with their times since connect, and how reading ended.
struct ReadTrace: Sendable {
    enum End: Sendable, Equatable {
        case stopped
        case eof
        case reset
        case timeout
        case error(Int32)
    }

    struct Chunk: Sendable {
        var bytes: [UInt8]
        var at: Duration
    }

    var chunks: [Chunk] = []
    var end: End = .timeout
    var elapsed: Duration = .zero

    var text: String { String(decoding: chunks.flatMap(\.bytes), as: UTF8.self) }
}

enum ClientError: Error {
    case socket(Int32)
    case connect(Int32)
}

/// A blocking TCP client; every read has a deadline, enforced with poll(2).
final class BlockingClient {
    private let fd: Int32
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant

    init(port: Int) throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw ClientError.socket(errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        // Time starts before connect: the server cannot have sent anything earlier.
        started = clock.now
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            _ = close(fd)
            throw ClientError.connect(error)
        }
        self.fd = fd
    }

    deinit { _ = close(fd) }

    func send(_ text: String) {
        var bytes = Array(text.utf8)
        #if canImport(Glibc)
        _ = Glibc.send(fd, &bytes, bytes.count, Int32(MSG_NOSIGNAL))
        #else
        _ = Darwin.send(fd, &bytes, bytes.count, 0)
        #endif
    }

    /// Reads until `stop` holds for the text so far, EOF, an error, or `timeout` from now.
    func read(for timeout: Duration, stop: (String) -> Bool = { _ in false }) -> ReadTrace {
        var trace = ReadTrace()
        var all: [UInt8] = []
        let deadline = clock.now + timeout
        func finish(_ end: ReadTrace.End) -> ReadTrace {
            trace.end = end
            trace.elapsed = clock.now - started
            return trace
        }
        while true {
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else {
                return finish(.timeout)
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let (seconds, attoseconds) = remaining.components
            let milliseconds = Int32(clamping: max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                return finish(.error(errno))
            }
            if ready == 0 { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                let bytes = Array(buffer[0..<count])
                all += bytes
                trace.chunks.append(.init(bytes: bytes, at: clock.now - started))
                if stop(String(decoding: all, as: UTF8.self)) {
                    return finish(.stopped)
                }
            } else if count == 0 {
                return finish(.eof)
            } else {
                let error = errno
                if error == EINTR || error == EAGAIN { continue }
                return finish(error == ECONNRESET ? .reset : .error(error))
            }
        }
    }
}

/// Runs a blocking client on a dispatch thread, off the Swift concurrency pool.
func withClient<T: Sendable>(port: Int, _ body: @escaping @Sendable (BlockingClient) -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body(BlockingClient(port: port)) })
        }
    }
}
