import Foundation
import MimicScenarios
import MimicTestSupport
import Testing

/// The interop tier for grading: every shipped adapter's real monitor graded against the library (the slow ones on
/// the documented sample), outcome by outcome against the scorecard `monitors/scorecards/NAME.json` records — and
/// the README's table against those scorecards. A change in Mimic or in a monitor that moves a number shows here.
///
/// `MIMIC_SKIP_INTEROP=1` skips this tier explicitly; a monitor that is not installed fails it (the install script
/// is `Tests/Interop/install-monitors.sh`, run by `make test`).
@Suite(
    "Real monitors graded", .serialized,
    .enabled(
        if: ProcessInfo.processInfo.environment["MIMIC_SKIP_INTEROP"] != "1",
        "MIMIC_SKIP_INTEROP=1 skips the interop tier"))
struct MonitorScorecardTests {
    /// The adapters graded on the whole library; the rest on `monitors/samples/slow-monitors.txt`.
    static let wholeLibrary = [
        "mimic-probe", "monitoring-plugins", "check_ssl_cert", "blackbox_exporter", "python-clients",
        "python-opportunistic",
    ]
    static let onSample = ["sslyze", "testssl"]

    static let repository = Fixtures.repository

    /// Scenarios where a monitor's answer depends on timing, not on the server, with the outcomes seen there over
    /// repeated runs: `openssl s_client -starttls` (under check_ssl_cert and testssl.sh) reads once, so a reply
    /// the mock splits across segments is whole or not depending on when the read comes; a mock that closes right
    /// after the handshake races check_ssl_cert's own reads; and its chain check over LDAP StartTLS sees the extra
    /// self-signed certificate in some runs and not in others. Any of the outcomes listed is accepted there;
    /// every other scenario must not move.
    static let timingDependent: [String: [String: Set<String>]] = [
        "check_ssl_cert": [
            "ldap::starttls::reply-split": ["right", "false_alarm"],
            "smtp::starttls::slice-upgrade": ["right", "false_alarm"],
            "https::implicit::close-after-post-tls": ["right", "missed"],
            "ldap::starttls::extra-unrelated-cert": ["right", "missed"],
        ],
        "testssl": [
            "ldap::starttls::reply-split": ["right", "false_alarm"],
            "smtp::starttls::slice-upgrade": ["right", "false_alarm"],
        ],
    ]

    static func sample() throws -> [String] {
        try String(
            contentsOf: Self.repository.appendingPathComponent("monitors/samples/slow-monitors.txt"), encoding: .utf8
        )
        .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        .map { Self.repository.appendingPathComponent($0).path }
    }

    /// The outcome that counts for stability: an `either` scenario may be caught or passed, both right.
    static func settled(_ outcome: GradeOutcome) -> String {
        outcome == .caught || outcome == .passed ? "right" : outcome.rawValue
    }

    @Test(
        "each real monitor scores what its published scorecard says, scenario by scenario",
        arguments: wholeLibrary + onSample)
    func graded(monitor: String) throws {
        let published = try GradeBaseline.read(
            Self.repository.appendingPathComponent("monitors/scorecards/\(monitor).json"))
        let scope =
            Self.onSample.contains(monitor)
            ? try Self.sample() : [Self.repository.appendingPathComponent("scenarios").path]
        let run = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            [
                "grade", "--no-html", "--monitor",
                Self.repository.appendingPathComponent("monitors/\(monitor).yaml").path,
                "--format",
                "json",
            ]
                + scope,
            timeout: 1500)
        #expect(run.status == 0, "\(monitor): exit \(run.status)\n\(run.stderr.suffix(3000))")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let card = try decoder.decode(Scorecard.self, from: Data(run.stdout.utf8))
        #expect(card.scenarios.count == published.outcomes.count, "\(monitor): \(card.scenarios.count) graded")
        var moved: [String] = []
        for scenario in card.scenarios {
            let was = published.outcomes[scenario.id].map(Self.settled) ?? "absent"
            let now = Self.settled(scenario.outcome)
            if let seen = Self.timingDependent[monitor]?[scenario.id], Set([was, now]).isSubset(of: seen) {
                continue
            }
            if was != now { moved.append("\(scenario.id): \(was) → \(now) (\(scenario.detail))") }
        }
        #expect(moved.isEmpty, "\(monitor) moved:\n\(moved.joined(separator: "\n"))")
    }

    @Test("the README's scorecard table is what the published scorecards say")
    func readme() throws {
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        for monitor in Self.wholeLibrary + Self.onSample {
            let published = try GradeBaseline.read(
                Self.repository.appendingPathComponent("monitors/scorecards/\(monitor).json"))
            var counts = OutcomeCounts()
            for outcome in published.outcomes.values { counts.add(outcome) }
            let expected = [
                counts.graded + counts.notApplicable, counts.caught, counts.missed, counts.falseAlarm, counts.passed,
                counts.error, counts.notApplicable,
            ]
            let line = readme.split(separator: "\n").first { $0.hasPrefix("| `\(monitor)` |") }
            let cells = (line ?? "").split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = cells.suffix(7).compactMap { Int($0) }
            #expect(numbers == expected, "README row for \(monitor): \(line ?? "missing"), scorecard \(expected)")
        }
    }
}
