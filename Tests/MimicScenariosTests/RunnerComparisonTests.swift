import Foundation
import MimicCore
import MimicScenarios
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

typealias ScenarioExpectation = MimicScenarios.Expectation

@Suite("Runner: expectations, filters and reports")
struct RunnerComparisonTests {
    static let source = SourceLocation(file: "x.yaml", line: 1, column: 5)

    static func scenario(
        _ id: String, expect: ScenarioExpectation, backends: [TLSBackend] = TLSBackend.allCases
    ) -> Scenario {
        Scenario(
            id: id, summary: "summary of \(id)",
            server: ServerSpec(serviceProtocol: .smtp, mode: .startTLS, backend: .openssl),
            probe: ProbeSpec(backends: backends), expect: expect, source: source)
    }

    @Test("the verdict is compared as a set, and severity must match too")
    func setComparison() {
        let expectation = ScenarioExpectation(verdict: [.expired, .hostnameMismatch])
        let same = BackendOutcome.compare(
            backend: .openssl, found: [.hostnameMismatch, .expired], severity: .critical, with: expectation)
        #expect(same.passed)
        #expect(same.summary == "ok")

        let fewer = BackendOutcome.compare(backend: .openssl, found: [.expired], severity: .critical, with: expectation)
        #expect(!fewer.passed)
        #expect(fewer.summary == "MISMATCH expected [expired, hostnameMismatch] CRITICAL, found [expired] CRITICAL")

        let more = BackendOutcome.compare(
            backend: .gnutls, found: [.expired, .hostnameMismatch, .chainOrder], severity: .critical, with: expectation)
        #expect(!more.passed)

        let milder = BackendOutcome.compare(
            backend: .openssl, found: [.expired, .hostnameMismatch], severity: .warning, with: expectation)
        #expect(!milder.passed)

        let ok = BackendOutcome.compare(
            backend: .openssl, found: [], severity: .ok, with: ScenarioExpectation(verdict: []))
        #expect(ok.passed)
    }

