import Foundation
import MimicCerts
import MimicCore
import MimicDialogs
import MimicNet
import Testing

@testable import MimicScenarios

/// The scenario library in `scenarios/`: it loads without a single error, and it covers what Mimic promises to
/// cover — every protocol in every mode, every certificate profile, every knob of the scenario format, and every
/// finding a probe can reach. The coverage table is computed from the loaded model, not from file names, so a
/// scenario that stops exercising its knob (a typo that falls back to a default) fails here.
@Suite("Scenario library")
struct LibraryTests {
    /// Loaded once: the library is read-only and about 300 scenarios.
    static let loaded: (scenarios: [Scenario], errors: [ScenarioError]) = {
        let names = (try? ChainProfile.profileNames(in: Fixtures.profiles)) ?? []
        return ScenarioLoader(knownProfiles: Set(names)).load(paths: [library])
    }()

    static let library = Fixtures.repository.appendingPathComponent("scenarios")
    var scenarios: [Scenario] { Self.loaded.scenarios }

    /// The STARTTLS-capable protocols whose upgrade is a text command.
    static let textUpgrades: [ServiceProtocol] = [.smtp, .imap, .pop3, .ftp]

    // MARK: - Loading

    @Test func libraryLoadsWithoutErrors() {
        #expect(Self.loaded.errors.map(\.description) == [])
    }

    @Test func libraryHasAtLeast150Scenarios() {
        #expect(scenarios.count >= 150, "only \(scenarios.count) scenarios")
    }

    @Test func idsAreUniqueAndNamedAfterProtocolAndMode() {
        var seen: [String: Int] = [:]
        for scenario in scenarios { seen[scenario.id, default: 0] += 1 }
        #expect(seen.filter { $0.value > 1 }.keys.sorted() == [])
        for scenario in scenarios {
            let parts = scenario.id.components(separatedBy: "::")
            #expect(parts.count >= 3, "\(scenario.id): not protocol::mode::what")
            // `cross::` files put the protocol second; every other id starts with its own protocol and mode.
            let offset = parts.first == "cross" ? 1 : 0
            guard parts.count >= 3 + offset else { continue }
            #expect(parts[offset] == scenario.server.serviceProtocol.rawValue, "\(scenario.id): protocol part")
            #expect(parts[offset + 1] == scenario.server.mode.rawValue, "\(scenario.id): mode part")
        }
    }

    @Test func filesLiveInTheirProtocolFolder() {
        for scenario in scenarios {
            let folder = URL(fileURLWithPath: scenario.source.file).deletingLastPathComponent().lastPathComponent
            if scenario.matrixCell != nil {
                #expect(folder == "cross", "\(scenario.id): matrix files belong in cross/")
            } else {
                #expect(folder == scenario.server.serviceProtocol.rawValue, "\(scenario.id) is in \(folder)/")
            }
        }
    }

    @Test func everyScenarioHasAOneLineSummaryAndAValidFieldReference() throws {
        let reference = try Regex("^(field#([1-9]|1[0-9]|20)|catalogue#([1-9]|[1-4][0-9]|50))$")
        for scenario in scenarios {
            #expect(!scenario.summary.isEmpty && !scenario.summary.contains("\n"), "\(scenario.id): summary")
            if let field = scenario.fieldFailure {
                #expect(field.wholeMatch(of: reference) != nil, "\(scenario.id): bad field_failure '\(field)'")
            }
        }
        let referenced = scenarios.filter { $0.fieldFailure != nil }.count
        #expect(referenced * 10 >= scenarios.count * 7, "only \(referenced) scenarios name a field failure")
    }

    // MARK: - Coverage: protocols, modes, profiles

    @Test func everyProtocolAppearsInEveryMode() {
        let present = Set(scenarios.map { "\($0.server.serviceProtocol.rawValue)/\($0.server.mode.rawValue)" })
        for proto in ServiceProtocol.allCases {
            for mode in TLSMode.allCases where !(proto == .https && mode == .startTLS) {
                #expect(present.contains("\(proto.rawValue)/\(mode.rawValue)"), "no \(proto) scenario over \(mode)")
            }
        }
    }

    @Test func everyCertificateProfileAppearsOnSeveralProtocols() throws {
        let profiles = try ChainProfile.profileNames(in: Fixtures.profiles)
        #expect(profiles.count >= 20)
        var protocols: [String: Set<ServiceProtocol>] = [:]
        for scenario in scenarios {
            for name in scenario.pki?.profileNames ?? [] {
                protocols[name, default: []].insert(scenario.server.serviceProtocol)
            }
        }
        for profile in profiles {
            #expect((protocols[profile]?.count ?? 0) >= 2, "profile \(profile) on \(protocols[profile] ?? [])")
        }
    }

