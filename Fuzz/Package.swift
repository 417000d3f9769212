// swift-tools-version: 6.0
// libFuzzer targets for every parser that reads peer or user bytes. A package of its own, so that the main package's
// build and tests never see the sanitizer flags: `make fuzz-build` builds these products optimised with
// `-sanitize=fuzzer,address` into Fuzz/.build/release, and `make fuzz` runs them (Fuzz/run.sh). Each target's
// main.swift is a `fuzzMain { input in … }` (FuzzSupport).
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which differs between clones (main, a worktree, CI's folder).
let mimic = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent()
let mimicIdentity = mimic.lastPathComponent

/// The parsers, one libFuzzer target each, and the main package's products each one needs.
let targets: [(name: String, uses: [String])] = [
    ("FuzzClientDialog", ["MimicDialogs"]),
    ("FuzzServerDialog", ["MimicDialogs"]),
    ("FuzzHTTP", ["MimicDialogs"]),
    ("FuzzLineReader", ["MimicDialogs"]),
    ("FuzzBER", ["MimicDialogs"]),
    ("FuzzLDAPMessage", ["MimicDialogs"]),
    ("FuzzFTPPassive", ["MimicDialogs"]),
    ("FuzzClientHello", ["MimicTLS"]),
    ("FuzzServerHello", ["MimicTLS"]),
    ("FuzzScenarioLoader", ["MimicScenarios"]),
    ("FuzzChainSpec", ["MimicCerts"]),
    ("FuzzPEM", ["MimicCerts"]),
    ("FuzzCertificateFacts", ["MimicCerts"]),
]

let package = Package(
    name: "MimicFuzz",
    platforms: [.macOS(.v15)],
    products: targets.map { .executable(name: $0.name, targets: [$0.name]) },
    dependencies: [.package(path: mimic.path)],
    targets: [.target(name: "FuzzSupport")]
        + targets.map { target in
            .executableTarget(
                name: target.name,
                dependencies: ["FuzzSupport"] + target.uses.map { .product(name: $0, package: mimicIdentity) }
            )
        },
    swiftLanguageModes: [.v6]
)
