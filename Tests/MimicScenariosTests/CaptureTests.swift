import Foundation
import MimicCerts
import MimicCore
import MimicNet
import MimicTestSupport
import Testing

@testable import MimicScenarios

/// `mimic capture` turns a probe of a server into a scenario whose mock makes the probe reach the same verdict.
/// Checked over the whole library: every scenario's mock is probed as `mimic run` does, the reports are captured,
/// the captured files are loaded and run, and each backend's verdict must come out as it did on the original.
@Suite("Capture")
struct CaptureTests {
    static let library = Fixtures.repository.appendingPathComponent("scenarios")

    /// What the library round trip found, computed once for the tests below.
    struct RoundTrip: Sendable {
        var total = 0
        /// id → why the capture wrote nothing (a failure no fault can reproduce).
        var notCaptured: [String: String] = [:]
        /// id → what the captured file says it cannot reproduce.
        var warned: [String: [String]] = [:]
        /// id → the captured scenario's mismatch, for files that reproduce nothing else.
        var mismatched: [String: String] = [:]
        var loadErrors: [String] = []
        var reproduced: [String] = []
    }

    static let roundTrip: Task<RoundTrip, Never> = Task { await runRoundTrip() }

    static func runRoundTrip() async -> RoundTrip {
        var result = RoundTrip()
        // Three times every duration, as the library test does beside the rest of the suite; the captured files
        // hold the durations as measured, so they run unscaled with the same (scaled) probe timeout.
        let original = ScenarioRunner(factory: Fixtures.factory, concurrency: 4, timeScale: 3)
        let replay = ScenarioRunner(factory: Fixtures.factory, concurrency: 4, defaultTimeout: .seconds(9))
        guard case .ready(let prepared) = original.prepare(paths: [library]) else {
            result.loadErrors.append("the library does not prepare")
            return result
        }
        let run = await original.run(prepared)
        let names = (try? ChainProfile.profileNames(in: Fixtures.profiles)) ?? []
        let loader = ScenarioLoader(knownProfiles: Set(names))
        var captured: [Scenario] = []
        var originalOutcome: [String: ScenarioOutcome] = [:]
        let anchorSubjects = Dictionary(
            prepared.map { ($0.scenario.id, ScenarioCapture.anchorSubjects($0.anchors)) }, uniquingKeysWith: { a, _ in a })
        let policies = Dictionary(prepared.map { ($0.scenario.id, $0.scenario.probe.client.verificationPolicy) }, uniquingKeysWith: { a, _ in a })
        for outcome in run.outcomes where outcome.passed {
            result.total += 1
            let reports = outcome.backends.compactMap(\.report)
            guard let first = reports.first, reports.count == outcome.backends.count else {
                result.notCaptured[outcome.id] = "no reports"
                continue
            }
            do {
                let capture = try ScenarioCapture.build(
                    reports: reports, target: first.target,
                    options: {
                        var options = ScenarioCapture.Options(partial: true, url: "test://\(outcome.id)", timeout: 9)
                        options.policy = policies[outcome.id] ?? .default
                        options.anchorSubjects = anchorSubjects[outcome.id] ?? []
                        return options
                    }())
                if !capture.warnings.isEmpty { result.warned[outcome.id] = capture.warnings }
                if let dump = ProcessInfo.processInfo.environment["MIMIC_CAPTURE_DUMP"] {
                    let name = outcome.id.replacingOccurrences(of: "::", with: "_")
                    try? capture.yaml.write(toFile: "\(dump)/\(name).yaml", atomically: true, encoding: .utf8)
                    let transcript = reports.map { $0.transcript.joined(separator: "\n") + "\n" + $0.findings.map(\.description).joined(separator: "\n") }
                    try? transcript.joined(separator: "\n----\n").write(toFile: "\(dump)/\(name).txt", atomically: true, encoding: .utf8)
                }
                let scenarios = try loader.load(yaml: capture.yaml, file: "\(outcome.id).yaml")
                for var scenario in scenarios {
                    // Ids of captures are named after the server; keep them apart by the original's.
                    scenario.id = outcome.id
                    captured.append(scenario)
                }
                originalOutcome[outcome.id] = outcome
            } catch let failure as ScenarioCapture.Failure {
                result.notCaptured[outcome.id] = failure.description
            } catch {
                result.loadErrors.append("\(outcome.id): \(error)")
            }
        }
        let (ready, errors) = replay.prepare(captured)
        result.loadErrors += errors.map(\.description)
        let replayed = await replay.run(ready)
        for outcome in replayed.outcomes {
            if outcome.passed {
                result.reproduced.append(outcome.id)
            } else {
                result.mismatched[outcome.id] =
                    outcome.error ?? outcome.backends.map { "\($0.backend): \($0.summary)" }.joined(separator: "; ")
            }
        }
        return result
    }

