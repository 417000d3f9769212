import Foundation
import MimicTestSupport
import Testing

/// Every malformed scenario in the corpus, through the built executable: a clear file:line:column error on
/// stderr, exit 2, and no server started (a server would print its address on stdout).
@Suite("mimic run on malformed scenarios")
struct MalformedCommandTests {
    static let corpus = Fixtures.repository.appendingPathComponent("Tests/MimicScenariosTests/Fixtures/malformed")
    static let files: [String] =
        (try? FileManager.default.contentsOfDirectory(atPath: corpus.path))?
        .filter { $0.hasSuffix(".yaml") }.sorted() ?? []

    @Test("the corpus is large enough to mean something")
    func size() {
        #expect(Self.files.count >= 30)
    }

    @Test("file:line error, exit 2, nothing started", arguments: files)
    func malformed(file: String) throws {
        let path = Self.corpus.appendingPathComponent(file).path
        // Beside the valid fixtures, as in a real library: one bad file stops the whole run before it starts,
        // and a duplicate id is only a duplicate next to the file it repeats.
        let valid = Fixtures.repository.appendingPathComponent("Tests/MimicScenariosTests/Fixtures/valid").path
        let run = try Subprocess.run(Fixtures.mimicExecutable.path, ["run", valid, path], timeout: 30)
        #expect(run.status == 2, "\(file): exit \(run.status)\n\(run.stderr)")
        #expect(run.stderr.contains("\(file):"), "\(file): \(run.stderr)")
        let located = run.stderr.split(separator: "\n").contains { line in
            // path:line:column: field: message
            let parts = line.split(separator: ":", maxSplits: 3)
            return parts.count == 4 && Int(parts[1]) != nil && Int(parts[2]) != nil
        }
        #expect(located, "\(file): no file:line:column in \(run.stderr)")
        #expect(!run.stdout.contains("127.0.0.1"), "\(file): something was started: \(run.stdout)")
        #expect(!run.stderr.contains("Fatal error"))
    }
}
