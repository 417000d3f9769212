import Foundation
import MimicCore
import MimicNet
import MimicTestSupport
import Testing

/// `mimic serve` as a monitor's author uses it: it prints where each mock listens and what to trust, the mocks
/// answer, and SIGINT or SIGTERM stops everything cleanly with exit 0.
@Suite("mimic serve")
struct ServeCommandTests {
    static let scenario = Fixtures.repository.appendingPathComponent("scenarios/imap/starttls-wildcard-good.yaml").path

    @Test(
        "prints address and CA, serves a probe that trusts that CA, stops on the signal", arguments: [SIGTERM, SIGINT])
    func serve(signal: Int32) async throws {
        let caDirectory = Scratch.folder("mimic-serve-test-")
        defer { try? FileManager.default.removeItem(at: caDirectory) }
        let server = try BackgroundProcess(
            Fixtures.mimicExecutable.path, ["serve", Self.scenario, "--ca-dir", caDirectory.path])
        #expect(server.waitForOutput(containing: "Serving 1 scenario", timeout: 30), "\(server.output())")
        let stdout = server.output().stdout
        let address = try #require(stdout.split(separator: "\n").first { $0.contains("address") })
        let port = try #require(address.split(separator: ":").last.flatMap { Int($0) }, "\(address)")
        let caLine = try #require(stdout.split(separator: "\n").first { $0.contains("trust") })
        let caPath = String(caLine.split(separator: " ").last ?? "")
        let anchors = try PEMFileForTest.certificates(caPath)

        let target = ProbeTarget(
            host: "127.0.0.1", port: port, serviceProtocol: .imap, mode: .startTLS, serverName: "mail.example.test")
        let reports = await Prober().probe(target, options: ProbeOptions(trustAnchors: anchors))
        for report in reports {
            #expect(report.findings.isEmpty, "\(report.backend): \(report.findings)")
        }

        let status = server.stop(with: signal, timeout: 10)
        #expect(status == 0, "exit \(String(describing: status)): \(server.output())")
    }
}

/// Reads a PEM file the way a monitor would (certificates only).
enum PEMFileForTest {
    static func certificates(_ path: String) throws -> [[UInt8]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var result: [[UInt8]] = []
        var body = ""
        var inside = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("-----BEGIN CERTIFICATE") { inside = true; body = ""; continue }
            if line.hasPrefix("-----END CERTIFICATE") {
                inside = false
                if let data = Data(base64Encoded: body) { result.append([UInt8](data)) }
                continue
            }
            if inside { body += line.trimmingCharacters(in: .whitespaces) }
        }
        return result
    }
}
