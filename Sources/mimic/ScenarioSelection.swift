import ArgumentParser
import Foundation
import MimicScenarios

/// Which scenarios a command takes: `run`, `serve` and `grade` share these.
struct ScenarioSelection: ParsableArguments {
    @Option(name: .long, help: "Only scenarios whose id contains this text, or matches this glob (smtp::*::expired-*).")
    var filter: String?

    @Option(name: .long, help: "Only shard K of N (K/N, 1-based), split stably by scenario id, for a CI matrix.")
    var shard: ScenarioShard?

    var scenarioFilter: ScenarioFilter? { filter.map(ScenarioFilter.init) }

    /// The prepared scenarios of this shard (all without --shard).
    func select(_ prepared: [PreparedScenario]) -> [PreparedScenario] {
        shard.map { $0.select(prepared, id: \.scenario.id) } ?? prepared
    }

    /// The scenarios at `paths` (default: scenarios/), checked and minted by `runner`, then selected: on any bad
    /// file every error is printed, then the count and `nothingDone`, and nothing is returned (exit 2); likewise
    /// when no scenario is selected.
    func prepare(_ paths: [String], with runner: ScenarioRunner, nothingDone: String) throws -> [PreparedScenario] {
        let urls = (paths.isEmpty ? ["scenarios"] : paths).map { URL(fileURLWithPath: $0) }
        switch runner.prepare(paths: urls, filter: scenarioFilter) {
        case .rejected(let errors):
            for error in errors { printError(error.description) }
            printError("mimic: \(errors.count) error(s); \(nothingDone)")
            throw ExitCode(2)
        case .ready(let prepared):
            let selected = select(prepared)
            guard !selected.isEmpty else {
                printError("mimic: no scenario selected" + (filter.map { " (filter '\($0)')" } ?? ""))
                throw ExitCode(2)
            }
            return selected
        }
    }
}

extension ScenarioShard: ExpressibleByArgument {
    public init?(argument: String) {
        guard let shard = try? ScenarioShard(parsing: argument) else { return nil }
        self = shard
    }
}
