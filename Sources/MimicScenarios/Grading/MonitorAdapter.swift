import MimicCore

/// How to run one monitor against one scenario's mock and read its answer: a file in `monitors/`
/// (format in `monitors/README.md`), loaded by `MonitorAdapterLoader`.
public struct MonitorAdapter: Sendable, Hashable {
    public var name: String
    public var summary: String
    /// The adapter file, for messages.
    public var file: String
    /// The adapter file's folder: `{adapter_dir}`.
    public var directory: String
    /// Folders put before `PATH` for every command.
    public var path: [Template]
    /// Programs that must be found before anything starts.
    public var requires: [String]
    public var version: Command?
    public var timeout: Duration
    public var concurrency: Int
    public var severity: SeverityMatch
    public var environment: [String: Template]
    public var answer: AnswerReader
    public var setup: [Command]
    public var service: Service?
    public var teardown: [Command]
    public var cases: [Case]

    /// `at_least`: a worse state than the one required still counts as caught; `exact`: only that state.
    public enum SeverityMatch: String, Sendable, Hashable, CaseIterable {
        case atLeast = "at_least"
        case exact
    }

    /// A program and its arguments, placeholders unexpanded; with `shell`, one script for `/bin/sh -c`.
    public struct Command: Sendable, Hashable {
        public var argv: [Template]
        public var shell: Bool
        public var location: SourceLocation
    }

    /// A long-running helper (an exporter) started after setup and stopped at the end.
    public struct Service: Sendable, Hashable {
        public var command: Command
        /// A loopback port that accepts once the service is ready.
        public var waitForPort: Template?
    }

    public struct Case: Sendable, Hashable {
        /// nil matches any.
        public var protocols: Set<ServiceProtocol>?
        public var modes: Set<TLSMode>?
        /// Scenario tags (`when: { tag: enumeration }`): the case matches a scenario carrying any of them; nil any.
        public var tags: Set<String>? = nil
        public var action: Action
        public var answer: AnswerReader?
        public var location: SourceLocation

        public func matches(_ serviceProtocol: ServiceProtocol, _ mode: TLSMode) -> Bool {
            (protocols?.contains(serviceProtocol) ?? true) && (modes?.contains(mode) ?? true)
        }

        public func matches(_ serviceProtocol: ServiceProtocol, _ mode: TLSMode, tags scenarioTags: [String]) -> Bool {
            matches(serviceProtocol, mode) && (tags.map { !$0.isDisjoint(with: scenarioTags) } ?? true)
        }
    }

    public enum Action: Sendable, Hashable {
        case run(Command)
        /// An HTTP GET on loopback (an exporter's probe endpoint).
        case http(Template)
        /// The monitor cannot test this combination, and why.
        case unsupported(String)
    }

    /// The case for a scenario's protocol and monitor mode, or nil: not applicable.
    public func action(for serviceProtocol: ServiceProtocol, mode: TLSMode) -> Case? {
        cases.first { $0.matches(serviceProtocol, mode) }
    }

    /// The case for a scenario's protocol, monitor mode and tags, or nil: not applicable.
    public func action(for serviceProtocol: ServiceProtocol, mode: TLSMode, tags: [String]) -> Case? {
        cases.first { $0.matches(serviceProtocol, mode, tags: tags) }
    }

    /// Every placeholder a template may name.
    public static let placeholders: Set<String> = [
        "host", "port", "url", "scheme", "servername", "cafile", "protocol", "mode", "id",
        "workdir", "manifest", "hosts_file", "service_port", "adapter_dir",
    ]
    /// Those that exist only for one scenario: not in setup, service or teardown.
    public static let scenarioPlaceholders: Set<String> = [
        "host", "port", "url", "scheme", "servername", "protocol", "mode", "id",
    ]
}

/// How a run's result becomes a state.
public enum AnswerReader: Sendable, Hashable {
    /// Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; anything else an error.
    case nagios
    /// Exit code → state; `other` for the rest.
    case exit([Int32: Reading], other: Reading)
    /// The first regular expression that matches the output decides.
    case patterns([Pattern], otherwise: Reading)
    /// The value at a path of the JSON output.
    case json(path: [JSONPathStep], map: [String: Reading], otherwise: Reading)
    /// The first sample of a Prometheus text-format metric.
    case prometheus(metric: String, map: [String: Reading])

    public struct Pattern: Sendable, Hashable {
        public var regex: String
        public var reading: Reading

        public init(regex: String, reading: Reading) {
            self.regex = regex
            self.reading = reading
        }
    }

    public enum JSONPathStep: Sendable, Hashable {
        case key(String)
        case index(Int)
    }
}

/// What a monitor's answer says: a state, or that it said nothing readable.
public enum Reading: Sendable, Hashable, CustomStringConvertible {
    case state(Severity)
    case error

    public static let names: [(String, Reading)] = [
        ("ok", .state(.ok)), ("warning", .state(.warning)), ("critical", .state(.critical)),
        ("unknown", .state(.unknown)), ("error", .error),
    ]

    public var description: String {
        switch self {
        case .state(let severity): severity.rawValue
        case .error: "error"
        }
    }
}
