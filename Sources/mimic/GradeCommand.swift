import ArgumentParser
import Foundation
import MimicNet
import MimicScenarios
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ScorecardFormat: ExpressibleByArgument {}

struct GradeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grade",
        abstract: "Grade a monitor: run it against every scenario's mock and score what it caught, missed and raised.",
        discussion: """
            The adapter (a YAML file, see monitors/README.md) says how to run the monitor for each protocol and \
            mode and how to read its answer. Mimic starts the zoo (every scenario's mock at once, one CA file), \
            runs the monitor against each scenario it supports, and classifies each run: caught, missed (OK where \
            an alert was due), false alarm (not OK on a healthy server), passed, error (crashed, timed out, \
            unreadable) or not applicable. What a monitor must report is each scenario's expect.monitor, or the \
            rule in scenarios/README.md.

            Exit codes: 0 graded (and, with --baseline, nothing regressed), 1 a scenario the baseline caught is \
            now missed or a new false alarm appeared, 2 bad input (adapter, scenarios, manifest, baseline: \
            file:line:column), 3 a usage error or grading could not run (the monitor is not installed, a setup step failed, a mock \
            could not start).
            """
    )

    @OptionGroup var home: CertsHome

    @OptionGroup var selection: ScenarioSelection

    @Option(name: .long, help: "The monitor's adapter file (monitors/NAME.yaml).")
    var monitor: String

    @Argument(help: "Scenario files or folders (default: scenarios/). Not with --zoo.")
    var paths: [String] = []

    @Option(name: .long, help: "Grade against a running zoo: the manifest `mimic serve --manifest` wrote.")
    var zoo: String?

    @OptionGroup var ports: PortBase

    @Option(name: .long, help: "Monitor runs at once (default: the adapter's concurrency).")
    var concurrency: Int?

    @Option(name: .long, help: "What standard output gets: text, json, junit or html.")
    var format: ScorecardFormat = .text

    @Option(name: .long, help: "Also write the report in --format to this file.")
    var output: String?

    @Option(name: .long, help: "Where the HTML page goes (default: mimic-grade-NAME.html in the current folder).")
    var html: String?

    @Flag(name: .customLong("no-html"), help: "Write no HTML page.")
    var noHTML = false

    @Option(name: .long, help: "Also write the JSON scorecard to this file.")
    var json: String?

    @Option(name: .long, help: "Also write JUnit XML (a test case per scenario) to this file.")
    var junit: String?

    @Option(name: .long, help: "Compare with a recorded grading: exit 1 on a new miss or a new false alarm.")
    var baseline: String?

    @Option(name: .customLong("write-baseline"), help: "Record this grading's outcomes to compare later ones with.")
    var writeBaseline: String?

    func validate() throws {
        if zoo != nil, !paths.isEmpty { throw ValidationError("give scenario paths or --zoo, not both") }
        if zoo != nil, ports.portBase != nil {
            throw ValidationError("--port-base starts a zoo; --zoo uses a running one")
        }
        if noHTML, html != nil { throw ValidationError("--html and --no-html contradict each other") }
        if let concurrency, !(1...64).contains(concurrency) {
            throw ValidationError("--concurrency must be from 1 to 64")
        }
    }

    func run() async throws {
        // Everything that can be wrong with the input is found before anything starts.
        let adapter: MonitorAdapter
        let recorded: GradeBaseline?
        do {
            adapter = try MonitorAdapterLoader().load(file: URL(fileURLWithPath: monitor))
            recorded = try baseline.map { path throws(ScenarioError) in
                try GradeBaseline.read(URL(fileURLWithPath: path))
            }
        } catch {
            printError(error.description)
            printError("mimic: nothing was started")
            throw ExitCode(2)
        }

        // Monitors and services run in process groups of their own, which a Ctrl-C at the terminal does not reach:
        // on SIGINT or SIGTERM every one of them is killed and the zoo's and the grading's folders are removed.
        let signals = SignalWaiter([SIGINT, SIGTERM])
        let folders = FolderList()
        Task.detached {
            let signal = await signals.wait()
            ChildProcess.killAll()
            for folder in folders.all { PrivateDirectory.remove(folder) }
            printError("mimic: signal \(signal): grading stopped, every monitor it started killed")
            Glibc.exit(128 + signal)
        }

        var running: Zoo?
        let log = ObservationLog()
        let manifest: ZooManifest
        let manifestFile: URL
        if let zoo {
            do {
                manifestFile = URL(fileURLWithPath: zoo)
                manifest = try ZooManifest.read(manifestFile)
            } catch {
                printError(error.description)
                throw ExitCode(2)
            }
        } else {
            let prepared = try selection.prepare(
                paths, with: ScenarioRunner(factory: try home.factory(exitingWith: ExitCode(2))),
                nothingDone: "nothing was started")
            do {
                running = try await Zoo.start(prepared, portBase: ports.portBase, observations: log)
            } catch {
                printError("mimic: \(error)")
                if case .usage = error { throw ExitCode(2) }
                throw ExitCode(3)
            }
            manifest = running!.manifest
            manifestFile = running!.manifestFile
            folders.add(running!.directory)
        }

        var entries = manifest.scenarios
        if zoo != nil {
            if let filter = selection.scenarioFilter { entries = entries.filter { filter.matches($0.id) } }
            if let shard = selection.shard { entries = shard.select(entries, id: \.id) }
        }
        let scorecard: Scorecard
        var observations: (@Sendable (String) async -> [ClientObservation])?
        if let zoo = running {
            observations = { id in
                await zoo.settle(id)
                return log.take(id)
            }
        }
        do {
            let workdir = try PrivateDirectory.make(prefix: "mimic-grade-")
            folders.add(workdir)
            defer { PrivateDirectory.remove(workdir) }
            let grading = MonitorGrading(
                adapter: adapter, entries: entries, manifestFile: manifestFile,
                hostsFile: manifest.hostsFile.map { URL(fileURLWithPath: $0) }, cafile: manifest.cafile,
                workdir: workdir, concurrency: concurrency, observations: observations)
            let interactive = isatty(STDERR_FILENO) == 1
            scorecard = try await grading.run(progress: interactive ? Self.showProgress : nil)
        } catch {
            await Self.leaveTheExitToTheSignal()
            await running?.stop()
            printError("mimic: \(error)")
            throw ExitCode(3)
        }
        await Self.leaveTheExitToTheSignal()
        await running?.stop()

        let report = scorecard.render(format)
        print(report)
        var files: [(String?, String)] = [(output, report)]
        let page = noHTML ? nil : (html ?? "mimic-grade-\(adapter.name).html")
        files.append((page, page == nil ? "" : scorecard.renderHTML()))
        files.append((json, json == nil ? "" : scorecard.renderJSON()))
        files.append((junit, junit == nil ? "" : scorecard.renderJUnit()))
        files.append((writeBaseline, writeBaseline == nil ? "" : GradeBaseline(scorecard).json()))
        for case (let path?, let text) in files {
            do {
                try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                printError("mimic: cannot write \(path): \(error.localizedDescription)")
                throw ExitCode(2)
            }
        }
        if let page { printError("mimic: the scorecard as a page: \(page)") }
        if let recorded {
            let regressions = recorded.regressions(in: scorecard)
            if !regressions.isEmpty {
                printError("mimic: \(regressions.count) regression(s) against the baseline:")
                for regression in regressions { printError("  \(regression)") }
                throw ExitCode(1)
            }
            printError("mimic: no regression against the baseline")
        }
    }

    /// Once a signal is stopping the grading, its task kills every monitor, removes the folders and ends the
    /// process with 128 + signal. The grading then ends too, its runs killed: it must not report them as errors
    /// or exit first with its own status, so it waits here for that exit (the signal's task takes milliseconds).
    static func leaveTheExitToTheSignal() async {
        guard ChildProcess.isStopping else { return }
        await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
    }

    @Sendable static func showProgress(_ graded: GradedScenario, done: Int, total: Int) {
        var line = "\u{1B}[2K\r[\(done)/\(total)] \(graded.outcome) \(graded.id)"
        if done == total { line = "\u{1B}[2K\r" }
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// Folders to remove if grading is interrupted.
final class FolderList: Sendable {
    private let folders = Mutex<[URL]>([])
    func add(_ folder: URL) { folders.withLock { $0.append(folder) } }
    var all: [URL] { folders.withLock { $0 } }
}
