import Foundation
import MimicCore
import MimicScenarios
import MimicTestSupport
import Testing

/// Monitor adapter files: the shipped ones load, and every malformed one is refused at its place.
@Suite("monitor adapters")
struct GradeAdapterTests {
    static let corpus = Fixtures.repository.appendingPathComponent("Tests/MimicScenariosTests/Fixtures/adapters")

    /// file → (line, column, words the message must hold).
    static let expected: [String: (Int, Int, String)] = [
        "unknown-key.yaml": (3, 1, "unknown key 'timout' at the top level (did you mean 'timeout'?)"),
        "wrong-type.yaml": (3, 14, "concurrency: expected an integer, got a string"),
        "unknown-placeholder.yaml": (4, 23, "unknown placeholder {hostname} — known: {adapter_dir}"),
        "scenario-placeholder-in-setup.yaml": (4, 20, "{port} names one scenario"),
        "two-actions.yaml": (4, 5, "one of argv, http or unsupported, not argv and http"),
        "shell-many-args.yaml": (4, 11, "with shell: true, argv is one script"),
        "bad-regex.yaml": (5, 16, "not a valid regular expression"),
        "two-readers.yaml": (3, 9, "exactly one reader"),
        "bad-protocol.yaml": (4, 23, "bad protocol 'smpt' (did you mean 'smtp'?"),
        "not-http.yaml": (4, 11, "loopback"),
        "only-unsupported.yaml": (4, 3, "every case is unsupported"),
        "unclosed-brace.yaml": (4, 19, "unclosed '{'"),
        "bad-reading.yaml": (3, 24, "bad reading 'fine'"),
        "syntax-error.yaml": (4, 1, "YAML syntax error"),
        "top-level-list.yaml": (1, 1, "must be a mapping"),
    ]

    @Test("the corpus covers every fixture") func corpus() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter {
            $0.hasSuffix(".yaml")
        }
        #expect(Set(files) == Set(Self.expected.keys))
    }

    @Test("a malformed adapter is refused at file:line:column", arguments: expected.keys.sorted())
    func malformed(file: String) throws {
        let url = Self.corpus.appendingPathComponent(file)
        let (line, column, words) = try #require(Self.expected[file])
        do {
            _ = try MonitorAdapterLoader().load(file: url)
            Issue.record("\(file) loaded")
        } catch {
            #expect(error.line == line && error.column == column, "\(file): \(error)")
            #expect(error.description.contains(words), "\(file): \(error)")
        }
    }

    @Test("through the executable: exit 2, the place on stderr, nothing started")
    func malformedThroughExecutable() throws {
        let path = Self.corpus.appendingPathComponent("unknown-placeholder.yaml").path
        let scenario = Fixtures.repository.appendingPathComponent("scenarios/smtp/starttls-good.yaml").path
        let run = try Subprocess.run(
            Fixtures.mimicExecutable.path, ["grade", "--monitor", path, scenario], timeout: 60)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("unknown-placeholder.yaml:4:23:"), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test("every shipped adapter loads")
    func shipped() throws {
        let folder = Fixtures.repository.appendingPathComponent("monitors")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        #expect(files.count >= 7, "\(files)")
        for file in files {
            let adapter = try MonitorAdapterLoader().load(file: folder.appendingPathComponent(file))
            #expect(!adapter.cases.isEmpty)
        }
        // The schema editors use agrees with the loader on every shipped adapter (Python's jsonschema).
        let check = try Subprocess.run(
            "/usr/bin/python3",
            [
                "-c",
                "import json,sys,yaml,jsonschema\nschema=json.load(open(sys.argv[1]))\n"
                    + "for f in sys.argv[2:]: jsonschema.validate(yaml.safe_load(open(f)), schema)",
                folder.appendingPathComponent("adapter.schema.json").path,
            ] + files.map { folder.appendingPathComponent($0).path },
            timeout: 60)
        #expect(check.status == 0, "\(check.stderr)")
    }

    @Test("templates: placeholders expand once, braces escape, values are never re-read")
    func templates() throws {
        let template = try Template("{{literal}} {host}:{port} {id}", allowed: ["host", "port", "id"])
        #expect(template.placeholders == ["host", "port", "id"])
        #expect(
            template.expand(["host": "127.0.0.1", "port": "25", "id": "{port}"]) == "{literal} 127.0.0.1:25 {port}")
        #expect(throws: Template.ParseError.self) { try Template("a}b", allowed: []) }
    }
}

