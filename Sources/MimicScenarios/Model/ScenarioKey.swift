/// How a key's value is read from YAML, and how `scenarios/schema.json` describes it.
struct KeyType<Value>: @unchecked Sendable {
    let schema: JSONValue
    let decode: (YAMLValue) throws(ScenarioError) -> Value

    init(schema: JSONValue, decode: @escaping (YAMLValue) throws(ScenarioError) -> Value) {
        self.schema = schema
        self.decode = decode
    }

    /// The same reading, a different value (a bare reply code expanded, a duration in milliseconds).
    func map<Other>(_ transform: @escaping (Value) -> Other) -> KeyType<Other> {
        let decode = self.decode
        return KeyType<Other>(schema: schema) { (value) throws(ScenarioError) in transform(try decode(value)) }
    }
}

/// One key of a scenario section, declared once, as argument-parser declares an option: its name, its type, its
/// default and its help text, and where its value goes. The loader's allowed keys and "did you mean", the
/// validator's field paths and `scenarios/schema.json` all come from these declarations.
struct ScenarioKey<Root>: @unchecked Sendable {
    let name: String
    /// The dotted path from the document root (`dialog.starttls.reply`); list items are `network[]`.
    let path: String
    /// The schema of the value, with the help text and the default.
    let schema: JSONValue
    /// Stores the decoded value into the section's value; nil for keys the section's decoder reads itself.
    let apply: ((YAMLValue, inout Root) throws(ScenarioError) -> Void)?

    /// A key the section decoder reads by hand (the matrix, the chain sources).
    init(_ name: String, in section: String, schema: JSONValue, default: JSONValue? = nil, help: String? = nil) {
        self.name = name
        self.path = section.isEmpty ? name : "\(section).\(name)"
        var extra: [(String, JSONValue)] = []
        if let help { extra.append(("description", .string(help))) }
        if let `default` { extra.append(("default", `default`)) }
        self.schema = schema.merging(extra)
        self.apply = nil
    }

    /// A key whose value goes to `target`.
    init<Value>(
        _ name: String, in section: String, _ target: WritableKeyPath<Root, Value>, _ type: KeyType<Value>,
        default: JSONValue? = nil, help: String? = nil
    ) {
        self.init(name, in: section, schema: type.schema, default: `default`, help: help) {
            (value, root) throws(ScenarioError) in root[keyPath: target] = try type.decode(value)
        }
    }

    /// A key whose value goes to an optional `target` (absent: nil, or what the default configuration holds).
    init<Value>(
        _ name: String, in section: String, _ target: WritableKeyPath<Root, Value?>, _ type: KeyType<Value>,
        default: JSONValue? = nil, help: String? = nil
    ) {
        self.init(name, in: section, schema: type.schema, default: `default`, help: help) {
            (value, root) throws(ScenarioError) in root[keyPath: target] = try type.decode(value)
        }
    }

    /// A key whose value is a section of its own, decoded into the same value.
    init(_ name: String, in section: String, _ nested: KeySection<Root>, help: String? = nil) {
        self.init(name, in: section, schema: nested.schema, help: help) { (value, root) throws(ScenarioError) in
            _ = try nested.decode(value, into: &root)
        }
    }

    /// A key that stores its value in its own way.
    init(
        _ name: String, in section: String, schema: JSONValue, default: JSONValue? = nil, help: String? = nil,
        apply: @escaping (YAMLValue, inout Root) throws(ScenarioError) -> Void
    ) {
        self.init(name, in: section, schema: schema, default: `default`, help: help)
        self = ScenarioKey(name: name, path: path, schema: self.schema, apply: apply)
    }

    private init(
        name: String, path: String, schema: JSONValue,
        apply: ((YAMLValue, inout Root) throws(ScenarioError) -> Void)?
    ) {
        self.name = name
        self.path = path
        self.schema = schema
        self.apply = apply
    }
}

/// The keys of one mapping in a scenario file, in the order the documentation lists them.
struct KeySection<Root>: @unchecked Sendable {
    let keys: [ScenarioKey<Root>]
    /// More of the section's schema: `required`, `description`, `not`, `minProperties`, ….
    let extra: [(String, JSONValue)]

    init(_ keys: [ScenarioKey<Root>], _ extra: [(String, JSONValue)] = []) {
        self.keys = keys
        self.extra = extra
    }

    /// The key names, as the loader allows them.
    var names: [String] { keys.map(\.name) }

    /// A closed JSON Schema object: these keys and no others.
    var schema: JSONValue {
        let properties = JSONValue.object(keys.map { ($0.name, $0.schema) })
        return JSONValue.object([("type", "object"), ("additionalProperties", false), ("properties", properties)])
            .merging(extra)
    }

    /// Checks the mapping's keys and stores every key's value into `root`, in declaration order.
    @discardableResult
    func decode(_ value: YAMLValue, into root: inout Root) throws(ScenarioError) -> YAMLMapping {
        let mapping = try value.mapping(allowed: names)
        try apply(mapping, into: &root)
        return mapping
    }

    /// Stores the value of every key with a place to go that the mapping gives.
    func apply(_ mapping: YAMLMapping, into root: inout Root) throws(ScenarioError) {
        for key in keys {
            if let apply = key.apply, let found = mapping[key.name] { try apply(found, &root) }
        }
    }
}

extension YAMLMapping {
    subscript<Root>(key: ScenarioKey<Root>) -> YAMLValue? { self[key.name] }

    func required<Root>(_ key: ScenarioKey<Root>) throws(ScenarioError) -> YAMLValue { try required(key.name) }
}
