import Foundation
import MimicCore

extension ZooManifest {
    /// Reads a manifest (`mimic grade --zoo FILE`) with the scenario files' discipline: an unknown key, a wrong type
    /// or a missing field is `file:line:column: path: message`. JSON is read as the YAML it also is, so that every
    /// value keeps its position.
    public static func read(_ file: URL) throws(ScenarioError) -> ZooManifest {
        let name = ScenarioLoader.displayName(of: file)
        let text = try ScenarioLoader.readText(of: file, what: "manifests")
        let node = try ScenarioLoader.compose(text, file: name, what: "manifests", emptyMessage: "empty manifest")
        let root = YAMLValue(node: node, path: "", file: name)
        let top = try root.mapping(allowed: ["format", "mimic_version", "started", "cafile", "hosts_file", "scenarios"])
        let formatValue = try top.required("format")
        let format = try formatValue.int(in: 1...1000)
        guard format == currentFormat else {
            throw formatValue.error("manifest format \(format); this mimic reads format \(currentFormat)")
        }
        var entries: [Entry] = []
        for item in try top.required("scenarios").list() { entries.append(try entry(item)) }
        return ZooManifest(
            format: format, mimicVersion: try top.required("mimic_version").string(),
            started: try top.required("started").string(), cafile: try top.required("cafile").nonEmptyString(),
            hostsFile: try top["hosts_file"]?.string(), scenarios: entries)
    }

    private static func entry(_ value: YAMLValue) throws(ScenarioError) -> Entry {
        let keys = [
            "id", "summary", "tags", "field_failure", "source", "protocol", "mode", "server_mode", "server_backend",
            "host", "port", "url", "servername", "cafile", "probe", "monitor",
        ]
        let mapping = try value.mapping(allowed: keys)
        let hostValue = try mapping.required("host")
        let host = try hostValue.nonEmptyString()
        guard host.hasPrefix("127.") || host == "::1" || host == "localhost" else {
            throw hostValue.error("grading talks to loopback addresses only, not '\(host)'")
        }
        let probe = try mapping.required("probe").mapping(allowed: [
            "verdict", "severity", "backends", "divergence", "options",
        ])
        var backends: [String: BackendExpectation] = [:]
        if let value = probe["backends"] {
            for item in try value.mapping(allowed: TLSBackend.allCases.map(\.rawValue)).entries {
                let inner = try item.value.mapping(allowed: ["verdict", "severity"])
                backends[item.key] = BackendExpectation(
                    verdict: try codes(try inner.required("verdict")),
                    severity: try severity(try inner.required("severity")))
            }
        }
        let options = try probe.required("options").mapping(allowed: ["backends", "mode", "timeout", "starttls_anyway"])
        var probeBackends: [TLSBackend] = []
        for item in try options.required("backends").list() {
            probeBackends.append(try item.enumValue(TLSBackend.self, what: "backend"))
        }
        var timeout: Double?
        if let value = options["timeout"] {
            guard let number = value.node.float ?? value.node.int.map(Double.init) else {
                throw value.error("expected seconds as a number")
            }
            timeout = number
        }
        let monitor = try mapping.required("monitor").mapping(allowed: ["expect", "rule", "reason"])
        let portValue = try mapping.required("port")
        return Entry(
            id: try mapping.required("id").nonEmptyString(),
            summary: try mapping.required("summary").string(),
            tags: try mapping["tags"].map { (value) throws(ScenarioError) in
                try value.list().map { (item) throws(ScenarioError) in try item.string() }
            } ?? [],
            fieldFailure: try mapping["field_failure"]?.string(),
            source: try mapping.required("source").string(),
            protocol: try mapping.required("protocol").enumValue(ServiceProtocol.self, what: "protocol"),
            mode: try mode(try mapping.required("mode")),
            serverMode: try mode(try mapping.required("server_mode")),
            serverBackend: try mapping.required("server_backend").enumValue(TLSBackend.self, what: "backend"),
            host: host,
            port: try portValue.int(in: 1...65535),
            url: try mapping.required("url").nonEmptyString(),
            servername: try mapping.required("servername").nonEmptyString(),
            cafile: try mapping.required("cafile").nonEmptyString(),
            probe: Probe(
                verdict: try codes(try probe.required("verdict")),
                severity: try severity(try probe.required("severity")),
                backends: backends,
                divergence: try probe["divergence"]?.string(),
                options: Options(
                    backends: probeBackends, mode: try mode(try options.required("mode")), timeout: timeout,
                    starttlsAnyway: try options["starttls_anyway"]?.bool() ?? false)),
            monitor: Monitor(
                expect: try monitor.required("expect").enumValue(MonitorExpectation.self, what: "monitor expectation"),
                rule: try monitor.required("rule").string(),
                reason: try monitor.required("reason").string()))
    }

    private static func mode(_ value: YAMLValue) throws(ScenarioError) -> TLSMode {
        try value.enumValue(TLSMode.self, what: "TLS mode")
    }

    private static func severity(_ value: YAMLValue) throws(ScenarioError) -> Severity {
        try value.enumValue(Severity.self, what: "severity")
    }

    private static func codes(_ value: YAMLValue) throws(ScenarioError) -> [FindingCode] {
        var result: [FindingCode] = []
        for item in try value.list() { result.append(try item.enumValue(FindingCode.self, what: "finding code")) }
        return result
    }
}
