/// A Toxiproxy-style misbehaviour of the connection itself, below any protocol or TLS, active in one phase.
///
/// A scenario's `network:` list becomes an array of these; `NetworkFaultHandler` applies them. Sizes and times
/// are clamped to sane bounds rather than trusted: counts below 1 (where 0 would never make progress) become 1,
/// negative values become 0, and every time is capped at `NetworkFault.maximumMilliseconds`.
///
/// How each kind behaves, and when it takes effect:
/// - `latency`: each write made in the phase is held for that long before it goes out; order is preserved.
/// - `trickle`: at most `bytes` go out per `intervalMilliseconds` (slow-loris, "one character per second").
/// - `slice`: every write goes out as separate writes of at most `bytes`, each flushed on its own, so a peer with
///   TCP_NODELAY in effect on the server socket sees separate segments.
/// - `stall`: a black hole, **immediately when the phase is entered**: nothing more is sent and nothing more is
///   read. The connection stays open until the peer closes it, the server closes it, or the handler's stall limit.
/// - `reset`: **at the first write made in the phase**, once the writes before it have gone out, the connection
///   is closed with a TCP RST (SO_LINGER 0) instead of sending that write. `reset` in `greeting` means the client
///   gets a RST instead of a greeting; in `handshake`, a RST instead of the ServerHello.
/// - `closeAfter`: of the bytes written in the phase, at most `bytes` go out, then the connection is closed with a
///   FIN. The count starts when the phase is entered (for `any`: at accept). `closeAfter(bytes: 0)` closes at the
///   first write of the phase instead of sending it.
public struct NetworkFault: Sendable, Hashable, CustomStringConvertible {
    /// What goes wrong.
    public enum Kind: Sendable, Hashable {
        case latency(milliseconds: Int)
        case trickle(bytes: Int, intervalMilliseconds: Int)
        case slice(bytes: Int)
        case stall
        case reset
        case closeAfter(bytes: Int)
    }

    /// The longest delay any fault may ask for: ten minutes. Every scheduled task stays bounded.
    public static let maximumMilliseconds = 600_000

    public var kind: Kind
    public var phase: FaultPhase

    public init(_ kind: Kind, in phase: FaultPhase = .any) {
        self.kind = kind
        self.phase = phase
    }

    /// Delays each write by `milliseconds`, keeping order.
    public static func latency(milliseconds: Int, in phase: FaultPhase = .any) -> NetworkFault {
        NetworkFault(.latency(milliseconds: milliseconds), in: phase)
    }

    /// Sends at most `bytes` per `intervalMilliseconds`.
    public static func trickle(bytes: Int, intervalMilliseconds: Int, in phase: FaultPhase = .any) -> NetworkFault {
        NetworkFault(.trickle(bytes: bytes, intervalMilliseconds: intervalMilliseconds), in: phase)
    }

    /// Splits every write into separately flushed writes of at most `bytes`.
    public static func slice(bytes: Int, in phase: FaultPhase = .any) -> NetworkFault {
        NetworkFault(.slice(bytes: bytes), in: phase)
    }

    /// Stops sending and reading as soon as the phase is entered.
    public static func stall(in phase: FaultPhase = .any) -> NetworkFault {
        NetworkFault(.stall, in: phase)
    }

    /// Closes with a TCP RST at the first write of the phase.
    public static func reset(in phase: FaultPhase = .any) -> NetworkFault {
        NetworkFault(.reset, in: phase)
    }

    /// Sends at most `bytes` of what the phase writes, then closes.
    public static func closeAfter(bytes: Int, in phase: FaultPhase = .any) -> NetworkFault {
        NetworkFault(.closeAfter(bytes: bytes), in: phase)
    }

    public var description: String {
        let what: String
        switch kind {
        case .latency(let milliseconds): what = "latency \(milliseconds) ms"
        case .trickle(let bytes, let interval): what = "trickle \(bytes) B / \(interval) ms"
        case .slice(let bytes): what = "slice \(bytes) B"
        case .stall: what = "stall"
        case .reset: what = "reset"
        case .closeAfter(let bytes): what = "close after \(bytes) B"
        }
        return "\(what) in \(phase)"
    }
}
