import MimicCore
import NIOCore
import NIOEmbedded
import Testing

@testable import MimicNet

/// Fault ordering and timing on an `EmbeddedChannel`, where time only moves when the test says so.
@Suite("Network faults: embedded channel")
struct FaultHandlerEmbeddedTests {
    /// An active embedded channel with the fault handler alone in its pipeline.
    private func makeChannel(
        _ faults: [NetworkFault],
        maximumQueuedBytes: Int = NetworkFaultHandler.defaultMaximumQueuedBytes,
        stallLimit: TimeAmount = NetworkFaultHandler.defaultStallLimit
    ) throws -> (EmbeddedChannel, NetworkFaultHandler, EmbeddedEventLoop) {
        let loop = EmbeddedEventLoop()
        let handler = NetworkFaultHandler(
            faults: faults,
            maximumQueuedBytes: maximumQueuedBytes,
            stallLimit: stallLimit
        )
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        return (channel, handler, loop)
    }

    /// Everything written to the "socket" so far, one string per write.
    private func outbound(_ channel: EmbeddedChannel) throws -> [String] {
        var writes: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            writes.append(String(buffer: buffer))
        }
        return writes
    }

    /// Writes and flushes `text`, returning the write's future.
    @discardableResult
    private func send(_ text: String, on channel: EmbeddedChannel) -> EventLoopFuture<Void> {
        channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Outcome of a future that should have completed by now.
    private func outcome(_ future: EventLoopFuture<Void>) -> Result<Void, any Error>? {
        var result: Result<Void, any Error>?
        future.assumeIsolated().whenComplete { result = $0 }
        return result
    }

    @Test func noFaultsPassEveryWriteThroughUntouched() throws {
        let (channel, _, _) = try makeChannel([])
        let future = send("220 ready\r\n", on: channel)
        #expect(try outbound(channel) == ["220 ready\r\n"])
        #expect(outcome(future) != nil)
        _ = try channel.finish()
    }

    @Test func sliceSplitsEveryWriteIntoSmallWritesInOrder() throws {
        let (channel, _, _) = try makeChannel([.slice(bytes: 3)])
        let first = send("abcdefghij", on: channel)
        send("XY", on: channel)
        #expect(try outbound(channel) == ["abc", "def", "ghi", "j", "XY"])
        if case .failure = outcome(first) { Issue.record("a sliced write's promise failed") }
        #expect(outcome(first) != nil)
        _ = try channel.finish()
    }

    @Test func closeAfterSendsExactlyTheBudgetThenCloses() throws {
        let (channel, _, _) = try makeChannel([.closeAfter(bytes: 5)])
        let first = send("abc", on: channel)
        let second = send("defgh", on: channel)
        let third = send("never", on: channel)
        #expect(try outbound(channel) == ["abc", "de"])
        #expect(!channel.isActive)
        if case .failure = outcome(first) { Issue.record("the write that went out in full failed") }
        guard case .failure(let error) = outcome(second) else {
            Issue.record("the truncated write did not fail")
            return
        }
        #expect(error as? NetworkFaultError == .closedAfter(bytes: 5))
        guard case .failure = outcome(third) else {
            Issue.record("a write after the close did not fail")
            return
        }
    }

    @Test func closeAfterZeroClosesInsteadOfTheFirstWrite() throws {
        let (channel, _, _) = try makeChannel([.closeAfter(bytes: 0, in: .greeting)])
        send("220 ready\r\n", on: channel)
        #expect(try outbound(channel).isEmpty)
        #expect(!channel.isActive)
    }

    @Test func latencyHoldsEachWriteAndKeepsOrder() throws {
        let (channel, _, loop) = try makeChannel([.latency(milliseconds: 100)])
        let first = send("one", on: channel)
        loop.advanceTime(by: .milliseconds(40))
        send("two", on: channel)
        #expect(try outbound(channel).isEmpty)
        #expect(outcome(first) == nil)
        loop.advanceTime(by: .milliseconds(59))
        #expect(try outbound(channel).isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(try outbound(channel) == ["one"])
        #expect(outcome(first) != nil)
        loop.advanceTime(by: .milliseconds(40))
        #expect(try outbound(channel) == ["two"])
        _ = try channel.finish()
    }

    @Test func trickleReleasesAtMostNBytesPerInterval() throws {
        let (channel, _, loop) = try makeChannel([.trickle(bytes: 2, intervalMilliseconds: 100)])
        let future = send("abcde", on: channel)
        #expect(try outbound(channel) == ["ab"])
        loop.advanceTime(by: .milliseconds(99))
        #expect(try outbound(channel).isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(try outbound(channel) == ["cd"])
        #expect(outcome(future) == nil)
        loop.advanceTime(by: .milliseconds(100))
        #expect(try outbound(channel) == ["e"])
        #expect(outcome(future) != nil)
        _ = try channel.finish()
    }

    @Test func unflushedWritesWaitForAFlush() throws {
        let (channel, _, _) = try makeChannel([.slice(bytes: 2)])
        channel.write(ByteBuffer(string: "abcd"), promise: nil)
        #expect(try outbound(channel).isEmpty)
        channel.flush()
        #expect(try outbound(channel) == ["ab", "cd"])
        _ = try channel.finish()
    }

    @Test func aPostTLSFaultDoesNothingUntilThePhaseIsEntered() throws {
        let (channel, handler, loop) = try makeChannel([.latency(milliseconds: 100, in: .postTLS)])
        send("220 ready\r\n", on: channel)
        #expect(try outbound(channel) == ["220 ready\r\n"])
        handler.enter(.capabilities)
        send("250 ok\r\n", on: channel)
        #expect(try outbound(channel) == ["250 ok\r\n"])
        handler.enter(.postTLS)
        #expect(handler.phase == .postTLS)
        send("250 tls\r\n", on: channel)
        #expect(try outbound(channel).isEmpty)
        loop.advanceTime(by: .milliseconds(100))
        #expect(try outbound(channel) == ["250 tls\r\n"])
        _ = try channel.finish()
    }

    @Test func leavingAPhaseStopsItsFaultsButKeepsAnyFaults() throws {
        let (channel, handler, _) = try makeChannel([
            .slice(bytes: 1, in: .greeting),
            .slice(bytes: 4, in: .any),
        ])
        send("abc", on: channel)
        #expect(try outbound(channel) == ["a", "b", "c"])
        handler.enter(.capabilities)
        send("abcdef", on: channel)
        #expect(try outbound(channel) == ["abcd", "ef"])
        _ = try channel.finish()
    }

    @Test func writesHeldFromTheLastPhaseGoOutBeforeTheNextPhasesWrites() throws {
        let (channel, handler, loop) = try makeChannel([.latency(milliseconds: 50, in: .greeting)])
        send("220 slow\r\n", on: channel)
        handler.enter(.capabilities)
        send("250 fast\r\n", on: channel)
        #expect(try outbound(channel).isEmpty)
        loop.advanceTime(by: .milliseconds(50))
        #expect(try outbound(channel) == ["220 slow\r\n", "250 fast\r\n"])
        _ = try channel.finish()
    }

    @Test func resetClosesInsteadOfTheFirstWriteOfItsPhase() throws {
        let (channel, handler, _) = try makeChannel([.reset(in: .upgrade)])
        send("250 STARTTLS\r\n", on: channel)
        #expect(try outbound(channel) == ["250 STARTTLS\r\n"])
        handler.enter(.upgrade)
        #expect(channel.isActive)
        let future = send("220 go ahead\r\n", on: channel)
        #expect(try outbound(channel).isEmpty)
        #expect(!channel.isActive)
        guard case .failure(let error) = outcome(future) else {
            Issue.record("the write replaced by the reset did not fail")
            return
        }
        #expect(error as? NetworkFaultError == .reset)
    }

    @Test func stallHoldsWritesAndReadsUntilLifted() throws {
        let (channel, handler, _) = try makeChannel([.stall(in: .capabilities)])
        handler.enter(.capabilities)
        send("250 ok\r\n", on: channel)
        try channel.writeInbound(ByteBuffer(string: "EHLO probe\r\n"))
        #expect(try outbound(channel).isEmpty)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(channel.isActive)
        handler.enter(.postTLS)
        #expect(try outbound(channel) == ["250 ok\r\n"])
        #expect(try channel.readInbound(as: ByteBuffer.self).map { String(buffer: $0) } == "EHLO probe\r\n")
        _ = try channel.finish()
    }

    @Test func aStallEndsAtTheStallLimit() throws {
        let (channel, _, loop) = try makeChannel([.stall()], stallLimit: .seconds(2))
        let future = send("220 ready\r\n", on: channel)
        loop.advanceTime(by: .milliseconds(1999))
        #expect(channel.isActive)
        loop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
        #expect(try outbound(channel).isEmpty)
        guard case .failure(let error) = outcome(future) else {
            Issue.record("a write held by the stall did not fail")
            return
        }
        #expect(error as? NetworkFaultError == .stallLimitReached)
    }

    @Test func overflowingTheQueueClosesTheConnection() throws {
        let (channel, _, _) = try makeChannel([.stall()], maximumQueuedBytes: 10)
        let small = send("0123456789", on: channel)
        let big = send("x", on: channel)
        #expect(!channel.isActive)
        for future in [small, big] {
            guard case .failure(let error) = outcome(future) else {
                Issue.record("a write survived the overflow")
                continue
            }
            #expect(error as? NetworkFaultError == .queueOverflow(limit: 10))
        }
    }

    @Test func closeWaitsBehindHeldWritesSoTheDataPrecedesTheFIN() throws {
        let (channel, _, loop) = try makeChannel([.latency(milliseconds: 30)])
        let write = send("221 bye\r\n", on: channel)
        let close = channel.close()
        #expect(channel.isActive)
        loop.advanceTime(by: .milliseconds(30))
        #expect(try outbound(channel) == ["221 bye\r\n"])
        #expect(!channel.isActive)
        if case .failure = outcome(write) { Issue.record("the write before the close failed") }
        if case .failure = outcome(close) { Issue.record("the queued close failed") }
        #expect(outcome(close) != nil)
    }

    @Test func closingTheChannelFailsHeldWritesAndCancelsTimers() throws {
        let (channel, _, loop) = try makeChannel([.latency(milliseconds: 500)])
        let future = send("held", on: channel)
        // A second close takes effect at once.
        _ = channel.close()
        _ = channel.close()
        #expect(!channel.isActive)
        guard case .failure = outcome(future) else {
            Issue.record("a held write survived the close")
            return
        }
        loop.advanceTime(by: .seconds(1))
        #expect(try outbound(channel).isEmpty)
    }
}

