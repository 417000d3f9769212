import Foundation
import MimicCore

/// A named chain from `certs/profiles/NAME.yaml`: what it is, the hostname a client checks, the chain spec, and
/// the verdict each TLS backend is expected to reach on it.
public struct ChainProfile: Sendable, Hashable {
    public static let defaultHostname = "mail.example.test"

    public let name: String
    public let summary: String
    /// The name a client checks against the certificate.
    public let hostname: String
    public let spec: ChainSpec
    public let expectation: Expectation
    /// The file it was loaded from, when it was.
    public let file: URL?

    /// What the backends should report, validating with hostname checking against the local CA (and any `trust:`
    /// anchors): `findings` for both, overridden per backend when they differ, with the reason.
    public struct Expectation: Sendable, Hashable {
        public var findings: [FindingCode]
        public var openssl: [FindingCode]?
        public var gnutls: [FindingCode]?
        /// Why the backends differ; required when their lists differ.
        public var divergence: String?

        public init(
            findings: [FindingCode],
            openssl: [FindingCode]? = nil,
            gnutls: [FindingCode]? = nil,
            divergence: String? = nil
        ) {
            self.findings = findings
            self.openssl = openssl
            self.gnutls = gnutls
            self.divergence = divergence
        }

        public func findings(for backend: TLSBackend) -> [FindingCode] {
            switch backend {
            case .openssl: openssl ?? findings
            case .gnutls: gnutls ?? findings
            }
        }
    }

    public init(
        name: String,
        summary: String,
        hostname: String = defaultHostname,
        spec: ChainSpec,
        expectation: Expectation = Expectation(findings: []),
        file: URL? = nil
    ) {
        self.name = name
        self.summary = summary
        self.hostname = hostname
        self.spec = spec
        self.expectation = expectation
        self.file = file
    }

    /// The findings `backend` is expected to report for this chain.
    public func expectedFindings(for backend: TLSBackend) -> [FindingCode] {
        expectation.findings(for: backend)
    }

    static let profileFieldNames = ["name", "summary", "hostname", "expect"]

    /// Parses a profile document; `name` is the file's base name, which a `name:` key (if any) must match.
    public static func parse(yaml: String, name: String, file: String? = nil) throws -> ChainProfile {
        let reader = SpecReader(file: file)
        let value = try SpecYAML.compose(yaml, file: file)
        let fields = try reader.fields(value, at: "", allowed: profileFieldNames + ChainSpec.fieldNames)
        if let declared = try reader.optionalString(fields["name"], at: "name"), declared != name {
            throw reader.error("name", "'\(declared)' does not match the file name '\(name)'")
        }
        guard let summary = try reader.optionalString(fields["summary"], at: "summary"), !summary.isEmpty else {
            throw reader.error("summary", "missing (one line saying what the chain is)", line: value.line)
        }
        let hostname = try reader.optionalString(fields["hostname"], at: "hostname") ?? defaultHostname
        guard !hostname.isEmpty, hostname.utf8.count <= 253, !hostname.contains(where: \.isWhitespace) else {
            throw reader.error("hostname", "bad hostname '\(hostname)'")
        }
        let spec = try ChainSpec(fields: fields, at: "", reader: reader)
        guard let expectValue = fields["expect"] else {
            throw reader.error("expect", "missing (expect: { findings: [...] })", line: value.line)
        }
        let expectation = try parseExpectation(expectValue, reader: reader)
        return ChainProfile(
            name: name,
            summary: summary,
            hostname: hostname,
            spec: spec,
            expectation: expectation,
            file: file.map { URL(fileURLWithPath: $0) }
        )
    }

    private static func parseExpectation(_ value: SpecValue, reader: SpecReader) throws -> Expectation {
        let fields = try reader.fields(value, at: "expect", allowed: ["findings", "openssl", "gnutls", "divergence"])
        func codes(_ key: String) throws -> [FindingCode]? {
            guard let list = fields[key] else { return nil }
            return try reader.list(list, at: "expect.\(key)") { element, path in
                try reader.enumValue(element, at: path, as: FindingCode.self)
            }
        }
        guard let findings = try codes("findings") else {
            throw reader.error("expect.findings", "missing (the findings both backends report; [] for none)")
        }
        let expectation = Expectation(
            findings: findings,
            openssl: try codes("openssl"),
            gnutls: try codes("gnutls"),
            divergence: try reader.optionalString(fields["divergence"], at: "expect.divergence")
        )
        let differ = Set(expectation.findings(for: .openssl)) != Set(expectation.findings(for: .gnutls))
        if differ, expectation.divergence?.isEmpty ?? true {
            throw reader.error("expect.divergence", "the backends' findings differ: say why in divergence")
        }
        return expectation
    }

    /// Loads `directory/NAME.yaml`. Names are restricted to lower-case letters, digits and dashes.
    public static func load(named name: String, in directory: URL) throws -> ChainProfile {
        guard isValidProfileName(name) else {
            throw ChainSpecError(field: "profile", message: "bad profile name '\(name)' (a-z, 0-9 and -)")
        }
        let url = directory.appendingPathComponent("\(name).yaml")
        guard let text = try FactoryFiles.readText(url) else {
            let known = (try? profileNames(in: directory)) ?? []
            throw ChainSpecError(
                field: "profile",
                message: "no profile '\(name)' in \(directory.path)"
                    + (known.isEmpty ? "" : " (known: \(known.joined(separator: ", ")))")
            )
        }
        return try parse(yaml: text, name: name, file: url.path)
    }

    /// The profile `NAME` as shipped with Mimic (`certs/profiles/NAME.yaml` compiled in), for in-memory factories.
    public static func builtIn(named name: String) throws -> ChainProfile {
        guard let text = BuiltInProfiles.texts[name] else {
            throw ChainSpecError(
                field: "profile",
                message: "no built-in profile '\(name)' (known: \(builtInNames.joined(separator: ", ")))")
        }
        return try parse(yaml: text, name: name, file: "built-in:\(name).yaml")
    }

    /// The names of the built-in profiles, sorted.
    public static var builtInNames: [String] { BuiltInProfiles.texts.keys.sorted() }

    /// Every profile in `directory`, sorted by name.
    public static func all(in directory: URL) throws -> [ChainProfile] {
        try profileNames(in: directory).map { try load(named: $0, in: directory) }
    }

    /// The names of the `*.yaml` files in `directory`, sorted.
    public static func profileNames(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yaml") }
            .map { String($0.dropLast(5)) }
            .filter(isValidProfileName)
            .sorted()
    }

    static func isValidProfileName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.first != "-"
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }
}
