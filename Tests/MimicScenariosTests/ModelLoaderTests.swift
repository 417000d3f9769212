import Foundation
import MimicCore
import MimicNet
import MimicTLS
import MimicTestSupport
import Testing
import Yams

@testable import MimicScenarios

@Suite("Scenario loader: valid files")
struct ModelLoaderTests {
    let loader = ScenarioLoader(knownProfiles: ModelFixtures.profiles)

    func loadValid() throws -> [String: Scenario] {
        let (scenarios, errors) = loader.load(paths: [ModelFixtures.valid])
        #expect(errors.isEmpty, "\(errors)")
        return Dictionary(uniqueKeysWithValues: scenarios.map { ($0.id, $0) })
    }

    func one(_ file: String) throws -> Scenario {
        let scenarios = try loader.load(file: ModelFixtures.valid.appendingPathComponent(file))
        try #require(scenarios.count == 1)
        return scenarios[0]
    }

    @Test("every valid fixture loads, in sorted file order, matrix cells in matrix order")
    func allValid() throws {
        let (scenarios, errors) = loader.load(paths: [ModelFixtures.valid])
        #expect(errors.isEmpty, "\(errors)")
        #expect(scenarios.count == 7 + 6)
        let files = scenarios.map { URL(fileURLWithPath: $0.source.file).lastPathComponent }
        #expect(files == files.sorted())
        // Twice gives the same answer: reports and JUnit output must not reorder between runs.
        #expect(loader.load(paths: [ModelFixtures.valid]).scenarios == scenarios)
    }

    @Test("the architecture sketch decodes into the typed model")
    func sketch() throws {
        let s = try one("smtp-starttls-expired-leaf.yaml")
        #expect(s.id == "smtp::starttls::expired-leaf")
        #expect(s.summary == "Submission port, STARTTLS, leaf expired three days ago")
        #expect(s.tags == ["certificate", "expiry"])
        #expect(s.fieldFailure == "catalogue#1")
        #expect(s.server == ServerSpec(serviceProtocol: .smtp, mode: .startTLS, backend: .openssl, port: 2587))
        #expect(s.server.address == "127.0.0.1")
        let pki = try #require(s.pki)
        guard case .profile(let name, let at) = pki.chain else {
            Issue.record("expected a profile, got \(pki.chain)")
            return
        }
        #expect(name == "expired-leaf")
        #expect(at.line == 12 && at.column == 12)
        #expect(pki.serve == ["leaf", "intermediate"])
        #expect(pki.sni.isEmpty)
        #expect(s.tls.versions == [.tls1_2, .tls1_3])
        #expect(s.tls.ciphers == "HIGH:!aNULL")
        #expect(s.tls.priority == nil)
        #expect(s.dialog.greeting == ["220-mail.example.test ESMTP postscreen", "220 mail.example.test ESMTP ready"])
        #expect(s.dialog.greetingDelay == .milliseconds(250))
        #expect(s.dialog.capabilitiesBeforeTLS == ["PIPELINING", "SIZE 10240000", "STARTTLS"])
        #expect(s.dialog.capabilitiesAfterTLS == ["PIPELINING", "AUTH PLAIN"])
        #expect(s.dialog.startTLS == .init(advertise: .advertised, reply: "220 2.0.0 Ready", transition: true))
        #expect(s.dialog.lineEnding == .crlf)
        #expect(!s.dialog.preauth)
        #expect(s.network.isEmpty)
        #expect(s.probe.servername == "mail.example.test")
        #expect(s.probe.client.backends == [.openssl, .gnutls])
        #expect(s.probe.timeout == .seconds(5))
        #expect(s.expect.verdict == [.expired])
        #expect(s.expect.severity == .critical)
        #expect(s.expect.backends == [.gnutls: .init(verdict: [.expired])])
        #expect(s.expect.expected(for: .gnutls).verdict == [.expired])
        #expect(s.matrixCell == nil)
        #expect(s.source.line == 2 && s.source.column == 5)
        #expect(s.source.file.hasSuffix("valid/smtp-starttls-expired-leaf.yaml"))
    }

    @Test("IMAP PREAUTH with a single-line greeting, bare LF and a GnuTLS priority")
    func preauth() throws {
        let s = try one("imap-preauth.yaml")
        #expect(s.server.backend == .gnutls)
        #expect(s.dialog.preauth)
        #expect(s.dialog.greeting == ["* PREAUTH [CAPABILITY IMAP4rev1] logged in as nobody"])
        #expect(s.dialog.lineEnding == .lf)
        #expect(s.tls.priority == "NORMAL:-VERS-TLS1.3")
        #expect(s.probe.client.tryStartTLSAnyway)
        #expect(s.probe.client.backends == TLSBackend.allCases)
        // No severity written: the codes' own severity.
        #expect(s.expect.severity == .critical)
        #expect(s.tags.isEmpty)
    }

