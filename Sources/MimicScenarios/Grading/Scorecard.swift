import Foundation
import MimicCore

/// How one scenario went for a monitor.
public enum GradeOutcome: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// An alert where one was due.
    case caught
    /// OK (or a milder state than required) where an alert was due: the dangerous outcome.
    case missed
    /// Not OK on a healthy server.
    case falseAlarm = "false_alarm"
    /// OK on a healthy server (or where either answer is right).
    case passed
    /// The monitor crashed, timed out or printed nothing readable.
    case error
    /// The adapter cannot test this protocol and mode.
    case notApplicable = "not_applicable"

    public var description: String {
        switch self {
        case .falseAlarm: "false alarm"
        case .notApplicable: "n/a"
        default: rawValue
        }
    }

    /// Judges a monitor's reading against what it must report.
    public static func classify(
        _ reading: Reading, expect: MonitorExpectation, match: MonitorAdapter.SeverityMatch
    ) -> (outcome: GradeOutcome, why: String) {
        guard case .state(let state) = reading else { return (.error, "no readable answer") }
        switch expect {
        case .ok:
            return state == .ok ? (.passed, "OK on a healthy server") : (.falseAlarm, "\(state) on a healthy server")
        case .either:
            return state == .ok ? (.passed, "OK (either answer is right)") : (.caught, "\(state) (either is right)")
        case .alert:
            return state == .ok ? (.missed, "OK where an alert was due") : (.caught, "\(state)")
        case .warning, .critical:
            let required: Severity = expect == .warning ? .warning : .critical
            if state == .ok { return (.missed, "OK where \(required) was due") }
            if state == required || (match == .atLeast && state > required) { return (.caught, "\(state)") }
            return (.missed, "\(state) where \(required) was due")
        }
    }
}

/// One scenario graded.
public struct GradedScenario: Sendable, Hashable, Codable {
    public var id: String
    public var summary: String
    public var source: String
    public var `protocol`: ServiceProtocol
    public var mode: TLSMode
    /// certificate, tls, dialog, network — or healthy.
    public var kind: String
    public var fieldFailure: String?
    public var expect: MonitorExpectation
    public var rule: String
    /// The probe's own verdict, for context.
    public var probeVerdict: [FindingCode]
    public var outcome: GradeOutcome
    /// OK, WARNING, CRITICAL, UNKNOWN, or error.
    public var reported: String?
    /// Why this outcome: the reading and the rule it met or broke; the reason for n/a.
    public var detail: String
    /// What was run (argv joined with spaces, or the URL).
    public var command: String?
    public var exitCode: Int32?
    /// What the monitor printed (bounded).
    public var output: String?
    public var milliseconds: Double
    /// Connections the mock saw during the run; nil when the zoo was not watched (`--zoo`).
    public var connections: Int?
    /// What the mock saw the client do wrong (`ClientFinding`).
    public var clientFindings: [ClientFinding] = []

    /// The kind of misbehaviour a scenario is about: the family of its probe verdict (certificate first), or healthy.
    public static func kind(of verdict: [FindingCode]) -> String {
        let families = Set(verdict.map(\.family))
        for family in [FindingCode.Family.certificate, .tls, .dialog, .network] where families.contains(family) {
            return family.rawValue
        }
        return "healthy"
    }
}

/// Counts of outcomes.
public struct OutcomeCounts: Sendable, Hashable, Codable {
    public var caught = 0
    public var missed = 0
    public var falseAlarm = 0
    public var passed = 0
    public var error = 0
    public var notApplicable = 0

    public init() {}

    public mutating func add(_ outcome: GradeOutcome) {
        switch outcome {
        case .caught: caught += 1
        case .missed: missed += 1
        case .falseAlarm: falseAlarm += 1
        case .passed: passed += 1
        case .error: error += 1
        case .notApplicable: notApplicable += 1
        }
    }

    public func count(_ outcome: GradeOutcome) -> Int {
        switch outcome {
        case .caught: caught
        case .missed: missed
        case .falseAlarm: falseAlarm
        case .passed: passed
        case .error: error
        case .notApplicable: notApplicable
        }
    }

    /// Scenarios the monitor was run against.
    public var graded: Int { caught + missed + falseAlarm + passed + error }
    /// Right answers (caught or passed) of those graded.
    public var right: Int { caught + passed }
}

