import Foundation
import MimicCore
import MimicNet

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one monitor against every scenario of a zoo and grades each run (`mimic grade`).
///
/// Setup steps run once, then the service (an exporter) starts and is waited for; then at most `concurrency`
/// monitor runs at once, each with the adapter's deadline; teardown and the service's stop run however grading
/// ends. Nothing goes through a shell unless the adapter says `shell: true`.
public struct MonitorGrading: Sendable {
    public var adapter: MonitorAdapter
    /// The zoo's scenarios to grade (a manifest's entries, filtered and sharded).
    public var entries: [ZooManifest.Entry]
    public var manifestFile: URL
    public var hostsFile: URL?
    public var cafile: String
    /// A private folder for this grading: `{workdir}`.
    public var workdir: URL
    public var concurrency: Int
    /// What the mock of a scenario saw since the last call, once its connections have closed; nil when the zoo is
    /// not watched.
    public var observations: (@Sendable (String) async -> [ClientObservation])?

    public typealias Progress = @Sendable (_ graded: GradedScenario, _ done: Int, _ total: Int) -> Void

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public init(
        adapter: MonitorAdapter, entries: [ZooManifest.Entry], manifestFile: URL, hostsFile: URL?, cafile: String,
        workdir: URL, concurrency: Int? = nil,
        observations: (@Sendable (String) async -> [ClientObservation])? = nil
    ) {
        self.observations = observations
        self.adapter = adapter
        self.entries = entries
        self.manifestFile = manifestFile
        self.hostsFile = hostsFile
        self.cafile = cafile
        self.workdir = workdir
        self.concurrency = max(1, concurrency ?? adapter.concurrency)
    }

    /// The placeholders every template may use.
    var globalValues: [String: String] {
        [
            "workdir": workdir.path, "manifest": manifestFile.path, "hosts_file": hostsFile?.path ?? "",
            "service_port": String(servicePort), "adapter_dir": adapter.directory, "cafile": cafile,
        ]
    }

    /// A free loopback port for the service, picked once per grading.
    private let servicePort: Int = MonitorGrading.freeLoopbackPort()