@Suite("Network faults: resolution")
struct FaultResolutionTests {
    @Test func aPhaseFaultOverridesTheAnyFaultOfTheSameKind() {
        let faults: [NetworkFault] = [.latency(milliseconds: 10), .latency(milliseconds: 300, in: .handshake)]
        #expect(ActiveFaults.resolve(faults, phase: .handshake, epoch: 2).latency == .milliseconds(300))
        #expect(ActiveFaults.resolve(faults, phase: .greeting, epoch: 1).latency == .milliseconds(10))
    }

    @Test func nonsenseValuesAreClamped() {
        let faults: [NetworkFault] = [
            .slice(bytes: 0), .trickle(bytes: -5, intervalMilliseconds: -1), .latency(milliseconds: -20),
            .closeAfter(bytes: -1),
        ]
        let active = ActiveFaults.resolve(faults, phase: .greeting, epoch: 1)
        #expect(active.slice == 1)
        #expect(active.trickle == ActiveFaults.Trickle(bytes: 1, interval: .milliseconds(1)))
        #expect(active.latency == nil)
        #expect(active.closeAfter?.limit == 0)
        let huge = ActiveFaults.resolve([.latency(milliseconds: .max)], phase: .greeting, epoch: 1)
        #expect(huge.latency == .milliseconds(Int64(NetworkFault.maximumMilliseconds)))
    }

    @Test func closeAfterBudgetsArePerPhaseEntryOrPerConnection() {
        let phase = ActiveFaults.resolve([.closeAfter(bytes: 5, in: .postTLS)], phase: .postTLS, epoch: 4)
        #expect(phase.closeAfter == ActiveFaults.CloseBudget(id: 4, limit: 5))
        let connection = ActiveFaults.resolve([.closeAfter(bytes: 5)], phase: .postTLS, epoch: 4)
        #expect(connection.closeAfter?.id == ActiveFaults.connectionBudgetID)
    }

    @Test func faultPhasesMirrorTheCorePhases() {
        #expect(FaultPhase(.postTLS) == .postTLS)
        #expect(FaultPhase(.greeting) == .greeting)
        #expect(FaultPhase(.verification) == nil)
        #expect(FaultPhase.postTLS.rawValue == "post-tls")
    }
}
