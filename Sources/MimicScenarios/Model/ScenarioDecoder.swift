import MimicCerts
import MimicCore
import MimicTLS
import Yams

/// Turns one composed YAML document into scenarios: decodes every section, expands the matrix and rejects
/// combinations no mock could serve.
struct ScenarioDecoder {
    let file: String
    let knownProfiles: Set<String>?

    private typealias Keys = ScenarioKeys

    /// Decodes the document; a matrix yields one scenario per cell, in matrix order (protocol-major).
    func decode(_ node: Node) throws(ScenarioError) -> [Scenario] {
        let root = YAMLValue(node: node, path: "", file: file)
        guard case .mapping = node else {
            throw root.error(
                "a scenario file must be a mapping of keys (id, summary, server, …), got \(root.kindDescription)"
            )
        }
        let top = try root.mapping(allowed: Keys.Top.section.names)

        let idValue = try top.required(Keys.Top.id)
        let rawID = try idValue.nonEmptyString()
        try checkIDCharacters(rawID, at: idValue)
        let summaryValue = try top.required(Keys.Top.summary)
        let rawSummary = try summaryValue.nonEmptyString()

        let matrix = try top[Keys.Top.matrix].map { (value) throws(ScenarioError) in try decodeMatrix(value) }
        let serverValue = try top.required(Keys.Top.server)
        var serverSpec = ServerSpec(serviceProtocol: .smtp, mode: .none, backend: .openssl)
        let server = try serverValue.mapping(allowed: Keys.Server.section.names)
        let protocols = try dimension(
            server, key: Keys.Server.serviceProtocol.name, what: "protocol", matrix: matrix?.protocols)
        let modes = try dimension(server, key: Keys.Server.mode.name, what: "TLS mode", matrix: matrix?.modes)
        _ = try server.required(Keys.Server.backend)
        try Keys.Server.section.apply(server, into: &serverSpec)

        try checkPlaceholders(in: rawID, at: idValue, matrix: matrix, mustMentionAll: true)
        try checkPlaceholders(in: rawSummary, at: summaryValue, matrix: matrix, mustMentionAll: false)

        var template = Scenario(
            id: rawID, summary: rawSummary, server: serverSpec, expect: Expectation(verdict: []),
            source: idValue.location)
        template.locations = SourceMap(node: node, file: file)
        try Keys.Top.section.apply(top, into: &template)
        template.pki = try top[Keys.Top.pki].map { (value) throws(ScenarioError) in try decodePKI(value) }
        let network = try top[Keys.Top.network].map { (value) throws(ScenarioError) in try decodeNetwork(value) } ?? []
        template.network = network.map(\.fault)
        template.expect = try decodeExpectation(try top.required(Keys.Top.expect))

        var scenarios: [Scenario] = []
        for (serviceProtocol, protocolOrigin) in protocols {
            for (mode, modeOrigin) in modes {
                var scenario = template
                scenario.id = Self.substitute(rawID, serviceProtocol: serviceProtocol, mode: mode)
                scenario.summary = Self.substitute(rawSummary, serviceProtocol: serviceProtocol, mode: mode)
                scenario.server.serviceProtocol = serviceProtocol
                scenario.server.mode = mode
                scenario.matrixCell = matrix.map {
                    MatrixCell(
                        serviceProtocol: $0.protocols == nil ? nil : serviceProtocol,
                        mode: $0.modes == nil ? nil : mode
                    )
                }
                let validator = ScenarioValidator(
                    root: root,
                    protocolOrigin: protocolOrigin,
                    modeOrigin: modeOrigin,
                    faults: network,
                    cell: scenario.matrixCell
                )
                try validator.validate(scenario)
                scenarios.append(scenario)
            }
        }
        return scenarios
    }

    // MARK: - Identity and matrix

    private func checkIDCharacters(_ id: String, at value: YAMLValue) throws(ScenarioError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/{}")
        if let bad = id.first(where: { !allowed.contains($0) }) {
            throw value.error("id may contain only letters, digits and - _ . : / (found '\(bad)')")
        }
    }

    struct Matrix {
        let value: YAMLValue
        let protocols: [(ServiceProtocol, YAMLValue)]?
        let modes: [(TLSMode, YAMLValue)]?
    }

    private func decodeMatrix(_ value: YAMLValue) throws(ScenarioError) -> Matrix {
        let mapping = try value.mapping(allowed: Keys.Matrix.section.names)
        guard !mapping.entries.isEmpty else { throw value.error("a matrix needs a protocol and/or a tls list") }
        func axis<T: RawRepresentable & CaseIterable & Hashable>(
            _ key: String,
            _ type: T.Type,
            what: String
        ) throws(ScenarioError) -> [(T, YAMLValue)]? where T.RawValue == String {
            guard let list = mapping[key] else { return nil }
            let items = try list.list()
            guard !items.isEmpty else { throw list.error("a matrix list must not be empty") }
            var result: [(T, YAMLValue)] = []
            for item in items {
                let decoded = try item.enumValue(type, what: what)
                if result.contains(where: { $0.0 == decoded }) {
                    throw item.error("'\(decoded.rawValue)' appears twice in matrix.\(key)")
                }
                result.append((decoded, item))
            }
            return result
        }
        return Matrix(
            value: value,
            protocols: try axis(Keys.Matrix.serviceProtocol.name, ServiceProtocol.self, what: "protocol"),
            modes: try axis(Keys.Matrix.mode.name, TLSMode.self, what: "TLS mode")
        )
    }

