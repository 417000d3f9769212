import ArgumentParser
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
}

extension ScenarioShard: ExpressibleByArgument {
    public init?(argument: String) {
        guard let shard = try? ScenarioShard(parsing: argument) else { return nil }
        self = shard
    }
}