/// A monitor's grades over a zoo: every scenario, and the counts by protocol × mode and by kind.
public struct Scorecard: Sendable, Hashable, Codable {
    public var monitor: String
    public var summary: String
    public var adapter: String
    /// The monitor's own version line, where the adapter says how to ask.
    public var monitorVersion: String?
    public var mimicVersion: String
    public var date: String
    public var totals: OutcomeCounts
    /// `smtp/starttls` → counts.
    public var byCell: [String: OutcomeCounts]
    /// `certificate`, `tls`, `dialog`, `network`, `healthy` → counts.
    public var byKind: [String: OutcomeCounts]
    /// Scenarios where the mock saw each client finding (a list, not a map: JSON keys would be re-cased).
    public var clientFindings: [ClientFindingCount]
    public var scenarios: [GradedScenario]
    public var milliseconds: Double

    public init(
        adapter: MonitorAdapter, monitorVersion: String?, scenarios: [GradedScenario], milliseconds: Double,
        date: Date = Date()
    ) {
        monitor = adapter.name
        summary = adapter.summary
        self.adapter = adapter.file
        self.monitorVersion = monitorVersion
        mimicVersion = MimicVersion.string
        self.date = ISO8601DateFormatter().string(from: date)
        self.scenarios = scenarios.sorted { $0.id < $1.id }
        self.milliseconds = milliseconds
        totals = OutcomeCounts()
        byCell = [:]
        byKind = [:]
        var findingCounts: [ClientFinding: Int] = [:]
        for scenario in self.scenarios {
            for finding in scenario.clientFindings { findingCounts[finding, default: 0] += 1 }
            totals.add(scenario.outcome)
            byCell["\(scenario.protocol)/\(scenario.mode)", default: OutcomeCounts()].add(scenario.outcome)
            byKind[scenario.kind, default: OutcomeCounts()].add(scenario.outcome)
        }
        clientFindings = ClientFinding.allCases.compactMap { finding in
            findingCounts[finding].map { ClientFindingCount(finding: finding, scenarios: $0) }
        }
    }

    public var misses: [GradedScenario] { scenarios.filter { $0.outcome == .missed } }

    public struct ClientFindingCount: Sendable, Hashable, Codable {
        public var finding: ClientFinding
        public var scenarios: Int
    }
    public var falseAlarms: [GradedScenario] { scenarios.filter { $0.outcome == .falseAlarm } }
    public var errors: [GradedScenario] { scenarios.filter { $0.outcome == .error } }
}

/// A recorded grading to compare a later one with (`--write-baseline`, `--baseline`): the outcome per scenario.
public struct GradeBaseline: Sendable, Hashable, Codable {
    public var format: Int
    public var monitor: String
    public var outcomes: [String: GradeOutcome]

    public init(_ scorecard: Scorecard) {
        format = 1
        monitor = scorecard.monitor
        outcomes = Dictionary(uniqueKeysWithValues: scorecard.scenarios.map { ($0.id, $0.outcome) })
    }

    /// A regression: a scenario the baseline caught is now missed, or a false alarm the baseline did not have.
    public struct Regression: Sendable, Hashable, Codable, CustomStringConvertible {
        public var id: String
        public var was: GradeOutcome?
        public var now: GradeOutcome
        public var description: String { "\(id): \(was.map(\.description) ?? "new") → \(now)" }
    }

    public func regressions(in scorecard: Scorecard) -> [Regression] {
        scorecard.scenarios.compactMap { scenario in
            let was = outcomes[scenario.id]
            switch scenario.outcome {
            case .missed where was == .caught:
                return Regression(id: scenario.id, was: was, now: .missed)
            case .falseAlarm where was != .falseAlarm:
                return Regression(id: scenario.id, was: was, now: .falseAlarm)
            default:
                return nil
            }
        }
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    public static func read(_ file: URL) throws(ScenarioError) -> GradeBaseline {
        let text = try ScenarioLoader.readText(of: file, what: "baseline files")
        do {
            return try JSONDecoder().decode(GradeBaseline.self, from: Data(text.utf8))
        } catch {
            throw ScenarioError(
                location: SourceLocation(file: ScenarioLoader.displayName(of: file), line: 1, column: 1), path: "",
                message: "not a baseline written by mimic grade --write-baseline: \(error)")
        }
    }
}