    @Test(.timeLimit(.minutes(5))) func everyCapturedScenarioLoads() async {
        let result = await Self.roundTrip.value
        #expect(result.loadErrors == [])
        #expect(result.total >= 250, "only \(result.total) library scenarios ran")
    }

    /// A capture that warns about nothing reproduces its verdict exactly, per backend.
    @Test(.timeLimit(.minutes(5))) func capturesWithoutWarningsReproduceTheVerdict() async {
        let result = await Self.roundTrip.value
        for (id, mismatch) in result.mismatched.sorted(by: { $0.key < $1.key }) where result.warned[id] == nil {
            Issue.record("\(id): the capture claims to be complete but runs as \(mismatch)")
        }
        print("capture round trip: \(result.reproduced.count) of \(result.total) library scenarios reproduced, "
            + "\(result.warned.count) with warnings, \(result.notCaptured.count) not capturable, "
            + "\(result.mismatched.count) mismatched")
        for (id, why) in result.mismatched.sorted(by: { $0.key < $1.key }) {
            print("  mismatch \(id): \(why) — warned: \(result.warned[id] ?? [])")
        }
        for (id, why) in result.notCaptured.sorted(by: { $0.key < $1.key }) { print("  not captured \(id): \(why)") }
    }

    /// Most of the library reproduces; only what a scenario cannot express (and says so) is lost.
    @Test(.timeLimit(.minutes(5))) func mostOfTheLibraryReproduces() async {
        let result = await Self.roundTrip.value
        #expect(result.reproduced.count * 10 >= result.total * 8, "\(result.reproduced.count) of \(result.total)")
    }

    // MARK: - The command

    /// `mimic serve` of one scenario, its address and CA file; stopped by the caller.
    static func serve(_ file: String, directory: URL) throws -> (BackgroundProcess, port: Int, ca: String) {
        let manifest = directory.appendingPathComponent("zoo.json").path
        let server = try BackgroundProcess(
            Fixtures.mimicExecutable.path,
            ["serve", Fixtures.repository.appendingPathComponent("scenarios/\(file)").path, "--manifest", manifest])
        guard server.waitForOutput(containing: "Serving 1 scenario", timeout: 60) else {
            throw InteropServers.Failure("serve did not start: \(server.output())")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: manifest))
        let zoo = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entry = try #require((zoo["scenarios"] as? [[String: Any]])?.first)
        return (server, try #require(entry["port"] as? Int), try #require(zoo["cafile"] as? String))
    }

