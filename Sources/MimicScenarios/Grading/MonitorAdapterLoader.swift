import Foundation
import MimicCore
import Yams

/// Reads a monitor adapter file (`monitors/*.yaml`) with the scenario files' discipline: every error is
/// `file:line:column: field.path: message`, and a file with any error starts nothing.
public struct MonitorAdapterLoader: Sendable {
    static let topKeys = [
        "name", "summary", "path", "requires", "version", "timeout", "concurrency", "severity", "env", "answer",
        "setup", "service", "teardown", "cases",
    ]
    static let commandKeys = ["argv", "shell"]
    static let serviceKeys = ["argv", "shell", "wait_for_port"]
    static let caseKeys = ["when", "argv", "shell", "http", "unsupported", "answer"]
    static let whenKeys = ["protocol", "mode", "tag"]
    static let answerKeys = ["nagios", "exit", "patterns", "json", "prometheus", "otherwise"]
    static let patternKeys = ["regex", "severity"]

    /// An upper bound on a monitor's run: a longer one is a typo, and grading hundreds of scenarios must end.
    public static let maximumTimeout: Duration = .seconds(600)

    public init() {}

    public func load(file: URL) throws(ScenarioError) -> MonitorAdapter {
        let name = ScenarioLoader.displayName(of: file)
        let text = try ScenarioLoader.readText(of: file, what: "adapter files")
        let directory = file.deletingLastPathComponent().path
        return try load(yaml: text, file: name, directory: directory.isEmpty ? "." : directory)
    }

