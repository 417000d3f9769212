import Foundation
import MimicCore

/// Output formats for `mimic grade`.
public enum ScorecardFormat: String, Sendable, CaseIterable, Codable {
    /// The scorecard tables, then every miss, false alarm and error with what the monitor printed.
    case text
    /// The whole scorecard, every scenario with its command and output.
    case json
    /// JUnit XML: a test case per scenario (missed and false alarm fail, error errs, n/a skipped).
    case junit
    /// One self-contained HTML page: no script, no font, no image from anywhere.
    case html
}

extension Scorecard {
    public func render(_ format: ScorecardFormat) -> String {
        switch format {
        case .text: renderText()
        case .json: renderJSON()
        case .junit: renderJUnit()
        case .html: renderHTML()
        }
    }

    static let columns: [GradeOutcome] = [.caught, .missed, .falseAlarm, .passed, .error, .notApplicable]

    /// Rows of `name, caught, missed, …` for a set of counts.
    func table(_ title: String, _ rows: [(String, OutcomeCounts)]) -> TextTable {
        var table = TextTable(header: [title] + Self.columns.map(\.description) + ["right"])
        for (name, counts) in rows {
            let right = counts.graded == 0 ? "-" : "\(counts.right)/\(counts.graded)"
            table.add([name] + Self.columns.map { String(counts.count($0)) } + [right])
        }
        return table
    }

    var cellRows: [(String, OutcomeCounts)] {
        byCell.sorted { $0.key < $1.key } + [("total", totals)]
    }

    var kindRows: [(String, OutcomeCounts)] {
        ["certificate", "tls", "dialog", "network", "healthy"].compactMap { kind in byKind[kind].map { (kind, $0) } }
    }

    // MARK: - Text

    public func renderText() -> String {
        var out = ["\(monitor) — \(summary)"]
        if let monitorVersion { out.append("version: \(monitorVersion)") }
        out.append("")
        out.append(table("protocol/mode", cellRows).render(separator: "  "))
        out.append("")
        out.append(table("misbehaviour", kindRows).render(separator: "  "))
        let watchedClient = scenarios.filter { !$0.clientFindings.isEmpty }
        if !watchedClient.isEmpty {
            out.append("")
            out.append("What the mocks saw the client do")
            for finding in ClientFinding.allCases {
                let ids = watchedClient.filter { $0.clientFindings.contains(finding) }.map(\.id)
                guard !ids.isEmpty else { continue }
                let shown = ids.prefix(5).joined(separator: ", ") + (ids.count > 5 ? ", …" : "")
                out.append("  \(finding) in \(ids.count) scenario(s): \(shown)")
            }
        }
        for (title, list) in [("Missed", misses), ("False alarms", falseAlarms), ("Errors", errors)] where !list.isEmpty
        {
            out.append("")
            out.append("\(title) (\(list.count))")
            for scenario in list {
                out.append("  \(scenario.id) — \(scenario.summary)")
                out.append("    \(scenario.rule); \(scenario.detail)")
                if let command = scenario.command { out.append("    ran: \(command)") }
                if let output = scenario.output, !output.isEmpty {
                    let lines = output.split(whereSeparator: \.isNewline).prefix(3)
                    for line in lines { out.append("    | \(line.prefix(160))") }
                }
            }
        }
        out.append("")
        out.append(
            "\(totals.caught) caught, \(totals.missed) missed, \(totals.falseAlarm) false alarms, \(totals.passed) passed, "
                + "\(totals.error) errors, \(totals.notApplicable) not applicable "
                + "(\(String(format: "%.1f", milliseconds / 1000)) s)")
        return out.joined(separator: "\n")
    }

    // MARK: - JSON

    public func renderJSON() -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    // MARK: - JUnit

    public func renderJUnit() -> String {
        var suite = JUnitSuite(name: "mimic grade \(monitor)", countsSkipped: true)
        for scenario in scenarios {
            let message = "\(scenario.rule): \(scenario.detail)"
            var detail = [scenario.summary, "defined at \(scenario.source)"]
            if let command = scenario.command { detail.append("ran: \(command)") }
            if let output = scenario.output { detail.append(output) }
            let text = detail.joined(separator: "\n")
            let result: JUnitSuite.Result
            switch scenario.outcome {
            case .missed, .falseAlarm:
                result = .failure(message: "\(scenario.outcome.description): \(message)", text: text)
            case .error: result = .error(message: message, text: text)
            case .notApplicable: result = .skipped(message: message)
            case .caught, .passed: result = .passed
            }
            suite.add(classname: monitor, name: scenario.id, seconds: scenario.milliseconds / 1000, result)
        }
        return suite.render(seconds: milliseconds / 1000)
    }

    // MARK: - HTML