    @Test("per-backend overrides: verdict, severity, and a verdict override taking its codes' severity")
    func overrides() {
        let expectation = ScenarioExpectation(
            verdict: [.chainOrder], severity: .warning,
            backends: [.openssl: .init(verdict: [], severity: .ok), .gnutls: .init(severity: .critical)],
            divergence: "why")
        #expect(BackendOutcome.compare(backend: .openssl, found: [], severity: .ok, with: expectation).passed)
        #expect(
            !BackendOutcome.compare(backend: .openssl, found: [.chainOrder], severity: .warning, with: expectation)
                .passed)
        #expect(
            BackendOutcome.compare(backend: .gnutls, found: [.chainOrder], severity: .critical, with: expectation)
                .passed)
        #expect(
            !BackendOutcome.compare(backend: .gnutls, found: [.chainOrder], severity: .warning, with: expectation)
                .passed)

        let verdictOnly = ScenarioExpectation(
            verdict: [], backends: [.gnutls: .init(verdict: [.expired])], divergence: "why")
        let gnutls = BackendOutcome.compare(backend: .gnutls, found: [.expired], severity: .critical, with: verdictOnly)
        #expect(gnutls.passed)
        #expect(gnutls.expectedSeverity == .critical)
        #expect(BackendOutcome.compare(backend: .openssl, found: [], severity: .ok, with: verdictOnly).passed)
    }

    @Test("a scenario passes only when every backend does and it ran")
    func scenarioOutcome() {
        let s = Self.scenario("a", expect: ScenarioExpectation(verdict: []))
        let ok = BackendOutcome.compare(backend: .openssl, found: [], severity: .ok, with: s.expect)
        let bad = BackendOutcome.compare(backend: .gnutls, found: [.expired], severity: .critical, with: s.expect)
        #expect(ScenarioOutcome(scenario: s, backends: [ok]).passed)
        #expect(!ScenarioOutcome(scenario: s, backends: [ok, bad]).passed)
        #expect(!ScenarioOutcome(scenario: s, backends: [ok], error: "no mock").passed)
        #expect(!ScenarioOutcome(scenario: s, backends: []).passed)

        let run = ScenarioRun(
            outcomes: [
                ScenarioOutcome(scenario: s, backends: [ok]), ScenarioOutcome(scenario: s, backends: [ok, bad]),
            ],
            milliseconds: 12)
        #expect(run.passedCount == 1)
        #expect(run.failedCount == 1)
        #expect(run.exitCode == 1)
        #expect(ScenarioRun(outcomes: [ScenarioOutcome(scenario: s, backends: [ok])], milliseconds: 1).exitCode == 0)
        #expect(ScenarioRunner.Result.rejected([]).exitCode == 2)
    }

    @Test("filters: substring, or a glob over the whole id")
    func filters() {
        #expect(ScenarioFilter("starttls").matches("smtp::starttls::expired-leaf"))
        #expect(!ScenarioFilter("implicit").matches("smtp::starttls::expired-leaf"))
        #expect(ScenarioFilter("smtp::*::expired-*").matches("smtp::starttls::expired-leaf"))
        #expect(!ScenarioFilter("smtp::*::expired-*").matches("imap::starttls::expired-leaf"))
        #expect(!ScenarioFilter("smtp::*").matches("x::smtp::starttls"))
        #expect(ScenarioFilter("*::[ip]*::*").matches("a::implicit::b"))
        #expect(ScenarioFilter("smtp::starttls::?xpired-leaf").matches("smtp::starttls::expired-leaf"))
    }

    static func sampleRun() -> ScenarioRun {
        let good = scenario("smtp::starttls::good", expect: ScenarioExpectation(verdict: []))
        let tricky = scenario("smtp::starttls::<&\"quoted\">", expect: ScenarioExpectation(verdict: [.expired]))
        let broken = scenario("imap::implicit::broken", expect: ScenarioExpectation(verdict: []))
        return ScenarioRun(
            outcomes: [
                ScenarioOutcome(
                    scenario: good,
                    backends: TLSBackend.allCases.map {
                        BackendOutcome.compare(backend: $0, found: [], severity: .ok, with: good.expect)
                    }),
                ScenarioOutcome(
                    scenario: tricky,
                    backends: [
                        BackendOutcome.compare(
                            backend: .openssl, found: [.expired], severity: .critical, with: tricky.expect),
                        BackendOutcome.compare(backend: .gnutls, found: [], severity: .ok, with: tricky.expect),
                    ]),
                ScenarioOutcome(scenario: broken, backends: [], error: "the mock server did not start: port in use"),
            ],
            milliseconds: 1234)
    }

    @Test("text: a row per scenario, ok or MISMATCH per backend, and the counts")
    func text() {
        let text = Self.sampleRun().render(.text)
        #expect(text.contains("openssl"))
        #expect(text.contains("gnutls"))
        // The matrix says which cell failed; the section under it says what was expected and found.
        #expect(text.split(separator: "\n").contains { $0.contains("MISMATCH") && !$0.contains("expected") })
        #expect(text.contains("MISMATCH expected [expired] CRITICAL, found [] OK"))
        #expect(text.contains("error: the mock server did not start"))
        #expect(text.contains("1 passed, 2 failed"))
        let goodRow = text.split(separator: "\n").first { $0.hasPrefix("smtp::starttls::good") }
        #expect(goodRow.map { $0.split(separator: " ").filter { $0 == "ok" }.count } == 2)
    }

    @Test("JSON: parses, with every outcome and its expected and found verdicts")
    func json() throws {
        let json = Self.sampleRun().render(.json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let outcomes = try #require(object["outcomes"] as? [[String: Any]])
        #expect(outcomes.count == 3)
        #expect(outcomes[0]["id"] as? String == "smtp::starttls::good")
        let backends = try #require(outcomes[1]["backends"] as? [[String: Any]])
        #expect(backends[1]["expectedVerdict"] as? [String] == ["expired"])
        #expect(backends[1]["foundVerdict"] as? [String] == [])
        #expect(backends[1]["passed"] as? Bool == false)
        #expect(outcomes[2]["error"] as? String != nil)
        // Decodes back into the same model, so other tools can consume it.
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let decoded = try decoder.decode(ScenarioRun.self, from: Data(json.utf8))
        #expect(decoded.failedCount == 2)
    }

    @Test("JUnit: well-formed XML, a testcase per scenario × backend, failures and errors counted")
    func junit() throws {
        let xml = Self.sampleRun().render(.junit)
        let collector = JUnitCollector()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = collector
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(collector.suites.count == 1)
        #expect(collector.suites.first?["tests"] == "5")
        #expect(collector.suites.first?["failures"] == "1")
        #expect(collector.suites.first?["errors"] == "1")
        #expect(collector.cases.count == 5)
        #expect(
            collector.cases.contains { $0["classname"] == "smtp::starttls::<&\"quoted\">" && $0["name"] == "gnutls" })
        #expect(collector.failures == ["MISMATCH expected [expired] CRITICAL, found [] OK"])
        #expect(collector.errors.count == 1)
    }
}

/// Gathers the JUnit elements an XMLParser reports.
final class JUnitCollector: NSObject, XMLParserDelegate {
    var suites: [[String: String]] = []
    var cases: [[String: String]] = []
    var failures: [String] = []
    var errors: [String] = []

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        switch elementName {
        case "testsuite": suites.append(attributes)
        case "testcase": cases.append(attributes)
        case "failure": failures.append(attributes["message"] ?? "")
        case "error": errors.append(attributes["message"] ?? "")
        default: break
        }
    }
}