    /// The environment every command gets: ours, with the adapter's folders before PATH and its `env`.
    func environment(_ values: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        let extra = adapter.path.map { $0.expand(values) }.map { folder in
            folder.hasPrefix("/") ? folder : FileManager.default.currentDirectoryPath + "/" + folder
        }
        environment["PATH"] = (extra + [environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"]).joined(separator: ":")
        for (key, template) in adapter.environment { environment[key] = template.expand(values) }
        return environment
    }

    /// The programs the adapter requires that cannot be found.
    public func missingPrograms() -> [String] {
        let path = (environment(globalValues)["PATH"] ?? "").split(separator: ":").map(String.init)
        return adapter.requires.filter { ChildProcess.find($0, in: path) == nil }
    }

    /// Setup, service, every scenario, teardown. Throws only when grading cannot start (a program missing, a
    /// setup step failing, the service not coming up); a monitor's own failures are grades.
    public func run(progress: Progress? = nil) async throws(Failure) -> Scorecard {
        let started = ContinuousClock.now
        let missing = missingPrograms()
        guard missing.isEmpty else {
            throw Failure(
                description: "\(adapter.name): not installed: \(missing.joined(separator: ", ")) (not found in PATH)")
        }
        let globals = globalValues
        let version = await versionLine(globals)
        var service: pid_t?
        var failure: Failure?
        do throws(Failure) {
            for step in adapter.setup { try await runStep(step, values: globals, what: "setup") }
            if let configured = adapter.service { service = try await startService(configured, values: globals) }
        } catch {
            failure = error
        }
        var graded: [GradedScenario] = []
        if failure == nil { graded = await gradeAll(progress: progress) }
        if let service { Self.stop(service) }
        for step in adapter.teardown { try? await runStep(step, values: globals, what: "teardown") }
        if let failure { throw failure }
        return Scorecard(
            adapter: adapter, monitorVersion: version, scenarios: graded,
            milliseconds: (ContinuousClock.now - started).milliseconds)
    }

    func gradeAll(progress: Progress?) async -> [GradedScenario] {
        let total = entries.count
        let limit = concurrency
        // Scenarios that make a monitor wait (stalls, tarpits: the probe's verdict is a timeout) start first, so
        // that their waits overlap the quick ones instead of trailing after them; the scorecard is sorted anyway.
        let entries =
            self.entries.filter { $0.probe.verdict.contains(.timeout) }
            + self.entries.filter { !$0.probe.verdict.contains(.timeout) }
        return await withTaskGroup(of: GradedScenario.self) { tasks in
            var results: [GradedScenario] = []
            var next = 0
            func launch() {
                guard next < total else { return }
                let entry = entries[next]
                next += 1
                tasks.addTask { await self.grade(entry) }
            }
            for _ in 0..<limit { launch() }
            for await result in tasks {
                results.append(result)
                progress?(result, results.count, total)
                launch()
            }
            return results
        }
    }

    /// The values of one scenario's placeholders.
    func values(for entry: ZooManifest.Entry) -> [String: String] {
        var values = globalValues
        values["host"] = entry.host
        values["port"] = String(entry.port)
        values["url"] = entry.url
        values["scheme"] = entry.url.components(separatedBy: "://").first ?? ""
        values["servername"] = entry.servername
        values["cafile"] = entry.cafile
        values["protocol"] = entry.protocol.rawValue
        values["mode"] = entry.mode == .implicit ? "implicit" : "starttls"
        values["id"] = entry.id
        return values
    }

    /// Runs the monitor against one scenario and grades what it said.
    public func grade(_ entry: ZooManifest.Entry) async -> GradedScenario {
        var graded = GradedScenario(
            id: entry.id, summary: entry.summary, source: entry.source, protocol: entry.protocol, mode: entry.mode,
            kind: GradedScenario.kind(of: entry.probe.verdict), fieldFailure: entry.fieldFailure,
            expect: entry.monitor.expect, rule: entry.monitor.rule, probeVerdict: entry.probe.verdict,
            outcome: .notApplicable, reported: nil, detail: "", command: nil, exitCode: nil, output: nil,
            milliseconds: 0)
        guard let chosen = adapter.action(for: entry.protocol, mode: entry.mode, tags: entry.tags) else {
            graded.detail = "no case for \(entry.protocol)/\(entry.mode)"
            return graded
        }
        let values = values(for: entry)
        let reader = chosen.answer ?? adapter.answer
        let reading: Reading
        var why: String
        switch chosen.action {
        case .unsupported(let reason):
            graded.detail = reason
            return graded
        case .run(let command):
            let argv = Self.argv(command, values: values)
            graded.command = argv.map(Self.quoted).joined(separator: " ")
            do {
                let result = try await ChildProcess.run(
                    argv, environment: environment(values), timeout: adapter.timeout)
                graded.milliseconds = result.milliseconds
                graded.exitCode = result.exitCode
                graded.output = Self.trimmed(result.output, dropped: result.droppedBytes)
                if result.timedOut {
                    (reading, why) = (.error, "timed out after \(adapter.timeout)")
                } else if let signal = result.signal {
                    (reading, why) = (.error, "killed by signal \(signal)")
                } else {
                    (reading, why) = reader.read(exitCode: result.exitCode, output: result.output)
                }
            } catch {
                (reading, why) = (.error, error.description)
            }
        case .http(let template):
            let url = template.expand(values, encode: Self.percentEncoded)
            graded.command = "GET \(url)"
            do {
                let response = try await LoopbackHTTP.get(url, timeout: adapter.timeout)
                graded.milliseconds = response.milliseconds
                graded.output = Self.trimmed(response.body, dropped: 0)
                if response.status == 200 {
                    (reading, why) = reader.read(exitCode: nil, output: response.body)
                } else {
                    (reading, why) = (.error, "HTTP \(response.status)")
                }
            } catch {
                (reading, why) = (.error, error.description)
            }
        }
        if let observations {
            let seen = await observations(entry.id)
            graded.connections = seen.count
            let badCertificate =
                entry.probe.severity == .critical && entry.probe.verdict.contains { $0.family == .certificate }
            graded.clientFindings = ClientFinding.judge(
                seen, servername: entry.servername, badCertificate: badCertificate)
        }
        let (outcome, judgement) = GradeOutcome.classify(reading, expect: entry.monitor.expect, match: adapter.severity)
        graded.outcome = outcome
        graded.reported = reading.description
        graded.detail = outcome == .error ? why : "\(judgement) (\(why))"
        return graded
    }

    // MARK: - Setup, service, version

    static func argv(_ command: MonitorAdapter.Command, values: [String: String]) -> [String] {
        let expanded = command.argv.map { $0.expand(values) }
        return command.shell ? ["/bin/sh", "-c", expanded[0]] : expanded
    }

    func runStep(_ command: MonitorAdapter.Command, values: [String: String], what: String) async throws(Failure) {
        let argv = Self.argv(command, values: values)
        let result: ChildProcess.Result
        do {
            result = try await ChildProcess.run(argv, environment: environment(values), timeout: adapter.timeout)
        } catch {
            throw Failure(description: "\(adapter.file):\(command.location.line): \(what): \(error)")
        }
        guard !result.timedOut, result.exitCode == 0 else {
            let how = result.timedOut ? "timed out" : result.exitCode.map { "exit \($0)" } ?? "killed"
            throw Failure(
                description:
                    "\(adapter.file):\(command.location.line): \(what) \(argv.joined(separator: " ")): \(how)\n"
                    + result.output.suffix(2000))
        }
    }

    func versionLine(_ values: [String: String]) async -> String? {
        guard let command = adapter.version else { return nil }
        guard
            let result = try? await ChildProcess.run(
                Self.argv(command, values: values), environment: environment(values), timeout: .seconds(20))
        else { return nil }
        return result.output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty }.map { String($0.prefix(200)) }
    }

    /// Starts the service in its own process group (its output to `{workdir}/service.log`) and waits until its
    /// port accepts.
    func startService(_ service: MonitorAdapter.Service, values: [String: String]) async throws(Failure) -> pid_t {
        let argv = Self.argv(service.command, values: values)
        let log = workdir.appendingPathComponent("service.log").path
        let pid: pid_t
        do {
            pid = try Self.spawnDetached(argv, environment: environment(values), log: log)
        } catch {
            throw Failure(description: "\(adapter.file): service: \(error)")
        }
        guard let portTemplate = service.waitForPort else { return pid }
        guard let port = Int(portTemplate.expand(values)), (1...65535).contains(port) else {
            Self.stop(pid)
            throw Failure(description: "\(adapter.file): service: wait_for_port is not a port")
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if Self.accepts(port: port) { return pid }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? ""
                throw Failure(description: "\(adapter.file): service \(argv[0]) exited at start:\n\(tail)")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        Self.stop(pid)
        throw Failure(
            description: "\(adapter.file): service \(argv[0]) did not accept on 127.0.0.1:\(port) within 10 s")
    }

    static func spawnDetached(
        _ argv: [String], environment: [String: String], log: String
    ) throws(ChildProcess.LaunchError) -> pid_t {
        let path = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        guard let resolved = ChildProcess.find(argv[0], in: path) else {
            throw ChildProcess.LaunchError(description: "\(argv[0]): not found")
        }
        guard ChildProcess.beginSpawn() else {
            throw ChildProcess.LaunchError(description: "\(argv[0]): not started: Mimic is stopping")
        }
        let (spawned, pid) = ChildProcess.spawn(
            resolved, argv, environment: environment.map { "\($0.key)=\($0.value)" }
        ) { actions in
            posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        ChildProcess.endSpawn(spawned == 0 ? pid : nil)
        guard spawned == 0 else {
            throw ChildProcess.LaunchError(description: "\(argv[0]): \(String(cString: strerror(spawned)))")
        }
        return pid
    }

    /// SIGTERM to the service's group, SIGKILL two seconds later if it is still there.
    static func stop(_ pid: pid_t) {
        defer { ChildProcess.untrack(pid) }
        kill(-pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<200 {
            if waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(10_000)
        }
        kill(-pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
    }

    static func accepts(port: Int) -> Bool {
        (try? LoopbackHTTP.connectOnly(port: port)) != nil
    }

    static func freeLoopbackPort() -> Int {
        LoopbackHTTP.freePort() ?? 0
    }

    // MARK: - Text

    static func quoted(_ argument: String) -> String {
        guard argument.isEmpty || argument.contains(where: { " \"'$\\`|&;<>(){}*?[]#~".contains($0) }) else {
            return argument
        }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// What a report keeps of a run's output: at most 4 KiB (the first and last parts), and a note of what was cut.
    static func trimmed(_ output: String, dropped: Int) -> String {
        var text = output
        if text.utf8.count > 4096 {
            let head = String(decoding: Array(text.utf8.prefix(2048)), as: UTF8.self)
            let tail = String(decoding: Array(text.utf8.suffix(2048)), as: UTF8.self)
            text = head + "\n[… \(output.utf8.count - 4096) bytes cut …]\n" + tail
        }
        if dropped > 0 { text += "\n[… \(dropped) more bytes were not kept]" }
        return text
    }

    static func percentEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
