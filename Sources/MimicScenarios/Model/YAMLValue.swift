import Foundation
import Yams

/// A YAML node with the path that led to it, so every decoding error can say where and what.
///
/// Scenario files are decoded by hand over Yams' composed `Node`s rather than through `Decodable`: only the
/// nodes keep their marks, and a file:line:column for every error is the point of the exercise.
struct YAMLValue {
    let node: Node
    /// Dotted path from the document root (`dialog.starttls.reply`, `network[1].kind`).
    let path: String
    let file: String

    var location: SourceLocation {
        let mark = node.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    func error(_ message: String) -> ScenarioError {
        ScenarioError(location: location, path: path, message: message)
    }

    /// "a mapping", "an integer", … for "expected X, got Y".
    var kindDescription: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar:
            switch node.tagName {
            case .str: return "a string"
            case .int: return "an integer"
            case .float: return "a number"
            case .bool: return "a boolean"
            case .null: return "null"
            case .timestamp: return "a timestamp"
            default: return "a value tagged \(node.tagName.rawValue)"
            }
        }
    }

    private func mismatch(_ expected: String) -> ScenarioError {
        error("expected \(expected), got \(kindDescription)")
    }

    var scalarText: String? {
        if case .scalar(let scalar) = node { scalar.string } else { nil }
    }

    /// A string. Plain numbers are accepted as text where a field takes reply lines (`421`), because YAML
    /// would otherwise make the author quote every reply code.
    func string(acceptingNumbers: Bool = false) throws(ScenarioError) -> String {
        guard let text = scalarText else { throw mismatch("a string") }
        let tag = node.tagName
        guard tag == .str || (acceptingNumbers && (tag == .int || tag == .float)) else { throw mismatch("a string") }
        return text
    }

    /// A string that must not be empty or only blanks.
    func nonEmptyString(acceptingNumbers: Bool = false) throws(ScenarioError) -> String {
        let text = try string(acceptingNumbers: acceptingNumbers)
        guard !text.allSatisfy(\.isWhitespace) else { throw error("must not be empty") }
        return text
    }

    func int(in range: ClosedRange<Int>) throws(ScenarioError) -> Int {
        guard let text = scalarText, node.tagName == .int else { throw mismatch("an integer") }
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")) ?? node.int else {
            throw error("\(text) is out of range (\(range.lowerBound)...\(range.upperBound))")
        }
        guard range.contains(value) else {
            throw error("\(value) is out of range (\(range.lowerBound)...\(range.upperBound))")
        }
        return value
    }

    func bool() throws(ScenarioError) -> Bool {
        // YAML 1.1's booleans (the default rules' `yes`, `On`, `FALSE`, …), read from the text rather than through
        // Yams, whose reading depends on how far the node's tag has been resolved.
        guard node.tagName == .bool, let text = node.scalar?.string.lowercased() else {
            throw mismatch("a boolean (true or false)")
        }
        return ["true", "yes", "on"].contains(text)
    }

    func list() throws(ScenarioError) -> [YAMLValue] {
        guard case .sequence(let sequence) = node else { throw mismatch("a list") }
        return sequence.enumerated().map { YAMLValue(node: $1, path: "\(path)[\($0)]", file: file) }
    }

    /// A list, or a single value standing for a one-element list (`greeting: "220 ready"`).
    func listOrSingle() -> [YAMLValue] {
        if case .sequence = node, let items = try? list() { return items }
        return [self]
    }

    func stringList(acceptingNumbers: Bool = false) throws(ScenarioError) -> [String] {
        var result: [String] = []
        for item in try list() { result.append(try item.nonEmptyString(acceptingNumbers: acceptingNumbers)) }
        return result
    }

    /// A mapping whose keys must all be in `allowed`; anything else is reported with a suggestion.
    func mapping(allowed: [String]) throws(ScenarioError) -> YAMLMapping {
        guard case .mapping(let mapping) = node else { throw mismatch("a mapping") }
        var entries: [YAMLMapping.Entry] = []
        for (keyNode, valueNode) in mapping {
            let keyValue = YAMLValue(node: keyNode, path: path, file: file)
            guard case .scalar = keyNode, keyNode.tagName == .str || keyNode.tagName == .int,
                let key = keyNode.string
            else {
                throw keyValue.error("keys must be strings, got \(keyValue.kindDescription)")
            }
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            if !allowed.isEmpty, !allowed.contains(key) {
                let place = path.isEmpty ? "at the top level" : "in \(path)"
                var message = "unknown key '\(key)' \(place)"
                if let suggestion = EditDistance.suggestion(for: key, among: allowed) {
                    message += " (did you mean '\(suggestion)'?)"
                } else {
                    message += " (allowed: \(allowed.joined(separator: ", ")))"
                }
                throw ScenarioError(
                    location: YAMLValue(node: keyNode, path: childPath, file: file).location,
                    path: childPath,
                    message: message
                )
            }
            entries.append(
                YAMLMapping.Entry(
                    key: key,
                    keyLocation: keyValue.location,
                    value: YAMLValue(node: valueNode, path: childPath, file: file)
                )
            )
        }
        return YAMLMapping(value: self, entries: entries)
    }

    /// A value of a string-backed enum, spelled as its raw value.
    func enumValue<T: RawRepresentable & CaseIterable>(_ type: T.Type, what: String) throws(ScenarioError) -> T
    where T.RawValue == String {
        var pairs: [(String, T)] = []
        for value in T.allCases { pairs.append((value.rawValue, value)) }
        return try oneOf(pairs, what: what)
    }

    /// A value from a closed set, reported with the allowed spellings (and the likely one) when wrong.
    func oneOf<T>(_ pairs: [(String, T)], what: String) throws(ScenarioError) -> T {
        let names = pairs.map(\.0)
        guard let text = scalarText, node.tagName != .null else {
            throw error("expected one of \(names.joined(separator: ", ")), got \(kindDescription)")
        }
        if let match = pairs.first(where: { $0.0 == text }) { return match.1 }
        let listed = names.joined(separator: ", ")
        if let suggestion = EditDistance.suggestion(for: text, among: names) {
            // A long list after a good guess only buries the guess.
            let rest = names.count > 8 ? "" : " expected one of: \(listed)"
            throw error("bad \(what) '\(text)' (did you mean '\(suggestion)'?\(rest))")
        }
        throw error("bad \(what) '\(text)' (expected one of: \(listed))")
    }

    /// A duration: `0`, `250ms`, `2s`, `1.5s`, `1m`. Bounded to an hour: anything longer is a typo.
    func duration() throws(ScenarioError) -> Duration {
        guard let text = scalarText, [.str, .int, .float].contains(node.tagName) else {
            throw mismatch("a duration such as 250ms or 2s")
        }
        guard let value = Self.parseDuration(text) else {
            throw error("bad duration '\(text)' (expected a number with a unit: 250ms, 2s, 1.5s, 1m)")
        }
        guard value <= .seconds(3600) else { throw error("duration '\(text)' is longer than an hour") }
        return value
    }

    static func parseDuration(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "0" { return .zero }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        for (unit, scale) in units where trimmed.hasSuffix(unit) {
            let number = trimmed.dropLast(unit.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                number.filter({ $0 == "." }).count <= 1, number.first != ".", number.last != ".",
                let amount = Double(number)
            else { return nil }
            let milliseconds = (amount * scale * 1000).rounded()
            guard milliseconds.isFinite, milliseconds < Double(Int64.max) else { return nil }
            return .milliseconds(Int64(milliseconds))
        }
        return nil
    }
}

