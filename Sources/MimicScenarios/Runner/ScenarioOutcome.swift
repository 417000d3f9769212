import MimicCore
import MimicNet

/// What one backend's probe of one scenario's mock found, against what the scenario expects.
public struct BackendOutcome: Sendable, Codable {
    public var backend: TLSBackend
    /// The expected finding codes, sorted by name (a set: order never matters).
    public var expectedVerdict: [FindingCode]
    public var expectedSeverity: Severity
    /// The codes the probe reported, sorted by name.
    public var foundVerdict: [FindingCode]
    public var foundSeverity: Severity
    public var passed: Bool
    /// The probe's whole report: transcript, handshake, chain facts, findings with evidence.
    public var report: ProbeReport?

    public init(
        backend: TLSBackend, expectedVerdict: [FindingCode], expectedSeverity: Severity,
        foundVerdict: [FindingCode], foundSeverity: Severity, report: ProbeReport? = nil
    ) {
        self.backend = backend
        self.expectedVerdict = expectedVerdict.sortedByName()
        self.expectedSeverity = expectedSeverity
        self.foundVerdict = foundVerdict.sortedByName()
        self.foundSeverity = foundSeverity
        self.passed = Set(expectedVerdict) == Set(foundVerdict) && expectedSeverity == foundSeverity
        self.report = report
    }

    /// Compares a probe report with a scenario's expectation for the report's backend: the set of codes must be
    /// the expected set, and the severity the expected one.
    public static func compare(_ report: ProbeReport, with expectation: Expectation) -> BackendOutcome {
        compare(
            backend: report.backend, found: report.verdict.codes, severity: report.severity, with: expectation,
            report: report)
    }

    /// Compares found codes and severity with what `expectation` asks of `backend` (its override where given).
    public static func compare(
        backend: TLSBackend, found: [FindingCode], severity: Severity, with expectation: Expectation,
        report: ProbeReport? = nil
    ) -> BackendOutcome {
        let expected = expectation.expected(for: backend)
        return BackendOutcome(
            backend: backend, expectedVerdict: Array(expected.verdict), expectedSeverity: expected.severity,
            foundVerdict: found, foundSeverity: severity, report: report)
    }

    /// `MISMATCH expected [expired] CRITICAL, found [] OK`, or `ok`.
    public var summary: String {
        if passed { return "ok" }
        return
            "MISMATCH expected \(Self.describe(expectedVerdict, expectedSeverity)), found \(Self.describe(foundVerdict, foundSeverity))"
    }

    static func describe(_ codes: [FindingCode], _ severity: Severity) -> String {
        "[\(codes.map(\.rawValue).joined(separator: ", "))] \(severity)"
    }
}

/// One scenario's run: each probed backend's outcome, or the reason it could not run.
public struct ScenarioOutcome: Sendable, Codable, Identifiable {
    public var id: String
    public var summary: String
    /// `file:line:column` of the scenario's definition.
    public var source: String
    public var serviceProtocol: ServiceProtocol
    public var mode: TLSMode
    /// The library the mock served TLS with.
    public var serverBackend: TLSBackend
    public var backends: [BackendOutcome]
    /// Why the scenario could not be run (the mock did not start, a knob the mock cannot express); nil when it ran.
    public var error: String?
    /// Wall time of the scenario: start the mock, probe through every backend, stop it.
    public var milliseconds: Double

    public init(
        scenario: Scenario, backends: [BackendOutcome], error: String? = nil, milliseconds: Double = 0
    ) {
        self.id = scenario.id
        self.summary = scenario.summary
        self.source = scenario.source.description
        self.serviceProtocol = scenario.server.serviceProtocol
        self.mode = scenario.server.mode
        self.serverBackend = scenario.server.backend
        self.backends = backends
        self.error = error
        self.milliseconds = milliseconds
    }

    /// Every probed backend as expected, and nothing kept the scenario from running.
    public var passed: Bool { error == nil && !backends.isEmpty && backends.allSatisfy(\.passed) }

    public func outcome(for backend: TLSBackend) -> BackendOutcome? {
        backends.first { $0.backend == backend }
    }
}

/// Every scenario of one run, in the order they were loaded.
public struct ScenarioRun: Sendable, Codable {
    public var outcomes: [ScenarioOutcome]
    /// Wall time of the whole run.
    public var milliseconds: Double

    public init(outcomes: [ScenarioOutcome], milliseconds: Double) {
        self.outcomes = outcomes
        self.milliseconds = milliseconds
    }

    public var passedCount: Int { outcomes.filter(\.passed).count }
    public var failedCount: Int { outcomes.count - passedCount }
    public var allPassed: Bool { failedCount == 0 }

    /// `mimic run`'s exit code: 0 when every scenario is as expected, 1 otherwise (2, bad input, never gets here).
    public var exitCode: Int32 { allPassed ? 0 : 1 }

    /// The probe backends that appear in any outcome, in `TLSBackend` order: the report's columns.
    public var probedBackends: [TLSBackend] {
        TLSBackend.allCases.filter { backend in outcomes.contains { $0.outcome(for: backend) != nil } }
    }
}

extension Array where Element == FindingCode {
    func sortedByName() -> [FindingCode] { sorted { $0.rawValue < $1.rawValue } }
}
