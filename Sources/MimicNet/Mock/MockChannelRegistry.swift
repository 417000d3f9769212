import Foundation
import NIOCore

/// Every channel a mock server has open — control connections, FTP data listeners and data connections — so
/// that `stop()` can close them all and wait for them, and so that the connection limit holds.
///
/// Shared by the accept paths of every event loop, hence the lock; it holds no handler, only channels.
final class MockChannelRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private let maxConnections: Int
    private var channels: [ObjectIdentifier: any Channel] = [:]
    private var connections = 0
    private var admitted = 0
    private var stopping = false

    init(maxConnections: Int) {
        self.maxConnections = max(1, maxConnections)
    }

    /// Admits a control connection unless the server is stopping or already serves `maxConnections`; returns its
    /// sequence number (1 for the first admitted), nil when refused.
    func admitConnection(_ channel: any Channel) -> Int? {
        let sequence = lock.withLock { () -> Int? in
            guard !stopping, connections < maxConnections else { return nil }
            connections += 1
            admitted += 1
            channels[ObjectIdentifier(channel)] = channel
            return admitted
        }
        guard let sequence else { return nil }
        channel.closeFuture.whenComplete { _ in
            self.lock.withLock {
                self.connections -= 1
                self.channels[ObjectIdentifier(channel)] = nil
            }
        }
        return sequence
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

    /// Control connections open now.
    var openConnections: Int { lock.withLock { connections } }
    /// Channels of any kind open now.
    var openChannels: Int { lock.withLock { channels.count } }
}
