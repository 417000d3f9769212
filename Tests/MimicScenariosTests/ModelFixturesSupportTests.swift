import Foundation

/// Paths to the test fixtures and the repository files the model tests read, found from this file's
/// location (no bundle resources: the fixtures stay plain files an editor can open).
enum ModelFixtures {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let valid = testsDirectory.appendingPathComponent("Fixtures/valid")
    static let malformed = testsDirectory.appendingPathComponent("Fixtures/malformed")
    static let repositoryRoot = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
    static let schema = repositoryRoot.appendingPathComponent("scenarios/schema.json")

    /// The profile names the fixtures may use, standing in for `certs/profiles`.
    static let profiles: Set<String> = [
        "good", "expired-leaf", "missing-intermediate", "wrong-host", "self-signed", "untrusted-root", "sha1-leaf",
        "rsa1024-leaf",
    ]

    static func malformedNames() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: malformed.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }
}
