import Foundation
import MimicCerts
import MimicCore
import MimicNet
import MimicTestSupport
import Testing

@testable import MimicScenarios

/// The capture → run loop against REAL servers (postfix, dovecot, vsftpd, slapd, nginx; both modes each): every
/// server is captured with every certificate variant, and `mimic run` of the captured file must give each backend
/// the verdict and findings the probe gave on the real server.
@Suite(
    "Capture real servers", .serialized,
    .enabled(if: InteropServers.enabled, "MIMIC_SKIP_INTEROP=1 skips the interop tier"))
struct CaptureRealServerTests {
    static let profiles = ["good", "expired-leaf", "missing-intermediate", "wrong-host"]

    @Test("each real server captured and replayed, per backend", arguments: 0..<profiles.count)
    func captureAndReplay(index: Int) async throws {
        let profile = Self.profiles[index]
        try InteropServers.install()
        let base = try PrivateDirectory.make(prefix: "mimic-capture-interop")
        defer { try? FileManager.default.removeItem(at: base) }
        // The servers' own unprivileged users must reach the files.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: base.path)
        let certificates = base.appendingPathComponent("certs")
        let minted = try Fixtures.factory.mint(profile: profile)
        try minted.write(to: certificates)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: certificates.path)
        let servers = try InteropServers.start(
            certificates: certificates, run: base.appendingPathComponent("run"), basePort: 25_000 + index * 100)
        defer {
            if let failure = servers.stop() { Issue.record(Comment(rawValue: failure)) }
        }
        #expect(servers.services.count == 11, "services: \(servers.services)")

        var options = ProbeOptions(trustAnchors: minted.anchors, deadlines: ProbeDeadlines(timeout: 10))
        options.checkResumption = true
        let runner = ScenarioRunner(factory: Fixtures.factory, concurrency: 4, defaultTimeout: .seconds(10))
        var captured: [Scenario] = []
        var real: [String: [ProbeReport]] = [:]
        for service in servers.services {
            let serviceProtocol = try #require(ServiceProtocol(rawValue: service.serviceProtocol))
            let mode = try #require(TLSMode(rawValue: service.mode))
            let target = ProbeTarget(
                host: "127.0.0.1", port: service.port, serviceProtocol: serviceProtocol, mode: mode,
                serverName: minted.hostname)
            let id = "\(profile)/\(serviceProtocol.rawValue)/\(mode.rawValue)"
            let reports = await Prober().probe(target, options: options)
            let capture = try ScenarioCapture.build(
                reports: reports, target: target, options: .init(url: "\(serviceProtocol)://127.0.0.1:\(service.port)"))
            // Dovecot and slapd as configured here resume no session; the mock always can, so that one is a
            // warning (and a comment in the file), never dropped. Nothing else may be lost.
            let resumption = "the server did not resume a TLS session on a second connection; the mock always can"
            #expect(capture.warnings.filter { $0 != resumption } == [], "\(id): \(capture.warnings)")
            let resumed = reports.compactMap(\.resumption)
            #expect(resumed.count == reports.count, "\(id): every backend's resumption check ran")
            #expect(
                capture.warnings.contains(resumption) == resumed.contains(false)
                    && capture.yaml.contains(resumed.contains(false) ? "does not resume sessions" : "resumes sessions"),
                "\(id): the resumption check is recorded")
            if let dump = ProcessInfo.processInfo.environment["MIMIC_CAPTURE_DUMP"] {
                let name = id.replacingOccurrences(of: "/", with: "_")
                try? capture.yaml.write(toFile: "\(dump)/real_\(name).yaml", atomically: true, encoding: .utf8)
            }
            var scenarios = try ScenarioLoader().load(yaml: capture.yaml, file: "\(id).yaml")
            #expect(scenarios.count == 1)
            scenarios[0].id = id
            captured += scenarios
            real[id] = reports
        }
        let (prepared, errors) = runner.prepare(captured)
        #expect(errors.map(\.description) == [])
        let run = await runner.run(prepared)
        #expect(run.outcomes.count == servers.services.count)
        for outcome in run.outcomes {
            let reports = try #require(real[outcome.id])
            for backend in outcome.backends {
                let original = try #require(reports.first { $0.backend == backend.backend })
                let same = Set(backend.foundVerdict) == Set(original.verdict.codes)
                    && backend.foundSeverity == original.severity
                let detail = "real server \(original.verdict.codes) \(original.severity), captured scenario "
                    + "\(backend.foundVerdict) \(backend.foundSeverity)"
                #expect(same, "\(outcome.id) via \(backend.backend): \(detail)")
            }
            #expect(outcome.passed, "\(outcome.id): \(outcome.error ?? outcome.backends.map(\.summary).joined(separator: "; "))")
        }
    }
}
