import MimicNet

/// A Toxiproxy-style fault the mock applies to its own connection, as the scenario file spells it.
///
/// Named apart from `MimicNet.NetworkFault` (what the mock runs); the runner converts one into the other. The
/// phase is MimicNet's own `FaultPhase`: the file's phase names are its raw values.
public struct FaultSpec: Sendable, Hashable {
    public var phase: FaultPhase
    public var kind: Kind

    public init(phase: FaultPhase, kind: Kind) {
        self.phase = phase
        self.kind = kind
    }

    public enum Kind: Sendable, Hashable {
        /// Delay every write by this long.
        case latency(Duration)
        /// Send `bytes` at a time, waiting `interval` between them (slow-loris).
        case trickle(bytes: Int, interval: Duration)
        /// Split every write into segments of at most `bytes`.
        case slice(bytes: Int)
        /// Stop reading and writing; keep the connection open.
        case stall
        /// Send a TCP RST.
        case reset
        /// Close after `bytes` more bytes have been written.
        case closeAfter(bytes: Int)

        /// The name in scenario files.
        public var name: String {
            switch self {
            case .latency: "latency"
            case .trickle: "trickle"
            case .slice: "slice"
            case .stall: "stall"
            case .reset: "reset"
            case .closeAfter: "close_after"
            }
        }

        public static let names = ["latency", "trickle", "slice", "stall", "reset", "close_after"]
    }
}
