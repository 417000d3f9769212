#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Selects scenarios by id: a glob (`smtp::*::expired-*`, with `*`, `?` and `[…]`) matches the whole id; any other
/// text matches as a substring (`starttls` selects every id containing it).
public struct ScenarioFilter: Sendable, Hashable, CustomStringConvertible {
    public var pattern: String

    public init(_ pattern: String) {
        self.pattern = pattern
    }

    public var isGlob: Bool { pattern.contains { "*?[".contains($0) } }

    public func matches(_ id: String) -> Bool {
        guard isGlob else { return id.contains(pattern) }
        return fnmatch(pattern, id, 0) == 0
    }

    public var description: String { pattern }
}
