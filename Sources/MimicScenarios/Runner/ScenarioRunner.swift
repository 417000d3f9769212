import Foundation
import MimicCerts
import MimicCore
import MimicNet
import NIOCore
import NIOPosix

/// A mock server as the runner sees it: where it listens, and how to stop it. `MockServer` is one; tests can
/// count starts with their own.
public protocol RunningMock: Sendable {
    var host: String { get }
    var port: Int { get }
    func stop() async
}

extension MockServer: RunningMock {}

/// Turns scenario files into mock servers, probes each through the scenario's backends, and compares what the
/// probes found with what the scenario expects.
///
/// A run has three steps, and input errors stop it before anything listens:
/// 1. `load(paths:filter:)` — every file parsed and checked (`file:line:column` errors);
/// 2. `prepare(_:)` — every chain minted once, every mock configuration built (inline chain errors, `serve`
///    names the chain lacks, profiles that cannot be minted);
/// 3. `run(_:progress:)` — at most `concurrency` scenarios at once: start the mock on an ephemeral port, probe
///    it, stop it, compare.
public struct ScenarioRunner: Sendable {
    /// Starts a mock for a configuration, on the event loop given.
    public typealias MockStarter = @Sendable (MockServerConfiguration, any EventLoop) async throws -> any RunningMock
    /// Called as each scenario finishes: its outcome, how many have finished, how many there are.
    public typealias Progress = @Sendable (_ outcome: ScenarioOutcome, _ completed: Int, _ total: Int) -> Void

    /// What loading and preparing gave: the scenarios ready to run, or every input error.
    public enum Preparation: Sendable {
        case ready([PreparedScenario])
        case rejected([ScenarioError])
    }

    public var factory: CertificateFactory
    /// Scenarios run at once (each is one mock and one probe connection per backend).
    public var concurrency: Int
    /// The probe's per-phase timeout when a scenario sets none: short, so that stalls end a run quickly.
    public var defaultTimeout: Duration
    /// Multiplies every duration of a scenario — the probe's timeouts, greeting delays, latencies, trickle
    /// intervals — so that their proportions, and so every verdict, stay the same: a machine busy with other work
    /// (a test suite running beside the library) is given more time without turning races into results.
    public var timeScale: Double
    private let group: any EventLoopGroup
    private let startMock: MockStarter

    /// - Parameters:
    ///   - factory: mints the chains; its profiles folder gives the known profile names.
    ///   - startMock: how a mock starts (default: `MockServer.start` on `group`).
    public init(
        factory: CertificateFactory,
        concurrency: Int = 8,
        defaultTimeout: Duration = .seconds(3),
        timeScale: Double = 1,
        group: any EventLoopGroup = MimicEventLoops.shared,
        startMock: MockStarter? = nil
    ) {
        self.factory = factory
        self.concurrency = max(1, concurrency)
        self.defaultTimeout = defaultTimeout
        self.timeScale = max(timeScale, 0.1)
        self.group = group
        self.startMock = startMock ?? { configuration, loop in try await MockServer.start(configuration, group: loop) }
    }

    // MARK: - Load and prepare

    /// Loads every scenario under `paths` (files and directories), checking profile names against the factory's
    /// profiles, and keeps those whose id `filter` matches.
    public func load(paths: [URL], filter: ScenarioFilter? = nil) -> (scenarios: [Scenario], errors: [ScenarioError]) {
        let known: Set<String>
        do {
            known = Set(try factory.profileNames())
        } catch {
            let location = SourceLocation(file: factory.profilesDirectory.path, line: 1, column: 1)
            return (
                [], [ScenarioError(location: location, path: "", message: "cannot list the chain profiles: \(error)")]
            )
        }
        var (scenarios, errors) = ScenarioLoader(knownProfiles: known).load(paths: paths)
        if let filter { scenarios = scenarios.filter { filter.matches($0.id) } }
        return (scenarios, errors)
    }

    /// Mints every chain the scenarios need (each once) and builds their mock configurations.
    public func prepare(_ scenarios: [Scenario]) -> (prepared: [PreparedScenario], errors: [ScenarioError]) {
        ScenarioPreparation(factory: factory).prepare(scenarios)
    }

    /// Loads and prepares; any error anywhere rejects the whole input, so nothing starts on bad input.
    public func prepare(paths: [URL], filter: ScenarioFilter? = nil) -> Preparation {
        let (scenarios, loadErrors) = load(paths: paths, filter: filter)
        // The files that loaded are prepared too (minting listens on nothing), so one pass shows every error.
        let (prepared, prepareErrors) = prepare(scenarios)
        let errors = loadErrors + prepareErrors
        guard errors.isEmpty else { return .rejected(errors) }
        return .ready(prepared)
    }

    // MARK: - Run

    /// What `run(paths:filter:progress:)` gave: the run, or the input errors that stopped it before any mock
    /// started.
    public enum Result: Sendable {
        case ran(ScenarioRun)
        case rejected([ScenarioError])

        /// `mimic run`'s exit code: 0 all as expected, 1 any mismatch, 2 bad input.
        public var exitCode: Int32 {
            switch self {
            case .ran(let run): run.exitCode
            case .rejected: 2
            }
        }
    }

