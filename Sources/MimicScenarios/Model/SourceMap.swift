import Yams

/// Where each value of a scenario file was written, by the dotted path the loader's errors use
/// (`server.address`, `dialog.ftp.pasv_address`, `network[1].phase`), so that a problem found after loading —
/// a chain that cannot be minted, a data channel that cannot be set up — points at the value the user wrote
/// rather than at the scenario's id.
public struct SourceMap: Sendable, Hashable {
    /// Path to the position of the value written there.
    public private(set) var locations: [String: SourceLocation] = [:]

    public init(locations: [String: SourceLocation] = [:]) {
        self.locations = locations
    }

    /// Every mapping value and list item below `node`, recorded under its path from the document root.
    init(node: Node, file: String) {
        record(node, path: "", file: file, depth: 0)
    }

    /// Where `path`'s value was written; failing that, where its nearest enclosing value was (`pki.serve` falls
    /// back to `pki`), or nil when none of it was written.
    public func location(of path: String) -> SourceLocation? {
        var candidate = Substring(path)
        while !candidate.isEmpty {
            if let known = locations[String(candidate)] { return known }
            guard let cut = candidate.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            candidate = candidate[..<cut]
        }
        return nil
    }

    /// Deeper than the loader's own nesting limit there is nothing a report would point at.
    private static let maximumDepth = 32

    private mutating func record(_ node: Node, path: String, file: String, depth: Int) {
        guard depth < Self.maximumDepth else { return }
        if !path.isEmpty, let mark = node.mark {
            locations[path] = SourceLocation(file: file, line: mark.line, column: mark.column)
        }
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard let name = key.scalar?.string else { continue }
                record(value, path: path.isEmpty ? name : "\(path).\(name)", file: file, depth: depth + 1)
            }
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() {
                record(item, path: "\(path)[\(index)]", file: file, depth: depth + 1)
            }
        default:
            break
        }
    }
}