    /// A scenario that only swaps in a profile (no serve override, no SNI, no misbehaviour) must expect exactly
    /// what the profile says each backend reports — the two catalogues must not drift apart.
    @Test func plainProfileScenariosExpectWhatTheProfileSays() throws {
        let profiles = Dictionary(
            uniqueKeysWithValues: try ChainProfile.all(in: Fixtures.profiles).map { ($0.name, $0) })
        var checked = 0
        for scenario in scenarios {
            guard let pki = scenario.pki, pki.serve == nil, pki.sni.isEmpty,
                case .profile(let name, _) = pki.chain, let profile = profiles[name],
                scenario.tls.isDefault, scenario.dialog == ServerDialogConfiguration(), scenario.network.isEmpty,
                scenario.probe.mode == nil
            else { continue }
            checked += 1
            #expect(scenario.probe.servername == profile.hostname, "\(scenario.id): probe the profile's hostname")
            for backend in scenario.probe.client.backends {
                let expected = scenario.expect.expected(for: backend).verdict
                #expect(
                    expected == Set(profile.expectedFindings(for: backend)),
                    "\(scenario.id) (\(backend)): expects \(expected.sorted { $0.rawValue < $1.rawValue })")
            }
        }
        #expect(checked >= 40, "only \(checked) plain profile scenarios")
    }

    // MARK: - Coverage: knobs

    /// One row per knob family: the scenarios that exercise it must number at least `minimum`.
    struct Knob: CustomTestStringConvertible, Sendable {
        let name: String
        let minimum: Int
        let matches: @Sendable (Scenario) -> Bool
        var testDescription: String { name }
    }

    static func startTLS(_ scenario: Scenario) -> ServerDialogConfiguration.StartTLS { scenario.dialog.startTLS }
    static func faults(_ scenario: Scenario, _ kind: String) -> [NetworkFault] {
        scenario.network.filter { ScenarioKeys.Fault.name(of: $0.kind) == kind }
    }

    static let knobs: [Knob] = [
        // Certificates.
        Knob(name: "pki.serve override", minimum: 3) { $0.pki?.serve != nil },
        Knob(name: "pki.chain inline", minimum: 3) {
            if case .inline? = $0.pki?.chain {
                true
            } else {
                $0.pki?.sni.values.contains { if case .inline = $0 { true } else { false } } ?? false
            }
        },
        Knob(name: "pki.sni map", minimum: 3) { !($0.pki?.sni.isEmpty ?? true) },
        Knob(name: "probe.servername 127.0.0.1 (IP SAN)", minimum: 1) { $0.probe.servername == "127.0.0.1" },
        // TLS.
        Knob(name: "tls.versions legacy only", minimum: 4) {
            guard let versions = $0.tls.versions else { return false }
            return !versions.isEmpty && versions.allSatisfy(\.isLegacy)
        },
        Knob(name: "tls.versions 1.0 only", minimum: 1) { $0.tls.versions == [.tls1_0] },
        Knob(name: "tls.versions 1.1 only", minimum: 1) { $0.tls.versions == [.tls1_1] },
        Knob(name: "tls.versions 1.3 only", minimum: 2) { $0.tls.versions == [.tls1_3] },
        Knob(name: "tls.versions 1.2 only", minimum: 2) { $0.tls.versions == [.tls1_2] },
        Knob(name: "tls.ciphers (OpenSSL server)", minimum: 2) { $0.tls.ciphers != nil },
        Knob(name: "tls.priority (GnuTLS server)", minimum: 2) { $0.tls.priority != nil },
        Knob(name: "tls.abort_with_alert", minimum: 4) { $0.tls.abortWithAlert != nil },
        Knob(name: "tls.close_mid_handshake", minimum: 2) { $0.tls.closeMidHandshake },
        Knob(name: "server.backend openssl", minimum: 50) { $0.server.backend == .openssl },
        Knob(name: "server.backend gnutls", minimum: 50) { $0.server.backend == .gnutls },
        // Dialog: greetings.
        Knob(name: "dialog.greeting single line", minimum: 3) { $0.dialog.greeting?.count == 1 },
        Knob(name: "dialog.greeting multi-line", minimum: 3) { ($0.dialog.greeting?.count ?? 0) >= 2 },
        Knob(name: "dialog.greeting ten-line banner", minimum: 2) { ($0.dialog.greeting?.count ?? 0) >= 10 },
        Knob(name: "dialog.greeting_delay", minimum: 4) { $0.dialog.greetingDelay > .zero },
        Knob(name: "dialog.greeting_delay past the probe timeout", minimum: 2) {
            guard let timeout = $0.probe.timeout else { return false }
            return $0.dialog.greetingDelay > timeout
        },
        Knob(name: "dialog.refuse_greeting 421", minimum: 1) { $0.dialog.refuseGreeting?.hasPrefix("421") ?? false },
        Knob(name: "dialog.refuse_greeting 554", minimum: 1) { $0.dialog.refuseGreeting?.hasPrefix("554") ?? false },
        Knob(name: "dialog.refuse_greeting * BYE", minimum: 1) {
            $0.dialog.refuseGreeting?.hasPrefix("* BYE") ?? false
        },
        Knob(name: "dialog.refuse_greeting -ERR", minimum: 1) { $0.dialog.refuseGreeting?.hasPrefix("-ERR") ?? false },
        Knob(name: "dialog.capabilities.before_tls", minimum: 3) { $0.dialog.capabilitiesBeforeTLS != nil },
        Knob(name: "dialog.capabilities.after_tls", minimum: 3) { $0.dialog.capabilitiesAfterTLS != nil },
        // Dialog: the upgrade.
        Knob(name: "dialog.starttls.reply 454", minimum: 1) { startTLS($0).reply?.hasPrefix("454") ?? false },
        Knob(name: "dialog.starttls.reply 502", minimum: 1) { startTLS($0).reply?.hasPrefix("502") ?? false },
        Knob(name: "dialog.starttls.reply NO", minimum: 1) { startTLS($0).reply?.hasPrefix("NO") ?? false },
        Knob(name: "dialog.starttls.reply BAD", minimum: 1) { startTLS($0).reply?.hasPrefix("BAD") ?? false },
        Knob(name: "dialog.starttls.reply -ERR", minimum: 1) { startTLS($0).reply?.hasPrefix("-ERR") ?? false },
        Knob(name: "dialog.starttls.ldap_result 2", minimum: 1) { $0.dialog.ldap.resultCode == 2 },
        Knob(name: "dialog.starttls.ldap_result 52", minimum: 1) { $0.dialog.ldap.resultCode == 52 },
        Knob(name: "dialog.starttls.ldap_diagnostic", minimum: 1) { !$0.dialog.ldap.diagnosticMessage.isEmpty },
        Knob(name: "dialog.preauth", minimum: 2) { $0.dialog.preauth },
        Knob(name: "dialog.ldap.long_form_lengths", minimum: 2) { $0.dialog.ldap.longFormLengths },
        Knob(name: "dialog.ldap.message_id", minimum: 2) { $0.dialog.ldap.messageIDOverride != nil },
        Knob(name: "dialog.ldap.notice_of_disconnection", minimum: 1) {
            $0.dialog.ldap.noticeOfDisconnection
        },
        Knob(name: "dialog.ldap.response_name omitted", minimum: 1) { $0.dialog.ldap.responseName == .omitted },
        Knob(name: "dialog.ldap.response_name echoed", minimum: 1) { $0.dialog.ldap.responseName == .startTLS },
        Knob(name: "dialog.ldap.response_name other OID", minimum: 1) {
            if case .oid = $0.dialog.ldap.responseName { true } else { false }
        },
        Knob(name: "dialog.ftp AUTH TLS refused, AUTH SSL works", minimum: 1) {
            $0.server.serviceProtocol == .ftp && $0.dialog.startTLS.reply != nil && $0.dialog.ftp.authSSLReply == nil
        },
        Knob(name: "dialog.ftp.data_channel plaintext", minimum: 1) { $0.dialog.ftp.dataChannel == .plaintext },
        Knob(name: "dialog.ftp.data_channel other-certificate", minimum: 1) {
            $0.dialog.ftp.dataChannel == .otherCertificate
        },
        Knob(name: "dialog.ftp.data_channel require-resumption", minimum: 1) {
            $0.dialog.ftp.dataChannel == .requireResumption
        },
        Knob(name: "dialog.ftp.epsv false", minimum: 2) { !$0.dialog.ftp.extendedPassive },
        Knob(name: "dialog.ftp.pasv_address private", minimum: 2) { $0.dialog.ftp.passiveHost == "10.255.255.1" },
        Knob(name: "dialog.ftp.pasv_address another public host", minimum: 2) {
            $0.dialog.ftp.passiveHost == "192.0.2.10"
        },
        Knob(name: "dialog.ftp.pasv_address 0.0.0.0", minimum: 2) { $0.dialog.ftp.passiveHost == "0.0.0.0" },
        Knob(name: "dialog.line_endings lf", minimum: 4) { $0.dialog.lineEnding == .lf },
        Knob(name: "dialog.implicit_speaks_plaintext", minimum: 4) { $0.dialog.implicitSpeaksPlaintext },
        Knob(name: "dialog.starttls_speaks_tls", minimum: 4) { $0.dialog.startTLSSpeaksTLS },
        Knob(name: "probe.mode differs from the server's", minimum: 4) {
            $0.probe.mode != nil && $0.probe.mode != $0.server.mode
        },
        Knob(name: "probe.starttls_anyway", minimum: 4) { $0.probe.client.tryStartTLSAnyway },
        Knob(name: "probe.backends one library only", minimum: 2) { $0.probe.client.backends.count == 1 },
        // Network.
        Knob(name: "network latency", minimum: 4) { !faults($0, "latency").isEmpty },
        Knob(name: "network trickle", minimum: 3) { !faults($0, "trickle").isEmpty },
        Knob(name: "network slice", minimum: 4) { !faults($0, "slice").isEmpty },
        Knob(name: "network stall", minimum: 4) { !faults($0, "stall").isEmpty },
        Knob(name: "network reset", minimum: 3) { !faults($0, "reset").isEmpty },
        Knob(name: "network close_after", minimum: 3) { !faults($0, "close_after").isEmpty },
    ]

    @Test(arguments: knobs)
    func knobIsCovered(_ knob: Knob) {
        let count = scenarios.filter(knob.matches).count
        #expect(count >= knob.minimum, "\(knob.name): \(count) scenario(s), want \(knob.minimum)")
    }

    /// The upgrade misbehaviours, on every protocol that has the upgrade.
    @Test(arguments: [ServiceProtocol.smtp, .imap, .pop3, .ftp, .ldap])
    func upgradeMisbehaviourOnEveryStartTLSProtocol(_ proto: ServiceProtocol) {
        let upgrades = scenarios.filter { $0.server.serviceProtocol == proto && $0.server.mode == .startTLS }
        func has(_ what: String, _ test: (Scenario) -> Bool) {
            let found = upgrades.contains(where: test)
            #expect(found, "\(proto): no scenario with \(what)")
        }
        has("transition: false") { $0.dialog.startTLS.transition == false }
        has("inject_after_go_ahead") { $0.dialog.startTLS.injectAfterGoAhead != nil }
        has("starttls_speaks_tls") { $0.dialog.startTLSSpeaksTLS }
        has("a network fault in the upgrade phase") { $0.network.contains { $0.phase == .upgrade } }
        has("a refused upgrade") {
            $0.dialog.startTLS.reply != nil || $0.dialog.ldap.resultCode != 0
        }
        if Self.textUpgrades.contains(proto) {
            has("advertise: false (stripped)") { $0.dialog.startTLS.advertise == .stripped }
            has("advertise: mangled") { $0.dialog.startTLS.advertise == .mangled }
            has("stripped but tried anyway") { $0.dialog.startTLS.advertise == .stripped && $0.probe.client.tryStartTLSAnyway }
            has("a refused greeting") { $0.dialog.refuseGreeting != nil }
            has("a custom greeting") { $0.dialog.greeting != nil }
            has("bare LF line endings or a capabilities change") {
                $0.dialog.lineEnding == .lf || $0.dialog.capabilitiesBeforeTLS != nil || $0.dialog.capabilitiesAfterTLS != nil
            }
        }
    }

    /// Network faults in every phase a server can act in.
    @Test func networkFaultsInEveryPhase() {
        let phases = Set(scenarios.flatMap { $0.network.map(\.phase) })
        #expect(phases == Set(FaultPhase.allCases), "phases covered: \(phases.map(\.rawValue).sorted())")
        for kind in ["stall", "reset", "close_after"] {
            let inPhases = Set(scenarios.flatMap { Self.faults($0, kind).map(\.phase) })
            #expect(inPhases.count >= 3, "\(kind) only in \(inPhases.map(\.rawValue).sorted())")
        }
    }

    /// Distinct alerts, so the probe's alert handling is not tested on one alert only.
    @Test func severalAlerts() {
        let alerts = Set(scenarios.compactMap { $0.tls.abortWithAlert?.code })
        #expect(alerts.count >= 5, "alerts: \(alerts.sorted())")
    }

    // MARK: - Coverage: findings

    /// Findings no scenario can provoke through the mock: no chain the factory mints makes the facts fail to parse.
    /// (`weakCipher` is reached by enumeration: `probe.enumerate`.)
    static let unreachable: Set<FindingCode> = [.verificationError]

    @Test func everyCertificateTLSAndDialogFindingIsExpectedSomewhere() {
        var expected: Set<FindingCode> = []
        for scenario in scenarios {
            for backend in scenario.probe.client.backends {
                expected.formUnion(scenario.expect.expected(for: backend).verdict)
            }
        }
        let families: Set<FindingCode.Family> = [.certificate, .tls, .dialog]
        let wanted = FindingCode.allCases.filter { families.contains($0.family) && !Self.unreachable.contains($0) }
        #expect(wanted.filter { !expected.contains($0) } == [])
        for code in [FindingCode.timeout, .reset, .closed] {
            #expect(expected.contains(code), "no scenario expects \(code)")
        }
    }

    @Test func everySeverityIsExpectedSomewhere() {
        let severities = Set(scenarios.map(\.expect.severity))
        #expect(severities == Set([.ok, .warning, .critical, .unknown]))
    }

    // MARK: - Running the library

    /// Scenarios whose expectation is right and whose actual verdict is not, because of a known gap in the probe
    /// or the mock; each is explained in `scenarios/DIVERGENCES.md`. The run must fail exactly these, so a fix
    /// shows up here as a scenario to take off the list.
    static let knownGaps: Set<String> = []

    @Test func knownGapsAreDocumented() throws {
        let text = try String(contentsOf: Self.library.appendingPathComponent("DIVERGENCES.md"), encoding: .utf8)
        let ids = Set(scenarios.map(\.id))
        for gap in Self.knownGaps.sorted() {
            #expect(ids.contains(gap), "\(gap) is not in the library")
            #expect(text.contains("`\(gap)`"), "\(gap) is not explained in scenarios/DIVERGENCES.md")
        }
    }

    /// The whole library through both probe backends against real mocks: every scenario reaches its expected
    /// verdict except the known gaps, and the run takes seconds.
    @Test(.timeLimit(.minutes(5))) func libraryRunsAsExpected() async throws {
        // Every duration three times the library's own: this runs beside the rest of the test suite on two cores,
        // where a one-second deadline is a race, not a verdict. Proportions, and so every expectation, are unchanged.
        let runner = ScenarioRunner(factory: Fixtures.factory, timeScale: 3)
        guard case .ready(let everything) = runner.prepare(paths: [Self.library]) else {
            Issue.record("the library does not prepare")
            return
        }
        // The enumerating scenarios (a hundred connections each) have a test of their own with a longer limit:
        // EnumerationCrossCheckTests.enumeratingScenarios.
        let prepared = everything.filter { !$0.scenario.probe.enumerate }
        let started = ContinuousClock.now
        let run = await runner.run(prepared)
        let elapsed = ContinuousClock.now - started
        #expect(run.outcomes.count == prepared.count)
        for outcome in run.outcomes {
            let detail = outcome.error ?? outcome.backends.map(\.summary).joined(separator: "; ")
            let passed = outcome.passed
            if Self.knownGaps.contains(outcome.id) {
                #expect(!passed, "\(outcome.id) passes now: take it off knownGaps")
            } else {
                #expect(passed, "\(outcome.id): \(detail)")
            }
        }
        // Speed is `make bench`'s business, not an assertion; the time is printed for the record.
        print("the library took \(elapsed)")
    }

    // MARK: - Speed

    /// The library must run in seconds: anything that waits for a deadline sets a short probe timeout, and no
    /// delay or latency is long.
    @Test func waitsAreShort() {
        let second = Duration.seconds(1)
        for scenario in scenarios {
            let waits =
                scenario.network.contains { $0.kind == .stall }
                || scenario.expect.verdict.contains(.timeout)
                || scenario.dialog.greetingDelay > second
                || scenario.dialog.startTLSSpeaksTLS
            if waits {
                let timeout = scenario.probe.timeout ?? .seconds(60)
                #expect(timeout <= .seconds(2), "\(scenario.id): a wait needs probe.timeout of at most 2s")
            }
            #expect(scenario.dialog.greetingDelay <= .seconds(2), "\(scenario.id): greeting_delay")
            for fault in scenario.network {
                switch fault.kind {
                case .latency(let delay): #expect(delay <= 100, "\(scenario.id): latency")
                case .trickle(let bytes, let interval):
                    #expect(interval <= 20 && bytes >= 4, "\(scenario.id): trickle")
                default: break
                }
            }
        }
    }
}
