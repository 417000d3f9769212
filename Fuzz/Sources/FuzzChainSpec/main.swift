import FuzzSupport
import MimicCerts

// The chain-spec reader fed arbitrary YAML text, as a bare chain spec (a scenario's inline chain) and as a certificate
// profile (`certs/profiles/*.yaml`).
fuzzMain { input in
    let text = input.text
    _ = try? ChainSpec.parse(yaml: text, file: "fuzz.yaml")
    _ = try? ChainProfile.parse(yaml: text, name: "fuzz", file: "fuzz.yaml")
}
