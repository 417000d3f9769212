import MimicCerts
import MimicCore
import MimicNet
import MimicTLS
import Yams

/// Turns one composed YAML document into scenarios: decodes every section, expands the matrix and rejects
/// combinations no mock could serve.
struct ScenarioDecoder {
    let file: String
    let knownProfiles: Set<String>?

    static let serverKeys = [
        "protocol", "tls", "backend", "address", "port", "max_connections", "idle_timeout", "close_after_connections",
    ]
    static let pkiKeys = ["profile", "chain", "serve", "sni"]
    static let tlsKeys = ["versions", "ciphers", "priority", "abort_with_alert", "close_mid_handshake", "server_order"]
    static let dialogKeys = [
        "greeting", "greeting_delay", "refuse_greeting", "capabilities", "starttls", "preauth", "ldap", "ftp",
        "line_endings", "implicit_speaks_plaintext", "starttls_speaks_tls",
    ]
    static let capabilityKeys = ["before_tls", "after_tls"]
    static let startTLSKeys = [
        "advertise", "reply", "ldap_result", "ldap_diagnostic", "transition", "inject_after_go_ahead",
    ]
    static let ldapKeys = ["long_form_lengths", "message_id", "notice_of_disconnection", "response_name"]
    static let ftpKeys = ["auth_tls", "auth_ssl", "data_channel", "pasv_address", "epsv"]
    static let faultKeys = ["phase", "kind", "ms", "bytes", "interval"]
    static let probeKeys = ["servername", "backends", "mode", "timeout", "starttls_anyway", "policy", "enumerate"]
    static let expectKeys = ["verdict", "severity", "backends", "divergence", "monitor"]
    static let backendExpectKeys = ["verdict", "severity"]
    static let matrixKeys = ["protocol", "tls"]

    /// Decodes the document; a matrix yields one scenario per cell, in matrix order (protocol-major).
    func decode(_ node: Node) throws(ScenarioError) -> [Scenario] {
        let root = YAMLValue(node: node, path: "", file: file)
        guard case .mapping = node else {
            throw root.error(
                "a scenario file must be a mapping of keys (id, summary, server, …), got \(root.kindDescription)"
            )
        }
        let top = try root.mapping(allowed: Scenario.topLevelKeys)

        let idValue = try top.required("id")
        let rawID = try idValue.nonEmptyString()
        try checkIDCharacters(rawID, at: idValue)
        let summaryValue = try top.required("summary")
        let rawSummary = try summaryValue.nonEmptyString()
        let tags = try top["tags"]?.stringList() ?? []
        let fieldFailure = try top["field_failure"]?.nonEmptyString(acceptingNumbers: true)

        let matrix = try top["matrix"].map { (value) throws(ScenarioError) in try decodeMatrix(value) }
        let serverValue = try top.required("server")
        let server = try serverValue.mapping(allowed: Self.serverKeys)
        let protocols = try dimension(
            server,
            key: "protocol",
            matrix: matrix?.protocols,
            matrixValue: matrix?.value
        ) { (value) throws(ScenarioError) in try value.enumValue(ServiceProtocol.self, what: "protocol") }
        let modes = try dimension(
            server,
            key: "tls",
            matrix: matrix?.modes,
            matrixValue: matrix?.value
        ) { (value) throws(ScenarioError) in try value.enumValue(TLSMode.self, what: "TLS mode") }
        let backend = try server.required("backend").enumValue(TLSBackend.self, what: "backend")
        let address =
            try server["address"].map { (value) throws(ScenarioError) in try listenAddress(value) }
            ?? ServerSpec.defaultAddress
        let port = try server["port"]?.int(in: 0...65535) ?? 0
        let maxConnections = try server["max_connections"]?.int(in: ServerSpec.maxConnectionsRange)
        let closeAfterConnections = try server["close_after_connections"]?.int(
            in: ServerSpec.closeAfterConnectionsRange)
        let idleTimeout = try server["idle_timeout"].map { (value) throws(ScenarioError) in try decodeIdleTimeout(value)
        }

        try checkPlaceholders(in: rawID, at: idValue, matrix: matrix, mustMentionAll: true)
        try checkPlaceholders(in: rawSummary, at: summaryValue, matrix: matrix, mustMentionAll: false)

        let pki = try top["pki"].map { (value) throws(ScenarioError) in try decodePKI(value) }
        let tls = try top["tls"].map { (value) throws(ScenarioError) in try decodeTLS(value) } ?? TLSSpec()
        let dialog = try top["dialog"].map { (value) throws(ScenarioError) in try decodeDialog(value) } ?? DialogSpec()
        let network = try top["network"].map { (value) throws(ScenarioError) in try decodeNetwork(value) } ?? []
        let probe = try top["probe"].map { (value) throws(ScenarioError) in try decodeProbe(value) } ?? ProbeSpec()
        let expect = try decodeExpectation(try top.required("expect"))

        var scenarios: [Scenario] = []
        for (serviceProtocol, protocolOrigin) in protocols {
            for (mode, modeOrigin) in modes {
                let cell =
                    matrix.map { _ in
                        MatrixCell(
                            serviceProtocol: matrix?.protocols == nil ? nil : serviceProtocol,
                            mode: matrix?.modes == nil ? nil : mode
                        )
                    }
                var serverSpec = ServerSpec(
                    serviceProtocol: serviceProtocol,
                    mode: mode,
                    backend: backend,
                    address: address,
                    port: port,
                    maxConnections: maxConnections,
                    idleTimeout: idleTimeout
                )
                serverSpec.closeAfterConnections = closeAfterConnections
                let scenario = Scenario(
                    id: Self.substitute(rawID, serviceProtocol: serviceProtocol, mode: mode),
                    summary: Self.substitute(rawSummary, serviceProtocol: serviceProtocol, mode: mode),
                    tags: tags,
                    fieldFailure: fieldFailure,
                    server: serverSpec,
                    pki: pki,
                    tls: tls,
                    dialog: dialog,
                    network: network.map(\.fault),
                    probe: probe,
                    expect: expect,
                    matrixCell: cell,
                    source: idValue.location
                )
                let validator = ScenarioValidator(
                    root: root,
                    protocolOrigin: protocolOrigin,
                    modeOrigin: modeOrigin,
                    faults: network,
                    cell: cell
                )
                try validator.validate(scenario)
                scenarios.append(scenario)
            }
        }
        return scenarios
    }

