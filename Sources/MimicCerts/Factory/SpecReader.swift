import Foundation

/// Reads typed fields out of a ``SpecValue`` tree, naming the field (and file:line when known) in every error,
/// and remembers the line of every field it saw so later checks (unknown issuer, cycles) can point at it too.
final class SpecReader {
    let file: String?
    private(set) var lines: [String: Int] = [:]

    init(file: String?) {
        self.file = file
    }

    func error(_ field: String, _ message: String, line: Int? = nil) -> ChainSpecError {
        ChainSpecError(field: field, message: message, file: file, line: line ?? lines[field])
    }

    func note(_ field: String, line: Int?) {
        if let line, lines[field] == nil { lines[field] = line }
    }

    static func join(_ prefix: String, _ key: String) -> String {
        prefix.isEmpty ? key : "\(prefix).\(key)"
    }

    /// The mapping's fields by key; any key outside `allowed` is an error naming it.
    func fields(_ value: SpecValue, at field: String, allowed: [String]) throws -> [String: SpecValue] {
        guard case .mapping(let pairs, let line) = value else {
            throw error(
                field.isEmpty ? "(document)" : field,
                "expected a mapping, found \(value.kindName)",
                line: value.line
            )
        }
        note(field, line: line)
        var result: [String: SpecValue] = [:]
        for pair in pairs {
            let path = Self.join(field, pair.key)
            note(path, line: pair.keyLine ?? pair.value.line)
            guard allowed.contains(pair.key) else {
                throw error(path, "unknown key '\(pair.key)' (expected one of: \(allowed.joined(separator: ", ")))")
            }
            // An explicit null means the same as leaving the key out (JSON writers emit them for nil optionals).
            if case .null = pair.value { continue }
            result[pair.key] = pair.value
        }
        return result
    }

    func string(_ value: SpecValue, at field: String) throws -> String {
        guard case .scalar(let text, let line) = value else {
            throw error(field, "expected a string, found \(value.kindName)", line: value.line)
        }
        note(field, line: line)
        return text
    }

    func optionalString(_ value: SpecValue?, at field: String) throws -> String? {
        guard let value else { return nil }
        if case .null = value { return nil }
        return try string(value, at: field)
    }

    func bool(_ value: SpecValue, at field: String) throws -> Bool {
        let text = try string(value, at: field)
        switch text.lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw error(field, "expected true or false, found '\(text)'", line: value.line)
        }
    }

    func int(_ value: SpecValue, at field: String, range: ClosedRange<Int>) throws -> Int {
        let text = try string(value, at: field)
        guard let number = Int(text), range.contains(number) else {
            throw error(
                field,
                "expected an integer in \(range.lowerBound)...\(range.upperBound), found '\(text)'",
                line: value.line
            )
        }
        return number
    }

    /// A list of items; a lone scalar is not silently promoted to a list.
    func list<T>(_ value: SpecValue, at field: String, item: (SpecValue, String) throws -> T) throws -> [T] {
        if case .null = value { return [] }
        guard case .sequence(let items, let line) = value else {
            throw error(field, "expected a list, found \(value.kindName)", line: value.line)
        }
        note(field, line: line)
        return try items.enumerated().map { index, element in
            let path = "\(field)[\(index)]"
            note(path, line: element.line)
            return try item(element, path)
        }
    }

    func stringList(_ value: SpecValue, at field: String) throws -> [String] {
        try list(value, at: field) { element, path in try string(element, at: path) }
    }

    func enumValue<T: RawRepresentable & CaseIterable>(
        _ value: SpecValue,
        at field: String,
        as type: T.Type
    ) throws
        -> T where T.RawValue == String
    {
        let text = try string(value, at: field)
        guard let result = T(rawValue: text) else {
            let choices = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(field, "unknown value '\(text)' (expected one of: \(choices))", line: value.line)
        }
        return result
    }
}