/// A decoded mapping: its entries in file order and lookups that produce path-carrying values.
struct YAMLMapping {
    struct Entry {
        let key: String
        let keyLocation: SourceLocation
        let value: YAMLValue
    }

    let value: YAMLValue
    let entries: [Entry]

    subscript(key: String) -> YAMLValue? {
        entries.first { $0.key == key }?.value
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    func required(_ key: String) throws(ScenarioError) -> YAMLValue {
        guard let found = self[key] else {
            throw ScenarioError(
                location: value.location,
                path: value.path.isEmpty ? key : "\(value.path).\(key)",
                message: "missing required key '\(key)'"
            )
        }
        return found
    }
}

extension Node {
    /// The tag's name (`tag:yaml.org,2002:int`, …) by YAML 1.1's default rules, which Yams' default resolver applies.
    ///
    /// Scenario files are composed without rules (`Resolver.basic`, see `ScenarioLoader.compose`): Yams resolves a tag
    /// whenever a node is hashed, and its duplicate-key check hashes every mapping key, so with the default rules
    /// each key was tried against seven regular expressions — most of the time it took to load a scenario. A plain
    /// scalar is resolved here instead, when its type is asked for, by the same rules; a scalar whose first character
    /// no rule can start with is a string without trying them. Quoted scalars are strings either way, and explicit
    /// tags are refused before decoding.
    var tagName: Tag.Name {
        if case .scalar(let scalar) = self, scalar.style == .plain {
            return Self.defaultTagName(ofPlain: scalar.string)
        }
        // Yams keeps `Tag.name` internal; its description is the same string.
        return Tag.Name(rawValue: tag.description)
    }

    /// What Yams' default resolver makes of a plain scalar.
    static func defaultTagName(ofPlain text: String) -> Tag.Name {
        // The first characters the default rules (bool, int, float, merge, null, timestamp, value) can match; the
        // empty string is null.
        if let first = text.utf8.first, !ruleInitials.contains(first) { return .str }
        return Tag.Name(rawValue: Node.scalar(Node.Scalar(text)).tag.description)
    }

    private static let ruleInitials = Set("yYnNtTfFoO0123456789+-.<~=".utf8)
}
