import MimicCore
import NIOCore

/// The faults in force during one phase, resolved from a fault list: plain values, no I/O.
///
/// A fault configured for the phase itself overrides an `any` fault of the same kind; within one phase the
/// last fault of a kind wins. Values are clamped here, once, so the handler never sees a nonsensical size.
struct ActiveFaults: Hashable {
    struct Trickle: Hashable {
        var bytes: Int
        var interval: TimeAmount
    }

    /// A `closeAfter` byte budget; `id` tells budgets of different phase entries apart so each starts afresh.
    struct CloseBudget: Hashable {
        var id: Int
        var limit: Int
    }

    var latency: TimeAmount?
    var trickle: Trickle?
    var slice: Int?
    var stall = false
    var reset = false
    var closeAfter: CloseBudget?

    /// Whether writes must go through the queue at all.
    var shapesWrites: Bool {
        latency != nil || trickle != nil || slice != nil || reset || closeAfter != nil
    }

    /// Budget id used by `any` faults: one budget for the whole connection.
    static let connectionBudgetID = 0

    /// Resolves `faults` for `phase`; `epoch` (≥ 1) numbers this entry into the phase.
    static func resolve(_ faults: [NetworkFault], phase: FaultPhase, epoch: Int) -> ActiveFaults {
        var result = ActiveFaults()
        // `any` first so that the phase's own faults overwrite them.
        let ordered = faults.filter { $0.phase == .any } + faults.filter { $0.phase == phase && phase != .any }
        for fault in ordered {
            switch fault.kind {
            case .latency(let milliseconds):
                let clamped = clampMilliseconds(milliseconds)
                result.latency = clamped > 0 ? .milliseconds(Int64(clamped)) : nil
            case .trickle(let bytes, let interval):
                result.trickle = Trickle(
                    bytes: max(1, bytes),
                    interval: .milliseconds(Int64(max(1, clampMilliseconds(interval))))
                )
            case .slice(let bytes):
                result.slice = max(1, bytes)
            case .stall:
                result.stall = true
            case .reset:
                result.reset = true
            case .closeAfter(let bytes):
                let id = fault.phase == .any ? connectionBudgetID : epoch
                result.closeAfter = CloseBudget(id: id, limit: max(0, bytes))
            }
        }
        return result
    }

    private static func clampMilliseconds(_ milliseconds: Int) -> Int {
        min(max(0, milliseconds), NetworkFault.maximumMilliseconds)
    }
}
