import Foundation
import MimicCore
import MimicDialogs
import MimicTLS
import NIOCore
import NIOPosix
import Testing

@testable import MimicNet

#if canImport(Glibc)
import Glibc
#endif

/// Hostile peers against the connection limit: a thousand slow-loris clients, the refusal each protocol answers
/// beyond the limit, and what the probe makes of it.
///
/// Ordering without sleeps: a client's connect completes once the kernel has queued the connection on the
/// listening socket, and a listener accepts in queue order; so a connection opened after every held one's connect
/// completed is admitted (or refused) after all of them. The held connections stay: their idle timeout is the
/// protocol's (minutes), far beyond the suite's time limit.
@Suite("Mock server: connection limit and idle timeout", .serialized, .timeLimit(.minutes(2)))
struct MockConnectionLimitTests {
    static let slowLorisCount = 1000

    @Test("1000 slow-loris clients, limit 100: 100 are greeted, 900 hear 421, the probe is refused (greetingRejected)")
    func slowLorisOverTheLimit() async throws {
        try FileDescriptors.ensure(atLeast: 2 * Self.slowLorisCount + 256)
        let server = try await MockSupport.start(.smtp, .startTLS) { $0.limits.maxConnections = 100 }
        let clients = try await SlowLoris.connect(
            count: Self.slowLorisCount, port: server.port, firstByte: UInt8(ascii: "E"))
        let firstLines = try await clients.firstLines()
        let reports = try await MockSupport.probe(server)
        let held = server.openConnections
        await clients.close()
        await server.stop()

        #expect(firstLines.filter { $0.hasPrefix("220 ") }.count == 100)
        let refused = firstLines.filter { $0.hasPrefix("421 4.7.0 mail.example.test Error: too many connections") }
        #expect(refused.count == Self.slowLorisCount - 100, "\(Set(firstLines.map { $0.prefix(40) }))")
        #expect(held == 100)
        #expect(reports.count == 2)
        for report in reports {
            #expect(report.findings.map(\.code) == [.greetingRejected], "\(report.backend): \(report.findings)")
            #expect(report.findings.first?.evidence.contains("too many connections") == true)
        }
    }

    @Test("1000 slow-loris clients, limit 1100: every one is greeted and the probe passes")
    func slowLorisUnderTheLimit() async throws {
        try FileDescriptors.ensure(atLeast: 2 * Self.slowLorisCount + 256)
        let server = try await MockSupport.start(.smtp, .startTLS) { $0.limits.maxConnections = 1100 }
        let clients = try await SlowLoris.connect(
            count: Self.slowLorisCount, port: server.port, firstByte: UInt8(ascii: "E"))
        let firstLines = try await clients.firstLines()
        let reports = try await MockSupport.probe(server)
        await clients.close()
        await server.stop()

        #expect(firstLines.allSatisfy { $0.hasPrefix("220 ") }, "\(Set(firstLines.map { $0.prefix(40) }))")
        #expect(reports.count == 2)
        for report in reports {
            #expect(report.findings.isEmpty, "\(report.backend): \(report.findings)")
            #expect(report.handshake?.completed == true)
        }
    }

    /// The verdict a probe reaches against a mock at its limit, per protocol and mode.
    static let refusals: [(ServiceProtocol, TLSMode, [FindingCode], String)] = [
        (.smtp, .startTLS, [.greetingRejected], "421 4.7.0"),
        (.smtp, .implicit, [.greetingRejected], "421 4.7.0"),
        (.imap, .startTLS, [.greetingRejected], "* BYE Too many connections"),
        (.imap, .implicit, [.greetingRejected], "* BYE Too many connections"),
        (.pop3, .startTLS, [.greetingRejected], "-ERR [SYS/TEMP] Too many connections"),
        (.pop3, .implicit, [.greetingRejected], "-ERR [SYS/TEMP] Too many connections"),
        (.ftp, .startTLS, [.greetingRejected], "421 Too many connections"),
        (.ftp, .implicit, [.greetingRejected], "421 Too many connections"),
        // LDAP's first request is the StartTLS request: its only answer is the notice, which refuses the upgrade.
        (.ldap, .startTLS, [.startTLSRejected], "Notice of Disconnection: unavailable (52): Too many connections"),
        (.ldap, .implicit, [.greetingRejected], "Notice of Disconnection: unavailable (52): Too many connections"),
        // nginx: the handshake, then 503 to the request. The probe checks TLS: its facts are all there, and the
        // status is in the report.
        (.https, .implicit, [], ""),
    ]

