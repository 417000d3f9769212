import Foundation
import MimicCore

/// Everything a zoo serves, for a monitor's author or a grading harness: `mimic serve --manifest FILE`.
///
/// JSON with snake_case keys; `monitors/manifest.schema.json` is its schema. `mimic grade --zoo FILE` reads one back
/// to grade against a zoo that is already running.
public struct ZooManifest: Sendable, Codable, Hashable {
    /// The format's version: 1.
    public var format: Int
    public var mimicVersion: String
    /// When the zoo started (ISO 8601, UTC).
    public var started: String
    /// The one CA file that covers every scenario.
    public var cafile: String
    /// Hosts lines for the scenarios' server names, when written.
    public var hostsFile: String?
    public var scenarios: [Entry]

    public struct Entry: Sendable, Codable, Hashable {
        public var id: String
        public var summary: String
        public var tags: [String]
        public var fieldFailure: String?
        /// `file:line:column` of the scenario's definition.
        public var source: String
        public var `protocol`: ServiceProtocol
        /// The mode a monitor is to check in (the probe's): `implicit` or `starttls`.
        public var mode: TLSMode
        /// What the server really does (`none` for a plaintext-only server).
        public var serverMode: TLSMode
        /// The TLS library the mock serves with.
        public var serverBackend: TLSBackend
        public var host: String
        public var port: Int
        /// `submission://127.0.0.1:40587`.
        public var url: String
        /// The name the certificate is for: the SNI to send and the name to verify.
        public var servername: String
        public var cafile: String
        /// The probe's verdict, with the probe options it depends on.
        public var probe: Probe
        /// What a monitor must report.
        public var monitor: Monitor
    }

    public struct Probe: Sendable, Codable, Hashable {
        public var verdict: [FindingCode]
        public var severity: Severity
        /// Per-backend expectations where a backend's differs from the common one.
        public var backends: [String: BackendExpectation]
        public var divergence: String?
        /// The options the probe's verdict holds for.
        public var options: Options
    }

    public struct BackendExpectation: Sendable, Codable, Hashable {
        public var verdict: [FindingCode]
        public var severity: Severity
    }

    public struct Options: Sendable, Codable, Hashable {
        public var backends: [TLSBackend]
        public var mode: TLSMode
        /// Seconds per phase; nil is the runner's default.
        public var timeout: Double?
        public var starttlsAnyway: Bool
    }

    public struct Monitor: Sendable, Codable, Hashable {
        public var expect: MonitorExpectation
        /// `must not report OK`.
        public var rule: String
        /// Why: set in the file, or which derivation rule applied.
        public var reason: String
    }

    public static let currentFormat = 1

    public init(
        format: Int, mimicVersion: String, started: String, cafile: String, hostsFile: String?, scenarios: [Entry]
    ) {
        self.format = format
        self.mimicVersion = mimicVersion
        self.started = started
        self.cafile = cafile
        self.hostsFile = hostsFile
        self.scenarios = scenarios
    }

    public init(served: [ServedScenario], hostsFile: URL?, started: Date = Date()) {
        format = Self.currentFormat
        mimicVersion = MimicVersion.string
        self.started = ISO8601DateFormatter().string(from: started)
        cafile = served.first?.caFile.path ?? ""
        self.hostsFile = hostsFile?.path
        scenarios = served.map(Entry.init)
    }

    /// JSON, keys sorted, so that two manifests of the same zoo differ only where the zoo does.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self), let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }
}

extension ZooManifest.Entry {
    init(_ served: ServedScenario) {
        let scenario = served.scenario
        let expect = scenario.expect
        var backends: [String: ZooManifest.BackendExpectation] = [:]
        for backend in scenario.probe.client.backends {
            let (verdict, severity) = expect.expected(for: backend)
            if verdict != Set(expect.verdict) || severity != expect.severity {
                backends[backend.rawValue] = .init(verdict: Array(verdict).sortedByName(), severity: severity)
            }
        }
        let monitor = scenario.monitorExpectation
        self.init(
            id: scenario.id,
            summary: scenario.summary,
            tags: scenario.tags,
            fieldFailure: scenario.fieldFailure,
            source: scenario.source.description,
            protocol: scenario.server.serviceProtocol,
            mode: served.monitorMode,
            serverMode: scenario.server.mode,
            serverBackend: scenario.server.backend,
            host: served.connectHost,
            port: served.mock.port,
            url: served.url,
            servername: served.prepared.serverName,
            cafile: served.caFile.path,
            probe: ZooManifest.Probe(
                verdict: expect.verdict.sortedByName(),
                severity: expect.severity,
                backends: backends,
                divergence: expect.divergence,
                options: ZooManifest.Options(
                    backends: scenario.probe.client.backends,
                    mode: served.prepared.probeMode,
                    timeout: scenario.probe.timeout?.seconds,
                    starttlsAnyway: scenario.probe.client.tryStartTLSAnyway)),
            monitor: ZooManifest.Monitor(expect: monitor.expect, rule: monitor.expect.rule, reason: monitor.reason))
    }
}