    /// Loads, prepares and runs; on any input error nothing starts and every error comes back.
    public func run(paths: [URL], filter: ScenarioFilter? = nil, progress: Progress? = nil) async -> Result {
        switch prepare(paths: paths, filter: filter) {
        case .rejected(let errors): .rejected(errors)
        case .ready(let prepared): .ran(await run(prepared, progress: progress))
        }
    }

    /// Runs prepared scenarios, at most `concurrency` at a time; outcomes come back in the order given.
    ///
    /// Scenarios that enumerate (`probe.enumerate`, a hundred connections each) run after all the others, at most
    /// `enumerateScenarios` at once: beside them, the scenarios whose verdict rests on timing (a trickled
    /// injection, a greeting delay) would be read on a starved machine.
    public func run(_ scenarios: [PreparedScenario], progress: Progress? = nil) async -> ScenarioRun {
        let started = ContinuousClock.now
        let total = scenarios.count
        var outcomes = [ScenarioOutcome?](repeating: nil, count: total)
        var completed = 0
        let quick = scenarios.indices.filter { !scenarios[$0].scenario.probe.enumerate }
        let enumerating = scenarios.indices.filter { scenarios[$0].scenario.probe.enumerate }
        for (indices, limit) in [(quick, concurrency), (enumerating, min(concurrency, Self.enumerateScenarios))] {
            await withTaskGroup(of: (Int, ScenarioOutcome).self) { tasks in
                var next = 0
                func launch() {
                    guard next < indices.count else { return }
                    let index = indices[next]
                    next += 1
                    tasks.addTask { (index, await self.run(scenarios[index])) }
                }
                for _ in 0..<max(1, limit) { launch() }
                for await (index, outcome) in tasks {
                    outcomes[index] = outcome
                    completed += 1
                    progress?(outcome, completed, total)
                    launch()
                }
            }
        }
        return ScenarioRun(
            outcomes: outcomes.compactMap { $0 }, milliseconds: (ContinuousClock.now - started).milliseconds)
    }

    /// Enumeration connections at once for a scenario with `probe.enumerate` (the CLI's default).
    static let enumerateConcurrency = 4
    /// Enumerating scenarios at once (see `run(_:progress:)`).
    static let enumerateScenarios = 4

    /// One scenario: start its mock on an ephemeral port, probe it through each backend, stop it, compare.
    public func run(_ prepared: PreparedScenario) async -> ScenarioOutcome {
        let scenario = prepared.scenario
        let started = ContinuousClock.now
        func finished(_ backends: [BackendOutcome], error: String? = nil) -> ScenarioOutcome {
            ScenarioOutcome(
                scenario: scenario, backends: backends, error: error,
                milliseconds: (ContinuousClock.now - started).milliseconds)
        }
        var configuration = prepared.configuration.scaled(by: timeScale)
        // Concurrent scenarios never fight over a fixed port; `mimic serve` is where a scenario's port applies.
        configuration.port = 0
        // The mock and the probe share one event loop: a busy machine then delays the server's actions and the
        // probe's deadlines alike, in their order, instead of one loop's timer overtaking the other loop's reply.
        let loop = group.next()
        let mock: any RunningMock
        do {
            mock = try await startMock(configuration, loop)
        } catch {
            return finished([], error: "the mock server did not start: \(error)")
        }
        let target = prepared.target(host: Self.connectHost(for: mock.host), port: mock.port)
        let options = prepared.probeOptions(defaultTimeout: defaultTimeout, scale: timeScale)
        var reports = await Prober(group: loop).probe(target, options: options)
        if scenario.probe.enumerate {
            // After the probes, on the same loop, so that a scenario that counts connections counts them in order.
            let enumeration = await Enumerator(prober: Prober(group: loop), concurrency: Self.enumerateConcurrency)
                .enumerate(target, options: options)
            for index in reports.indices { reports[index].add(enumeration) }
        }
        await mock.stop()
        return finished(reports.map { BackendOutcome.compare($0, with: scenario.expect) })
    }

    /// Where to connect to a mock bound at `host`: a wildcard address is reached through loopback.
    static func connectHost(for host: String) -> String {
        switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::": "::1"
        default: host
        }
    }
}

extension Duration {
    var milliseconds: Double { seconds * 1000 }
}

extension MockServerConfiguration {
    /// The same server with every delay it makes multiplied by `factor` (see `ScenarioRunner.timeScale`).
    func scaled(by factor: Double) -> MockServerConfiguration {
        guard factor != 1 else { return self }
        var scaled = self
        scaled.dialog.greetingDelay = dialog.greetingDelay * factor
        scaled.faults = faults.map { fault in
            var fault = fault
            switch fault.kind {
            case .latency(let milliseconds):
                fault.kind = .latency(milliseconds: Int(Double(milliseconds) * factor))
            case .trickle(let bytes, let interval):
                fault.kind = .trickle(bytes: bytes, intervalMilliseconds: Int(Double(interval) * factor))
            default:
                break
            }
            return fault
        }
        return scaled
    }
}
