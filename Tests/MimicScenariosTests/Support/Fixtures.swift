import Foundation
import MimicCerts
import MimicTestSupport

/// Paths the tests share: the repository, its profiles, and one certificate home per machine so that keys are
/// generated once (the repository's own certs/local is never touched by tests).
enum Fixtures {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let profiles = repository.appendingPathComponent("certs/profiles")
    static let certsHome = Scratch.cache("mimic-scenarios-tests-home")
    static let factory = CertificateFactory(home: certsHome, profiles: profiles)

    /// The `mimic` executable of this build (`swift build --build-tests` builds it beside the tests).
    static var mimicExecutable: URL {
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("mimic")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return repository.appendingPathComponent(".build/debug/mimic")
    }
}