    /// Where the mock listens: an IP literal or `localhost`, checked here rather than when the bind fails.
    private func listenAddress(_ value: YAMLValue) throws(ScenarioError) -> String {
        let text = try value.nonEmptyString()
        if text == "localhost" { return text }
        guard IPAddress.parse(text) != nil, !text.hasPrefix("[") else {
            throw value.error(
                "'\(text.prefix(100))' is not an IP address to listen on: give an IPv4 or IPv6 literal "
                    + "(127.0.0.1, ::1) or localhost"
            )
        }
        return text
    }

    /// `server.idle_timeout`: a duration between a second and ten minutes (the mock's ceiling on any wait).
    private func decodeIdleTimeout(_ value: YAMLValue) throws(ScenarioError) -> Duration {
        let duration = try value.duration()
        let range = ServerSpec.idleTimeoutRange
        guard range.contains(duration) else {
            throw value.error("an idle timeout must be between 1s and 10m (600s), got '\(value.scalarText ?? "")'")
        }
        return duration
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
        let mapping = try value.mapping(allowed: Self.matrixKeys)
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
            protocols: try axis("protocol", ServiceProtocol.self, what: "protocol"),
            modes: try axis("tls", TLSMode.self, what: "TLS mode")
        )
    }

    /// The values of one matrix dimension: from `matrix.<key>` when given, else the single `server.<key>`.
    private func dimension<T>(
        _ server: YAMLMapping,
        key: String,
        matrix: [(T, YAMLValue)]?,
        matrixValue: YAMLValue?,
        decode: (YAMLValue) throws(ScenarioError) -> T
    ) throws(ScenarioError) -> [(T, YAMLValue)] {
        if let matrix {
            if let clash = server[key] {
                throw clash.error("set by matrix.\(key) as well; remove one of them")
            }
            return matrix
        }
        let value = try server.required(key)
        return [(try decode(value), value)]
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
        let mapping = try value.mapping(allowed: Self.pkiKeys)
        var main = try decodeChainSource(mapping, at: value)

        var sni: [String: ChainSource] = [:]
        if let sniValue = mapping["sni"] {
            let entries = try sniValue.mapping(allowed: [])
            guard !entries.entries.isEmpty else { throw sniValue.error("an sni map needs at least one entry") }
            for entry in entries.entries {
                let source: ChainSource
                if case .mapping = entry.value.node {
                    let inner = try entry.value.mapping(allowed: ["profile", "chain"])
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
        if let serveValue = mapping["serve"] {
            let names = try serveValue.stringList()
            guard !names.isEmpty else { throw serveValue.error("serve lists at least one certificate") }
            serve = names
        }
        return PKISpec(chain: chain, serve: serve, sni: sni)
    }

    /// `profile` or `chain` from a mapping, at most one of them.
    private func decodeChainSource(_ mapping: YAMLMapping, at value: YAMLValue) throws(ScenarioError) -> ChainSource? {
        switch (mapping["profile"], mapping["chain"]) {
        case (let profileValue?, nil):
            return try profile(profileValue)
        case (nil, let chainValue?):
            guard case .mapping = chainValue.node else {
                throw chainValue.error("expected a mapping (an inline chain spec), got \(chainValue.kindDescription)")
            }
            let yaml: String
            do {
                yaml = try Yams.serialize(node: chainValue.node, allowUnicode: true)
            } catch {
                throw chainValue.error("cannot keep the inline chain: \(error)")
            }
            return .inline(InlineChain(yaml: yaml, location: chainValue.location))
        case (_?, let chainValue?):
            throw chainValue.error("give either a profile or a chain, not both")
        case (nil, nil):
            return nil
        }
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

    // MARK: - tls

    private func decodeTLS(_ value: YAMLValue) throws(ScenarioError) -> TLSSpec {
        let mapping = try value.mapping(allowed: Self.tlsKeys)
        var spec = TLSSpec()
        if let versionsValue = mapping["versions"] {
            var versions: [TLSVersion] = []
            let items = try versionsValue.list()
            guard !items.isEmpty else { throw versionsValue.error("list at least one version") }
            for item in items {
                let version = try item.oneOf(
                    TLSVersion.allCases.map { ($0.rawValue, $0) },
                    what: "TLS version"
                )
                guard !versions.contains(version) else { throw item.error("version \(version.rawValue) appears twice") }
                versions.append(version)
            }
            spec.versions = versions
        }
        spec.ciphers = try mapping["ciphers"]?.nonEmptyString()
        spec.priority = try mapping["priority"]?.nonEmptyString()
        if let alertValue = mapping["abort_with_alert"] {
            if alertValue.node.tagName == .int {
                spec.abortWithAlert = TLSAlert(code: UInt8(try alertValue.int(in: 0...255)))
            } else {
                let name = try alertValue.nonEmptyString()
                guard let alert = TLSSpec.alert(named: name) else {
                    let names = TLSSpec.alertNames
                    let hint =
                        EditDistance.suggestion(for: name, among: names).map { " (did you mean '\($0)'?)" }
                        ?? " (use an RFC 8446 name such as handshake_failure, or a number)"
                    throw alertValue.error("unknown TLS alert '\(name)'\(hint)")
                }
                spec.abortWithAlert = alert
            }
        }
        spec.closeMidHandshake = try mapping["close_mid_handshake"]?.bool() ?? false
        spec.serverOrder = try mapping["server_order"]?.bool()
        return spec
    }

    // MARK: - dialog

    private func decodeDialog(_ value: YAMLValue) throws(ScenarioError) -> DialogSpec {
        let mapping = try value.mapping(allowed: Self.dialogKeys)
        var spec = DialogSpec()
        if let greeting = mapping["greeting"] {
            var lines: [String] = []
            for line in greeting.listOrSingle() { lines.append(try line.nonEmptyString(acceptingNumbers: true)) }
            guard !lines.isEmpty else { throw greeting.error("a greeting has at least one line") }
            spec.greeting = lines
        }
        spec.greetingDelay = try mapping["greeting_delay"]?.duration() ?? .zero
        spec.refuseGreeting = try mapping["refuse_greeting"]?.nonEmptyString(acceptingNumbers: true)
        if let capabilities = mapping["capabilities"] {
            let inner = try capabilities.mapping(allowed: Self.capabilityKeys)
            for entry in inner.entries {
                var items: [String] = []
                for item in try entry.value.list() { items.append(try item.nonEmptyString()) }
                if entry.key == "before_tls" {
                    spec.capabilities.beforeTLS = items
                } else {
                    spec.capabilities.afterTLS = items
                }
            }
        }
        if let startTLS = mapping["starttls"] { spec.startTLS = try decodeStartTLS(startTLS) }
        spec.preauth = try mapping["preauth"]?.bool() ?? false
        if let ldap = mapping["ldap"] { spec.ldap = try decodeLDAP(ldap) }
        if let ftp = mapping["ftp"] { spec.ftp = try decodeFTP(ftp) }
        if let lineEndings = mapping["line_endings"] {
            spec.lineEndings = try lineEndings.enumValue(DialogSpec.LineEndings.self, what: "line ending")
        }
        spec.implicitSpeaksPlaintext = try mapping["implicit_speaks_plaintext"]?.bool() ?? false
        spec.startTLSSpeaksTLS = try mapping["starttls_speaks_tls"]?.bool() ?? false
        return spec
    }

    private func decodeStartTLS(_ value: YAMLValue) throws(ScenarioError) -> StartTLSSpec {
        let mapping = try value.mapping(allowed: Self.startTLSKeys)
        var spec = StartTLSSpec()
        if let advertise = mapping["advertise"] {
            if advertise.node.tagName == .bool {
                spec.advertise = try advertise.bool() ? .advertised : .omitted
            } else {
                spec.advertise = try advertise.oneOf(
                    [("true", .advertised), ("false", .omitted), ("mangled", StartTLSSpec.Advertise.mangled)],
                    what: "advertise value"
                )
            }
        }
        spec.reply = try mapping["reply"]?.nonEmptyString(acceptingNumbers: true)
        spec.ldapResult = try mapping["ldap_result"]?.int(in: 0...65535)
        spec.ldapDiagnostic = try mapping["ldap_diagnostic"]?.string()
        spec.transition = try mapping["transition"]?.bool() ?? true
        spec.injectAfterGoAhead = try mapping["inject_after_go_ahead"]?.nonEmptyString()
        return spec
    }

    private func decodeLDAP(_ value: YAMLValue) throws(ScenarioError) -> LDAPSpec {
        let mapping = try value.mapping(allowed: Self.ldapKeys)
        var spec = LDAPSpec()
        spec.longFormLengths = try mapping["long_form_lengths"]?.bool() ?? false
        spec.messageID = try mapping["message_id"]?.int(in: 0...Int(Int32.max))
        spec.noticeOfDisconnection = try mapping["notice_of_disconnection"]?.bool() ?? false
        if let name = mapping["response_name"] {
            if name.node.tagName == .bool {
                spec.responseName = try name.bool() ? .startTLS : .omitted
            } else {
                let oid = try name.nonEmptyString()
                let arcs = oid.split(separator: ".", omittingEmptySubsequences: false)
                guard arcs.count >= 2,
                    arcs.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
                else {
                    throw name.error(
                        "expected true, false or a dotted OID such as 1.3.6.1.4.1.1466.20037, got '\(oid)'"
                    )
                }
                spec.responseName = oid == "1.3.6.1.4.1.1466.20037" ? .startTLS : .custom(oid)
            }
        }
        return spec
    }

    private func decodeFTP(_ value: YAMLValue) throws(ScenarioError) -> FTPSpec {
        let mapping = try value.mapping(allowed: Self.ftpKeys)
        func auth(_ key: String) throws(ScenarioError) -> FTPSpec.Auth {
            guard let authValue = mapping[key] else { return .accept }
            if authValue.node.tagName == .bool { return try authValue.bool() ? .accept : .refuse(reply: nil) }
            return .refuse(reply: try authValue.nonEmptyString(acceptingNumbers: true))
        }
        var spec = FTPSpec(authTLS: try auth("auth_tls"), authSSL: try auth("auth_ssl"))
        if let dataChannel = mapping["data_channel"] {
            spec.dataChannel = try dataChannel.enumValue(FTPSpec.DataChannel.self, what: "data channel")
        }
        if let pasvAddress = mapping["pasv_address"] {
            // A 227 reply carries four decimal octets, nothing else (RFC 959 §4.1.2).
            let text = try pasvAddress.nonEmptyString()
            guard let octets = IPAddress.parse(text), octets.count == 4, !text.contains(":") else {
                throw pasvAddress.error(
                    "expected an IPv4 address such as 192.0.2.10 (a PASV reply names one), got '\(text)'")
            }
            spec.pasvAddress = IPAddress.string(octets)
        }
        spec.epsv = try mapping["epsv"]?.bool() ?? true
        return spec
    }

    // MARK: - network

    struct DecodedFault {
        let fault: FaultSpec
        let origin: YAMLValue
        let phaseOrigin: YAMLValue?
    }

    private func decodeNetwork(_ value: YAMLValue) throws(ScenarioError) -> [DecodedFault] {
        var faults: [DecodedFault] = []
        for item in try value.list() {
            let mapping = try item.mapping(allowed: Self.faultKeys)
            let phaseValue = mapping["phase"]
            let phase = try phaseValue?.enumValue(FaultPhase.self, what: "phase") ?? .any
            let kindValue = try mapping.required("kind")
            let kindName = try kindValue.oneOf(FaultSpec.Kind.names.map { ($0, $0) }, what: "fault kind")
            let parameters: [String]
            switch kindName {
            case "latency": parameters = ["ms"]
            case "trickle": parameters = ["bytes", "interval"]
            case "slice", "close_after": parameters = ["bytes"]
            default: parameters = []
            }
            for entry in mapping.entries
            where !["phase", "kind"].contains(entry.key) && !parameters.contains(entry.key) {
                let takes = parameters.isEmpty ? "no parameters" : parameters.joined(separator: ", ")
                throw entry.value.error("'\(entry.key)' does not apply to kind '\(kindName)' (it takes \(takes))")
            }
            let kind: FaultSpec.Kind
            switch kindName {
            case "latency":
                kind = .latency(.milliseconds(try mapping.required("ms").int(in: 0...3_600_000)))
            case "trickle":
                kind = .trickle(
                    bytes: try mapping.required("bytes").int(in: 1...65536),
                    interval: try mapping.required("interval").duration()
                )
            case "slice":
                kind = .slice(bytes: try mapping.required("bytes").int(in: 1...65536))
            case "close_after":
                kind = .closeAfter(bytes: try mapping.required("bytes").int(in: 0...(1 << 30)))
            case "stall":
                kind = .stall
            default:
                kind = .reset
            }
            faults.append(
                DecodedFault(fault: FaultSpec(phase: phase, kind: kind), origin: item, phaseOrigin: phaseValue)
            )
        }
        return faults
    }

    // MARK: - probe

    private func decodeProbe(_ value: YAMLValue) throws(ScenarioError) -> ProbeSpec {
        let mapping = try value.mapping(allowed: Self.probeKeys)
        var spec = ProbeSpec()
        if let servername = mapping["servername"] {
            let name = try servername.nonEmptyString()
            // SNI and the name checked against the certificate: a DNS name (RFC 1123, at most 253 characters) or an
            // IP literal, nothing a resolver or a TLS library would have to make sense of.
            if let problem = HostName.problem(name) { throw servername.error(problem) }
            spec.servername = name
        }
        if let backendsValue = mapping["backends"] {
            spec.backends = try backendList(backendsValue)
        }
        spec.mode = try mapping["mode"]?.enumValue(TLSMode.self, what: "TLS mode")
        if let timeout = mapping["timeout"] {
            let duration = try timeout.duration()
            guard duration > .zero else { throw timeout.error("a timeout must be longer than zero") }
            spec.timeout = duration
        }
        spec.startTLSAnyway = try mapping["starttls_anyway"]?.bool() ?? false
        spec.policy = try mapping["policy"]?.enumValue(VerificationPolicy.self, what: "verification policy") ?? .default
        spec.enumerate = try mapping["enumerate"]?.bool() ?? false
        return spec
    }

    private func backendList(_ value: YAMLValue) throws(ScenarioError) -> [TLSBackend] {
        var backends: [TLSBackend] = []
        let items = try value.list()
        guard !items.isEmpty else { throw value.error("list at least one backend") }
        for item in items {
            let backend = try item.enumValue(TLSBackend.self, what: "backend")
            guard !backends.contains(backend) else { throw item.error("backend \(backend) appears twice") }
            backends.append(backend)
        }
        return backends
    }

    // MARK: - expect

    private func decodeExpectation(_ value: YAMLValue) throws(ScenarioError) -> Expectation {
        let mapping = try value.mapping(allowed: Self.expectKeys)
        let verdict = try findingCodes(try mapping.required("verdict"))
        let severity = try mapping["severity"].map { (value) throws(ScenarioError) in try self.severity(value) }
        var overrides: [TLSBackend: Expectation.BackendOverride] = [:]
        if let backendsValue = mapping["backends"] {
            let perBackend = try backendsValue.mapping(allowed: TLSBackend.allCases.map(\.rawValue))
            for entry in perBackend.entries {
                guard let backend = TLSBackend(rawValue: entry.key) else { continue }
                let inner = try entry.value.mapping(allowed: Self.backendExpectKeys)
                guard !inner.entries.isEmpty else {
                    throw entry.value.error("give a verdict and/or a severity for \(backend)")
                }
                overrides[backend] = Expectation.BackendOverride(
                    verdict: try inner["verdict"].map { (value) throws(ScenarioError) in try findingCodes(value) },
                    severity: try inner["severity"].map { (value) throws(ScenarioError) in try self.severity(value) }
                )
            }
        }
        let divergence = try mapping["divergence"]?.nonEmptyString()
        let monitor = try mapping["monitor"]?.enumValue(MonitorExpectation.self, what: "monitor expectation")
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