    @Test("at the limit each protocol refuses as its real server does", arguments: Self.refusals)
    func refusal(_ serviceProtocol: ServiceProtocol, _ mode: TLSMode, codes: [FindingCode], words: String) async throws
    {
        let server = try await MockSupport.start(serviceProtocol, mode) { $0.limits.maxConnections = 1 }
        let held = try await SlowLoris.connect(count: 1, port: server.port, firstByte: nil)
        let reports = try await MockSupport.probe(server, backends: [.openssl])
        await held.close()
        await server.stop()
        let report = try #require(reports.first)
        #expect(report.findings.map(\.code) == codes, "\(report.findings) \(report.transcript)")
        if let finding = report.findings.first {
            #expect(finding.evidence.contains(words), "\(finding.evidence)")
        }
        if mode == .implicit {
            // The refusal went out inside TLS, after a handshake, as a real server's does.
            #expect(report.handshake?.completed == true)
        }
        if serviceProtocol == .https { #expect(report.dialog?.httpStatus == 503) }
    }

    @Test("a refusal never waits longer than the refusal lifetime, and a flood beyond maxRefusals is dropped")
    func refusalsAreBounded() async throws {
        let server = try await MockSupport.start(.imap, .implicit) {
            $0.limits.maxConnections = 1
            $0.limits.maxRefusals = 2
        }
        // One served, two being refused (silent: their handshakes wait), the fourth dropped on accept.
        let held = try await SlowLoris.connect(count: 3, port: server.port, firstByte: 0x16)
        let fourth = try await withClient(port: server.port) { $0.read(for: .seconds(5)) }
        let refusing = server.openRefusals
        await held.close()
        await server.stop()
        #expect(refusing == 2)
        #expect(fourth.chunks.isEmpty && (fourth.end == .eof || fourth.end == .reset), "\(fourth.end)")
    }

    @Test("a connection silent for the idle timeout is closed after its greeting")
    func idleTimeout() async throws {
        let server = try await MockSupport.start(.pop3, .startTLS) { $0.limits.idleTimeout = 0.3 }
        let trace = try await withClient(port: server.port) { client in client.read(for: .seconds(10)) }
        await server.stop()
        #expect(trace.text.hasPrefix("+OK"))
        #expect(trace.end == .eof, "\(trace.end)")
    }

    @Test("the idle timeout defaults to the protocol's real server, and the default lifetime outlasts it")
    func idleDefaults() throws {
        let expected: [ServiceProtocol: Double] = [
            .smtp: 300, .imap: 180, .pop3: 180, .ftp: 300, .ldap: 300, .https: 60,
        ]
        for (serviceProtocol, seconds) in expected {
            #expect(MockServerConfiguration.Limits.defaultIdleTimeout(for: serviceProtocol) == seconds)
        }
        let chain = try MockSupport.chain("good")
        let configuration = MockServerConfiguration(
            serviceProtocol: .smtp,
            mode: .startTLS,
            tls: MockSupport.serverTLS(chain)
        )
        let setup = try MockConnectionSetup(
            configuration: configuration,
            registry: MockChannelRegistry(maxConnections: 1)
        )
        #expect(setup.idleTimeout == 300)
        #expect(setup.lifetime == 600)
        #expect(setup.refusalLifetime == 10)
        #expect(
            setup.refusalDialogConfiguration.refuseGreeting == "421 4.7.0 mail.example.test Error: too many connections"
        )
    }
}