/// Reading a monitor's answer, and judging it against what the scenario wants of a monitor.
@Suite("grading answers")
struct GradeAnswerTests {
    @Test("nagios exit codes") func nagios() {
        #expect(AnswerReader.nagios.read(exitCode: 0, output: "").reading == .state(.ok))
        #expect(AnswerReader.nagios.read(exitCode: 2, output: "").reading == .state(.critical))
        #expect(AnswerReader.nagios.read(exitCode: 3, output: "").reading == .state(.unknown))
        #expect(AnswerReader.nagios.read(exitCode: 127, output: "").reading == .error)
        #expect(AnswerReader.nagios.read(exitCode: nil, output: "").reading == .error)
    }

    @Test("exit map with other") func exit() {
        let reader = AnswerReader.exit([0: .state(.ok)], other: .state(.critical))
        #expect(reader.read(exitCode: 0, output: "").reading == .state(.ok))
        #expect(reader.read(exitCode: 9, output: "").reading == .state(.critical))
    }

    @Test("first matching pattern wins, anchors match lines") func patterns() {
        let reader = AnswerReader.patterns(
            [
                .init(regex: "^ Chain of trust +NOT ok", reading: .state(.critical)),
                .init(regex: "^Done", reading: .state(.ok)),
            ],
            otherwise: .error)
        #expect(reader.read(exitCode: 0, output: "x\n Chain of trust    NOT ok\nDone\n").reading == .state(.critical))
        #expect(reader.read(exitCode: 0, output: "x\nDone\n").reading == .state(.ok))
        #expect(reader.read(exitCode: 0, output: "nothing").reading == .error)
    }

    @Test("json paths, booleans and numbers as text") func json() {
        let reader = AnswerReader.json(
            path: [.key("results"), .index(0), .key("valid")], map: ["true": .state(.ok), "false": .state(.critical)],
            otherwise: .error)
        #expect(reader.read(exitCode: 0, output: #"{"results":[{"valid":true}]}"#).reading == .state(.ok))
        #expect(reader.read(exitCode: 0, output: #"{"results":[{"valid":false}]}"#).reading == .state(.critical))
        #expect(reader.read(exitCode: 0, output: #"{"results":[]}"#).reading == .error)
        #expect(reader.read(exitCode: 0, output: "not json").reading == .error)
        let numbers = AnswerReader.json(path: [.key("n")], map: ["1": .state(.ok)], otherwise: .state(.critical))
        #expect(numbers.read(exitCode: 0, output: #"{"n":1}"#).reading == .state(.ok))
    }

    @Test("prometheus samples, with or without labels") func prometheus() {
        let reader = AnswerReader.prometheus(
            metric: "probe_success", map: ["1": .state(.ok), "0": .state(.critical)])
        let body = "# HELP probe_success x\n# TYPE probe_success gauge\nprobe_success_other 1\nprobe_success 0\n"
        #expect(reader.read(exitCode: nil, output: body).reading == .state(.critical))
        #expect(reader.read(exitCode: nil, output: "probe_success{module=\"a\"} 1").reading == .state(.ok))
        #expect(reader.read(exitCode: nil, output: "probe_duration_seconds 1").reading == .error)
    }

    @Test("classification by what a monitor must report")
    func classify() {
        let cases: [(Reading, MonitorExpectation, MonitorAdapter.SeverityMatch, GradeOutcome)] = [
            (.state(.ok), .ok, .atLeast, .passed),
            (.state(.warning), .ok, .atLeast, .falseAlarm),
            (.state(.unknown), .ok, .atLeast, .falseAlarm),
            (.state(.ok), .alert, .atLeast, .missed),
            (.state(.unknown), .alert, .atLeast, .caught),
            (.state(.critical), .alert, .atLeast, .caught),
            (.state(.warning), .critical, .atLeast, .missed),
            (.state(.critical), .warning, .atLeast, .caught),
            (.state(.critical), .warning, .exact, .missed),
            (.state(.ok), .either, .atLeast, .passed),
            (.state(.critical), .either, .atLeast, .caught),
            (.error, .alert, .atLeast, .error),
            (.error, .ok, .atLeast, .error),
        ]
        for (reading, expect, match, outcome) in cases {
            #expect(
                GradeOutcome.classify(reading, expect: expect, match: match).outcome == outcome, "\(reading) \(expect)")
        }
    }
}

/// Fixed zoo ports and shards: the same ids always land in the same place.
@Suite("zoo ports and shards")
struct ZooPortsTests {
    static let ids = (0..<600).map { "proto::mode::scenario-\($0)" }

