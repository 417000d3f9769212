import Foundation
import MimicCore
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import MimicNet

/// A stalled event loop (a starved process, a loop busy with other connections) must not turn a server that answered
/// in time into one that timed out: when the loop wakes, the server's reply or reset and the probe's deadline are
/// both due, and NIO runs due timers before it reads the sockets.
@Suite("Probe deadlines after a stalled event loop")
struct ProbeDeadlineTests {
    /// The probe's loop is blocked for `stallMilliseconds` once the connection is up, past both the server's greeting
    /// delay and the probe's reply deadline; the mock, on a loop of its own, answers in time meanwhile, so that when
    /// the probe's loop wakes its deadline and the server's bytes are both waiting.
    private func probeThroughStall(
        stallMilliseconds: UInt32,
        configure: (inout MockServerConfiguration) -> Void
    ) async throws -> [ProbeReport] {
        let chain = try MockSupport.chain("good")
        var configuration = MockServerConfiguration(
            serviceProtocol: .smtp, mode: .startTLS, backend: .openssl, tls: MockSupport.serverTLS(chain))
        configure(&configuration)
        return try await withCountedLoops(2) { loops in
            let (loop, mockLoop) = (loops[0], loops[1])
            let server = try await MockServer.start(configuration, group: mockLoop)
            let target = ProbeTarget(
                host: server.host, port: server.port, serviceProtocol: .smtp, mode: .startTLS,
                serverName: chain.hostname)
            let options = ProbeOptions(
                backends: [.openssl], trustAnchors: chain.anchors,
                // Only the reply deadline falls inside the stall; the whole probe's is far from its end. The mock's
                // 100 ms greeting delay leaves it more than a second to be on time on a busy machine.
                deadlines: ProbeDeadlines(connect: 5, reply: 1.5, handshake: 2, overall: 10))
            async let reports = Prober(group: loop).probe(target, options: options)
            // The mock has the connection, so the probe's connect completes within the loop's next poll; the stall
            // starts a little later, with the reply deadline already running.
            _ = try await eventually(within: .seconds(5)) { server.openConnections > 0 }
            loop.scheduleTask(in: .milliseconds(20)) { usleep(stallMilliseconds * 1000) }
            let result = await reports
            await server.stop()
            return result
        }
    }

    @Test("a reset sent during the stall is read as a reset, not as the deadline that fell due beside it")
    func resetDuringStall() async throws {
        let reports = try await probeThroughStall(stallMilliseconds: 2500) {
            $0.faults = [.reset(in: .greeting)]
            $0.dialog.greetingDelay = .milliseconds(100)
        }
        let codes = reports.flatMap { $0.findings.map(\.code) }
        #expect(codes == [.reset], "\(reports.map(\.findings))")
    }

    @Test("a greeting sent during the stall is read: the dialog goes on to TLS")
    func greetingDuringStall() async throws {
        let reports = try await probeThroughStall(stallMilliseconds: 2500) {
            $0.dialog.greetingDelay = .milliseconds(100)
        }
        #expect(reports.first?.handshake?.completed == true, "\(reports.map(\.findings))")
        #expect(reports.first?.findings.contains { $0.code == .timeout } == false, "\(reports.map(\.findings))")
    }

    @Test("a server that says nothing still times out after a stall, in the phase it was in")
    func silenceStillTimesOut() async throws {
        let reports = try await probeThroughStall(stallMilliseconds: 1000) {
            $0.faults = [.stall(in: .greeting)]
        }
        #expect(reports.first?.findings.map(\.code) == [.timeout], "\(reports.map(\.findings))")
        #expect(reports.first?.findings.first?.phase == .greeting)
    }

    @Test("the grace is the lateness, between its bounds")
    func graceBounds() {
        #expect(DeadlineTimer.grace(lateness: .zero) == DeadlineTimer.minimumGrace)
        #expect(DeadlineTimer.grace(lateness: .milliseconds(-3)) == DeadlineTimer.minimumGrace)
        #expect(DeadlineTimer.grace(lateness: .milliseconds(300)) == .milliseconds(300))
        #expect(DeadlineTimer.grace(lateness: .seconds(40)) == DeadlineTimer.maximumGrace)
    }