    @Test("mimic capture URL --out FILE, then mimic run FILE: the same verdict; names rewritten; no overwrite")
    func command() throws {
        let directory = try PrivateDirectory.make(prefix: "mimic-capture-test-")
        defer { PrivateDirectory.remove(directory) }
        let (server, port, ca) = try Self.serve("smtp/starttls-expired-leaf.yaml", directory: directory)
        defer { _ = server.stop(with: SIGTERM, timeout: 10) }
        let out = directory.appendingPathComponent("captured.yaml").path
        let arguments = [
            "capture", "smtp://127.0.0.1:\(port)", "--mode", "starttls", "--servername", "mail.example.test",
            "--ca-file", ca, "--out", out,
        ]
        let capture = try Subprocess.run(Fixtures.mimicExecutable.path, arguments, timeout: 60)
        #expect(capture.status == 0, "\(capture.stderr)")
        let yaml = try String(contentsOfFile: out, encoding: .utf8)
        #expect(yaml.contains("verdict: [expired]"), "\(yaml)")
        #expect(yaml.contains("not_after: -3d"), "the leaf stays expired by the same margin: \(yaml)")
        #expect(
            yaml.components(separatedBy: "resumes sessions").count == 3,
            "both backends' resumption checks in the header: \(yaml)")
        #expect(!yaml.contains("PRIVATE KEY"))
        let run = try Subprocess.run(Fixtures.mimicExecutable.path, ["run", out], timeout: 60)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("1 passed, 0 failed"), "\(run.stdout)")

        // An existing file is kept unless --force.
        let again = try Subprocess.run(Fixtures.mimicExecutable.path, arguments, timeout: 60)
        #expect(again.status == 3, "\(again.stderr)")
        #expect(again.stderr.contains("--force"), "\(again.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == yaml)
        let forced = try Subprocess.run(Fixtures.mimicExecutable.path, arguments + ["--force"], timeout: 60)
        #expect(forced.status == 0, "\(forced.stderr)")
    }

    @Test("a server that stalls: the phase is named and nothing written; --partial writes a scenario that stalls")
    func stalledServer() throws {
        let directory = try PrivateDirectory.make(prefix: "mimic-capture-test-")
        defer { PrivateDirectory.remove(directory) }
        let (server, port, ca) = try Self.serve("smtp/starttls-stall-greeting.yaml", directory: directory)
        defer { _ = server.stop(with: SIGTERM, timeout: 10) }
        let out = directory.appendingPathComponent("stall.yaml").path
        let arguments = [
            "capture", "smtp://127.0.0.1:\(port)", "--mode", "starttls", "--servername", "mail.example.test",
            "--ca-file", ca, "--out", out, "--timeout", "1",
        ]
        let failed = try Subprocess.run(Fixtures.mimicExecutable.path, arguments, timeout: 60)
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("phase greeting") && failed.stderr.contains("timeout"), "\(failed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let partial = try Subprocess.run(Fixtures.mimicExecutable.path, arguments + ["--partial"], timeout: 60)
        #expect(partial.status == 0, "\(partial.stderr)")
        let yaml = try String(contentsOfFile: out, encoding: .utf8)
        #expect(yaml.contains("kind: stall, phase: greeting"), "\(yaml)")
        let run = try Subprocess.run(Fixtures.mimicExecutable.path, ["run", out], timeout: 60)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
    }

    @Test("--absolute-dates: validity as instants, which the factory mints as such")
    func absoluteDates() throws {
        let directory = try PrivateDirectory.make(prefix: "mimic-capture-test-")
        defer { PrivateDirectory.remove(directory) }
        let (server, port, ca) = try Self.serve("imap/starttls-expired-leaf.yaml", directory: directory)
        defer { _ = server.stop(with: SIGTERM, timeout: 10) }
        let out = directory.appendingPathComponent("dated.yaml").path
        let capture = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            [
                "capture", "imap://127.0.0.1:\(port)", "--mode", "starttls", "--servername", "mail.example.test",
                "--ca-file", ca, "--out", out, "--absolute-dates",
            ], timeout: 60)
        #expect(capture.status == 0, "\(capture.stderr)")
        let yaml = try String(contentsOfFile: out, encoding: .utf8)
        let notAfter = try #require(
            yaml.split(separator: "\n").first { $0.contains("not_after:") && $0.contains("T") && $0.contains("Z") })
        #expect(notAfter.contains("\""), "an instant, quoted: \(notAfter)")
        let run = try Subprocess.run(Fixtures.mimicExecutable.path, ["run", out], timeout: 60)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(RelativeTime("2026-11-30T12:00:00Z")?.absolute != nil)
        #expect(RelativeTime("2026-11-30") == nil, "a bare day stays an error")
        #expect(RelativeTime("+30d")?.absolute == nil)
    }

    @Test("names are rewritten consistently to reserved ones and kept with --keep-names")
    func nameRewriting() {
        var names = NameRewriter(enabled: true)
        #expect(names.rewrite("mail.corp-internal.com") == "mail.example.test")
        #expect(names.rewrite("*.corp-internal.com") == "*.example.test")
        #expect(names.rewrite("billing7.corp-internal.com") == "host1.example.test")
        #expect(names.rewrite("billing7.corp-internal.com") == "host1.example.test")
        #expect(names.rewrite("mx2.other-isp.net") == "mx2.example2.test")
        #expect(names.rewrite("mail.example.test") == "mail.example.test")
        #expect(names.rewriteIP("203.0.113.9") == "203.0.113.9" || names.rewriteIP("203.0.113.9").hasPrefix("192.0.2."))
        #expect(names.rewriteIP("127.0.0.1") == "127.0.0.1")
        #expect(names.rewriteText("220 mail.corp-internal.com ESMTP ready 2.0.0") == "220 mail.example.test ESMTP ready 2.0.0")
        var kept = NameRewriter(enabled: false)
        #expect(kept.rewrite("mail.corp-internal.com") == "mail.corp-internal.com")
    }
}
