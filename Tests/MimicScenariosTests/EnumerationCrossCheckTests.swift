import Dispatch
import Foundation
import MimicCore
import MimicNet
import MimicScenarios
import MimicTLS
import MimicTestSupport
import Testing

/// `mimic probe --enumerate` against the real command-line clients: for a scenario's mock, every version and every
/// suite the enumeration tried is offered again, alone, by `openssl s_client` and by `gnutls-cli --priority`, and
/// each client must be accepted exactly where the enumeration says the server accepts.
@Suite("Enumeration cross-checked with openssl s_client and gnutls-cli", .timeLimit(.minutes(10)))
struct EnumerationCrossCheckTests {
    static let scenarios = [
        // GnuTLS mock, server order, 3DES after AES: only GnuTLS can offer 3DES.
        "cross::smtp::starttls::enum-3des-after-aes",
        // OpenSSL mock, TLS 1.2 with static RSA only.
        "cross::imap::implicit::enum-rsa-kx-only",
        // OpenSSL mock accepting TLS 1.0 to 1.3.
        "cross::pop3::starttls::enum-tls10-prefers-13",
    ]

    @Test(
        "each version and suite: the real client is accepted exactly where the enumeration says", arguments: scenarios)
    func crossCheck(id: String) async throws {
        let runner = ScenarioRunner(factory: Fixtures.factory)
        guard
            case .ready(let prepared) = runner.prepare(
                paths: [Fixtures.repository.appendingPathComponent("scenarios")], filter: ScenarioFilter(id)),
            let scenario = prepared.first
        else {
            Issue.record("scenario \(id) did not load")
            return
        }
        let mock = try await MockServer.start(scenario.configuration)
        let target = scenario.target(host: "127.0.0.1", port: mock.port)
        let result = await Enumerator(concurrency: 4).enumerate(
            target, options: scenario.probeOptions(defaultTimeout: .seconds(10)))
        #expect(result.complete, "\(result.notes)")
        #expect(result.connections > 10)

        let port = mock.port
        let serviceProtocol = scenario.scenario.server.serviceProtocol
        let mode = scenario.scenario.server.mode
        for report in result.reports {
            #expect(!report.versions.isEmpty)
            for version in report.versions {
                let accepted = try await Self.offPool {
                    try Self.client(
                        report.backend, serviceProtocol, mode, port: port, version: version.version, suite: nil)
                }
                #expect(
                    accepted == version.accepted,
                    "\(id) \(report.backend) \(version.version.displayName): client \(accepted), enumeration \(version.accepted)"
                )
                for suite in version.suites {
                    guard
                        let candidate = TLSBackends.offerableSuites(report.backend).first(where: {
                            $0.codeText == suite.code
                        })
                    else {
                        Issue.record("\(suite.code) is no \(report.backend) suite")
                        continue
                    }
                    let accepted = try await Self.offPool {
                        try Self.client(
                            report.backend, serviceProtocol, mode, port: port, version: version.version,
                            suite: candidate)
                    }
                    #expect(
                        accepted == suite.accepted,
                        "\(id) \(report.backend) \(version.version.displayName) \(candidate.libraryName): client \(accepted), enumeration \(suite.accepted)"
                    )
                }
            }
        }
        await mock.stop()
    }

    /// The findings each scenario is about, from the enumeration alone.
    @Test("findings from the enumeration")
    func findings() async throws {
        let runner = ScenarioRunner(factory: Fixtures.factory)
        guard
            case .ready(let prepared) = runner.prepare(
                paths: [Fixtures.repository.appendingPathComponent("scenarios")], filter: ScenarioFilter("*::enum-*"))
        else {
            Issue.record("the enumeration scenarios did not load")
            return
        }
        let wanted: [String: (openssl: Set<FindingCode>, gnutls: Set<FindingCode>)] = [
            "cross::smtp::starttls::enum-3des-after-aes": ([], [.weakCipher]),
            "cross::imap::implicit::enum-rsa-kx-only": ([.noForwardSecrecy], [.noForwardSecrecy]),
            "cross::pop3::starttls::enum-tls10-prefers-13": ([.legacyVersion], [.legacyVersion]),
        ]
        for scenario in prepared where wanted[scenario.scenario.id] != nil {
            let mock = try await MockServer.start(scenario.configuration)
            let result = await Enumerator(concurrency: 4).enumerate(
                scenario.target(host: "127.0.0.1", port: mock.port),
                options: scenario.probeOptions(defaultTimeout: .seconds(10)))
            await mock.stop()
            let expected = wanted[scenario.scenario.id]!
            #expect(Set(result.report(for: .openssl)?.findings.map(\.code) ?? []) == expected.openssl)
            #expect(Set(result.report(for: .gnutls)?.findings.map(\.code) ?? []) == expected.gnutls)
            if scenario.scenario.id.contains("3des") {
                // Server order: the GnuTLS mock has %SERVER_PRECEDENCE; OpenSSL cannot offer what tells it apart
                // from 3DES, but it can tell AES suites apart.
                #expect(result.report(for: .gnutls)?.serverOrder == true)
                #expect(
                    result.disagreements.contains { $0.contains("3DES") && $0.contains("only GnuTLS can offer it") })
                let tls12 = result.report(for: .openssl)?.versions.first { $0.version == .tls1_2 }
                #expect(tls12?.acceptedSuites.contains { $0.name.contains("3DES") } == false)
            }
            if scenario.scenario.id.contains("tls10") {
                #expect(result.report(for: .openssl)?.acceptedVersions == MimicTLSVersion.allCases)
                #expect(result.report(for: .gnutls)?.acceptedVersions == MimicTLSVersion.allCases)
            }
        }
    }

    /// A mock that refuses after three connections: the enumeration ends, says why, and keeps what it found.
    @Test("a server that stops answering ends the enumeration with a note, not a hang")
    func stopsEarly() async throws {
        let runner = ScenarioRunner(factory: Fixtures.factory)
        guard
            case .ready(let prepared) = runner.prepare(
                paths: [Fixtures.repository.appendingPathComponent("scenarios")],
                filter: ScenarioFilter("cross::smtp::starttls::enum-close-after-3")),
            let scenario = prepared.first
        else {
            Issue.record("scenario did not load")
            return
        }
        let mock = try await MockServer.start(scenario.configuration)
        let result = await Enumerator(concurrency: 1).enumerate(
            scenario.target(host: "127.0.0.1", port: mock.port),
            options: scenario.probeOptions(defaultTimeout: .seconds(10)))
        await mock.stop()
        #expect(!result.complete)
        // Concurrency 1: three answered connections, the fourth refused, nothing after it.
        #expect(result.connections == 4)
        #expect(result.notes.first?.contains("stopped answering after 4 connection(s)") == true, "\(result.notes)")
        let answered = result.reports.flatMap(\.versions)
        #expect(answered.count == 3, "\(answered.map(\.version))")
        for report in result.reports {
            let stop = report.findings.first { $0.phase == .enumeration && $0.severity == .unknown }
            #expect(stop?.code == .greetingRejected, "\(report.findings)")
        }
    }

    /// Every enumerating scenario of the library reaches its expected verdict through both backends (the library
    /// test leaves them out: a hundred connections each do not fit its one-minute limit beside the other tests).
    @Test("the enumerating scenarios of the library", .timeLimit(.minutes(5)))
    func enumeratingScenarios() async throws {
        let runner = ScenarioRunner(factory: Fixtures.factory, timeScale: 3)
        guard
            case .ready(let everything) = runner.prepare(
                paths: [Fixtures.repository.appendingPathComponent("scenarios")])
        else {
            Issue.record("the library does not prepare")
            return
        }
        let prepared = everything.filter { $0.scenario.probe.enumerate }
        #expect(prepared.count >= 30)
        let run = await runner.run(prepared)
        #expect(run.outcomes.count == prepared.count)
        for outcome in run.outcomes {
            let detail = outcome.error ?? outcome.backends.map(\.summary).joined(separator: "; ")
            #expect(outcome.passed, "\(outcome.id): \(detail)")
        }
    }

    /// Whether the real client completes a handshake offering only `suite` (or everything) at `version`.
    static func client(
        _ backend: TLSBackend, _ serviceProtocol: ServiceProtocol, _ mode: TLSMode, port: Int, version: MimicTLSVersion,
        suite: TLSSuiteCandidate?
    ) throws -> Bool {
        let starttls = mode == .startTLS
        switch backend {
        case .openssl:
            var arguments = ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "mail.example.test", "-brief"]
            if starttls { arguments += ["-starttls", serviceProtocol.rawValue] }
            let flag =
                switch version {
                case .tls1_0: "-tls1"
                case .tls1_1: "-tls1_1"
                case .tls1_2: "-tls1_2"
                case .tls1_3: "-tls1_3"
                }
            arguments.append(flag)
            if let suite, version == .tls1_3 {
                arguments += ["-ciphersuites", suite.libraryName]
            } else {
                arguments += ["-cipher", (suite?.libraryName ?? "ALL:COMPLEMENTOFALL") + ":@SECLEVEL=0"]
            }
            let run = try Subprocess.run("/usr/bin/openssl", arguments, timeout: 20)
            #expect(!run.timedOut)
            // -brief prints the negotiated protocol once the handshake completed.
            // OpenSSL names TLS 1.0 `TLSv1`.
            let name = version == .tls1_0 ? "TLSv1\n" : version.displayName
            return run.status == 0 && (run.stderr + run.stdout).contains("Protocol version: \(name)")
        case .gnutls:
            let priority: String
            if let suite {
                var parts = ["NONE", "+VERS-TLS\(version.rawValue)"] + suite.offer.map { "+" + $0 }
                if version == .tls1_3 { parts += ["+ECDHE-RSA", "+ECDHE-ECDSA", "+DHE-RSA"] }
                parts += ["+SIGN-ALL", "+GROUP-ALL", "+CTYPE-X509", "+COMP-NULL", "%COMPAT"]
                priority = parts.joined(separator: ":")
            } else if version == .tls1_3 {
                priority = "NORMAL:-VERS-ALL:+VERS-TLS1.3"
            } else {
                priority =
                    "NORMAL:%COMPAT:-VERS-ALL:+VERS-TLS\(version.rawValue):+3DES-CBC:+ARCFOUR-128:+SHA1:+MD5:+RSA"
            }
            var arguments = [
                "--insecure", "--priority", priority, "--port", "\(port)", "--sni-hostname", "mail.example.test",
            ]
            if starttls { arguments.append("--starttls-proto=\(serviceProtocol.rawValue)") }
            arguments.append("127.0.0.1")
            let run = try Subprocess.run("/usr/bin/gnutls-cli", arguments, timeout: 20)
            #expect(!run.timedOut)
            return run.status == 0 && run.stdout.contains("Handshake was completed")
                && run.stdout.contains("(TLS\(version.rawValue)")
        }
    }

    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
