/// A Toxiproxy-style fault the mock applies to its own connection.
public struct NetworkFault: Sendable, Hashable {
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

/// When a fault applies. Mirrors `MimicCore.Phase` for the phases a server can act in, plus `any`.
public enum FaultPhase: String, Sendable, Hashable, CaseIterable {
    case greeting
    case capabilities
    case upgrade
    case handshake
    case postTLS = "post-tls"
    case any
}
