import Foundation
import MimicCore
import MimicNet

/// Output formats for `mimic run`.
public enum ScenarioRunFormat: String, Sendable, CaseIterable, Codable {
    /// The matrix: a row per scenario, a column per probe backend, then the mismatches' evidence.
    case text
    /// Every outcome with its full probe reports.
    case json
    /// JUnit XML: one test suite, a test case per scenario and backend, for CI.
    case junit
}

extension ScenarioRun {
    public func render(_ format: ScenarioRunFormat) -> String {
        switch format {
        case .text: renderText()
        case .json: JSONReport.encode(self)
        case .junit: renderJUnit()
        }
    }

    // MARK: - Text

    /// `scenario × backend`: `ok`, `MISMATCH` or `ERROR`; then what each mismatch expected and saw; then the counts.
    public func renderText() -> String {
        let backends = probedBackends
        var table = TextTable(header: ["scenario", "server"] + backends.map(\.rawValue))
        for outcome in outcomes {
            let server = "\(outcome.serviceProtocol) \(outcome.mode) (\(outcome.serverBackend))"
            let cells = backends.map { backend -> String in
                // Kept short so the matrix stays readable; the details follow under "Mismatches".
                if outcome.error != nil { return "ERROR" }
                guard let result = outcome.outcome(for: backend) else { return "-" }
                return result.passed ? "ok" : "MISMATCH"
            }
            table.add([outcome.id, server] + cells)
        }
        var out = [table.render(separator: "   ")]
        let failures = outcomes.filter { !$0.passed }
        if !failures.isEmpty {
            out.append("")
            out.append("Mismatches")
            for outcome in failures {
                out.append("  \(outcome.id)  (\(outcome.source))")
                if let error = outcome.error { out.append("    error: \(error)") }
                for backend in outcome.backends where !backend.passed {
                    out.append("    \(backend.backend): \(backend.summary)")
                    for finding in backend.report?.findings ?? [] {
                        out.append(
                            "      \(finding.severity.rawValue) \(finding.code.rawValue) [\(finding.phase)]: \(Self.oneLine(finding.evidence))"
                        )
                    }
                }
            }
        }
        out.append("")
        out.append("\(passedCount) passed, \(failedCount) failed (\(String(format: "%.1f", milliseconds / 1000)) s)")
        return out.joined(separator: "\n")
    }

    /// Evidence that quotes several reply lines, on one line of the report.
    static func oneLine(_ text: String) -> String {
        text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).joined(separator: " ⏎ ")
    }

    // MARK: - JUnit

    /// One `<testsuite>`; a `<testcase classname="scenario id" name="backend">` per scenario and probe backend,
    /// with a `<failure>` for a mismatch and an `<error>` when the scenario could not run.
    public func renderJUnit() -> String {
        var cases: [String] = []
        var tests = 0
        var failures = 0
        var errors = 0
        for outcome in outcomes {
            let seconds = String(format: "%.3f", outcome.milliseconds / 1000)
            let classname = Self.xmlEscape(outcome.id)
            if let error = outcome.error {
                tests += 1
                errors += 1
                cases.append(
                    """
                      <testcase classname="\(classname)" name="run" time="\(seconds)">
                        <error message="\(Self.xmlEscape(error))">\(Self.xmlEscape(outcome.source))</error>
                      </testcase>
                    """)
                continue
            }
            for backend in outcome.backends {
                tests += 1
                let time = String(format: "%.3f", (backend.report?.totalMilliseconds ?? 0) / 1000)
                var body = ""
                if !backend.passed {
                    failures += 1
                    var detail = ["\(outcome.summary)", "defined at \(outcome.source)"]
                    for finding in backend.report?.findings ?? [] {
                        detail.append(
                            "\(finding.severity.rawValue) \(finding.code.rawValue) [\(finding.phase)]: \(finding.evidence)"
                        )
                    }
                    body =
                        "\n    <failure message=\"\(Self.xmlEscape(backend.summary))\">"
                        + Self.xmlEscape(detail.joined(separator: "\n")) + "</failure>\n  "
                }
                cases.append(
                    "  <testcase classname=\"\(classname)\" name=\"\(backend.backend.rawValue)\" time=\"\(time)\">\(body)</testcase>"
                )
            }
        }
        let seconds = String(format: "%.3f", milliseconds / 1000)
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites tests="\(tests)" failures="\(failures)" errors="\(errors)" time="\(seconds)">
            <testsuite name="mimic scenarios" tests="\(tests)" failures="\(failures)" errors="\(errors)" time="\(seconds)">
            \(cases.joined(separator: "\n"))
            </testsuite>
            </testsuites>
            """
    }

    /// Escapes text for an XML attribute or element; control characters XML 1.0 cannot carry become U+FFFD.
    static func xmlEscape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            case "\t": out += "&#9;"
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
