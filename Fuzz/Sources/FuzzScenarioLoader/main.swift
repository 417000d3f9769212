import FuzzSupport
import MimicScenarios

// The YAML scenario loader (Yams' parser under a node budget, then the decoder and validator) fed arbitrary text.
let loader = ScenarioLoader()
fuzzMain { input in
    do throws(ScenarioError) {
        _ = try loader.load(yaml: input.text, file: "fuzz.yaml")
    } catch {
        _ = error.description
    }
}
