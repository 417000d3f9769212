import Foundation
import NIOCore

/// Every channel a mock server has open — control connections, FTP data listeners and data connections — so
/// that `stop()` can close them all and wait for them, and so that the connection limit holds.
///
/// Shared by the accept paths of every event loop, hence the lock; it holds no handler, only channels.
final class MockChannelRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private let maxConnections: Int
    private let maxRefusals: Int
    private var channels: [ObjectIdentifier: any Channel] = [:]
    private var connections = 0
    private var refusals = 0
    private var admitted = 0
    private var stopping = false

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

    /// Decisions taken in accept order (on the listener's event loop) for the child initializer, which runs on the
    /// connection's own loop, to take.
    private var decided: [ObjectIdentifier: Admission] = [:]

    /// Decides `channel`'s admission now, in accept order, for `takeAdmission(_:)` to hand over later: child
    /// initializers run on several event loops, and deciding there would let a later connection overtake an
    /// earlier one.
    func decideAdmission(_ channel: any Channel) {
        let admission = admitConnection(channel)
        lock.withLock { decided[ObjectIdentifier(channel)] = admission }
        // A connection that never reaches its initializer (its registration failed) leaves no decision behind.
        channel.closeFuture.whenComplete { _ in
            self.lock.withLock { _ = self.decided.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    /// The admission `decideAdmission(_:)` took for `channel` (deciding now if it took none).
    func takeAdmission(_ channel: any Channel) -> Admission {
        let taken = lock.withLock { decided.removeValue(forKey: ObjectIdentifier(channel)) }
        return taken ?? admitConnection(channel)
    }

    /// Admits a control connection unless the server is stopping or already serves `maxConnections`, in which case
    /// it is to be refused politely while fewer than `maxRefusals` refusals are under way, else dropped.
    func admitConnection(_ channel: any Channel) -> Admission {
        let admission = lock.withLock { () -> Admission in
            guard !stopping else { return .drop }
            if connections < maxConnections, admitted < (closeAfterConnections ?? Int.max) {
                connections += 1
                admitted += 1
                channels[ObjectIdentifier(channel)] = channel
                return .serve(sequence: admitted)
            }
            guard refusals < maxRefusals else { return .drop }
            refusals += 1
            channels[ObjectIdentifier(channel)] = channel
            return .refuse
        }
        switch admission {
        case .drop:
            return .drop
        case .serve:
            channel.closeFuture.whenComplete { _ in
                self.lock.withLock {
                    self.connections -= 1
                    self.channels[ObjectIdentifier(channel)] = nil
                }
            }
        case .refuse:
            channel.closeFuture.whenComplete { _ in
                self.lock.withLock {
                    self.refusals -= 1
                    self.channels[ObjectIdentifier(channel)] = nil
                }
            }
        }
        return admission
    }

    /// Tracks a data listener or data connection; false once the server is stopping (the caller closes it).
    func track(_ channel: any Channel) -> Bool {
        let tracked = lock.withLock { () -> Bool in
            guard !stopping else { return false }
            channels[ObjectIdentifier(channel)] = channel
            return true
        }
        guard tracked else { return false }
        channel.closeFuture.whenComplete { _ in
            self.lock.withLock { self.channels[ObjectIdentifier(channel)] = nil }
        }
        return true
    }

    /// Refuses everything from now on and returns what is open.
    func stop() -> [any Channel] {
        lock.withLock {
            stopping = true
            return Array(channels.values)
        }
    }

    /// True once `stop()` was called.
    var isStopping: Bool { lock.withLock { stopping } }

    /// Control connections open now (refusals not counted).
    var openConnections: Int { lock.withLock { connections } }
    /// Connections being refused now.
    var openRefusals: Int { lock.withLock { refusals } }
    /// Channels of any kind open now.
    var openChannels: Int { lock.withLock { channels.count } }
}
