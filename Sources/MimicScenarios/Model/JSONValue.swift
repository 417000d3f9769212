import Foundation

/// A JSON value with its object keys in order, for writing `scenarios/schema.json` the same way every time.
enum JSONValue: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral
{
    case string(String)
    case integer(Int)
    case number(Double)
    case bool(Bool)
    case array([JSONValue])
    case object([(String, JSONValue)])

    init(stringLiteral value: String) { self = .string(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(integerLiteral value: Int) { self = .integer(value) }
    init(arrayLiteral elements: JSONValue...) { self = .array(elements) }

    static func strings(_ items: [String]) -> JSONValue { .array(items.map(JSONValue.string)) }

    /// This object with `entries` added after its own (an entry already present is replaced in place).
    func merging(_ entries: [(String, JSONValue)]) -> JSONValue {
        guard case .object(var own) = self else { return self }
        for (key, value) in entries {
            if let index = own.firstIndex(where: { $0.0 == key }) {
                own[index].1 = value
            } else {
                own.append((key, value))
            }
        }
        return .object(own)
    }

    /// Two-space indented, one value per line, a newline at the end.
    var rendered: String { render(indent: "") + "\n" }

    private func render(indent: String) -> String {
        let inner = indent + "  "
        switch self {
        case .string(let text): return Self.quoted(text)
        case .integer(let value): return String(value)
        case .number(let value): return value == value.rounded() ? String(format1: value) : String(value)
        case .bool(let value): return value ? "true" : "false"
        case .array(let items):
            if items.isEmpty { return "[]" }
            return "[\n" + items.map { inner + $0.render(indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let entries):
            if entries.isEmpty { return "{}" }
            return "{\n"
                + entries.map { inner + Self.quoted($0.0) + ": " + $0.1.render(indent: inner) }.joined(separator: ",\n")
                + "\n\(indent)}"
        }
    }

    private static func quoted(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(text)).flatMap { String(data: $0, encoding: .utf8) } ?? "\"\""
    }

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.rendered == rhs.rendered }
    func hash(into hasher: inout Hasher) { hasher.combine(rendered) }
}

extension String {
    /// `1.0` for a whole number, as JSON Schema's TLS version enum spells it.
    fileprivate init(format1 value: Double) { self = "\(Int(value)).0" }
}
