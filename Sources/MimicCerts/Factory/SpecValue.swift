import Foundation
import Yams

/// A YAML (or any Decoder's) tree reduced to what spec parsing needs, with the line of every node when known.
///
/// Both entry points, Yams nodes (with marks) and a generic `Decoder` (without), land here so that validation
/// and its error messages exist once.
indirect enum SpecValue: Sendable {
    case null(line: Int?)
    case scalar(String, line: Int?)
    case sequence([SpecValue], line: Int?)
    case mapping([(key: String, keyLine: Int?, value: SpecValue)], line: Int?)

    var line: Int? {
        switch self {
        case .null(let line), .scalar(_, let line), .sequence(_, let line), .mapping(_, let line): line
        }
    }

    var kindName: String {
        switch self {
        case .null: "null"
        case .scalar: "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    /// Converts a Yams node; aliases and non-scalar mapping keys are refused rather than guessed at.
    init(node: Node, field: String = "", file: String?) throws {
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar):
            if node.null != nil, scalar.style == .plain {
                self = .null(line: line)
            } else {
                self = .scalar(scalar.string, line: line)
            }
        case .sequence(let sequence):
            var items: [SpecValue] = []
            for (index, item) in sequence.enumerated() {
                items.append(try SpecValue(node: item, field: "\(field)[\(index)]", file: file))
            }
            self = .sequence(items, line: line)
        case .mapping(let mapping):
            var pairs: [(key: String, keyLine: Int?, value: SpecValue)] = []
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let key) = keyNode else {
                    throw ChainSpecError(
                        field: field,
                        message: "mapping keys must be plain strings",
                        file: file,
                        line: keyNode.mark?.line ?? line
                    )
                }
                let path = field.isEmpty ? key.string : "\(field).\(key.string)"
                if pairs.contains(where: { $0.key == key.string }) {
                    throw ChainSpecError(
                        field: path,
                        message: "duplicate key",
                        file: file,
                        line: keyNode.mark?.line ?? line
                    )
                }
                pairs.append((key.string, keyNode.mark?.line, try SpecValue(node: valueNode, field: path, file: file)))
            }
            self = .mapping(pairs, line: line)
        case .alias:
            throw ChainSpecError(field: field, message: "YAML aliases are not supported here", file: file, line: line)
        }
    }

    /// Reads any Decoder's tree (no line numbers available through the Decoder API).
    init(from decoder: any Decoder, depth: Int = 0) throws {
        guard depth < 32 else {
            throw ChainSpecError(field: Self.path(decoder.codingPath), message: "nested too deeply")
        }
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            var pairs: [(key: String, keyLine: Int?, value: SpecValue)] = []
            for key in keyed.allKeys {
                let child = try keyed.superDecoder(forKey: key)
                pairs.append((key.stringValue, nil, try SpecValue(from: child, depth: depth + 1)))
            }
            self = .mapping(pairs, line: nil)
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var items: [SpecValue] = []
            while !unkeyed.isAtEnd {
                let child = try unkeyed.superDecoder()
                items.append(try SpecValue(from: child, depth: depth + 1))
            }
            self = .sequence(items, line: nil)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null(line: nil)
        } else if let string = try? single.decode(String.self) {
            self = .scalar(string, line: nil)
        } else if let bool = try? single.decode(Bool.self) {
            self = .scalar(bool ? "true" : "false", line: nil)
        } else if let int = try? single.decode(Int.self) {
            self = .scalar(String(int), line: nil)
        } else if let double = try? single.decode(Double.self) {
            self = .scalar(String(double), line: nil)
        } else {
            throw ChainSpecError(field: Self.path(decoder.codingPath), message: "unreadable value")
        }
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

/// Composes YAML text into a ``SpecValue``, with a size bound and Yams' own errors turned into ours.
enum SpecYAML {
    static let maximumBytes = 1 << 20

    static func compose(_ yaml: String, file: String?) throws -> SpecValue {
        guard yaml.utf8.count <= maximumBytes else {
            throw ChainSpecError(field: "", message: "larger than \(maximumBytes) bytes", file: file)
        }
        let node: Node?
        do {
            // No resolution rules: only plain-or-not and the text are read, and with the default rules the
            // duplicate-key check tried seven regular expressions on every key. UTF-8 said outright, so that Yams
            // does not read the environment at every parse.
            node = try Yams.compose(yaml: yaml, .basic, .default, .utf8)
        } catch {
            throw ChainSpecError(field: "", message: "not valid YAML: \(error)", file: file)
        }
        guard let node else {
            throw ChainSpecError(field: "", message: "empty document", file: file, line: 1)
        }
        return try SpecValue(node: node, file: file)
    }
}
