import ArgumentParser
import Foundation
import MimicScenarios

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ScenarioRunFormat: ExpressibleByArgument {}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract:
            "Run scenarios: start each mock server, probe it through OpenSSL and GnuTLS, compare with its expectations.",
        discussion: """
            Paths are scenario files or folders (walked recursively for *.yaml). Every file is checked and every \
            chain minted before any server starts: on bad input all errors are printed as file:line:column and \
            nothing runs.

            Exit codes: 0 every scenario as expected, 1 any mismatch (or a scenario that could not run), \
            2 bad input (scenario files, chains, no scenario selected).
            """
    )

    @OptionGroup var home: CertsHome

    @OptionGroup var selection: ScenarioSelection

    @Argument(help: "Scenario files or folders (default: scenarios/).")
    var paths: [String] = []

    @Option(name: .long, help: "Output: text, json or junit.")
    var format: ScenarioRunFormat = .text

    @Option(name: .long, help: "Scenarios run at once.")
    var concurrency: Int = 8

    @Option(name: .long, help: "Probe timeout per phase in seconds, for scenarios that set none.")
    var timeout: Double = 3

    @Option(name: .long, help: "Also write the report to this file.")
    var output: String?

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout must be in (0, 600] seconds") }
    }

    func run() async throws {
        let runner = ScenarioRunner(
            factory: try home.factory(exitingWith: ExitCode(2)), concurrency: concurrency,
            defaultTimeout: .milliseconds(Int(timeout * 1000)))
        let prepared = try selection.prepare(paths, with: runner, nothingDone: "nothing was run")

        // A running count on a terminal only: logs and pipes get the report alone.
        let interactive = isatty(STDOUT_FILENO) == 1
        let progress: ScenarioRunner.Progress? = interactive ? Self.showProgress : nil
        let result = await runner.run(prepared, progress: progress)
        let report = result.render(format)
        print(report)
        if let output {
            do {
                try Data((report + "\n").utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                printError("mimic: cannot write \(output): \(error)")
                throw ExitCode(2)
            }
        }
        if result.exitCode != 0 { throw ExitCode(result.exitCode) }
    }

    /// `[3/40] ok smtp::starttls::expired-leaf` on one terminal line, rewritten as scenarios finish.
    @Sendable static func showProgress(_ outcome: ScenarioOutcome, completed: Int, total: Int) {
        let mark = outcome.passed ? "ok" : "MISMATCH"
        var line = "\u{1B}[2K\r[\(completed)/\(total)] \(mark) \(outcome.id)"
        if completed == total { line = "\u{1B}[2K\r" }
        FileHandle.standardError.write(Data(line.utf8))
    }
}
