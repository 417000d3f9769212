/// Writing values into a captured scenario file: every free text double-quoted with YAML escapes, so that what a
/// server sent (control bytes, quotes, a `#`, a leading `*`) reads back byte for byte.
enum CaptureYAML {
    static func quoted(_ text: String) -> String {
        let escaped = text.escaping { scalar in
            if let escape = escapes[scalar] { return escape }
            guard scalar.value < 0x20 || scalar.value == 0x7F else { return nil }
            return "\\x" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 2)
        }
        return "\"" + escaped + "\""
    }

    private static let escapes: [Unicode.Scalar: String] = [
        "\"": "\\\"", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
    ]

    static func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }

    /// A comment line: the text with line breaks folded, so that nothing a server sent can end the comment.
    static func comment(_ text: String, indent: String = "") -> String {
        let flat = text.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
        return "\(indent)# \(flat)"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
