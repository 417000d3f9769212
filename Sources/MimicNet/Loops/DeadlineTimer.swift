import NIOCore

/// A deadline for something the network owes: it expires only once its event loop has polled the sockets since the
/// deadline fell due.
///
/// NIO runs every due timer before it polls again. After a stall — a starved process on a busy machine, a loop
/// busy with other connections — a bare timer would run ahead of the bytes or the reset that arrived during the
/// stall, and a server that answered in time would read as one that never did. So a deadline that falls due
/// first waits as long as it was late (`minimumGrace` to `maximumGrace`: time for a server on another loop or
/// thread to catch up too), then, on a counted loop (`MimicEventLoops`), until the loop has completed the tick it
/// fell due in — whatever the sockets held by then has been read before `expired` runs. On another group's loop
/// only the wait applies. Either way the extra time is bounded: at most twice `maximumGrace` once it fell due.
/// Loop-bound: create, cancel and expire it on `loop`.
final class DeadlineTimer {
    static let minimumGrace = TimeAmount.milliseconds(5)
    static let maximumGrace = TimeAmount.seconds(1)

    private let loop: any EventLoop
    private let expired: () -> Void
    private var task: Scheduled<Void>?
    private var cancelled = false

    /// Schedules `expired` for `amount` from now (plus the grace and the poll), on `loop`.
    init(on loop: any EventLoop, in amount: TimeAmount, expired: @escaping () -> Void) {
        self.loop = loop
        self.expired = expired
        let due = NIODeadline.now() + amount
        task = loop.assumeIsolated().scheduleTask(deadline: due) { [weak self] in
            self?.fellDue(lateness: NIODeadline.now() - due)
        }
    }

    /// How long a deadline that fell due `lateness` after its time waits before it expires.
    static func grace(lateness: TimeAmount) -> TimeAmount {
        min(max(lateness, minimumGrace), maximumGrace)
    }

    func cancel() {
        cancelled = true
        task?.cancel()
        task = nil
    }

    private func fellDue(lateness: TimeAmount) {
        guard !cancelled else { return }
        let ticks = TickCounter.shared.ticks(of: loop)
        schedule(in: Self.grace(lateness: lateness), ticksWhenDue: ticks, giveUpAt: .now() + Self.maximumGrace * 2)
    }

    private func schedule(in wait: TimeAmount, ticksWhenDue: UInt64?, giveUpAt: NIODeadline) {
        task = loop.assumeIsolated().scheduleTask(in: wait) { [weak self] in
            self?.expireAfterPoll(ticksWhenDue: ticksWhenDue, giveUpAt: giveUpAt)
        }
    }

    private func expireAfterPoll(ticksWhenDue: UInt64?, giveUpAt: NIODeadline) {
        guard !cancelled else { return }
        if let ticksWhenDue, let now = TickCounter.shared.ticks(of: loop), now == ticksWhenDue, .now() < giveUpAt {
            // Still the tick the deadline fell due in (a slow batch of tasks ran past the wait): no poll yet. A task
            // due a little later lets the tick end, and the next one polls first.
            schedule(in: Self.minimumGrace, ticksWhenDue: ticksWhenDue, giveUpAt: giveUpAt)
            return
        }
        task = nil
        expired()
    }
}
