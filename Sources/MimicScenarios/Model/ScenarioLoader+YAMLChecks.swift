import Yams

/// Checks on the YAML itself that Yams does not make, or makes without saying where: explicit tags, and the second
/// occurrence of a duplicate key.
extension ScenarioLoader {
    // MARK: - Explicit tags

    /// Rejects every explicit tag (`!!str`, `!foo`, `!!python/object/apply:…`, `!<tag:…>`, a bare `!`).
    ///
    /// A scenario is plain data: a tag either restates what the loader already knows or asks for a type it does not
    /// have, and some YAML loaders run code for some tags, so a file that carries one is refused as a whole, at the
    /// tag, with the field it is on. Yams resolves tags on the nodes it hands back (a quoted string and `!!str` look
    /// alike afterwards), so this reads the source: libyaml marks a node with properties at its first property, and
    /// a tag is the one property that starts with `!`.
    static func checkNoExplicitTags(_ node: Node, yaml: String, file: String) throws(ScenarioError) {
        let source = SourceLines(yaml)
        var budget = maximumNodes
        var seen = Set<SourceLines.Position>()
        try visitNodes(node, path: "", budget: &budget) { (node, path) throws(ScenarioError) in
            guard let mark = node.mark else { return }
            let position = SourceLines.Position(line: mark.line, column: mark.column)
            guard seen.insert(position).inserted, let tag = source.tag(atNodeStart: position) else { return }
            throw ScenarioError(
                location: SourceLocation(file: file, line: tag.position.line, column: tag.position.column),
                path: path,
                message: "explicit YAML tag '\(tag.text)' is not allowed: scenario files are plain YAML; "
                    + "remove the tag (quote the value if it must be a string)"
            )
        }
    }

    /// Calls `body` on every node with its field path (`server.protocol`, `network[1]`; a key gets its mapping's
    /// path plus itself), depth first, at most `budget` nodes.
    private static func visitNodes(
        _ node: Node,
        path: String,
        budget: inout Int,
        _ body: (Node, String) throws(ScenarioError) -> Void
    ) throws(ScenarioError) {
        budget -= 1
        guard budget >= 0 else { return }
        try body(node, path)
        switch node {
        case .scalar, .alias:
            return
        case .sequence(let sequence):
            for (index, child) in sequence.enumerated() {
                try visitNodes(child, path: "\(path)[\(index)]", budget: &budget, body)
            }
        case .mapping(let mapping):
            for (key, value) in mapping {
                let childPath = childPath(path, key)
                try visitNodes(key, path: childPath, budget: &budget, body)
                try visitNodes(value, path: childPath, budget: &budget, body)
            }
        }
    }

    private static func childPath(_ path: String, _ key: Node) -> String {
        let name = key.scalar?.string ?? "?"
        return path.isEmpty ? name : "\(path).\(name)"
    }

    // MARK: - Duplicate keys

    /// Yams reports a duplicate key at its first occurrence and without a path. Where a person has to act is the
    /// second one (the first is usually the one meant), so find it: rename the first occurrence in the text to a
    /// key no file has, compose again, and look next to the renamed key for the other one with the same name.
    /// Falls back to Yams' own position when the key cannot be renamed in place (a tagged or anchored key).
    static func duplicateKeyError(names: [String], first: Mark, yaml: String, file: String) -> ScenarioError {
        let keys = names.map { "'\($0)'" }.joined(separator: ", ")
        let fallback = ScenarioError(
            location: SourceLocation(file: file, line: first.line, column: first.column),
            path: "",
            message: "key \(keys) appears more than once in the same mapping"
        )
        guard let name = names.first else { return fallback }
        var source = SourceLines(yaml)
        var renamed: [SourceLines.Position: String] = [:]
        var next = SourceLines.Position(line: first.line, column: first.column)
        var nextName = name
        // Each round renames one occurrence; a key repeated in several mappings needs a round per mapping.
        for round in 0..<16 {
            guard let placeholder = Unicode.Scalar(0xE000 + round), source.rename(keyAt: next, to: placeholder) else {
                return fallback
            }
            renamed[next] = nextName
            let node: Node?
            do {
                node = try Yams.compose(yaml: source.text, .basic, .default, .utf8)
            } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
                next = SourceLines.Position(line: context.mark.line, column: context.mark.column)
                nextName = duplicates.first ?? name
                continue
            } catch {
                return fallback
            }
            guard let node else { return fallback }
            let target = SourceLines.Position(line: first.line, column: first.column)
            guard let second = secondOccurrence(of: name, after: target, in: node, renamed: renamed) else {
                return fallback
            }
            return ScenarioError(
                location: SourceLocation(file: file, line: second.mark.line, column: second.mark.column),
                path: second.path,
                message: "key '\(name)' appears more than once in the same mapping "
                    + "(first at line \(first.line), column \(first.column))"
            )
        }
        return fallback
    }

    /// The key after the one at `first`, in the same mapping, whose name (before any renaming) is `name`.
    private static func secondOccurrence(
        of name: String,
        after first: SourceLines.Position,
        in root: Node,
        renamed: [SourceLines.Position: String]
    ) -> (mark: Mark, path: String)? {
        var found: (mark: Mark, path: String)?
        var budget = maximumNodes
        func originalName(_ key: Node) -> String? {
            guard let mark = key.mark else { return key.scalar?.string }
            return renamed[SourceLines.Position(line: mark.line, column: mark.column)] ?? key.scalar?.string
        }
        func search(_ node: Node, path: String) {
            budget -= 1
            guard found == nil, budget >= 0 else { return }
            switch node {
            case .scalar, .alias:
                return
            case .sequence(let sequence):
                for (index, child) in sequence.enumerated() { search(child, path: "\(path)[\(index)]") }
            case .mapping(let mapping):
                let keys = mapping.map(\.key)
                if let start = keys.firstIndex(where: {
                    $0.mark.map { SourceLines.Position(line: $0.line, column: $0.column) } == first
                }),
                    let duplicate = keys[(start + 1)...].first(where: { originalName($0) == name }),
                    let mark = duplicate.mark
                {
                    found = (mark, path.isEmpty ? name : "\(path).\(name)")
                    return
                }
                for (key, value) in mapping {
                    let keyName = originalName(key) ?? "?"
                    search(value, path: path.isEmpty ? keyName : "\(path).\(keyName)")
                }
            }
        }
        search(root, path: "")
        return found
    }
}

