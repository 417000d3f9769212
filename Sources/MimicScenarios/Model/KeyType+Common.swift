import MimicCore

/// The value types scenario keys share.
extension KeyType where Value == Bool {
    static var bool: KeyType<Bool> {
        KeyType(schema: ["type": "boolean"]) { (value) throws(ScenarioError) in try value.bool() }
    }
}

extension KeyType where Value == Int {
    static func int(in range: ClosedRange<Int>) -> KeyType<Int> {
        KeyType(
            schema: ["type": "integer", "minimum": .integer(range.lowerBound), "maximum": .integer(range.upperBound)]
        ) { (value) throws(ScenarioError) in try value.int(in: range) }
    }
}

extension KeyType where Value == String {
    /// Text that must not be empty; `acceptingNumbers` takes a bare reply code (`421`) as text.
    static func text(acceptingNumbers: Bool = false) -> KeyType<String> {
        KeyType(schema: acceptingNumbers ? ["type": ["string", "integer"]] : ["type": "string", "minLength": 1]) {
            (value) throws(ScenarioError) in try value.nonEmptyString(acceptingNumbers: acceptingNumbers)
        }
    }

    /// Any string, the empty one too.
    static var anyText: KeyType<String> {
        KeyType(schema: ["type": "string"]) { (value) throws(ScenarioError) in try value.string() }
    }
}

extension KeyType where Value == [String] {
    static var textList: KeyType<[String]> {
        KeyType(schema: ["type": "array", "items": ["type": "string", "minLength": 1]]) {
            (value) throws(ScenarioError) in try value.stringList()
        }
    }
}

extension KeyType where Value == Duration {
    /// `0`, `250ms`, `2s`, `1.5s`, `1m`.
    static var duration: KeyType<Duration> {
        KeyType(schema: .ref("duration")) { (value) throws(ScenarioError) in try value.duration() }
    }
}

extension KeyType {
    /// A value spelled as one of `pairs`' names.
    static func oneOf(_ pairs: [(String, Value)], what: String, schema: JSONValue? = nil) -> KeyType<Value> {
        KeyType(schema: schema ?? ["enum": .strings(pairs.map(\.0))]) { (value) throws(ScenarioError) in
            try value.oneOf(pairs, what: what)
        }
    }
}

extension KeyType where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// A string enum spelled as its raw values; `ref` names a shared `$defs` entry.
    static func enumeration(what: String, ref: String? = nil) -> KeyType<Value> {
        oneOf(Value.allCases.map { ($0.rawValue, $0) }, what: what, schema: ref.map(JSONValue.ref))
    }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements) }

    /// A reference to `#/$defs/<name>`.
    static func ref(_ name: String) -> JSONValue { single("$ref", .string("#/$defs/\(name)")) }

    /// An object of one entry whose key is not a literal.
    static func single(_ key: String, _ value: JSONValue) -> JSONValue { .object([(key, value)]) }
}
