#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A lock for work held across milliseconds (OpenSSL's first context, a GnuTLS verification): a thread that finds it
/// taken sleeps until it is free.
///
/// The Synchronization module's `Mutex` is, on Linux, a priority-inheriting futex, and the kernel keeps a waiter on
/// one spinning while the owner runs: right for a few instructions under the lock, wrong for milliseconds, where the
/// waiter holds a core that other work needs. A probe's OpenSSL connection spun so behind the main thread's making of
/// OpenSSL's first context (perf: `rt_mutex_slowlock_block`; a probe 0.4 ms faster on a quiet machine once it
/// slept, interleaved pairs, 2026-12-05). This is a plain pthread mutex, whose waiter the kernel puts to sleep.
public final class SleepingMutex<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// `body` with the value, the lock held; released however `body` ends.
    public func withLock<Result, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
