import Foundation
import Testing

@testable import MimicCore

@Suite("Ports and modes")
struct PortTests {
    @Test(
        "each registered port implies its mode",
        arguments: [
            (465, TLSMode.implicit), (993, .implicit), (995, .implicit), (990, .implicit), (636, .implicit),
            (443, .implicit), (587, .startTLS), (25, .startTLS), (143, .startTLS), (110, .startTLS),
            (21, .startTLS), (389, .startTLS),
        ]
    )
    func modeByPort(port: Int, mode: TLSMode) {
        #expect(DefaultPorts.mode(forPort: port) == mode)
    }

    @Test("an unregistered port implies nothing")
    func unknownPort() {
        #expect(DefaultPorts.mode(forPort: 2525) == nil)
        #expect(DefaultPorts.entry(forPort: 8443) == nil)
    }

    @Test("schemes name protocol and mode")
    func schemes() throws {
        let submission = try #require(DefaultPorts.entry(forScheme: "SUBMISSION"))
        #expect(submission.port == 587 && submission.serviceProtocol == .smtp && submission.mode == .startTLS)
        let ldaps = try #require(DefaultPorts.entry(forScheme: "ldaps"))
        #expect(ldaps.port == 636 && ldaps.mode == .implicit)
        #expect(DefaultPorts.entry(forScheme: "gopher") == nil)
        #expect(DefaultPorts.port(for: .smtp, mode: .startTLS) == 587)
        #expect(DefaultPorts.port(for: .https, mode: .startTLS) == nil)
    }

    @Test("every protocol has an implicit port")
    func everyProtocolHasImplicitPort() {
        for serviceProtocol in ServiceProtocol.allCases {
            #expect(DefaultPorts.port(for: serviceProtocol, mode: .implicit) != nil, "\(serviceProtocol)")
        }
    }
}

@Suite("Severity and findings")
struct SeverityTests {
    @Test("Nagios exit codes")
    func exitCodes() {
        #expect(Severity.allCases.map(\.exitCode) == [0, 1, 2, 3])
    }

    @Test("a known failure outranks not knowing, which outranks a warning")
    func ordering() {
        #expect(Severity.ok < .warning)
        #expect(Severity.warning < .unknown)
        #expect(Severity.unknown < .critical)
        #expect([Severity.warning, .critical, .unknown].max() == .critical)
    }

    @Test("findings add up to their worst severity; codes keep first-seen order without repeats")
    func combining() {
        let findings = [
            Finding(.expiringSoon, phase: .verification, evidence: "10 days", days: 10),
            Finding(.expired, phase: .verification, evidence: "leaf", source: "openssl", depth: 0),
            Finding(.expired, phase: .verification, evidence: "leaf", source: "gnutls"),
        ]
        #expect(findings.severity == .critical)
        #expect(findings.codes == [.expiringSoon, .expired])
        #expect([Finding]().severity == .ok)
        #expect(Verdict(findings: findings).accepted == false)
        #expect(Verdict(findings: Array(findings.prefix(1))).accepted)
    }

    @Test("default severities follow the monitoring convention")
    func defaults() {
        #expect(FindingCode.expiringSoon.defaultSeverity == .warning)
        #expect(FindingCode.legacyVersion.defaultSeverity == .warning)
        #expect(FindingCode.expired.defaultSeverity == .critical)
        #expect(FindingCode.timeout.defaultSeverity == .unknown)
        #expect(FindingCode.plaintextInjection.family == .dialog)
        #expect(FindingCode.pasvAddressMismatch.family == .dialog)
        #expect(FindingCode.pasvAddressMismatch.defaultSeverity == .warning)
        #expect(FindingCode.reset.family == .network)
        // The TLS offers (issue 8): broken suites are critical, old versions and static key exchange warnings.
        #expect(FindingCode.weakCipher.defaultSeverity == .critical)
        #expect(FindingCode.noForwardSecrecy.defaultSeverity == .warning)
        #expect(FindingCode.noForwardSecrecy.family == .tls)
    }

    @Test("findings round-trip through JSON")
    func codable() throws {
        let finding = Finding(
            .hostnameMismatch, phase: .verification, evidence: "CN=other", source: "openssl",
            rawCode: "X509_V_ERR_HOSTNAME_MISMATCH", depth: 0)
        let data = try JSONEncoder().encode(finding)
        #expect(try JSONDecoder().decode(Finding.self, from: data) == finding)
    }
}

@Suite("TLS versions")
struct TLSVersionTests {
    @Test("parsing the ways people write versions", arguments: ["1.2", "tls1.2", "TLSv1.2", "tls1_2"])
    func parsing(text: String) {
        #expect(MimicTLSVersion(parsing: text) == .tls1_2)
    }

    @Test("rejects what is not a TLS version", arguments: ["1.4", "ssl3", "", "tlsv"])
    func rejecting(text: String) {
        #expect(MimicTLSVersion(parsing: text) == nil)
    }

    @Test("wire values and legacy flags")
    func wire() {
        #expect(MimicTLSVersion(wireValue: 0x0304) == .tls1_3)
        #expect(MimicTLSVersion(wireValue: 0x0300) == nil)
        #expect(MimicTLSVersion.tls1_1.isLegacy && !MimicTLSVersion.tls1_2.isLegacy)
        #expect(MimicTLSVersion.tls1_0 < .tls1_3)
    }
}
