/// Why a `NetworkFaultHandler` failed a write's promise or closed the connection.
public enum NetworkFaultError: Error, Sendable, Hashable {
    /// More than `limit` bytes were held at once; the connection was closed rather than grow the queue.
    case queueOverflow(limit: Int)
    /// A `reset` fault closed the connection with RST before this write went out.
    case reset
    /// A `closeAfter` fault closed the connection after `bytes` bytes, before this write went out in full.
    case closedAfter(bytes: Int)
    /// A `stall` lasted longer than the handler's stall limit, so the handler closed the connection.
    case stallLimitReached
}
