import Foundation
import MimicCore
import MimicScenarios
import MimicTestSupport
import Testing

/// `mimic grade` and `mimic serve --manifest` through the built executable, with real processes as monitors.
@Suite("mimic grade")
struct GradeCommandTests {
    static let fixtures = Fixtures.repository.appendingPathComponent("Tests/MimicScenariosTests/Fixtures/grade")
    static let scenarios = Fixtures.repository.appendingPathComponent("scenarios").path
    static let pick = ["smtp/starttls-good.yaml", "smtp/starttls-expired-leaf.yaml", "ldap/starttls-good.yaml"]
        .map { Fixtures.repository.appendingPathComponent("scenarios/\($0)").path }

    static func scorecard(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func outcomes(_ card: [String: Any]) -> [String: String] {
        var result: [String: String] = [:]
        for case let scenario as [String: Any] in card["scenarios"] as? [Any] ?? [] {
            if let id = scenario["id"] as? String, let outcome = scenario["outcome"] as? String { result[id] = outcome }
        }
        return result
    }

    @Test("a monitor that always says OK: passed on the good server, missed on the expired one, n/a where unsupported")
    func alwaysOK() throws {
        let directory = try PrivateDirectory.make(prefix: "mimic-grade-test-")
        defer { PrivateDirectory.remove(directory) }
        let baseline = directory.appendingPathComponent("baseline.json").path
        let html = directory.appendingPathComponent("card.html").path
        let junit = directory.appendingPathComponent("card.xml").path
        let run = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            [
                "grade", "--monitor", Self.fixtures.appendingPathComponent("always-ok.yaml").path, "--format", "json",
                "--write-baseline", baseline, "--html", html, "--junit", junit,
            ] + Self.pick,
            timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let card = try Self.scorecard(run.stdout)
        #expect(
            Self.outcomes(card) == [
                "smtp::starttls::good": "passed", "smtp::starttls::expired-leaf": "missed",
                "ldap::starttls::good": "not_applicable",
            ])
        let scenarios = card["scenarios"] as? [[String: Any]] ?? []
        let missed = try #require(scenarios.first { $0["id"] as? String == "smtp::starttls::expired-leaf" })
        #expect((missed["output"] as? String)?.contains("OK - looks fine mail.example.test") == true, "\(missed)")
        #expect((missed["detail"] as? String)?.contains("OK where an alert was due") == true)

        // The page stands alone: no script, no stylesheet or image from anywhere.
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("smtp::starttls::expired-leaf") && page.contains("1 missed"))
        #expect(!page.contains("<script") && !page.contains("src=") && !page.contains("href=\"http"))
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.contains("failures=\"1\"") && xml.contains("skipped=\"1\""), "\(xml)")

        // The baseline it wrote is no regression of itself.
        let again = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            [
                "grade", "--no-html", "--monitor", Self.fixtures.appendingPathComponent("always-ok.yaml").path,
                "--baseline", baseline,
            ]
                + Self.pick,
            timeout: 120)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("no regression"))
    }

    @Test("the baseline gate: a scenario the baseline caught and now missed fails with exit 1")
    func regression() throws {
        let directory = try PrivateDirectory.make(prefix: "mimic-grade-test-")
        defer { PrivateDirectory.remove(directory) }
        let baseline = directory.appendingPathComponent("baseline.json")
        try PrivateDirectory.write(
            #"{"format":1,"monitor":"always-ok","outcomes":{"smtp::starttls::expired-leaf":"caught","smtp::starttls::good":"passed"}}"#,
            to: baseline)
        let run = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            [
                "grade", "--no-html", "--monitor", Self.fixtures.appendingPathComponent("always-ok.yaml").path,
                "--baseline",
                baseline.path,
            ] + Self.pick,
            timeout: 120)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("smtp::starttls::expired-leaf: caught → missed"), "\(run.stderr)")

        try PrivateDirectory.write("{not json", to: baseline)
        let bad = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            [
                "grade", "--no-html", "--monitor", Self.fixtures.appendingPathComponent("always-ok.yaml").path,
                "--baseline",
                baseline.path,
            ] + Self.pick,
            timeout: 60)
        #expect(bad.status == 2, "\(bad.stderr)")
    }

    @Test("a monitor that hangs is an error at its deadline; the grading still ends")
    func hangs() throws {
        let run = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            [
                "grade", "--no-html", "--monitor", Self.fixtures.appendingPathComponent("hangs.yaml").path, "--format",
                "json",
            ]
                + Self.pick,
            timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let outcomes = Self.outcomes(try Self.scorecard(run.stdout))
        #expect(outcomes.count == 3 && outcomes.values.allSatisfy { $0 == "error" }, "\(outcomes)")
        #expect(run.stdout.contains("timed out after"))
    }

    @Test("setup, a service waited for, an HTTP answer read as a Prometheus metric")
    func service() throws {
        let run = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            [
                "grade", "--no-html", "--monitor", Self.fixtures.appendingPathComponent("with-service.yaml").path,
                "--format", "json",
            ]
                + Self.pick,
            timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let outcomes = Self.outcomes(try Self.scorecard(run.stdout))
        // probe_success 1 everywhere: right on the good servers, a miss on the expired leaf.
        #expect(
            outcomes == [
                "smtp::starttls::good": "passed", "smtp::starttls::expired-leaf": "missed",
                "ldap::starttls::good": "passed",
            ], "\(run.stdout)")
    }

    @Test("a monitor that is not installed: exit 3 before anything is graded")
    func notInstalled() throws {
        let directory = try PrivateDirectory.make(prefix: "mimic-grade-test-")
        defer { PrivateDirectory.remove(directory) }
        let adapter = directory.appendingPathComponent("missing.yaml")
        try PrivateDirectory.write(
            "name: missing\nsummary: x\nrequires: [no-such-monitor-xyz]\ncases:\n  - argv: [no-such-monitor-xyz]\n",
            to: adapter)
        let run = try Subprocess.run(
            Fixtures.mimicExecutable.path, ["grade", "--no-html", "--monitor", adapter.path] + Self.pick, timeout: 60)
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("not installed: no-such-monitor-xyz"))
    }

    @Test("mimic probe, graded over part of the library through its shipped adapter, is always right")
    func probeAdapter() throws {
        let run = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            [
                "grade", "--no-html", "--monitor",
                Fixtures.repository.appendingPathComponent("monitors/mimic-probe.yaml").path,
                "--format", "json", "--shard", "1/4", Self.scenarios,
            ],
            timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let card = try Self.scorecard(run.stdout)
        let outcomes = Self.outcomes(card)
        #expect(outcomes.count > 40)
        let wrong = outcomes.filter { $0.value != "caught" && $0.value != "passed" }
        #expect(wrong.isEmpty, "\(wrong)")
    }
}