/// The source split into lines of Unicode scalars, the way libyaml counts lines and columns (1-based; CRLF, CR,
/// LF, NEL, LS and PS end a line; a leading byte-order mark is not a column).
struct SourceLines {
    struct Position: Hashable {
        var line: Int
        var column: Int
    }

    private var lines: [[Unicode.Scalar]] = []
    private var breaks: [[Unicode.Scalar]] = []
    private var bom = false

    init(_ text: String) {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" {
            scalars.removeFirst()
            bom = true
        }
        var current: [Unicode.Scalar] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\r" where index + 1 < scalars.count && scalars[index + 1] == "\n":
                lines.append(current)
                breaks.append(["\r", "\n"])
                current = []
                index += 1
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}":
                lines.append(current)
                breaks.append([scalar])
                current = []
            default:
                current.append(scalar)
            }
            index += 1
        }
        lines.append(current)
        breaks.append([])
    }

    /// The text again, with any renaming applied.
    var text: String {
        var result = String.UnicodeScalarView()
        if bom { result.append("\u{FEFF}") }
        for (line, lineBreak) in zip(lines, breaks) {
            result.append(contentsOf: line)
            result.append(contentsOf: lineBreak)
        }
        return String(result)
    }

    private func scalar(at position: Position) -> Unicode.Scalar? {
        guard position.line >= 1, position.line <= lines.count else { return nil }
        let line = lines[position.line - 1]
        guard position.column >= 1, position.column <= line.count else { return nil }
        return line[position.column - 1]
    }

    /// The explicit tag of the node that starts at `position`, if it has one: its properties come first, an anchor
    /// (`&name`) and a tag (`!…`) in either order, separated by blanks, line breaks or comments.
    func tag(atNodeStart start: Position) -> (text: String, position: Position)? {
        var position = start
        var linesSkipped = 0
        func skipSeparation() -> Bool {
            while true {
                guard position.line >= 1, position.line <= lines.count else { return false }
                let line = lines[position.line - 1]
                while position.column <= line.count,
                    line[position.column - 1] == " " || line[position.column - 1] == "\t"
                {
                    position.column += 1
                }
                if position.column <= line.count, line[position.column - 1] != "#" { return true }
                linesSkipped += 1
                guard linesSkipped <= 100 else { return false }
                position = Position(line: position.line + 1, column: 1)
            }
        }
        func token() -> String {
            let line = lines[position.line - 1]
            var text = ""
            while position.column <= line.count {
                let scalar = line[position.column - 1]
                if scalar == " " || scalar == "\t" { break }
                text.unicodeScalars.append(scalar)
                position.column += 1
            }
            return text
        }
        for _ in 0..<2 {
            guard let first = scalar(at: position) else { return nil }
            if first == "!" {
                let at = position
                return (token(), at)
            }
            guard first == "&" else { return nil }
            _ = token()
            guard skipSeparation() else { return nil }
        }
        return nil
    }

    /// Replaces the first character of the plain or quoted key at `position` with `placeholder`; false when the
    /// key does not start there as a plain or quoted scalar (a tag, an anchor, an alias, a block scalar, a flow
    /// collection, an empty or escaped quote).
    mutating func rename(keyAt position: Position, to placeholder: Unicode.Scalar) -> Bool {
        guard let first = scalar(at: position) else { return false }
        var target = position
        if first == "\"" || first == "'" {
            target.column += 1
            guard let inside = scalar(at: target), inside != first else { return false }
        } else if "!&*|>[{".unicodeScalars.contains(first) {
            return false
        }
        lines[target.line - 1][target.column - 1] = placeholder
        return true
    }
}