    /// One page: the verdict in a sentence, the two tables as heat-coloured grids, then every scenario that went
    /// wrong with what the monitor printed, then all scenarios in a collapsed list. Inline CSS only.
    public func renderHTML() -> String {
        let escape = Self.htmlEscape
        func grid(_ title: String, _ rows: [(String, OutcomeCounts)]) -> String {
            var html = "<table><thead><tr><th>\(escape(title))</th>"
            for column in Self.columns { html += "<th>\(escape(column.description))</th>" }
            html += "<th>right</th></tr></thead><tbody>"
            for (name, counts) in rows {
                html += "<tr><th>\(escape(name))</th>"
                for column in Self.columns {
                    let count = counts.count(column)
                    let tone = count == 0 ? "zero" : column.rawValue
                    html += "<td class=\"\(tone)\">\(count)</td>"
                }
                let share = counts.graded == 0 ? 0 : Double(counts.right) / Double(counts.graded)
                let right = counts.graded == 0 ? "–" : "\(counts.right)/\(counts.graded)"
                html +=
                    "<td><span class=\"bar\"><span style=\"width:\(Int(share * 100))%\"></span></span> \(right)</td></tr>"
            }
            return html + "</tbody></table>"
        }
        func entry(_ scenario: GradedScenario) -> String {
            var html =
                "<article class=\"\(scenario.outcome.rawValue)\"><h3><span class=\"tag \(scenario.outcome.rawValue)\">"
            html += "\(escape(scenario.outcome.description))</span> <code>\(escape(scenario.id))</code></h3>"
            html += "<p>\(escape(scenario.summary))</p>"
            html += "<p class=\"why\">A monitor \(escape(scenario.rule)); this one: \(escape(scenario.detail)).</p>"
            if let command = scenario.command { html += "<p class=\"cmd\"><code>\(escape(command))</code></p>" }
            if let output = scenario.output, !output.isEmpty { html += "<pre>\(escape(output))</pre>" }
            html += "<p class=\"src\">\(escape(scenario.source))"
            if let field = scenario.fieldFailure { html += " · \(escape(field))" }
            html += " · probe verdict [\(escape(scenario.probeVerdict.map(\.rawValue).joined(separator: ", ")))]"
            if !scenario.clientFindings.isEmpty {
                html +=
                    " · the client: <strong>\(escape(scenario.clientFindings.map(\.rawValue).joined(separator: ", ")))</strong>"
            }
            html += "</p>"
            return html + "</article>"
        }
        let wrong = misses + falseAlarms + errors
        var body = "<header><h1>\(escape(monitor))</h1><p>\(escape(summary))</p>"
        if let monitorVersion { body += "<p class=\"src\">\(escape(monitorVersion))</p>" }
        let graded = totals.graded
        let percent = graded == 0 ? 0 : Int((Double(totals.right) / Double(graded) * 100).rounded())
        body += "<p class=\"lead\">Right on <strong>\(totals.right) of \(graded)</strong> scenarios (\(percent) %): "
        body += "<strong class=\"\(totals.missed > 0 ? "missed" : "")\">\(totals.missed) missed</strong>, "
        body +=
            "<strong class=\"\(totals.falseAlarm > 0 ? "false_alarm" : "")\">\(totals.falseAlarm) false alarms</strong>, "
        body += "\(totals.error) errors; \(totals.notApplicable) not applicable.</p>"
        body +=
            "<p class=\"src\">Graded by Mimic \(escape(mimicVersion)) on \(escape(date)) with \(escape(adapter)).</p></header>"
        body += "<section><h2>By protocol and mode</h2>\(grid("protocol/mode", cellRows))</section>"
        body += "<section><h2>By kind of misbehaviour</h2>\(grid("misbehaviour", kindRows))</section>"
        if !clientFindings.isEmpty {
            body += "<section><h2>What the mocks saw the client do</h2><table><tbody>"
            for count in clientFindings {
                body += "<tr><th>\(escape(count.finding.rawValue))</th><td>\(count.scenarios) scenario(s)</td></tr>"
            }
            body += "</tbody></table></section>"
        }
        if !wrong.isEmpty {
            body += "<section><h2>What went wrong (\(wrong.count))</h2>\(wrong.map(entry).joined())</section>"
        }
        body += "<section><details><summary>Every scenario (\(scenarios.count))</summary>"
        body += scenarios.map(entry).joined() + "</details></section>"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(monitor)) — Mimic scorecard</title>
            <style>
            body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1d2330;background:#fbfbfd}
            h1{margin:.2rem 0}h2{margin-top:2rem;border-bottom:1px solid #dde;padding-bottom:.3rem}h3{margin:.2rem 0;font-size:1rem}
            .lead{font-size:1.15rem}.src{color:#667;font-size:.85rem}
            table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:.35rem .6rem;border:1px solid #e3e5ee;text-align:right}
            th:first-child,thead th{text-align:left}thead th{background:#f0f2f8}
            td.zero{color:#bbc}td.caught,td.passed{background:#e3f5e8}td.missed{background:#fbd5d5;font-weight:600}
            td.false_alarm{background:#fde8c8;font-weight:600}td.error{background:#ece3f7}td.not_applicable{color:#889}
            .bar{display:inline-block;width:5rem;height:.6rem;background:#eef;border-radius:.3rem;overflow:hidden;vertical-align:middle}
            .bar span{display:block;height:100%;background:#3a9a5b}
            strong.missed{color:#b42318}strong.false_alarm{color:#b54708}
            article{background:#fff;border:1px solid #e3e5ee;border-left:4px solid #99a;border-radius:4px;padding:.6rem .9rem;margin:.6rem 0}
            article.missed{border-left-color:#d92d20}article.false_alarm{border-left-color:#f79009}article.error{border-left-color:#7a5af8}
            article.caught,article.passed{border-left-color:#3a9a5b}
            .tag{font-size:.75rem;text-transform:uppercase;padding:.1rem .4rem;border-radius:3px;background:#eef}
            .tag.missed{background:#fbd5d5}.tag.false_alarm{background:#fde8c8}.tag.error{background:#ece3f7}.tag.caught,.tag.passed{background:#e3f5e8}
            pre{background:#f5f6fa;padding:.5rem;overflow:auto;max-height:14rem;font-size:.8rem}
            code{font-size:.85rem}.why{margin:.2rem 0}.cmd code{color:#445}
            </style></head><body>
            \(body)
            </body></html>
            """
    }

    static func htmlEscape(_ text: String) -> String { text.escaping { htmlEntities[$0] } }

    private static let htmlEntities: [Unicode.Scalar: String] = [
        "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;",
    ]
}
