/// A string with `{placeholder}`s, checked when the adapter loads and expanded per scenario.
///
/// `{{` and `}}` are literal braces. Expansion never re-reads what it inserted, so a value holding braces (a
/// summary, a name a scenario chose) cannot smuggle a placeholder in.
public struct Template: Sendable, Hashable, CustomStringConvertible {
    public enum Part: Sendable, Hashable {
        case literal(String)
        case placeholder(String)
    }

    public let parts: [Part]
    public let text: String

    public struct ParseError: Error, Sendable {
        public let message: String
    }

    public init(_ text: String, allowed: Set<String>) throws(ParseError) {
        var parts: [Part] = []
        var literal = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if character == "{" {
                if next < text.endIndex, text[next] == "{" {
                    literal.append("{")
                    index = text.index(after: next)
                    continue
                }
                guard let close = text[next...].firstIndex(of: "}") else {
                    throw ParseError(message: "unclosed '{' in '\(text)' (write {{ for a literal brace)")
                }
                let name = String(text[next..<close])
                guard allowed.contains(name) else {
                    let known = allowed.sorted().map { "{\($0)}" }.joined(separator: " ")
                    let hint = EditDistance.suggestion(for: name, among: Array(allowed)).map {
                        " (did you mean {\($0)}?)"
                    }
                    throw ParseError(message: "unknown placeholder {\(name)}\(hint ?? "") — known: \(known)")
                }
                if !literal.isEmpty {
                    parts.append(.literal(literal))
                    literal = ""
                }
                parts.append(.placeholder(name))
                index = text.index(after: close)
                continue
            }
            if character == "}" {
                guard next < text.endIndex, text[next] == "}" else {
                    throw ParseError(message: "unmatched '}' in '\(text)' (write }} for a literal brace)")
                }
                literal.append("}")
                index = text.index(after: next)
                continue
            }
            literal.append(character)
            index = next
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
        self.text = text
    }

    public var placeholders: Set<String> {
        Set(parts.compactMap { if case .placeholder(let name) = $0 { name } else { nil } })
    }

    /// The text with every placeholder replaced; `encode` transforms each inserted value (percent-encoding in a URL).
    public func expand(_ values: [String: String], encode: (String) -> String = { $0 }) -> String {
        var result = ""
        for part in parts {
            switch part {
            case .literal(let text): result += text
            case .placeholder(let name): result += encode(values[name] ?? "")
            }
        }
        return result
    }

    public var description: String { text }
}
