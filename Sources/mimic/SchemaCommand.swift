import ArgumentParser
import MimicScenarios

/// `mimic schema`: the scenario format's JSON Schema, generated from the key declarations.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of scenario files (scenarios/schema.json is this output).",
        discussion: "make schema writes it to scenarios/schema.json; a test fails when that file is stale."
    )

    func run() throws {
        print(ScenarioSchema.json, terminator: "")
    }
}
