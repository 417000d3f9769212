import Foundation
import MimicCerts
import MimicCore
import MimicNet
import MimicScenarios
import MimicTestSupport
import Synchronization
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Real mock servers, real probes through OpenSSL and GnuTLS, and the `mimic` executable's exit codes.
@Suite("Runner: end to end")
struct RunnerEndToEndTests {
    static let fixtures = Fixtures.repository.appendingPathComponent("Tests/MimicScenariosTests/Fixtures/runner")
    static let pass = fixtures.appendingPathComponent("pass")
    static let fail = fixtures.appendingPathComponent("fail")
    static let bad = fixtures.appendingPathComponent("bad")

    /// Counts mock starts and the most running at once, around the real `MockServer`.
    final class StartCounter: Sendable {
        private let counts = Mutex((running: 0, started: 0, peak: 0))
        var started: Int { counts.withLock { $0.started } }
        var peak: Int { counts.withLock { $0.peak } }

        func starter() -> ScenarioRunner.MockStarter {
            { configuration, loop in
                self.counts.withLock {
                    $0.started += 1
                    $0.running += 1
                    $0.peak = max($0.peak, $0.running)
                }
                do {
                    return Counted(inner: try await MockServer.start(configuration, group: loop), counter: self)
                } catch {
                    self.stopped()
                    throw error
                }
            }
        }

        func stopped() { counts.withLock { $0.running -= 1 } }

        struct Counted: RunningMock {
            let inner: MockServer
            let counter: StartCounter
            var host: String { inner.host }
            var port: Int { inner.port }
            func stop() async {
                await inner.stop()
                counter.stopped()
            }
        }
    }

    final class ProgressLog: Sendable {
        private let log = Mutex<[(id: String, completed: Int, total: Int)]>([])
        var entries: [(id: String, completed: Int, total: Int)] { log.withLock { $0 } }
        func add(_ id: String, _ completed: Int, _ total: Int) {
            log.withLock { $0.append((id, completed, total)) }
        }
    }

