/// One of N parts of a scenario set (`--shard K/N`), for spreading a large library over CI runners.
///
/// A scenario's shard depends on its id alone (FNV-1a of the id, modulo N), so it stays in the same shard however
/// the library grows, and the N shards together select every scenario exactly once.
public struct ScenarioShard: Sendable, Hashable, CustomStringConvertible {
    /// 1-based.
    public var index: Int
    public var count: Int

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(index: Int, count: Int) throws(ParseError) {
        guard count >= 1, count <= 10_000, (1...count).contains(index) else {
            throw ParseError(description: "a shard is K/N with 1 <= K <= N <= 10000, got \(index)/\(count)")
        }
        self.index = index
        self.count = count
    }

    /// `2/4`.
    public init(parsing text: String) throws(ParseError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw ParseError(description: "expected K/N (for example 2/4), got '\(text)'")
        }
        try self.init(index: index, count: count)
    }

    public func contains(id: String) -> Bool {
        Int(ZooPorts.fnv1a(id) % UInt64(count)) == index - 1
    }

    public func select<T>(_ items: [T], id: (T) -> String) -> [T] {
        items.filter { contains(id: id($0)) }
    }

    public var description: String { "\(index)/\(count)" }
}