    /// The values of one matrix dimension: from `matrix.<key>` when given, else the single `server.<key>`.
    private func dimension<T: RawRepresentable & CaseIterable>(
        _ server: YAMLMapping, key: String, what: String, matrix: [(T, YAMLValue)]?
    ) throws(ScenarioError) -> [(T, YAMLValue)] where T.RawValue == String {
        if let matrix {
            if let clash = server[key] {
                throw clash.error("set by matrix.\(key) as well; remove one of them")
            }
            return matrix
        }
        let value = try server.required(key)
        return [(try value.enumValue(T.self, what: what), value)]
    }

    private func checkPlaceholders(
        in text: String,
        at value: YAMLValue,
        matrix: Matrix?,
        mustMentionAll: Bool
    ) throws(ScenarioError) {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw value.error("unclosed '{' (placeholders are {protocol} and {tls})")
            }
            names.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        for name in names {
            switch name {
            case "protocol" where matrix?.protocols != nil, "tls" where matrix?.modes != nil:
                continue
            case "protocol", "tls":
                throw value.error("{\(name)} needs a matrix.\(name) list to take its values from")
            default:
                throw value.error("unknown placeholder {\(name)} (placeholders are {protocol} and {tls})")
            }
        }
        guard mustMentionAll, let matrix else { return }
        for (key, present) in [("protocol", matrix.protocols != nil), ("tls", matrix.modes != nil)]
        where present && !names.contains(key) {
            throw value.error("the id must contain {\(key)} so that every matrix cell gets a distinct id")
        }
    }

    static func substitute(_ text: String, serviceProtocol: ServiceProtocol, mode: TLSMode) -> String {
        text.replacingOccurrences(of: "{protocol}", with: serviceProtocol.rawValue)
            .replacingOccurrences(of: "{tls}", with: mode.rawValue)
    }

    // MARK: - pki

    private func decodePKI(_ value: YAMLValue) throws(ScenarioError) -> PKISpec {
        let mapping = try value.mapping(allowed: Keys.PKI.section.names)
        var main = try decodeChainSource(mapping, at: value)

        var sni: [String: ChainSource] = [:]
        if let sniValue = mapping[Keys.PKI.sni] {
            let entries = try sniValue.mapping(allowed: [])
            guard !entries.entries.isEmpty else { throw sniValue.error("an sni map needs at least one entry") }
            for entry in entries.entries {
                let source: ChainSource
                if case .mapping = entry.value.node {
                    let inner = try entry.value.mapping(allowed: [Keys.PKI.profile.name, Keys.PKI.chain.name])
                    guard let decoded = try decodeChainSource(inner, at: entry.value) else {
                        throw entry.value.error("give a profile or a chain")
                    }
                    source = decoded
                } else {
                    source = try profile(entry.value)
                }
                if entry.key == "default" {
                    if main != nil {
                        throw entry.value.error("the default chain is already given by pki.profile or pki.chain")
                    }
                    main = source
                } else {
                    sni[entry.key] = source
                }
            }
        }
        guard let chain = main else {
            throw value.error("missing required key 'profile' (or 'chain', or an sni 'default')")
        }
        var serve: [String]?
        if let serveValue = mapping[Keys.PKI.serve] {
            let names = try serveValue.stringList()
            guard !names.isEmpty else { throw serveValue.error("serve lists at least one certificate") }
            serve = names
        }
        return PKISpec(chain: chain, serve: serve, sni: sni)
    }

    /// `profile` or `chain` from a mapping, at most one of them.
    private func decodeChainSource(_ mapping: YAMLMapping, at value: YAMLValue) throws(ScenarioError) -> ChainSource? {
        switch (mapping[Keys.PKI.profile], mapping[Keys.PKI.chain]) {
        case (let profileValue?, nil):
            return try profile(profileValue)
        case (nil, let chainValue?):
            guard case .mapping = chainValue.node else {
                throw chainValue.error("expected a mapping (an inline chain spec), got \(chainValue.kindDescription)")
            }
            return .inline(InlineChain(spec: try inlineChain(chainValue), location: chainValue.location))
        case (_?, let chainValue?):
            throw chainValue.error("give either a profile or a chain, not both")
        case (nil, nil):
            return nil
        }
    }

    /// The chain spec in the factory's own format, read from the scenario's node: its lines are the file's, and an
    /// error points at the first value on the line the reader names.
    private func inlineChain(_ value: YAMLValue) throws(ScenarioError) -> ChainSpec {
        do {
            return try ChainSpec(node: value.node, file: nil, field: value.path)
        } catch let error as ChainSpecError {
            let line = error.line ?? value.location.line
            let column = Self.firstNode(in: value.node, depth: 0, onLine: line)?.mark?.column ?? 1
            throw ScenarioError(
                location: SourceLocation(file: file, line: line, column: column),
                path: error.field.isEmpty ? value.path : error.field, message: error.message)
        } catch {
            throw value.error("\(error)")
        }
    }

    /// Pre-order search; the loader has already bounded this file's tree, and the depth bound keeps it so.
    private static func firstNode(in node: Node, depth: Int, onLine line: Int) -> Node? {
        if node.mark?.line == line { return node }
        guard depth < 64 else { return nil }
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                if let found = firstNode(in: key, depth: depth + 1, onLine: line) { return found }
                if let found = firstNode(in: value, depth: depth + 1, onLine: line) { return found }
            }
        case .sequence(let sequence):
            for element in sequence {
                if let found = firstNode(in: element, depth: depth + 1, onLine: line) { return found }
            }
        case .scalar, .alias:
            break
        }
        return nil
    }

    private func profile(_ value: YAMLValue) throws(ScenarioError) -> ChainSource {
        let name = try value.nonEmptyString()
        if let knownProfiles, !knownProfiles.contains(name) {
            var message = "unknown profile '\(name)'"
            if let suggestion = EditDistance.suggestion(for: name, among: knownProfiles.sorted()) {
                message += " (did you mean '\(suggestion)'?)"
            } else if !knownProfiles.isEmpty {
                message += " (known: \(knownProfiles.sorted().joined(separator: ", ")))"
            }
            throw value.error(message)
        }
        return .profile(name, value.location)
    }

    // MARK: - network

    struct DecodedFault {
        let fault: NetworkFault
        let phaseOrigin: YAMLValue?
    }

    private func decodeNetwork(_ value: YAMLValue) throws(ScenarioError) -> [DecodedFault] {
        typealias Fault = Keys.Fault
        var faults: [DecodedFault] = []
        for item in try value.list() {
            let mapping = try item.mapping(allowed: Fault.section.names)
            let phaseValue = mapping[Fault.phase]
            let phase = try phaseValue?.enumValue(FaultPhase.self, what: "phase") ?? .any
            let kind = try mapping.required(Fault.kind).oneOf(Fault.kinds.map { ($0.name, $0) }, what: "fault kind")
            for entry in mapping.entries
            where ![Fault.phase.name, Fault.kind.name].contains(entry.key) && !kind.parameters.contains(entry.key) {
                let takes = kind.parameters.isEmpty ? "no parameters" : kind.parameters.joined(separator: ", ")
                throw entry.value.error("'\(entry.key)' does not apply to kind '\(kind.name)' (it takes \(takes))")
            }
            faults.append(DecodedFault(fault: NetworkFault(try kind.make(mapping), in: phase), phaseOrigin: phaseValue))
        }
        return faults
    }

    // MARK: - expect

    private func decodeExpectation(_ value: YAMLValue) throws(ScenarioError) -> Expectation {
        let mapping = try value.mapping(allowed: Keys.Expect.section.names)
        let verdict = try findingCodes(try mapping.required(Keys.Expect.verdict))
        let severity = try mapping[Keys.Expect.severity].map { (value) throws(ScenarioError) in try self.severity(value) }
        var overrides: [TLSBackend: Expectation.BackendOverride] = [:]
        if let backendsValue = mapping[Keys.Expect.backends] {
            let perBackend = try backendsValue.mapping(allowed: TLSBackend.allCases.map(\.rawValue))
            for entry in perBackend.entries {
                guard let backend = TLSBackend(rawValue: entry.key) else { continue }
                let inner = try entry.value.mapping(allowed: Keys.BackendExpect.section.names)
                guard !inner.entries.isEmpty else {
                    throw entry.value.error("give a verdict and/or a severity for \(backend)")
                }
                overrides[backend] = Expectation.BackendOverride(
                    verdict: try inner[Keys.BackendExpect.verdict].map { (value) throws(ScenarioError) in try findingCodes(value) },
                    severity: try inner[Keys.BackendExpect.severity].map { (value) throws(ScenarioError) in try self.severity(value) }
                )
            }
        }
        let divergence = try mapping[Keys.Expect.divergence]?.nonEmptyString()
        let monitor = try mapping[Keys.Expect.monitor]?.enumValue(MonitorExpectation.self, what: "monitor expectation")
        return Expectation(
            verdict: verdict, severity: severity, backends: overrides, divergence: divergence, monitor: monitor)
    }

    private func findingCodes(_ value: YAMLValue) throws(ScenarioError) -> [FindingCode] {
        var codes: [FindingCode] = []
        for item in try value.list() {
            let code = try item.enumValue(FindingCode.self, what: "finding code")
            guard !codes.contains(code) else { throw item.error("finding code '\(code)' appears twice") }
            codes.append(code)
        }
        return codes
    }

    private func severity(_ value: YAMLValue) throws(ScenarioError) -> Severity {
        try value.oneOf(Severity.allCases.map { ($0.rawValue.lowercased(), $0) }, what: "severity")
    }
}