    @Test("the passing fixtures run and pass through both backends, at most `concurrency` mocks at once")
    func passing() async throws {
        let counter = StartCounter()
        let log = ProgressLog()
        let runner = ScenarioRunner(factory: Fixtures.factory, concurrency: 2, startMock: counter.starter())
        let result = await runner.run(paths: [Self.pass]) { outcome, completed, total in
            log.add(outcome.id, completed, total)
        }
        guard case .ran(let run) = result else {
            Issue.record("rejected: \(result)")
            return
        }
        #expect(run.outcomes.count == 7)
        for outcome in run.outcomes {
            #expect(
                outcome.passed,
                "\(outcome.id): \(outcome.error ?? outcome.backends.map(\.summary).joined(separator: "; "))")
        }
        #expect(run.outcomes.allSatisfy { $0.backends.count == 2 })
        #expect(result.exitCode == 0)
        #expect(counter.started == 7)
        #expect(counter.peak <= 2)
        #expect(log.entries.map(\.completed) == Array(1...7))
        #expect(Set(log.entries.map(\.id)) == Set(run.outcomes.map(\.id)))
        // Loaded order, whatever the finishing order.
        #expect(run.outcomes.map(\.id) == runner.load(paths: [Self.pass]).scenarios.map(\.id))
        // A stalled handshake ends at the scenario's 1 s timeout, not the probe's defaults.
        let stall = try #require(run.outcomes.first { $0.id.hasSuffix("stall-handshake") })
        #expect(stall.milliseconds < 5000)
    }

    @Test("a wrong expectation is a mismatch, reported per backend with the probe's findings")
    func mismatch() async throws {
        let runner = ScenarioRunner(factory: Fixtures.factory)
        guard case .ran(let run) = await runner.run(paths: [Self.fail]) else {
            Issue.record("rejected")
            return
        }
        #expect(run.passedCount == 1)
        #expect(run.failedCount == 1)
        #expect(run.exitCode == 1)
        let wrong = try #require(run.outcomes.first { !$0.passed })
        #expect(wrong.backends.allSatisfy { $0.expectedVerdict == [.expired] && $0.foundVerdict.isEmpty })
        #expect(wrong.backends.allSatisfy { $0.report?.handshake?.completed == true })
    }

    @Test("bad input: every error at file:line:column, and no mock started, not even for the good file")
    func badInput() async throws {
        let counter = StartCounter()
        let runner = ScenarioRunner(factory: Fixtures.factory, startMock: counter.starter())
        let result = await runner.run(paths: [Self.bad])
        guard case .rejected(let errors) = result else {
            Issue.record("bad input ran")
            return
        }
        #expect(result.exitCode == 2)
        #expect(counter.started == 0)
        let lines = errors.map(\.description)
        #expect(lines.count == 2, "\(lines)")
        #expect(
            lines.contains {
                $0.hasSuffix(
                    "typo.yaml:3:60: server.protocl: unknown key 'protocl' in server (did you mean 'protocol'?)")
            })
        // The inline chain's error points into the scenario file, at the `serve` line.
        #expect(lines.contains { $0.contains("inline-bad.yaml:8:") && $0.contains("pki.chain.serve[1]") })

        let missing = await runner.run(paths: [Self.fixtures.appendingPathComponent("nowhere")])
        guard case .rejected(let notFound) = missing else {
            Issue.record("a missing path ran")
            return
        }
        #expect(notFound.first?.message == "no such file or directory")
    }

    @Test("a mock that cannot start makes its scenario an error, not a crash or a pass")
    func mockStartFailure() async throws {
        let runner = ScenarioRunner(factory: Fixtures.factory) { _, _ in
            throw MockServerError(description: "no sockets today")
        }
        guard case .ran(let run) = await runner.run(paths: [Self.pass.appendingPathComponent("smtp-good.yaml")]) else {
            Issue.record("rejected")
            return
        }
        #expect(run.exitCode == 1)
        #expect(run.outcomes.first?.error?.contains("no sockets today") == true)
    }

    @Test("serve: the mock listens and a probe trusting only the written CA file passes")
    func serve() async throws {
        let runner = ScenarioRunner(factory: Fixtures.factory)
        guard
            case .ready(let prepared) = runner.prepare(paths: [Self.pass.appendingPathComponent("imap-wrong-host.yaml")]
            )
        else {
            Issue.record("rejected")
            return
        }
        let folder = try PrivateDirectory.make(prefix: "mimic-serve-test-")
        defer { PrivateDirectory.remove(folder) }
        let served = try await ScenarioServing.start(prepared, caDirectory: folder)
        let one = try #require(served.first)
        #expect(one.caFile.path.hasPrefix(folder.path))
        #expect(one.description.contains("address   127.0.0.1:\(one.mock.port)"))
        #expect(one.description.contains("expect    [hostnameMismatch] CRITICAL"))
        let anchors = try PEMFile.certificates(at: one.caFile.path, role: "ca")
        let reports = await Prober().probe(
            one.prepared.target(host: one.mock.host, port: one.mock.port),
            options: ProbeOptions(trustAnchors: anchors, deadlines: ProbeDeadlines(timeout: 3)))
        await ScenarioServing.stop(served)
        #expect(reports.count == 2)
        for report in reports { #expect(report.verdict.codes == [.hostnameMismatch], "\(report.findings)") }
    }

    // MARK: - The executable

    /// A certificate home for the executable: the repository's profiles, a temporary local CA and key cache.
    static let cliHome: URL = {
        let home = Scratch.cache("mimic-runner-cli-home")
        let profiles = home.appendingPathComponent("profiles")
        // Made anew each run: a link left by a checkout elsewhere would point at that checkout's profiles.
        try? FileManager.default.removeItem(at: profiles)
        try? FileManager.default.createSymbolicLink(at: profiles, withDestinationURL: Fixtures.profiles)
        return home
    }()

    func mimic(_ arguments: [String]) throws -> Subprocess.Result {
        try Subprocess.run(
            Fixtures.mimicExecutable.path, ["run", "--certs-dir", Self.cliHome.path] + arguments, timeout: 120)
    }

    @Test("mimic run: exit 0 when all pass, 1 on a mismatch, 2 on bad input or an empty selection")
    func exitCodes() throws {
        let pass = try mimic([Self.pass.path])
        #expect(pass.status == 0, "\(pass.stdout)\n\(pass.stderr)")
        #expect(pass.stdout.contains("7 passed, 0 failed"))
        // Not a terminal: the report alone, no progress line.
        #expect(!pass.stderr.contains("[1/7]"))

        let fail = try mimic([Self.fail.path])
        #expect(fail.status == 1, "\(fail.stdout)\n\(fail.stderr)")
        #expect(fail.stdout.contains("1 passed, 1 failed"))
        #expect(fail.stdout.contains("MISMATCH expected [expired] CRITICAL"))

        let bad = try mimic([Self.bad.path])
        #expect(bad.status == 2)
        #expect(bad.stdout.isEmpty)
        #expect(bad.stderr.contains("typo.yaml:3:60: server.protocl:"))
        #expect(bad.stderr.contains("inline-bad.yaml:8:"))

        let none = try mimic([Self.pass.path, "--filter", "no-such-scenario"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("no scenario selected"))
    }

    @Test("mimic run --filter and --format junit/json")
    func formats() throws {
        let junit = try mimic([
            Self.fixtures.appendingPathComponent("fail").path, "--format", "junit", "--filter", "*expect-expired",
        ])
        #expect(junit.status == 1)
        let collector = JUnitCollector()
        let parser = XMLParser(data: Data(junit.stdout.utf8))
        parser.delegate = collector
        #expect(parser.parse())
        #expect(collector.cases.count == 2)
        #expect(collector.failures.count == 2)

        let json = try mimic([Self.pass.path, "--format", "json", "--filter", "smtp"])
        #expect(json.status == 0)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let run = try decoder.decode(ScenarioRun.self, from: Data(json.stdout.utf8))
        #expect(run.outcomes.count == 3)
        #expect(run.outcomes.allSatisfy { $0.id.contains("smtp") && $0.passed })
    }
}