    @Test("deterministic, unique, inside the range, independent of order")
    func ports() throws {
        let ports = try ZooPorts.assign(ids: Self.ids, base: 12000)
        #expect(ports.count == Self.ids.count)
        #expect(Set(ports.values).count == Self.ids.count)
        #expect(ports.values.allSatisfy { (12000..<12000 + ZooPorts.span).contains($0) })
        #expect(try ZooPorts.assign(ids: Self.ids.reversed(), base: 12000) == ports)
        // A new scenario moves no other scenario unless it takes its slot first in sorted order.
        let grown = try ZooPorts.assign(ids: Self.ids + ["zzz::last"], base: 12000)
        #expect(Self.ids.filter { grown[$0] != ports[$0] }.count <= 1)
    }

    @Test("reserved ports are never handed out; a range too small is an error")
    func limits() throws {
        let reserved = Set(12000..<12100)
        let ports = try ZooPorts.assign(ids: Self.ids, base: 12000, reserved: reserved)
        #expect(ports.values.allSatisfy { !reserved.contains($0) })
        #expect(throws: ZooPorts.Error.self) { try ZooPorts.assign(ids: Self.ids, base: 65400) }
        #expect(throws: ZooPorts.Error.self) { try ZooPorts.assign(ids: ["a"], base: 0) }
    }

    @Test("shards split every id exactly once, by id alone")
    func shards() throws {
        let shards = try (1...4).map { try ScenarioShard(index: $0, count: 4) }
        var seen: [String: Int] = [:]
        for shard in shards {
            for id in shard.select(Self.ids, id: { $0 }) { seen[id, default: 0] += 1 }
        }
        #expect(seen.count == Self.ids.count && seen.values.allSatisfy { $0 == 1 })
        #expect(shards.allSatisfy { !$0.select(Self.ids, id: { $0 }).isEmpty })
        #expect(throws: ScenarioShard.ParseError.self) { try ScenarioShard(parsing: "5/4") }
        #expect(throws: ScenarioShard.ParseError.self) { try ScenarioShard(parsing: "1-4") }
        #expect(try ScenarioShard(parsing: "2/4") == ScenarioShard(index: 2, count: 4))
    }
}

/// Monitors run as real processes: a deadline kills the whole group, output is bounded, nothing via a shell.
@Suite("monitor processes")
struct ChildProcessTests {
    @Test("exit code and output, stdout and stderr together")
    func runs() async throws {
        let result = try await ChildProcess.run(
            ["/bin/sh", "-c", "echo out; echo err >&2; exit 2"], environment: ["PATH": "/usr/bin:/bin"],
            timeout: .seconds(30))
        #expect(result.exitCode == 2)
        #expect(result.output.contains("out") && result.output.contains("err"))
        #expect(!result.timedOut)
    }

    @Test("a monitor that hangs is killed at its deadline, with what it had printed")
    func deadline() async throws {
        let result = try await ChildProcess.run(
            ["/bin/sh", "-c", "echo started; sleep 60 & wait"], environment: ["PATH": "/usr/bin:/bin"],
            timeout: .milliseconds(300))
        #expect(result.timedOut)
        #expect(result.output.contains("started"))
    }

    @Test("a flood is cut at the bound and counted")
    func flood() async throws {
        let result = try await ChildProcess.run(
            ["/bin/sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"], environment: ["PATH": "/usr/bin:/bin"],
            timeout: .seconds(30))
        #expect(result.output.utf8.count == ChildProcess.outputLimit)
        #expect(result.droppedBytes == 300_000 - ChildProcess.outputLimit)
    }

    @Test("a missing program is an error, not a shell's guess")
    func missing() async {
        await #expect(throws: ChildProcess.LaunchError.self) {
            try await ChildProcess.run(
                ["no-such-monitor-xyz"], environment: ["PATH": "/usr/bin:/bin"], timeout: .seconds(5))
        }
        // Arguments are passed as they are: a `;` is not a command separator.
        let echoed = try? await ChildProcess.run(
            ["echo", "a;", "touch", "/nonexistent-mimic"], environment: ["PATH": "/usr/bin:/bin"], timeout: .seconds(5))
        #expect(echoed?.output == "a; touch /nonexistent-mimic\n")
    }

    @Test("HTTP templates reach loopback only")
    func loopbackOnly() async {
        await #expect(throws: LoopbackHTTP.Failure.self) {
            try await LoopbackHTTP.get("http://10.255.255.1:9115/probe", timeout: .seconds(1))
        }
        await #expect(throws: LoopbackHTTP.Failure.self) {
            try await LoopbackHTTP.get("http://example.test/", timeout: .seconds(1))
        }
    }
}
