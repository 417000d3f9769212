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
        var suite = JUnitSuite(name: "mimic scenarios")
        for outcome in outcomes {
            if let error = outcome.error {
                suite.add(
                    classname: outcome.id, name: "run", seconds: outcome.milliseconds / 1000,
                    .error(message: error, text: outcome.source))
                continue
            }
            for backend in outcome.backends {
                var result = JUnitSuite.Result.passed
                if !backend.passed {
                    var detail = ["\(outcome.summary)", "defined at \(outcome.source)"]
                    for finding in backend.report?.findings ?? [] {
                        detail.append(
                            "\(finding.severity.rawValue) \(finding.code.rawValue) [\(finding.phase)]: \(finding.evidence)"
                        )
                    }
                    result = .failure(message: backend.summary, text: detail.joined(separator: "\n"))
                }
                suite.add(
                    classname: outcome.id, name: backend.backend.rawValue,
                    seconds: (backend.report?.totalMilliseconds ?? 0) / 1000, result)
            }
        }
        return suite.render(seconds: milliseconds / 1000)
    }
}
