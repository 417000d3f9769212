import MimicCore
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Makes a server connection misbehave at the network level: latency, trickle, slicing, stall, reset, close after N.
///
/// Put it at the front of the server pipeline (`position: .first`, closest to the socket) so that it shapes every
/// byte, ciphertext included, once a TLS handler is added behind it — add that one with
/// `position: .after(faultHandler)`, not `.first`, or the faults would shape plaintext. The server's dialog
/// handler calls `enter(_:)` as the conversation moves on; each write is shaped by the faults of the phase in which
/// it was made (see `NetworkFault` for when each kind takes effect).
///
/// Writes that a fault holds back wait in a queue bounded by `maximumQueuedBytes` (overflow closes the connection)
/// and are released by tasks scheduled on the channel's event loop. A write's promise completes when its last
/// byte has been handed to the socket, or fails when the connection closes first. A `close()` from the pipeline
/// is queued behind held writes so that the peer sees the data before the FIN; a second `close()`, or a close
/// during a stall, takes effect at once. Like every handler it must be used on its channel's event loop only.
public final class NetworkFaultHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// The default bound on held bytes, in each direction: 1 MiB.
    public static let defaultMaximumQueuedBytes = 1 << 20
    /// The default longest stall before the handler closes the connection itself: five minutes.
    public static let defaultStallLimit: TimeAmount = .minutes(5)

    private struct HeldWrite {
        var buffer: ByteBuffer
        var promise: EventLoopPromise<Void>?
        var readyAt: NIODeadline
        var flushed: Bool
        /// The faults of the phase in which the write was made.
        var faults: ActiveFaults
    }

    private enum Held {
        case write(HeldWrite)
        case close(EventLoopPromise<Void>?)
    }

    private let faults: [NetworkFault]
    private let maximumQueuedBytes: Int
    private let stallLimit: TimeAmount

    /// The phase the connection is in.
    public private(set) var phase: FaultPhase
    private var epoch = 1
    private var active: ActiveFaults

    private var context: ChannelHandlerContext?
    private var closed = false

    // Outbound.
    private var queue = CircularBuffer<Held>()
    private var queuedBytes = 0
    private var closeQueued = false
    private var passthroughUnflushed = false
    private var spentByBudget: [Int: Int] = [:]
    private var nextTrickleAt = NIODeadline.uptimeNanoseconds(0)
    private var wakeTask: (deadline: NIODeadline, task: Scheduled<Void>)?
    private var pumping = false
    private var pumpAgain = false

    // Inbound, while stalled.
    private var stallTask: Scheduled<Void>?
    private var heldReads = CircularBuffer<ByteBuffer>()
    private var heldReadBytes = 0
    private var readCompleteHeld = false
    private var readHeld = false

    /// - Parameters:
    ///   - faults: the scenario's network faults; those of other phases wait for `enter(_:)`.
    ///   - initialPhase: the phase at accept; a server speaks first, so `greeting`.
    ///   - maximumQueuedBytes: the bound on bytes held back in each direction.
    ///   - stallLimit: a stall closes the connection after this long if nobody else has (capped at ten minutes).
    public init(
        faults: [NetworkFault],
        initialPhase: FaultPhase = .greeting,
        maximumQueuedBytes: Int = NetworkFaultHandler.defaultMaximumQueuedBytes,
        stallLimit: TimeAmount = NetworkFaultHandler.defaultStallLimit
    ) {
        self.faults = faults
        self.phase = initialPhase
        self.maximumQueuedBytes = max(1, maximumQueuedBytes)
        let cap = TimeAmount.milliseconds(Int64(NetworkFault.maximumMilliseconds))
        self.stallLimit = min(max(.zero, stallLimit), cap)
        self.active = ActiveFaults.resolve(faults, phase: initialPhase, epoch: 1)
    }

    /// Moves the connection into `phase`: its faults (and the `any` faults) apply from now on, the previous
    /// phase's stop applying to later writes. Writes already held keep the faults they were made under.
    /// Entering the current phase again changes nothing; entering `.any` leaves only the `any` faults in force.
    /// Call it on the channel's event loop.
    public func enter(_ phase: FaultPhase) {
        guard phase != self.phase else { return }
        self.phase = phase
        epoch += 1
        let previous = active
        active = ActiveFaults.resolve(faults, phase: phase, epoch: epoch)
        guard let context, !closed else { return }
        if active.stall && !previous.stall {
            startStallTimer(context: context)
        } else if !active.stall && previous.stall {
            endStall(context: context)
        }
    }

    // MARK: - Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if active.stall { startStallTimer(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelTasks()
        let pendingClose = failQueue(ChannelError.ioOnClosedChannel)
        pendingClose?.fail(ChannelError.ioOnClosedChannel)
        heldReads.removeAll()
        self.context = nil
    }

    public func channelInactive(context: ChannelHandlerContext) {
        closed = true
        cancelTasks()
        let pendingClose = failQueue(ChannelError.ioOnClosedChannel)
        pendingClose?.fail(ChannelError.alreadyClosed)
        heldReads.removeAll()
        heldReadBytes = 0
        context.fireChannelInactive()
    }

    // MARK: - Inbound

    public func read(context: ChannelHandlerContext) {
        // A stalled connection stops asking the socket for data: the peer's bytes pile up in the kernel.
        if active.stall {
            readHeld = true
            return
        }
        context.read()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard active.stall else {
            context.fireChannelRead(data)
            return
        }
        // Bytes already read when the stall began are held, not lost, in case the stall is lifted.
        let buffer = unwrapInboundIn(data)
        guard heldReadBytes + buffer.readableBytes <= maximumQueuedBytes else {
            closeNow(context: context, failing: NetworkFaultError.queueOverflow(limit: maximumQueuedBytes))
            return
        }
        heldReadBytes += buffer.readableBytes
        heldReads.append(buffer)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if active.stall {
            readCompleteHeld = true
            return
        }
        context.fireChannelReadComplete()
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !closed, !closeQueued else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        if queue.isEmpty && !active.shapesWrites && !active.stall {
            passthroughUnflushed = true
            context.write(data, promise: promise)
            return
        }
        let buffer = unwrapOutboundIn(data)
        guard queuedBytes + buffer.readableBytes <= maximumQueuedBytes else {
            let error = NetworkFaultError.queueOverflow(limit: maximumQueuedBytes)
            promise?.fail(error)
            closeNow(context: context, failing: error)
            return
        }
        queuedBytes += buffer.readableBytes
        let readyAt = context.eventLoop.now + (active.latency ?? .zero)
        queue.append(
            .write(HeldWrite(buffer: buffer, promise: promise, readyAt: readyAt, flushed: false, faults: active))
        )
    }

    public func flush(context: ChannelHandlerContext) {
        markQueuedWritesFlushed()
        if passthroughUnflushed {
            passthroughUnflushed = false
            context.flush()
        }
        pump()
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // Held data goes out before the FIN, as on a slow link; a stall, a second close or a half-close is at once.
        if mode == .all, !closed, !closeQueued, !active.stall, !queue.isEmpty {
            closeQueued = true
            markQueuedWritesFlushed()
            queue.append(.close(promise))
            pump()
            return
        }
        context.close(mode: mode, promise: promise)
    }

    // MARK: - Releasing held writes

    private func markQueuedWritesFlushed() {
        // Unflushed writes are all at the back: walk back until a flushed one.
        var index = queue.endIndex
        while index != queue.startIndex {
            index = queue.index(before: index)
            guard case .write(var write) = queue[index], !write.flushed else { break }
            write.flushed = true
            queue[index] = .write(write)
        }
    }

    /// Releases whatever the faults allow now and schedules a wake-up for the rest. Re-entrant calls (a write
    /// promise's callback writing again) are folded into the running one.
    private func pump() {
        guard let context else { return }
        if pumping {
            pumpAgain = true
            return
        }
        pumping = true
        defer { pumping = false }
        // Each round releases at least one byte or item, or stops; the queue is bounded, so this ends.
        repeat {
            pumpAgain = false
            releaseReady(context: context)
        } while pumpAgain && !closed
    }

    private func releaseReady(context: ChannelHandlerContext) {
        var unflushed = false
        defer { if unflushed && !closed { context.flush() } }
        while !closed, !active.stall, let head = queue.first {
            guard case .write(var write) = head else {
                _ = queue.removeFirst()
                closeQueued = false
                if unflushed {
                    unflushed = false
                    context.flush()
                }
                closed = true
                context.close(mode: .all, promise: closePromise(head))
                return
            }
            guard write.flushed else { return }
            let now = context.eventLoop.now
            if write.readyAt > now {
                scheduleWake(at: write.readyAt, context: context)
                return
            }
            if write.faults.reset {
                reset(context: context)
                return
            }
            if write.faults.trickle != nil, nextTrickleAt > now {
                scheduleWake(at: nextTrickleAt, context: context)
                return
            }

            var length = write.buffer.readableBytes
            if let trickle = write.faults.trickle { length = min(length, trickle.bytes) }
            if let slice = write.faults.slice { length = min(length, slice) }
            let budget = write.faults.closeAfter
            if let budget {
                let remaining = budget.limit - spentByBudget[budget.id, default: 0]
                if remaining <= 0 {
                    closeAfterLimit(budget, context: context)
                    return
                }
                length = min(length, remaining)
            }

            _ = queue.removeFirst()
            let chunk = write.buffer.readSlice(length: length) ?? ByteBuffer()
            queuedBytes -= chunk.readableBytes
            let done = write.buffer.readableBytes == 0
            let promise = write.promise
            if !done { queue.prepend(.write(write)) }
            if let trickle = write.faults.trickle { nextTrickleAt = now + trickle.interval }
            var budgetSpent = false
            if let budget {
                let spent = spentByBudget[budget.id, default: 0] + chunk.readableBytes
                // Keep only the connection's budget and the current phase's: the dictionary stays tiny.
                spentByBudget = spentByBudget.filter { $0.key == ActiveFaults.connectionBudgetID }
                spentByBudget[budget.id] = spent
                budgetSpent = spent >= budget.limit
            }

            context.write(wrapOutboundOut(chunk), promise: done ? promise : nil)
            if write.faults.slice != nil || write.faults.trickle != nil {
                // Each piece gets its own flush, hence its own send(2) and, with TCP_NODELAY, its own segment.
                context.flush()
                unflushed = false
            } else {
                unflushed = true
            }
            if budgetSpent, let budget {
                if unflushed {
                    unflushed = false
                    context.flush()
                }
                closeAfterLimit(budget, context: context)
                return
            }
        }
    }

    private func closePromise(_ held: Held) -> EventLoopPromise<Void>? {
        if case .close(let promise) = held { return promise }
        return nil
    }

    private func scheduleWake(at deadline: NIODeadline, context: ChannelHandlerContext) {
        if let wake = wakeTask, wake.deadline <= deadline { return }
        wakeTask?.task.cancel()
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            wakeTask = nil
            pump()
        }
        wakeTask = (deadline, task)
    }

    // MARK: - Ending the connection

    /// Closes with RST: SO_LINGER {on, 0} makes close(2) abort the connection instead of sending a FIN.
    private func reset(context: ChannelHandlerContext) {
        let pendingClose = failQueue(NetworkFaultError.reset)
        closed = true
        if let provider = context.channel as? any SocketOptionProvider {
            // On the event loop this runs synchronously, before the close below.
            _ = provider.setSoLinger(linger(l_onoff: 1, l_linger: 0))
        }
        context.close(mode: .all, promise: pendingClose)
    }

    private func closeAfterLimit(_ budget: ActiveFaults.CloseBudget, context: ChannelHandlerContext) {
        closeNow(context: context, failing: NetworkFaultError.closedAfter(bytes: budget.limit))
    }

    private func closeNow(context: ChannelHandlerContext, failing error: any Error) {
        let pendingClose = failQueue(error)
        closed = true
        context.close(mode: .all, promise: pendingClose)
    }

    /// Fails every held write with `error` and empties the queue; returns the promise of a queued close, if any.
    private func failQueue(_ error: any Error) -> EventLoopPromise<Void>? {
        let held = queue
        queue.removeAll()
        queuedBytes = 0
        closeQueued = false
        var pendingClose: EventLoopPromise<Void>?
        for item in held {
            switch item {
            case .write(let write): write.promise?.fail(error)
            case .close(let promise): pendingClose = promise
            }
        }
        return pendingClose
    }

    // MARK: - Stall

    private func startStallTimer(context: ChannelHandlerContext) {
        stallTask?.cancel()
        stallTask = context.eventLoop.assumeIsolated().scheduleTask(in: stallLimit) { [self] in
            stallTask = nil
            guard let context = self.context, !closed else { return }
            closeNow(context: context, failing: NetworkFaultError.stallLimitReached)
        }
    }

    private func endStall(context: ChannelHandlerContext) {
        stallTask?.cancel()
        stallTask = nil
        let reads = heldReads
        heldReads.removeAll()
        heldReadBytes = 0
        for buffer in reads { context.fireChannelRead(wrapInboundOut(buffer)) }
        if readCompleteHeld || !reads.isEmpty {
            readCompleteHeld = false
            context.fireChannelReadComplete()
        }
        if readHeld, !closed {
            readHeld = false
            context.read()
        }
        pump()
    }

    private func cancelTasks() {
        wakeTask?.task.cancel()
        wakeTask = nil
        stallTask?.cancel()
        stallTask = nil
    }
}
