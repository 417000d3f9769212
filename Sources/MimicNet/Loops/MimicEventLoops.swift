import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The event loops Mimic's servers and probes run on: NIO's, each counting its ticks (a poll of its sockets, then
/// the tasks that are due), so that a deadline can tell whether its loop has read the sockets since the deadline
/// fell due (`DeadlineTimer`).
public enum MimicEventLoops {
    /// One loop per core, for the life of the process.
    public static let shared: MultiThreadedEventLoopGroup = makeGroup(numberOfThreads: coreCount)

    /// `System.coreCount`, read once: NIO reads the cgroup's CPU quota and cpuset files at every call.
    static let coreCount = System.coreCount

    /// Loops for `connections` connections at once (at most one per core), for the life of the process: a probe of
    /// one target needs a loop per backend, and each loop is a thread to start before the first connection (one
    /// per core would be 64 of them on a large monitoring host).
    public static func group(forConnections connections: Int) -> MultiThreadedEventLoopGroup {
        let threads = connections <= 1 ? 1 : min(connections, coreCount)
        return sized.withLock { groups in
            if let group = groups[threads] { return group }
            let group = makeGroup(numberOfThreads: threads)
            groups[threads] = group
            return group
        }
    }

    private static let sized = Mutex<[Int: MultiThreadedEventLoopGroup]>([:])

    /// The cores no other thread wants at this instant: the machine's cores less the threads the kernel counts as
    /// runnable (`/proc/loadavg`'s fourth field, `runnable/total`, whose count includes the caller), at least
    /// none; nil where that count cannot be read.
    public static func idleCores() -> Int? {
        guard let runnable = runnableThreads() else { return nil }
        return max(0, coreCount - (runnable - 1))
    }

    static func runnableThreads(loadavg path: String = "/proc/loadavg") -> Int? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return runnableThreads(loadavg: buffer[..<count])
    }

    /// The runnable count in the text of `/proc/loadavg` ("0.65 1.21 1.28 3/114 16361"), nil when it is not there.
    static func runnableThreads(loadavg text: ArraySlice<UInt8>) -> Int? {
        let fields = text.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") })
        guard fields.count >= 4, let slash = fields[3].firstIndex(of: UInt8(ascii: "/")) else { return nil }
        let digits = fields[3][..<slash]
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        guard (1...9).contains(digits.count), digits.allSatisfy(isDigit) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    /// A group of counted loops; the caller shuts it down.
    public static func makeGroup(numberOfThreads: Int) -> MultiThreadedEventLoopGroup {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: numberOfThreads, metricsDelegate: TickCounter.shared)
        TickCounter.shared.register(group.makeIterator().map { $0 })
        return group
    }
}

/// Completed ticks per loop of the groups `MimicEventLoops` made.
final class TickCounter: NIOEventLoopMetricsDelegate {
    static let shared = TickCounter()

    private let completed = Mutex<[ObjectIdentifier: UInt64]>([:])

    func register(_ loops: [any EventLoop]) {
        completed.withLock { counts in
            for loop in loops where counts[ObjectIdentifier(loop)] == nil { counts[ObjectIdentifier(loop)] = 0 }
        }
    }

    func processedTick(info: NIOEventLoopTickInfo) {
        completed.withLock { $0[info.eventLoopID, default: 0] &+= 1 }
    }

    /// Ticks `loop` has completed; nil for a loop that is not counted (one of another group). A counted loop that
    /// was shut down keeps its entry, which another object may come to share the address of: `DeadlineTimer` bounds
    /// its wait for a tick, so a count that never moves delays a deadline by at most a second.
    func ticks(of loop: any EventLoop) -> UInt64? {
        completed.withLock { $0[ObjectIdentifier(loop)] }
    }
}
