import Foundation
import MimicTestSupport
import Testing

/// `mimic` installed and run away from this repository: with no `certs/` folder and no `$MIMIC_CERTS`, the scenario
/// commands use the built-in profiles and a CA made for the run, and write nothing where they are run.
@Suite("mimic outside a checkout")
struct OutsideCheckoutTests {
    static let scenario = Fixtures.repository.appendingPathComponent("scenarios/smtp/implicit-reversed-chain.yaml").path

    /// `mimic ARGS` run in `directory`, without `$MIMIC_CERTS`.
    static func mimic(in directory: String, _ arguments: [String], environment: [String] = []) throws
        -> Subprocess.Result
    {
        try Subprocess.run(
            "/usr/bin/env",
            ["-u", "MIMIC_CERTS"] + environment + [
                "/bin/sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", directory,
                Fixtures.mimicExecutable.path,
            ] + arguments,
            timeout: 120)
    }

    @Test("run and certs list work from a folder with no certs/, and leave it empty")
    func builtInProfiles() throws {
        let folder = try ChainScratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder.path) }

        let run = try Self.mimic(in: folder.path, ["run", Self.scenario])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("1 passed, 0 failed"), "\(run.stdout)")

        let list = try Self.mimic(in: folder.path, ["certs", "list"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("reversed-chain"), "\(list.stdout)")

        let ca = try Self.mimic(in: folder.path, ["certs", "ca"])
        #expect(ca.status == 0 && ca.stdout.contains("(in memory)"), "\(ca.stdout)\(ca.stderr)")

        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test("--certs-dir or MIMIC_CERTS naming a folder without profiles/: exit 2, the folder named")
    func namedFolderWithoutProfiles() throws {
        let folder = try ChainScratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder.path) }

        let given = try Self.mimic(in: folder.path, ["run", "--certs-dir", folder.path, Self.scenario])
        #expect(given.status == 2, "\(given.stderr)")
        #expect(given.stderr.contains("--certs-dir \(folder.path): no profiles/ folder"), "\(given.stderr)")

        let environment = try Self.mimic(
            in: folder.path, ["serve", Self.scenario], environment: ["MIMIC_CERTS=\(folder.path)"])
        #expect(environment.status == 2, "\(environment.stderr)")
        #expect(environment.stderr.contains("MIMIC_CERTS=\(folder.path): no profiles/ folder"), "\(environment.stderr)")
    }
}
