import NIOCore
import Synchronization

/// Every channel a mock server has open — control connections, FTP data listeners and data connections — so
/// that `stop()` can close them all and wait for them, and so that the connection limit holds.
///
/// Shared by the accept paths of every event loop, hence the lock; it holds no handler, only channels.
final class MockChannelRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var connections = 0
        var refusals = 0
        var admitted = 0
        var stopping = false
        /// Decisions taken in accept order (on the listener's event loop) for the child initializer, which runs on
        /// the connection's own loop, to take.
        var decided: [ObjectIdentifier: Admission] = [:]
    }

    private let state = Mutex(State())
    private let maxConnections: Int
    private let maxRefusals: Int

    /// Connections admitted in all before every later one is refused; nil: no such limit.
    private let closeAfterConnections: Int?

    init(maxConnections: Int, maxRefusals: Int = 1024, closeAfterConnections: Int? = nil) {
        self.maxConnections = max(1, maxConnections)
        self.maxRefusals = max(0, maxRefusals)
        self.closeAfterConnections = closeAfterConnections
    }

    /// What becomes of an accepted connection.
    enum Admission: Equatable {
        /// Served; its sequence number (1 for the first admitted).
        case serve(sequence: Int)
        /// Over the connection limit: told so in the protocol's words, then closed.
        case refuse
        /// Stopping, or too many refusals under way: closed unanswered.
        case drop
    }

    /// Decides `channel`'s admission now, in accept order, for `takeAdmission(_:)` to hand over later: child
    /// initializers run on several event loops, and deciding there would let a later connection overtake an
    /// earlier one.
    func decideAdmission(_ channel: any Channel) {
        let admission = admitConnection(channel)
        state.withLock { $0.decided[ObjectIdentifier(channel)] = admission }
        // A connection that never reaches its initializer (its registration failed) leaves no decision behind.
        channel.closeFuture.whenComplete { _ in
            self.state.withLock { _ = $0.decided.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    /// The admission `decideAdmission(_:)` took for `channel` (deciding now if it took none).
    func takeAdmission(_ channel: any Channel) -> Admission {
        let taken = state.withLock { $0.decided.removeValue(forKey: ObjectIdentifier(channel)) }
        return taken ?? admitConnection(channel)
    }

    /// Admits a control connection unless the server is stopping or already serves `maxConnections`, in which case
    /// it is to be refused politely while fewer than `maxRefusals` refusals are under way, else dropped.
    func admitConnection(_ channel: any Channel) -> Admission {
        let admission = state.withLock { state -> Admission in
            guard !state.stopping else { return .drop }
            if state.connections < maxConnections, state.admitted < (closeAfterConnections ?? Int.max) {
                state.connections += 1
                state.admitted += 1
                state.channels[ObjectIdentifier(channel)] = channel
                return .serve(sequence: state.admitted)
            }
            guard state.refusals < maxRefusals else { return .drop }
            state.refusals += 1
            state.channels[ObjectIdentifier(channel)] = channel
            return .refuse
        }
        switch admission {
        case .drop:
            return .drop
        case .serve:
            channel.closeFuture.whenComplete { _ in
                self.state.withLock {
                    $0.connections -= 1
                    $0.channels[ObjectIdentifier(channel)] = nil
                }
            }
        case .refuse:
            channel.closeFuture.whenComplete { _ in
                self.state.withLock {
                    $0.refusals -= 1
                    $0.channels[ObjectIdentifier(channel)] = nil
                }
            }
        }
        return admission
    }

    /// Tracks a data listener or data connection; false once the server is stopping (the caller closes it).
    func track(_ channel: any Channel) -> Bool {
        let tracked = state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.channels[ObjectIdentifier(channel)] = channel
            return true
        }
        guard tracked else { return false }
        channel.closeFuture.whenComplete { _ in
            self.state.withLock { $0.channels[ObjectIdentifier(channel)] = nil }
        }
        return true
    }

    /// Refuses everything from now on and returns what is open.
    func stop() -> [any Channel] {
        state.withLock { state in
            state.stopping = true
            return Array(state.channels.values)
        }
    }

    /// True once `stop()` was called.
    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Control connections open now (refusals not counted).
    var openConnections: Int { state.withLock { $0.connections } }
    /// Connections being refused now.
    var openRefusals: Int { state.withLock { $0.refusals } }
    /// Channels of any kind open now.
    var openChannels: Int { state.withLock { $0.channels.count } }
}
