import Foundation

/// A JUnit XML document of one test suite, built a test case at a time and counting as it goes: what `mimic run`
/// and `mimic grade` write for CI.
struct JUnitSuite {
    /// How one test case ended; messages and texts are plain text, escaped here.
    enum Result {
        case passed
        case failure(message: String, text: String)
        case error(message: String, text: String)
        case skipped(message: String)
    }

    /// The suite's name (`mimic scenarios`, `mimic grade NAME`).
    var name: String
    /// Whether the counts carry `skipped` (a grading skips scenarios its monitor cannot check; a run never does).
    var countsSkipped = false
    private var cases: [String] = []
    private var tests = 0
    private var failures = 0
    private var errors = 0
    private var skipped = 0

    init(name: String, countsSkipped: Bool = false) {
        self.name = name
        self.countsSkipped = countsSkipped
    }

    /// A `<testcase>` that took `seconds`, with its `<failure>`, `<error>` or `<skipped>` element.
    mutating func add(classname: String, name: String, seconds: Double, _ result: Result) {
        tests += 1
        let body: String
        switch result {
        case .passed:
            body = ""
        case .failure(let message, let text):
            failures += 1
            body = "\n    <failure message=\"\(Self.escape(message))\">\(Self.escape(text))</failure>\n  "
        case .error(let message, let text):
            errors += 1
            body = "\n    <error message=\"\(Self.escape(message))\">\(Self.escape(text))</error>\n  "
        case .skipped(let message):
            skipped += 1
            body = "\n    <skipped message=\"\(Self.escape(message))\"/>\n  "
        }
        let attributes = "classname=\"\(Self.escape(classname))\" name=\"\(Self.escape(name))\""
        cases.append("  <testcase \(attributes) time=\"\(String(format: "%.3f", seconds))\">\(body)</testcase>")
    }

    /// The whole document; the suite took `seconds`.
    func render(seconds: Double) -> String {
        var counts = "tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\""
        if countsSkipped { counts += " skipped=\"\(skipped)\"" }
        counts += " time=\"\(String(format: "%.3f", seconds))\""
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites \(counts)>
            <testsuite name="\(Self.escape(name))" \(counts)>
            \(cases.joined(separator: "\n"))
            </testsuite>
            </testsuites>
            """
    }

    /// Escapes text for an XML attribute or element; control characters XML 1.0 cannot carry become U+FFFD.
    static func escape(_ text: String) -> String {
        text.escaping { scalar in
            if let entity = entities[scalar] { return entity }
            return scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF ? "\u{FFFD}" : nil
        }
    }

    private static let entities: [Unicode.Scalar: String] = [
        "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&apos;", "\n": "&#10;", "\r": "&#13;",
        "\t": "&#9;",
    ]
}
