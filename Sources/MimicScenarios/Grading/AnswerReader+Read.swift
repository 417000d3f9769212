import Foundation
import MimicCore

extension AnswerReader {
    /// What a finished run says. `exitCode` is nil for an HTTP answer or a run ended by a signal; `output` is what
    /// it printed (or the HTTP body).
    public func read(exitCode: Int32?, output: String) -> (reading: Reading, why: String) {
        switch self {
        case .nagios:
            guard let exitCode else { return (.error, "no exit code") }
            switch exitCode {
            case 0: return (.state(.ok), "exit 0")
            case 1: return (.state(.warning), "exit 1")
            case 2: return (.state(.critical), "exit 2")
            case 3: return (.state(.unknown), "exit 3")
            default: return (.error, "exit \(exitCode) is not a Nagios state")
            }
        case .exit(let map, let other):
            guard let exitCode else { return (.error, "no exit code") }
            return (map[exitCode] ?? other, "exit \(exitCode)")
        case .patterns(let patterns, let otherwise):
            for pattern in patterns {
                guard let regex = try? NSRegularExpression(pattern: pattern.regex, options: [.anchorsMatchLines]) else {
                    continue
                }
                let range = NSRange(output.startIndex..., in: output)
                if regex.firstMatch(in: output, range: range) != nil {
                    return (pattern.reading, "matched /\(pattern.regex)/")
                }
            }
            return (otherwise, "no pattern matched")
        case .json(let path, let map, let otherwise):
            guard let data = output.data(using: .utf8),
                let document = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            else { return (.error, "the output is not JSON") }
            guard let value = Self.value(at: path, in: document) else { return (otherwise, "no value at the path") }
            let text = Self.text(of: value)
            return (map[text] ?? otherwise, "value '\(text.prefix(80))'")
        case .prometheus(let metric, let map):
            guard let sample = Self.sample(of: metric, in: output) else { return (.error, "no \(metric) sample") }
            return (map[sample] ?? .error, "\(metric) \(sample)")
        }
    }

    static func value(at path: [JSONPathStep], in document: Any) -> Any? {
        var current: Any = document
        for step in path {
            switch step {
            case .key(let key):
                guard let object = current as? [String: Any], let next = object[key] else { return nil }
                current = next
            case .index(let index):
                guard let array = current as? [Any], index < array.count else { return nil }
                current = array[index]
            }
        }
        return current
    }

    /// JSON scalars as their text: `true`, `1`, `COMPLETED`; containers as `[…]` / `{…}` (never matched).
    static func text(of value: Any) -> String {
        switch value {
        case let string as String: return string
        case let bool as Bool where type(of: value) == Bool.self: return bool ? "true" : "false"
        case let number as NSNumber:
            // Foundation on Linux hands booleans over as NSNumber too; its objCType tells them apart.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.stringValue
        case is NSNull: return "null"
        case is [Any]: return "[…]"
        default: return "{…}"
        }
    }

    /// The value of the first sample of `metric` in Prometheus text format (`probe_success 0`,
    /// `probe_success{module="x"} 1`), normalised: `1`, `0`, `0.5`.
    static func sample(of metric: String, in text: String) -> String? {
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.hasPrefix("#"), line.hasPrefix(metric) else { continue }
            var rest = line.dropFirst(metric.count)
            if rest.first == "{" {
                guard let close = rest.firstIndex(of: "}") else { continue }
                rest = rest[rest.index(after: close)...]
            } else if rest.first != " " {
                continue
            }
            guard let valueText = rest.split(separator: " ").first, let value = Double(valueText) else { continue }
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        }
        return nil
    }
}