/// Many idle clients on their own event loop: each connects, optionally sends one byte, and waits.
final class SlowLoris: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channels: [any Channel]
    private let firstData: [EventLoopFuture<String>]

    private init(group: MultiThreadedEventLoopGroup, channels: [any Channel], firstData: [EventLoopFuture<String>]) {
        self.group = group
        self.channels = channels
        self.firstData = firstData
    }

    /// Connects `count` clients, at most 100 at a time so the listen backlog (256) never overflows into SYN
    /// retries, and returns once every connect completed and every first byte was written.
    static func connect(count: Int, port: Int, firstByte: UInt8?) async throws -> SlowLoris {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var channels: [any Channel] = []
        var firstData: [EventLoopFuture<String>] = []
        do {
            var next = 0
            while next < count {
                let batch = min(100, count - next)
                var connecting: [EventLoopFuture<(any Channel, EventLoopFuture<String>)>] = []
                for _ in 0..<batch {
                    let promise = group.next().makePromise(of: String.self)
                    let future = ClientBootstrap(group: group)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(FirstLineHandler(promise: promise))
                            }
                        }
                        .connect(host: "127.0.0.1", port: port)
                        .flatMap { channel -> EventLoopFuture<(any Channel, EventLoopFuture<String>)> in
                            guard let firstByte else {
                                return channel.eventLoop.makeSucceededFuture((channel, promise.futureResult))
                            }
                            // A refused client may be closed before its byte goes out: that is its answer.
                            let buffer = channel.allocator.buffer(bytes: [firstByte])
                            return channel.writeAndFlush(buffer).recover { _ in }.map {
                                (channel, promise.futureResult)
                            }
                        }
                    future.whenFailure { promise.fail($0) }
                    connecting.append(future)
                }
                for future in connecting {
                    let (channel, first) = try await future.get()
                    channels.append(channel)
                    firstData.append(first)
                }
                next += batch
            }
        } catch {
            for channel in channels { try? await channel.close() }
            try? await group.shutdownGracefully()
            throw error
        }
        return SlowLoris(group: group, channels: channels, firstData: firstData)
    }

    /// Each client's first line from the server (or what it got before the close), in connect order.
    func firstLines() async throws -> [String] {
        var lines: [String] = []
        for future in firstData { lines.append(try await future.get()) }
        return lines
    }

    func close() async {
        for channel in channels { channel.close(promise: nil) }
        for channel in channels { try? await channel.closeFuture.get() }
        try? await group.shutdownGracefully()
    }
}

/// Fulfils its promise with the first line read, or with what came before the close.
private final class FirstLineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let promise: EventLoopPromise<String>
    private var text = ""
    private var done = false

    init(promise: EventLoopPromise<String>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        text += String(buffer: unwrapInboundIn(data))
        if text.contains("\r\n") { finish() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish()
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) { finish() }

    private func finish() {
        guard !done else { return }
        done = true
        promise.succeed(text)
    }
}

/// The process's descriptor budget: a test that opens thousands of sockets says so, and fails (never skips) when
/// the budget cannot be raised to what it needs.
enum FileDescriptors {
    struct TooFew: Error, CustomStringConvertible {
        let needed: Int
        let limit: Int
        var description: String { "needs \(needed) file descriptors; ulimit -n is \(limit) and cannot be raised" }
    }

    static func ensure(atLeast needed: Int) throws {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw TooFew(needed: needed, limit: -1) }
        if limit.rlim_cur >= rlim_t(needed) { return }
        let raised = min(limit.rlim_max, rlim_t(needed))
        limit.rlim_cur = raised
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, raised >= rlim_t(needed) else {
            throw TooFew(needed: needed, limit: Int(limit.rlim_cur))
        }
    }
}
