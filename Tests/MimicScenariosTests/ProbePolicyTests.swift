import Foundation
import MimicTestSupport
import Testing

/// `mimic probe --policy` against a real mock: the leaf without authorityKeyIdentifier that ordinary clients accept
/// and OpenSSL's X509_STRICT refuses.
@Suite("mimic probe --policy")
struct ProbePolicyTests {
    static let scenario = Fixtures.repository.appendingPathComponent(
        "scenarios/https/implicit-strict-leaf-missing-aki.yaml"
    ).path

    @Test("default accepts, strict reports missingAKI through OpenSSL and nothing through GnuTLS")
    func policies() throws {
        let caDirectory = Scratch.folder("mimic-probe-policy-")
        defer { try? FileManager.default.removeItem(at: caDirectory) }
        let server = try BackgroundProcess(
            Fixtures.mimicExecutable.path, ["serve", Self.scenario, "--ca-dir", caDirectory.path])
        defer { _ = server.stop(with: SIGTERM, timeout: 10) }
        #expect(server.waitForOutput(containing: "Serving 1 scenario", timeout: 30), "\(server.output())")
        let stdout = server.output().stdout
        let address = try #require(stdout.split(separator: "\n").first { $0.contains("address") })
        let port = try #require(address.split(separator: ":").last.flatMap { Int($0) }, "\(address)")
        let caLine = try #require(stdout.split(separator: "\n").first { $0.contains("trust") })
        let caPath = String(caLine.split(separator: " ").last ?? "")

        func probe(_ extra: [String]) throws -> Subprocess.Result {
            try Subprocess.run(
                Fixtures.mimicExecutable.path,
                [
                    "probe", "https://127.0.0.1:\(port)", "--mode", "implicit", "--servername", "www.example.test",
                    "--ca-file", caPath, "--timeout", "10", "--format", "json",
                ] + extra,
                timeout: 60
            )
        }
        let lenient = try probe([])
        #expect(lenient.status == 0, "\(lenient.stdout)\(lenient.stderr)")
        let strict = try probe(["--policy", "strict"])
        #expect(strict.status == 2, "\(strict.stdout)\(strict.stderr)")
        #expect(strict.stdout.contains("missingAKI"))
        #expect(strict.stdout.contains("X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER"))
        let gnutls = try probe(["--policy", "strict", "--backend", "gnutls"])
        #expect(gnutls.status == 0, "\(gnutls.stdout)")
    }
}
