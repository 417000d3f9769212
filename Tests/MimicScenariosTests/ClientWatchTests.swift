import Foundation
import MimicCore
import MimicDialogs
import MimicNet
import MimicScenarios
import MimicTestSupport
import Testing

/// The mock watches the client: what a client did on each connection, turned into client findings and logged.
@Suite("client findings")
struct ClientWatchTests {
    static func observation(_ dialog: DialogObservation, handshake: Bool = false) -> ClientObservation {
        ClientObservation(
            sequence: 1, serviceProtocol: .smtp, mode: .startTLS, peerAddress: "127.0.0.1", started: Date(),
            ended: Date(), handshakeCompleted: handshake, dialog: dialog, closedBy: .client)
    }

    @Test("findings from what the dialog saw")
    func judge() {
        let fallback = Self.observation(
            DialogObservation(
                upgradeRefused: true, continuedInPlaintext: true, plaintextCommandsAfterRefusal: ["AUTH", "MAIL"],
                credentialsInClear: true, mailInClear: true))
        #expect(
            ClientFinding.judge([fallback], servername: "mail.example.test", badCertificate: false)
                == [.plaintextFallback, .credentialsInClear])
        let talkedOn = Self.observation(DialogObservation(commandsAfterTLS: ["EHLO", "MAIL"]), handshake: true)
        #expect(
            ClientFinding.judge([talkedOn], servername: "mail.example.test", badCertificate: true) == [
                .acceptedBadCertificate
            ])
        #expect(ClientFinding.judge([talkedOn], servername: "mail.example.test", badCertificate: false).isEmpty)
        let politeGoodbye = Self.observation(DialogObservation(commandsAfterTLS: ["QUIT"]), handshake: true)
        #expect(ClientFinding.judge([politeGoodbye], servername: "mail.example.test", badCertificate: true).isEmpty)
    }

    @Test(
        "graded: the opportunistic client logs in and sends mail in plaintext when STARTTLS is stripped, not when offered"
    )
    func opportunistic() throws {
        let files = ["smtp/starttls-good.yaml", "smtp/starttls-stripped.yaml"].map {
            Fixtures.repository.appendingPathComponent("scenarios/\($0)").path
        }
        let run = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            [
                "grade", "--no-html", "--monitor",
                Fixtures.repository.appendingPathComponent("monitors/python-opportunistic.yaml").path,
                "--format", "json",
            ] + files,
            timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let card = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        var findings: [String: [String]] = [:]
        for case let scenario as [String: Any] in card["scenarios"] as? [Any] ?? [] {
            findings[scenario["id"] as? String ?? ""] = scenario["client_findings"] as? [String] ?? []
        }
        #expect(findings["smtp::starttls::stripped"] == ["plaintextFallback", "credentialsInClear"], "\(findings)")
        #expect(findings["smtp::starttls::good"] == [], "\(findings)")
    }

    @Test("serve --log: a JSON line per connection, with the scenario, the SNI or its absence")
    func log() throws {
        let directory = try PrivateDirectory.make(prefix: "mimic-log-test-")
        defer { PrivateDirectory.remove(directory) }
        let log = directory.appendingPathComponent("connections.jsonl").path
        let scenario = Fixtures.repository.appendingPathComponent("scenarios/https/implicit-good.yaml").path
        let server = try BackgroundProcess(Fixtures.mimicExecutable.path, ["serve", scenario, "--log", log])
        #expect(server.waitForOutput(containing: "Serving 1 scenario", timeout: 60), "\(server.output())")
        let address = try #require(server.output().stdout.split(separator: "\n").first { $0.contains("address") })
        let port = try #require(
            address.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }.flatMap {
                Int($0.split(separator: ":")[1])
            })
        // One client without SNI (an IP target), one with.
        for extra in [[String](), ["-servername", "www.example.test"]] {
            let client = try Subprocess.run(
                "/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-brief"] + extra, timeout: 30)
            #expect(client.status == 0 || client.status == 1, "\(client.stderr)")
        }
        #expect(server.stop(with: SIGTERM, timeout: 10) == 0)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2, "\(lines)")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let names = objects.compactMap { ($0["connection"] as? [String: Any])?["server_name"] as? String }
        #expect(objects.allSatisfy { $0["scenario"] as? String == "https::implicit::good" })
        #expect(names == ["www.example.test"], "\(lines)")
        let attributes = try FileManager.default.attributesOfItem(atPath: log)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }
}
