import Synchronization

/// Values worked out moments ago, for work that comes back at once: the same chain judged by a probe's two
/// backends, the same CA's signature checked for chain after chain. Past `capacity` entries the table starts over:
/// it bridges a burst and never grows with a long run. Safe to share between threads; two threads asking for the
/// same missing key at once both make the value, and either's is kept.
public final class RecentValues<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let capacity: Int
    private let table = Mutex<[Key: Value]>([:])

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The value kept for `key`, or the one `make` makes (kept for next time unless `make` throws).
    public func value<Failure: Error>(
        for key: Key, _ make: () throws(Failure) -> Value
    ) throws(Failure) -> Value {
        if let known = table.withLock({ $0[key] }) { return known }
        let value = try make()
        table.withLock { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[key] = value
        }
        return value
    }
}

extension Hasher {
    /// `bytes`, their count first, fed in bulk: `[UInt8]`'s own hashing feeds the hasher a byte at a time, which
    /// showed in the keys of the tables above (certificates and keys of a few hundred bytes to kilobytes each).
    public mutating func combine(contentsOf bytes: [UInt8]) {
        combine(bytes.count)
        bytes.withUnsafeBytes { combine(bytes: $0) }
    }
}