    @Test("a cancelled timer never expires, late or not; a kept one expires once")
    func cancelled() async throws {
        let fired = Mutex(0)
        let held = TimerHolder()
        try await withCountedLoops(1) { loops in
            let loop = loops[0]
            let keptExpired = loop.makePromise(of: Void.self)
            try await loop.submit {
                let timer = DeadlineTimer(on: loop, in: .milliseconds(20)) { fired.withLock { $0 += 1 } }
                held.timers.append(timer)
                // Late: the loop is blocked past the deadline (the stall under test), then the timer is cancelled
                // in its grace.
                usleep(60_000)
                loop.assumeIsolated().scheduleTask(in: .milliseconds(1)) { timer.cancel() }
                held.timers.append(
                    DeadlineTimer(on: loop, in: .milliseconds(10)) {
                        fired.withLock { $0 += 100 }
                        keptExpired.succeed()
                    })
            }.get()
            #expect(await Self.wait(for: keptExpired, on: loop, within: .seconds(5)))
            // Past the latest the cancelled one could have expired (its grace and a tick's wait are bounded).
            try await loop.scheduleTask(in: DeadlineTimer.maximumGrace * 2 + .milliseconds(100)) {}.futureResult.get()
        }
        #expect(fired.withLock { $0 } == 100)
    }

    @Test("a deadline that falls due inside a long tick expires only after the tick, when the loop has polled")
    func waitsForThePoll() async throws {
        let held = TimerHolder()
        let events = Mutex<[String]>([])
        try await withCountedLoops(1) { loops in
            let loop = loops[0]
            let expired = loop.makePromise(of: Void.self)
            try await loop.submit {
                held.timers.append(
                    DeadlineTimer(on: loop, in: .milliseconds(10)) {
                        events.withLock { $0.append("expired") }
                        expired.succeed()
                    })
                // From 5 ms on, 150 ms of immediate tasks, each queueing the next: one tick that never polls, and a
                // time-only grace would have ended inside it.
                loop.assumeIsolated().scheduleTask(in: .milliseconds(5)) {
                    let end = NIODeadline.now() + .milliseconds(150)
                    func spin() {
                        usleep(1_000)
                        if NIODeadline.now() < end {
                            loop.assumeIsolated().execute { spin() }
                        } else {
                            events.withLock { $0.append("tick over") }
                        }
                    }
                    spin()
                }
            }.get()
            _ = await Self.wait(for: expired, on: loop, within: .seconds(5))
        }
        #expect(events.withLock { $0 } == ["tick over", "expired"])
    }

    @Test("a tick count that never moves (a shut-down loop's entry on a reused address) delays a deadline, boundedly")
    func tickWaitIsBounded() async throws {
        // An uncounted group whose loop is registered as counted: its count stays at zero for good.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        TickCounter.shared.register([loop])
        let held = TimerHolder()
        let expired = loop.makePromise(of: Void.self)
        try await loop.submit {
            held.timers.append(DeadlineTimer(on: loop, in: .milliseconds(10)) { expired.succeed() })
        }.get()
        let ended = await Self.wait(for: expired, on: loop, within: .seconds(10))
        try await group.shutdownGracefully()
        #expect(ended, "the deadline never expired")
    }

    /// Runs `body` on `count` counted single-loop groups, shutting them down however it ends.
    private func withCountedLoops<T>(
        _ count: Int, _ body: ([any EventLoop]) async throws -> T
    ) async throws -> T {
        let groups = (0..<count).map { _ in MimicEventLoops.makeGroup(numberOfThreads: 1) }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(groups.map { $0.next() }))
        } catch {
            result = .failure(error)
        }
        for group in groups { try await group.shutdownGracefully() }
        return try result.get()
    }

    /// Waits for `promise`, which the awaited event fulfils; false when `limit` passed first.
    private static func wait(
        for promise: EventLoopPromise<Void>, on loop: any EventLoop, within limit: TimeAmount
    ) async -> Bool {
        struct Late: Error {}
        let deadline = loop.scheduleTask(in: limit) { promise.fail(Late()) }
        defer { deadline.cancel() }
        return (try? await promise.futureResult.get()) != nil
    }

    /// Waits until `condition` holds, or `within` passes; says whether it held. Only for state no event reports
    /// (the mock's count of open connections).
    private func eventually(within limit: Duration, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}

/// Keeps timers alive across the loop hops of a test (a timer holds itself only weakly, as its owner's field).
private final class TimerHolder: @unchecked Sendable {
    var timers: [DeadlineTimer] = []
}