    public func load(yaml: String, file: String, directory: String) throws(ScenarioError) -> MonitorAdapter {
        let node = try ScenarioLoader.compose(
            yaml, file: file, what: "adapter files",
            emptyMessage: "empty file: an adapter needs at least name, summary and cases")
        let root = YAMLValue(node: node, path: "", file: file)
        guard case .mapping = node else {
            throw root.error(
                "an adapter file must be a mapping of keys (name, summary, cases, …), got \(root.kindDescription)")
        }
        let top = try root.mapping(allowed: Self.topKeys)
        let nameValue = try top.required("name")
        let name = try nameValue.nonEmptyString()
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) else {
            throw nameValue.error("a name may contain only letters, digits and _ . -")
        }
        let summary = try top.required("summary").nonEmptyString()
        let global = MonitorAdapter.placeholders.subtracting(MonitorAdapter.scenarioPlaceholders)
        let path = try (top["path"]?.list() ?? []).map { (item) throws(ScenarioError) in
            try template(item, allowed: global)
        }
        let requires = try top["requires"]?.stringList() ?? []
        let version = try top["version"].map { (value) throws(ScenarioError) in try command(value, allowed: global) }
        var timeout: Duration = .seconds(30)
        if let value = top["timeout"] {
            timeout = try value.duration()
            guard timeout > .zero, timeout <= Self.maximumTimeout else {
                throw value.error("a timeout must be longer than zero and at most 600s")
            }
        }
        let concurrency = try top["concurrency"]?.int(in: 1...64) ?? 4
        let severity =
            try top["severity"]?.enumValue(MonitorAdapter.SeverityMatch.self, what: "severity match") ?? .atLeast
        var environment: [String: Template] = [:]
        if let env = top["env"] {
            for entry in try env.mapping(allowed: []).entries {
                guard entry.key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
                    !(entry.key.first?.isNumber ?? true)
                else {
                    throw entry.value.error("'\(entry.key)' is not an environment variable name")
                }
                environment[entry.key] = try template(entry.value, allowed: MonitorAdapter.placeholders)
            }
        }
        let answer = try top["answer"].map { (value) throws(ScenarioError) in try self.answer(value) } ?? .nagios
        let setup = try (top["setup"]?.list() ?? []).map { (item) throws(ScenarioError) in
            try command(item, allowed: global)
        }
        let teardown = try (top["teardown"]?.list() ?? []).map { (item) throws(ScenarioError) in
            try command(item, allowed: global)
        }
        var service: MonitorAdapter.Service?
        if let value = top["service"] {
            let mapping = try value.mapping(allowed: Self.serviceKeys)
            let command = try command(value, allowed: global, mapping: mapping)
            let wait = try mapping["wait_for_port"].map { (value) throws(ScenarioError) in
                try template(value, allowed: global, acceptingNumbers: true)
            }
            service = MonitorAdapter.Service(command: command, waitForPort: wait)
        }
        let casesValue = try top.required("cases")
        let items = try casesValue.list()
        guard !items.isEmpty else { throw casesValue.error("list at least one case") }
        var cases: [MonitorAdapter.Case] = []
        for item in items { cases.append(try decodeCase(item, hasService: service != nil)) }
        if !cases.contains(where: { if case .unsupported = $0.action { false } else { true } }) {
            throw casesValue.error("every case is unsupported: the monitor would test nothing")
        }
        return MonitorAdapter(
            name: name, summary: summary, file: file, directory: directory, path: path, requires: requires,
            version: version, timeout: timeout, concurrency: concurrency, severity: severity,
            environment: environment, answer: answer, setup: setup, service: service, teardown: teardown,
            cases: cases)
    }

    // MARK: - Pieces

    private func template(
        _ value: YAMLValue, allowed: Set<String>, acceptingNumbers: Bool = false
    ) throws(ScenarioError) -> Template {
        let text = try value.string(acceptingNumbers: true)
        do {
            return try Template(text, allowed: allowed)
        } catch {
            let scenarioOnly = MonitorAdapter.scenarioPlaceholders
            if !allowed.isSuperset(of: scenarioOnly),
                let name = scenarioOnly.first(where: { text.contains("{\($0)}") })
            {
                throw value.error("{\(name)} names one scenario; setup, service, teardown and path run once for all")
            }
            throw value.error(error.message)
        }
    }

    /// `[prog, arg, …]`, or `{ argv: [...], shell: true }`.
    private func command(
        _ value: YAMLValue, allowed: Set<String>, mapping known: YAMLMapping? = nil
    ) throws(ScenarioError) -> MonitorAdapter.Command {
        if case .sequence = value.node {
            return MonitorAdapter.Command(
                argv: try argv(value, allowed: allowed), shell: false, location: value.location)
        }
        let mapping: YAMLMapping
        if let known {
            mapping = known
        } else {
            mapping = try value.mapping(allowed: Self.commandKeys)
        }
        let argvValue = try mapping.required("argv")
        let shell = try mapping["shell"]?.bool() ?? false
        let arguments = try argv(argvValue, allowed: allowed)
        if shell, arguments.count != 1 {
            throw argvValue.error("with shell: true, argv is one script for /bin/sh -c")
        }
        return MonitorAdapter.Command(argv: arguments, shell: shell, location: value.location)
    }

    private func argv(_ value: YAMLValue, allowed: Set<String>) throws(ScenarioError) -> [Template] {
        let items = try value.list()
        guard !items.isEmpty else { throw value.error("argv needs at least the program") }
        var result: [Template] = []
        for item in items { result.append(try template(item, allowed: allowed, acceptingNumbers: true)) }
        if result[0].text.isEmpty { throw items[0].error("the program must not be empty") }
        return result
    }

    private func decodeCase(_ value: YAMLValue, hasService: Bool) throws(ScenarioError) -> MonitorAdapter.Case {
        let mapping = try value.mapping(allowed: Self.caseKeys)
        var protocols: Set<ServiceProtocol>?
        var modes: Set<TLSMode>?
        var tags: Set<String>?
        if let when = mapping["when"] {
            let inner = try when.mapping(allowed: Self.whenKeys)
            if let value = inner["tag"] {
                var set: Set<String> = []
                for item in value.listOrSingle() { set.insert(try item.nonEmptyString()) }
                tags = set
            }
            if let value = inner["protocol"] {
                var set: Set<ServiceProtocol> = []
                for item in value.listOrSingle() {
                    set.insert(try item.enumValue(ServiceProtocol.self, what: "protocol"))
                }
                protocols = set
            }
            if let value = inner["mode"] {
                var set: Set<TLSMode> = []
                for item in value.listOrSingle() {
                    if (try? item.string()) == "none" {
                        throw item.error(
                            "a monitor checks implicit or starttls; a plaintext-only server is checked in starttls mode"
                        )
                    }
                    let mode = try item.oneOf([("implicit", TLSMode.implicit), ("starttls", .startTLS)], what: "mode")
                    set.insert(mode)
                }
                modes = set
            }
        }
        let actions = ["argv", "http", "unsupported"].filter { mapping.has($0) }
        guard actions.count == 1 else {
            throw value.error(
                actions.isEmpty
                    ? "a case needs one of argv, http or unsupported"
                    : "a case takes one of argv, http or unsupported, not \(actions.joined(separator: " and "))")
        }
        let action: MonitorAdapter.Action
        switch actions[0] {
        case "argv":
            let argvValue = try mapping.required("argv")
            let shell = try mapping["shell"]?.bool() ?? false
            let arguments = try argv(argvValue, allowed: MonitorAdapter.placeholders)
            if shell, arguments.count != 1 {
                throw argvValue.error("with shell: true, argv is one script for /bin/sh -c")
            }
            action = .run(MonitorAdapter.Command(argv: arguments, shell: shell, location: argvValue.location))
        case "http":
            let urlValue = try mapping.required("http")
            let url = try template(urlValue, allowed: MonitorAdapter.placeholders)
            guard url.text.hasPrefix("http://") else {
                throw urlValue.error("an http case is a GET on a loopback address: http://127.0.0.1:PORT/…")
            }
            if mapping.has("shell") { throw value.error("shell applies to argv only") }
            action = .http(url)
        default:
            action = .unsupported(try mapping.required("unsupported").nonEmptyString())
            if mapping.has("answer") || mapping.has("shell") {
                throw value.error("an unsupported case runs nothing: no answer or shell")
            }
        }
        let answer = try mapping["answer"].map { (value) throws(ScenarioError) in try self.answer(value) }
        var decoded = MonitorAdapter.Case(
            protocols: protocols, modes: modes, action: action, answer: answer, location: value.location)
        decoded.tags = tags
        return decoded
    }

    private func answer(_ value: YAMLValue) throws(ScenarioError) -> AnswerReader {
        let mapping = try value.mapping(allowed: Self.answerKeys)
        let readers = mapping.entries.filter { $0.key != "otherwise" }
        guard readers.count == 1, let entry = readers.first else {
            throw value.error("give exactly one reader: nagios, exit, patterns, json or prometheus")
        }
        // `otherwise` beside `patterns` is the state when no pattern matches.
        if let otherwiseValue = mapping["otherwise"], entry.key != "patterns" {
            throw otherwiseValue.error("otherwise goes with patterns (json takes its own otherwise)")
        }
        let inner = entry.value
        switch entry.key {
        case "nagios":
            if case .mapping = inner.node {
                _ = try inner.mapping(allowed: ["none"])
                return .nagios
            }
            guard try inner.bool() else { throw inner.error("nagios: {} (or true) reads the exit code") }
            return .nagios
        case "exit":
            var map: [Int32: Reading] = [:]
            var other: Reading = .error
            for item in try inner.mapping(allowed: []).entries {
                let reading = try self.reading(item.value)
                if item.key == "other" {
                    other = reading
                } else if let code = Int32(item.key), (0...255).contains(code) {
                    map[code] = reading
                } else {
                    throw item.value.error("'\(item.key)' is not an exit code (0-255) or 'other'")
                }
            }
            return .exit(map, other: other)
        case "patterns":
            var patterns: [AnswerReader.Pattern] = []
            var otherwise: Reading = .error
            let list: [YAMLValue]
            if case .mapping = inner.node {
                let mapping = try inner.mapping(allowed: ["match", "otherwise"])
                list = try mapping.required("match").list()
                otherwise =
                    try mapping["otherwise"].map { (value) throws(ScenarioError) in try reading(value) } ?? .error
            } else {
                list = try inner.list()
                otherwise =
                    try mapping["otherwise"].map { (value) throws(ScenarioError) in try reading(value) } ?? .error
            }
            guard !list.isEmpty else { throw inner.error("list at least one pattern") }
            for item in list {
                let pattern = try item.mapping(allowed: Self.patternKeys)
                let regexValue = try pattern.required("regex")
                let regex = try regexValue.nonEmptyString()
                guard (try? NSRegularExpression(pattern: regex, options: [.anchorsMatchLines])) != nil else {
                    throw regexValue.error("not a valid regular expression: \(regex)")
                }
                patterns.append(.init(regex: regex, reading: try reading(try pattern.required("severity"))))
            }
            return .patterns(patterns, otherwise: otherwise)
        case "json":
            let mapping = try inner.mapping(allowed: ["path", "map", "otherwise"])
            let pathValue = try mapping.required("path")
            let path = try jsonPath(try pathValue.nonEmptyString(), at: pathValue)
            var map: [String: Reading] = [:]
            for item in try mapping.required("map").mapping(allowed: []).entries {
                map[item.key] = try reading(item.value)
            }
            let otherwise =
                try mapping["otherwise"].map { (value) throws(ScenarioError) in try reading(value) } ?? .error
            return .json(path: path, map: map, otherwise: otherwise)
        default:
            let mapping = try inner.mapping(allowed: ["metric", "map"])
            let metricValue = try mapping.required("metric")
            let metric = try metricValue.nonEmptyString()
            guard metric.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_:".contains($0)) }) else {
                throw metricValue.error("not a Prometheus metric name")
            }
            var map: [String: Reading] = [:]
            for item in try mapping.required("map").mapping(allowed: []).entries {
                map[item.key] = try reading(item.value)
            }
            return .prometheus(metric: metric, map: map)
        }
    }

    private func reading(_ value: YAMLValue) throws(ScenarioError) -> Reading {
        try value.oneOf(Reading.names, what: "reading")
    }

    /// `a.b[0].c`, `server_scan_results[0].scan_status`.
    private func jsonPath(_ text: String, at value: YAMLValue) throws(ScenarioError) -> [AnswerReader.JSONPathStep] {
        var steps: [AnswerReader.JSONPathStep] = []
        for segment in text.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(segment)
            let keyEnd = rest.firstIndex(of: "[") ?? rest.endIndex
            let key = rest[..<keyEnd]
            if !key.isEmpty { steps.append(.key(String(key))) }
            rest = rest[keyEnd...]
            while !rest.isEmpty {
                guard rest.first == "[", let close = rest.firstIndex(of: "]"),
                    let index = Int(rest[rest.index(after: rest.startIndex)..<close]), index >= 0
                else { throw value.error("bad JSON path '\(text)' (expected keys and [index]: a.b[0].c)") }
                steps.append(.index(index))
                rest = rest[rest.index(after: close)...]
            }
            if key.isEmpty, steps.isEmpty { throw value.error("bad JSON path '\(text)'") }
        }
        return steps
    }
}