    @Test("LDAP StartTLS refusal knobs")
    func ldap() throws {
        let s = try one("ldap-starttls-unavailable.yaml")
        #expect(s.dialog.ldap.resultCode == 52)
        #expect(s.dialog.ldap.diagnosticMessage.hasPrefix("00000000: LdapErr"))
        #expect(s.dialog.startTLS.reply == nil)
        #expect(s.dialog.ldap.longFormLengths && s.dialog.ldap.messageIDOverride == 7)
        #expect(s.dialog.ldap.responseName == .omitted)
    }

    @Test("FTP AUTH variants, data channel, refused greeting as a bare code, an IPv6 loopback address")
    func ftp() throws {
        let s = try one("ftp-auth-tls-refused.yaml")
        #expect(s.server.address == "::1")
        // A bare code gets the reason text a client expects.
        #expect(s.dialog.refuseGreeting == "421 Service not available")
        // AUTH TLS is FTP's upgrade: its refusal is the upgrade's reply.
        #expect(s.dialog.startTLS.reply == "534 Policy requires SSL")
        #expect(s.dialog.ftp == .init(authSSLReply: nil, dataChannel: .plaintext))
        #expect(s.network == [.latency(milliseconds: 100, in: .greeting)])
    }

    @Test("every network fault kind")
    func faults() throws {
        let s = try one("network-faults.yaml")
        #expect(
            s.network == [
                .latency(milliseconds: 250, in: .greeting),
                .trickle(bytes: 1, intervalMilliseconds: 1000, in: .handshake),
                .slice(bytes: 2, in: .postTLS),
                .stall(in: .any),
                .reset(in: .any),
                .closeAfter(bytes: 100, in: .handshake),
            ]
        )
        #expect(s.tls.versions == [.tls1_0])
        #expect(s.tls.abortWithAlert == .protocolVersion)
        #expect(s.probe.client.backends == [.gnutls])
        #expect(s.probe.mode == .implicit)
        #expect(s.probe.timeout == .milliseconds(1500))
        #expect(Set(s.expect.verdict) == [.handshakeFailure, .legacyVersion])
    }

    @Test("an inline chain is read by the chain-spec reader at load time, with its position; SNI entries; a divergence")
    func inlineChainAndDivergence() throws {
        let s = try one("inline-chain-sni.yaml")
        let pki = try #require(s.pki)
        guard case .inline(let chain) = pki.chain else {
            Issue.record("expected an inline chain, got \(pki.chain)")
            return
        }
        #expect(chain.location.line == 6 && chain.location.column == 5)
        #expect(chain.spec.certificates.map(\.name) == ["intermediate", "leaf"])
        #expect(chain.spec.serve == ["intermediate", "leaf"])
        guard case .profile("wrong-host", _) = pki.sni["other.example.test"],
            case .profile("self-signed", _) = pki.sni["third.example.test"]
        else {
            Issue.record("sni entries: \(pki.sni)")
            return
        }
        #expect(Set(pki.profileNames) == ["wrong-host", "self-signed"])
        #expect(s.tls.abortWithAlert == .handshakeFailure)
        #expect(!s.tls.closeMidHandshake)
        #expect(s.expect.divergence?.contains("OpenSSL reorders") == true)
        #expect(s.expect.expected(for: .openssl).verdict.isEmpty)
        #expect(s.expect.expected(for: .openssl).severity == .ok)
        #expect(s.expect.expected(for: .gnutls).verdict == [.chainOrder])
        #expect(s.expect.expected(for: .gnutls).severity == .warning)
    }

    @Test("STARTTLS mangled, no transition, injected plaintext with its escapes decoded")
    func injection() throws {
        let s = try one("smtp-starttls-injection.yaml")
        let startTLS = try #require(s.dialog.startTLS)
        #expect(startTLS.advertise == .mangled)
        #expect(!startTLS.transition)
        #expect(startTLS.injectAfterGoAhead == "250 injected\r\n")
        #expect(startTLS.reply == "454 4.7.0 TLS not available")
        #expect(s.pki == nil)
        #expect(s.dialog.capabilitiesAfterTLS == nil)
    }

    @Test("a matrix expands into one scenario per cell with {protocol} and {tls} substituted")
    func matrix() throws {
        let scenarios = try loader.load(file: ModelFixtures.valid.appendingPathComponent("matrix-expired-leaf.yaml"))
        #expect(
            scenarios.map(\.id) == [
                "matrix::smtp::implicit::expired-leaf", "matrix::smtp::starttls::expired-leaf",
                "matrix::imap::implicit::expired-leaf", "matrix::imap::starttls::expired-leaf",
                "matrix::pop3::implicit::expired-leaf", "matrix::pop3::starttls::expired-leaf",
            ]
        )
        #expect(scenarios[3].summary == "imap over starttls TLS with an expired leaf")
        #expect(scenarios[3].server.serviceProtocol == .imap && scenarios[3].server.mode == .startTLS)
        #expect(scenarios[3].matrixCell == MatrixCell(serviceProtocol: .imap, mode: .startTLS))
        #expect(Set(scenarios.map(\.server.backend)) == [.openssl])
        #expect(scenarios.allSatisfy { $0.expect.verdict == [.expired] && $0.source.line == 1 })
    }

    @Test("a one-dimensional matrix leaves the other dimension from server")
    func matrixOneDimension() throws {
        let yaml = """
            id: "{tls}::x"
            summary: modes
            matrix: { tls: [implicit, none] }
            server: { protocol: https, backend: gnutls }
            expect: { verdict: [] }
            """
        let scenarios = try loader.load(yaml: yaml, file: "m.yaml")
        #expect(scenarios.map(\.id) == ["implicit::x", "none::x"])
        #expect(scenarios.allSatisfy { $0.server.serviceProtocol == .https })
        #expect(scenarios[1].matrixCell == MatrixCell(mode: TLSMode.none))
    }

    @Test("duplicate ids across files: the later file is reported and the earlier one kept")
    func duplicateAcrossFiles() throws {
        let directory = Scratch.folder("mimic-dup-")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("b/c"),
            withIntermediateDirectories: true
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        let body = "summary: s\nserver: { protocol: smtp, tls: none, backend: openssl }\nexpect: { verdict: [] }\n"
        try ("id: same\n" + body).write(
            to: directory.appendingPathComponent("a.yaml"),
            atomically: true,
            encoding: .utf8
        )
        try ("id: same\n" + body).write(
            to: directory.appendingPathComponent("b/c/d.yml"),
            atomically: true,
            encoding: .utf8
        )
        try ("id: other\n" + body).write(
            to: directory.appendingPathComponent("b/e.yaml"),
            atomically: true,
            encoding: .utf8
        )
        try "{}".write(to: directory.appendingPathComponent("schema.json"), atomically: true, encoding: .utf8)
        try "not yaml".write(to: directory.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let (scenarios, errors) = ScenarioLoader().load(paths: [directory])
        #expect(scenarios.map(\.id) == ["same", "other"])
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.file.hasSuffix("b/c/d.yml") && error.line == 1 && error.column == 5 && error.path == "id")
        #expect(error.message.contains("a.yaml:1:5"))
    }

    @Test(
        "durations",
        arguments: [
            ("0", Duration.zero), ("0s", .zero), ("250ms", .milliseconds(250)), ("2s", .seconds(2)),
            ("1.5s", .milliseconds(1500)), ("1m", .seconds(60)),
        ]
    )
    func durations(text: String, expected: Duration) {
        #expect(YAMLValue.parseDuration(text) == expected)
    }

    @Test("not durations", arguments: ["", "s", "2", "-1s", "1.s", ".5s", "1..2s", "2 s", "2h", "1e3ms", "١s"])
    func notDurations(text: String) {
        #expect(YAMLValue.parseDuration(text) == nil)
    }

    @Test("did-you-mean picks the closest candidate and stays quiet for unrelated words")
    func suggestions() {
        #expect(EditDistance.suggestion(for: "protocl", among: ["protocol", "tls", "backend"]) == "protocol")
        #expect(EditDistance.suggestion(for: "greting_dely", among: ScenarioKeys.Dialog.section.names) == "greeting_delay")
        #expect(EditDistance.suggestion(for: "zzz", among: ["protocol", "tls"]) == nil)
        #expect(EditDistance.distance("kitten", "sitting") == 3)
    }

    @Test("alert names and numbers")
    func alerts() {
        #expect(TLSSpec.alert(named: "handshake_failure") == .handshakeFailure)
        #expect(TLSSpec.alert(named: "70") == .protocolVersion)
        #expect(TLSSpec.alert(named: "no_such_alert") == nil)
        #expect(TLSSpec.alertNames.contains("unrecognized_name"))
    }

    @Test("the error renders as file:line:column: path: message")
    func errorRendering() {
        let at = SourceLocation(file: "scenarios/smtp/x.yaml", line: 7, column: 12)
        #expect(
            ScenarioError(location: at, path: "dialog.starttls.reply", message: "expected a string, got a mapping")
                .description == "scenarios/smtp/x.yaml:7:12: dialog.starttls.reply: expected a string, got a mapping"
        )
        #expect(
            ScenarioError(location: at, path: "", message: "empty file").description
                == "scenarios/smtp/x.yaml:7:12: empty file"
        )
    }

    @Test("relative URLs keep relative names in locations")
    func relativeNames() {
        let base = ModelFixtures.repositoryRoot
        let relative = URL(
            fileURLWithPath: "Tests/MimicScenariosTests/Fixtures/valid/imap-preauth.yaml",
            relativeTo: base
        )
        #expect(
            ScenarioLoader.displayName(of: relative) == "Tests/MimicScenariosTests/Fixtures/valid/imap-preauth.yaml"
        )
        let (scenarios, errors) = loader.load(paths: [relative])
        #expect(errors.isEmpty)
        #expect(scenarios.first?.source.file == "Tests/MimicScenariosTests/Fixtures/valid/imap-preauth.yaml")
    }
}
