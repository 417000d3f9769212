import Foundation
import MimicCerts
import MimicCore

/// The chain facts of the chains judged in the last second: a probe's backends, and a scenario's, usually see the
/// same chain within the same second, and reading and checking a chain is most of a verdict's cost. Facts depend
/// on the instant only through validity, so facts computed within the same whole second are reused.
enum RecentChainFacts {
    private struct Key: Hashable {
        var chain: [[UInt8]]
        var anchors: [[UInt8]]
        var hostname: String?
        var second: Int64

        /// The chain's bytes in bulk and the anchors by count: a probe that trusts the bundled store (137 roots)
        /// spent a twelfth of its CPU hashing anchors a byte at a time. Equal keys still hash alike; telling keys
        /// apart is `==`'s work (and the same anchor array compares by its storage first).
        func hash(into hasher: inout Hasher) {
            hasher.combine(chain.count)
            for certificate in chain { hasher.combine(contentsOf: certificate) }
            hasher.combine(anchors.count)
            hasher.combine(hostname)
            hasher.combine(second)
        }
    }

    /// It only has to bridge a probe's few backends.
    private static let recent = RecentValues<Key, ChainFacts>(capacity: 32)

    static func facts(
        chain: [[UInt8]], anchors: [[UInt8]], hostname: String?, at time: Date
    ) throws(ChainFactsError) -> ChainFacts {
        let key = Key(
            chain: chain, anchors: anchors, hostname: hostname,
            second: Int64(time.timeIntervalSince1970.rounded(.down)))
        return try recent.value(for: key) { () throws(ChainFactsError) in
            try ChainFacts(chain: chain, anchors: anchors, hostname: hostname, at: time)
        }
    }
}
