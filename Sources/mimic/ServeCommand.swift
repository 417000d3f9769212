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
            ephemeral port; with --port-base, a fixed port per scenario id). For each one Mimic prints the address \
            and URL, protocol and mode, the verdict the probe reaches, what a monitor must report, and the CA file \
            to trust: one file for every scenario served. --manifest writes all of it as JSON \
            (monitors/manifest.schema.json).

            The zoo's files (ca.pem, hosts, manifest.json) go to a new private folder (0700) that is removed on a \
            clean stop, or to --ca-dir, which must be a directory only you can write to.

            Exit codes: 0 stopped by a signal, 1 a mock could not start (a port taken), 2 bad input.
            """
    )

    @OptionGroup var home: CertsHome

    @OptionGroup var selection: ScenarioSelection

    @Argument(help: "Scenario files or folders.")
    var paths: [String]

    @OptionGroup var ports: PortBase

    @Option(name: .long, help: "Write the zoo's manifest (JSON) to this file; - for standard output.")
    var manifest: String?

    @Option(
        name: .customLong("hosts-file"),
        help: "Write hosts lines (127.0.0.1 mail.example.test ...) for the scenarios' server names to this file.")
    var hostsFile: String?

    @Option(name: .long, help: "Log what each client did on each connection to this file, as JSON lines.")
    var log: String?

    @Option(
        name: .customLong("ca-dir"),
        help: "Where the zoo's files go (default: a new private folder under the temporary directory).")
    var caDirectory: String?

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one scenario file") }
    }

    func run() async throws {
        let prepared = try selection.prepare(
            paths, with: ScenarioRunner(factory: try home.factory(exitingWith: ExitCode(2))),
            nothingDone: "nothing was started")

        // Catch the signals before anything listens, so that one arriving during start-up still stops cleanly.
        let signals = SignalWaiter([SIGINT, SIGTERM])
        var observations: ObservationLog?
        if let log {
            let descriptor = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard descriptor >= 0 else {
                printError("mimic: cannot write \(log): \(String(cString: strerror(errno)))")
                throw ExitCode(2)
            }
            observations = ObservationLog(file: FileHandle(fileDescriptor: descriptor, closeOnDealloc: true))
        }
        let zoo: Zoo
        do {
            zoo = try await Zoo.start(
                prepared, portBase: ports.portBase, directory: caDirectory.map { URL(fileURLWithPath: $0) },
                observations: observations)
        } catch {
            printError("mimic: \(error)")
            if case .usage = error { throw ExitCode(2) }
            throw ExitCode(1)
        }
        do {
            if let hostsFile {
                try PrivateDirectory.write(ScenarioServing.hostsLines(zoo.served), to: URL(fileURLWithPath: hostsFile))
            }
            if let manifest, manifest != "-" {
                try PrivateDirectory.write(zoo.manifest.json() + "\n", to: URL(fileURLWithPath: manifest))
            }
        } catch {
            printError("mimic: \(error)")
            await zoo.stop()
            throw ExitCode(2)
        }
        if manifest == "-" {
            print(zoo.manifest.json())
        } else {
            for scenario in zoo.served {
                print(scenario.description)
                print("")
            }
            print(
                "Serving \(zoo.served.count) scenario(s); trust \(zoo.caFile.path); Ctrl-C (SIGINT) or SIGTERM stops.")
        }
        fflush(nil)  // a pipe would otherwise hold the addresses back until exit

        let signal = await signals.wait()
        printError("mimic: signal \(signal), stopping \(zoo.served.count) mock(s)")
        await zoo.stop()
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
