import ArgumentParser
import Dispatch
import Foundation
import MimicScenarios

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Start scenarios' mock servers and keep them up for a monitor under test, until SIGINT or SIGTERM.",
        discussion: """
            Each mock listens on the scenario's server.address and server.port (default 127.0.0.1 and an \
            ephemeral port). For each one Mimic prints the address, protocol and mode, the verdict a correct \
            monitor reaches, and the CA file to trust.

            Exit codes: 0 stopped by a signal, 1 a mock could not start, 2 bad input.
            """
    )

    @OptionGroup var home: CertsHome

    @Argument(help: "Scenario files or folders.")
    var paths: [String]

    @Option(name: .long, help: "Only scenarios whose id contains this text, or matches this glob.")
    var filter: String?

    @Option(
        name: .customLong("ca-dir"),
        help: "Where the CA files go (default: a new folder under the temporary directory).")
    var caDirectory: String?

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one scenario file") }
    }

    func run() async throws {
        let runner = ScenarioRunner(factory: home.factory())
        let prepared: [PreparedScenario]
        switch runner.prepare(paths: paths.map { URL(fileURLWithPath: $0) }, filter: filter.map(ScenarioFilter.init)) {
        case .rejected(let errors):
            for error in errors { printError(error.description) }
            printError("mimic: \(errors.count) error(s); nothing was started")
            throw ExitCode(2)
        case .ready(let scenarios):
            prepared = scenarios
        }
        guard !prepared.isEmpty else {
            printError("mimic: no scenario selected")
            throw ExitCode(2)
        }

        // Catch the signals before anything listens, so that one arriving during start-up still stops cleanly.
        let signals = SignalWaiter([SIGINT, SIGTERM])
        let folder =
            caDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "mimic-serve-\(getpid())", isDirectory: true)
        let served: [ServedScenario]
        do {
            served = try await ScenarioServing.start(prepared, caDirectory: folder)
        } catch {
            printError("mimic: \(error)")
            throw ExitCode(1)
        }
        for scenario in served {
            print(scenario.description)
            print("")
        }
        print("Serving \(served.count) scenario(s); Ctrl-C (SIGINT) or SIGTERM stops.")
        fflush(nil)  // a pipe would otherwise hold the addresses back until exit

        let signal = await signals.wait()
        printError("mimic: signal \(signal), stopping \(served.count) mock(s)")
        await ScenarioServing.stop(served)
    }
}

/// Waits for the first of some signals, delivered through Dispatch (never in a signal handler's context).
final class SignalWaiter: @unchecked Sendable {
    // Touched only on `queue`: the sources, the continuation and what has arrived.
    private let queue = DispatchQueue(label: "mimic.signals")
    private var sources: [any DispatchSourceSignal] = []
    private var received: Int32?
    private var continuation: CheckedContinuation<Int32, Never>?

    init(_ signalNumbers: [Int32]) {
        queue.sync {
            for number in signalNumbers {
                // Ignored as a process signal, so only the dispatch source sees it and the default action (exit
                // without stopping the mocks) never runs.
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { [unowned self] in self.arrived(number) }
                source.resume()
                sources.append(source)
            }
        }
    }

    private func arrived(_ number: Int32) {
        guard received == nil else { return }
        received = number
        continuation?.resume(returning: number)
        continuation = nil
    }

    /// The first signal that arrived since `init`, waiting for it if none has.
    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            queue.async {
                if let received = self.received {
                    continuation.resume(returning: received)
                } else {
                    self.continuation = continuation
                }
            }
        }
    }
}