/// The manifest a zoo writes: what a harness reads, valid against its schema, the same ports run after run.
@Suite("mimic serve --manifest")
struct ZooManifestTests {
    @Test("manifest to stdout, fixed ports, hosts lines, one CA file; stops on SIGTERM")
    func manifest() throws {
        let directory = try PrivateDirectory.make(prefix: "mimic-zoo-test-")
        defer { PrivateDirectory.remove(directory) }
        let hosts = directory.appendingPathComponent("hosts").path
        let server = try BackgroundProcess(
            Fixtures.mimicExecutable.path,
            [
                "serve", Fixtures.repository.appendingPathComponent("scenarios/smtp").path, "--port-base", "13000",
                "--manifest", "-", "--hosts-file", hosts,
            ])
        #expect(server.waitForOutput(containing: "\"scenarios\"", timeout: 60), "\(server.output())")
        // The JSON is complete once its closing brace is on a line of its own.
        #expect(server.waitForOutput(containing: "\n}", timeout: 30))
        let text = server.output().stdout
        let file = directory.appendingPathComponent("manifest.json")
        try PrivateDirectory.write(text, to: file)
        let manifest = try ZooManifest.read(file)
        #expect(manifest.scenarios.count >= 50)
        let ports = try ZooPorts.assign(ids: manifest.scenarios.map(\.id), base: 13000)
        for entry in manifest.scenarios {
            #expect(entry.port == ports[entry.id], "\(entry.id)")
            #expect(entry.cafile == manifest.cafile)
            #expect(entry.url.hasSuffix("://127.0.0.1:\(entry.port)"))
        }
        let good = try #require(manifest.scenarios.first { $0.id == "smtp::starttls::good" })
        #expect(good.monitor.expect == .ok && good.url.hasPrefix("submission://"))
        let stripped = try #require(manifest.scenarios.first { $0.id == "smtp::starttls::stripped" })
        let anyway = try #require(manifest.scenarios.first { $0.id == "smtp::starttls::stripped-anyway" })
        #expect(stripped.monitor.expect == .alert && anyway.monitor.expect == .alert)
        let hostsText = try String(contentsOfFile: hosts, encoding: .utf8)
        #expect(hostsText.contains("127.0.0.1 ") && hostsText.contains("mail.example.test"))

        // The schema in the repository accepts what was written (checked with Python's jsonschema).
        let schema = Fixtures.repository.appendingPathComponent("monitors/manifest.schema.json").path
        let check = try Subprocess.run(
            "/usr/bin/python3",
            [
                "-c",
                "import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
                file.path, schema,
            ],
            timeout: 60)
        #expect(check.status == 0, "\(check.stderr)")

        // Graded against the running zoo through its manifest.
        let grade = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            [
                "grade", "--no-html", "--monitor",
                Fixtures.repository.appendingPathComponent("monitors/mimic-probe.yaml").path,
                "--zoo", file.path, "--filter", "smtp::starttls::*-leaf", "--format", "json",
            ],
            timeout: 120)
        #expect(grade.status == 0, "\(grade.stderr)")
        #expect(grade.stdout.contains("\"outcome\" : \"caught\""), "\(grade.stdout)")

