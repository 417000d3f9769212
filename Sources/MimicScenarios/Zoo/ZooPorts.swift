/// Fixed ports for a zoo (`mimic serve --port-base N`), so that a monitor's configuration is written once.
///
/// Each id hashes (FNV-1a, 64-bit) to a slot in `base ..< base + span`; ids are placed in sorted order and a taken
/// slot moves on to the next free one. The same set of ids always gets the same ports, and adding a scenario
/// moves at most the ids that collide with it.
public enum ZooPorts {
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Slots per base: room for every scenario of a library several times the size of today's, few collisions.
    public static let span = 4096

    /// The port of every id. Ids given twice count once. `reserved` ports (scenarios that name their own) are
    /// never handed out.
    public static func assign(ids: [String], base: Int, reserved: Set<Int> = []) throws(Error) -> [String: Int] {
        guard (1...65535).contains(base) else {
            throw Error(description: "--port-base \(base) is not a port (1-65535)")
        }
        let width = min(span, 65536 - base)
        let unique = Array(Set(ids)).sorted()
        let free = (0..<width).filter { !reserved.contains(base + $0) }.count
        guard unique.count <= free else {
            throw Error(
                description:
                    "--port-base \(base) leaves room for \(free) ports, and \(unique.count) scenarios need one each")
        }
        var taken = [Bool](repeating: false, count: width)
        for port in reserved where port >= base && port < base + width { taken[port - base] = true }
        var ports: [String: Int] = [:]
        for id in unique {
            var slot = Int(fnv1a(id) % UInt64(width))
            while taken[slot] { slot = (slot + 1) % width }
            taken[slot] = true
            ports[id] = base + slot
        }
        return ports
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