        let status = server.stop(with: SIGTERM, timeout: 10)
        #expect(status == 0)
    }

    @Test("a manifest with an unknown key is refused at its place")
    func badManifest() throws {
        let directory = try PrivateDirectory.make(prefix: "mimic-zoo-test-")
        defer { PrivateDirectory.remove(directory) }
        let file = directory.appendingPathComponent("m.json")
        try PrivateDirectory.write(
            "{\n  \"format\": 1,\n  \"mimic_version\": \"x\",\n  \"started\": \"x\",\n  \"cafile\": \"/x\",\n  \"scenarios\": [],\n  \"extra\": 1\n}\n",
            to: file)
        #expect {
            try ZooManifest.read(file)
        } throws: { error in
            "\(error)".contains("m.json:7:3: extra: unknown key 'extra'")
        }
    }

    @Test("a port taken: exit 1 with the scenario and the port named, nothing left listening")
    func portTaken() throws {
        let scenario = Fixtures.repository.appendingPathComponent("scenarios/smtp/starttls-good.yaml").path
        let port = try #require(try ZooPorts.assign(ids: ["smtp::starttls::good"], base: 13500)["smtp::starttls::good"])
        let blocker = try BackgroundProcess(
            "/usr/bin/python3",
            [
                "-c",
                "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', \(port))); s.listen(); print('ready', flush=True); time.sleep(60)",
            ])
        defer { _ = blocker.stop(with: SIGKILL, timeout: 5) }
        #expect(blocker.waitForOutput(containing: "ready", timeout: 30))
        let run = try Subprocess.run(
            Fixtures.mimicExecutable.path, ["serve", scenario, "--port-base", "13500"], timeout: 30)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("smtp::starttls::good") && run.stderr.contains("\(port)"), "\(run.stderr)")
    }
}

/// Interrupting a grading: every monitor run and the service it started end with it, and its folders go.
@Suite("mimic grade interrupted")
struct GradeInterruptTests {
    @Test("SIGTERM while monitors run: they and the service are killed, exit 128+15")
    func interrupted() throws {
        let directory = try PrivateDirectory.make(prefix: "mimic-grade-int-")
        defer { PrivateDirectory.remove(directory) }
        let marks = directory.appendingPathComponent("pids").path
        let adapter = directory.appendingPathComponent("slow.yaml")
        try PrivateDirectory.write(
            """
            name: slow
            summary: "a service, and monitors that take their time"
            timeout: 60s
            concurrency: 2
            service:
              argv: [sh, -c, "echo $$ >> \(marks); exec python3 -m http.server --bind 127.0.0.1 {service_port}"]
              wait_for_port: "{service_port}"
            cases:
              - argv: [sh, -c, "echo $$ >> \(marks); exec sleep 50"]

            """, to: adapter)
        let scenarios = ["smtp/starttls-good.yaml", "smtp/starttls-expired-leaf.yaml"].map {
            Fixtures.repository.appendingPathComponent("scenarios/\($0)").path
        }
        let grade = try BackgroundProcess(
            Fixtures.mimicExecutable.path, ["grade", "--no-html", "--monitor", adapter.path] + scenarios)
        // The service and both runs have written their pids once three lines are there.
        let deadline = Date().addingTimeInterval(60)
        var pids: [Int32] = []
        while Date() < deadline {
            pids = ((try? String(contentsOfFile: marks, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                Int32($0)
            }
            if pids.count >= 3 { break }
            usleep(20_000)
        }
        #expect(pids.count == 3, "\(pids) \(grade.output())")
        let status = grade.stop(with: SIGTERM, timeout: 20)
        #expect(status == 128 + SIGTERM, "\(String(describing: status)) \(grade.output())")
        #expect(grade.output().stderr.contains("every monitor it started killed"))
        // Each was killed with its group; a killed child of ours is reaped by init, so it may linger as a zombie
        // for a moment: wait for it to be gone.
        for pid in pids {
            let until = Date().addingTimeInterval(10)
            while kill(pid, 0) == 0, Date() < until { usleep(20_000) }
            #expect(kill(pid, 0) != 0, "process \(pid) is still there")
        }
    }
}
