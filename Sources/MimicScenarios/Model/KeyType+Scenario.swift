import MimicCerts
import MimicCore
import MimicDialogs
import MimicTLS

/// The value types particular to one scenario key.
extension KeyType {
    /// A whole section decoded into a value that starts as `initial`.
    static func section(_ section: KeySection<Value>, initial: Value) -> KeyType<Value> {
        KeyType(schema: section.schema) { (value) throws(ScenarioError) in
            var result = initial
            try section.decode(value, into: &result)
            return result
        }
    }
}

extension ScenarioKeys {
    /// The reply FTP servers refuse AUTH with when the scenario gives none (vsftpd's wording).
    static let defaultFTPRefusal = "534 Request denied for policy reasons."

    /// A reply given as a bare code (`421`, `454`) gets a reason text, since a client expects one.
    static func expandCode(_ reply: String, text: String) -> String {
        guard !reply.isEmpty, reply.count <= 3, reply.allSatisfy(\.isASCII), reply.allSatisfy(\.isNumber) else {
            return reply
        }
        return "\(reply) \(text)"
    }
}

extension KeyType where Value == String {
    /// Where the mock listens: an IP literal or `localhost`, checked here rather than when the bind fails.
    static var listenAddress: KeyType<String> {
        KeyType(
            schema: [
                "anyOf": [["type": "string", "format": "ipv4"], ["type": "string", "format": "ipv6"], ["const": "localhost"]]
            ]
        ) { (value) throws(ScenarioError) in
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
    }

    /// A 227 reply carries four decimal octets, nothing else (RFC 959 §4.1.2).
    static var pasvAddress: KeyType<String> {
        KeyType(schema: ["type": "string", "format": "ipv4"]) { (value) throws(ScenarioError) in
            let text = try value.nonEmptyString()
            guard let octets = IPAddress.parse(text), octets.count == 4, !text.contains(":") else {
                throw value.error(
                    "expected an IPv4 address such as 192.0.2.10 (a PASV reply names one), got '\(text)'")
            }
            return IPAddress.string(octets)
        }
    }

    /// SNI and the name checked against the certificate: a DNS name (RFC 1123, at most 253 characters) or an IP
    /// literal, nothing a resolver or a TLS library would have to make sense of.
    static var serverName: KeyType<String> {
        KeyType(schema: ["type": "string", "minLength": 1, "maxLength": 254]) { (value) throws(ScenarioError) in
            let name = try value.nonEmptyString()
            if let problem = HostName.problem(name) { throw value.error(problem) }
            return name
        }
    }
}

extension KeyType where Value == String? {
    /// FTP `auth_tls`/`auth_ssl`: true accepts (nil), false refuses with the default reply, text refuses with it.
    static var ftpAuth: KeyType<String?> {
        KeyType(schema: .ref("ftpAuth")) { (value) throws(ScenarioError) in
            if value.node.tagName == .bool {
                return try value.bool() ? nil : ScenarioKeys.defaultFTPRefusal
            }
            let reply = try value.nonEmptyString(acceptingNumbers: true)
            return ScenarioKeys.expandCode(reply, text: "Request denied for policy reasons.")
        }
    }
}

extension KeyType where Value == Double {
    /// `server.idle_timeout`: a duration between a second and ten minutes (the mock's ceiling on any wait), in
    /// seconds as the mock takes it.
    static var idleTimeout: KeyType<Double> {
        KeyType(schema: .ref("duration")) { (value) throws(ScenarioError) in
            let seconds = try value.duration().seconds
            guard MockServerLimits.idleTimeoutRange.contains(seconds) else {
                throw value.error("an idle timeout must be between 1s and 10m (600s), got '\(value.scalarText ?? "")'")
            }
            return seconds
        }
    }
}

extension KeyType where Value == Duration {

    static var positiveDuration: KeyType<Duration> {
        KeyType(schema: .ref("duration")) { (value) throws(ScenarioError) in
            let duration = try value.duration()
            guard duration > .zero else { throw value.error("a timeout must be longer than zero") }
            return duration
        }
    }
}

extension KeyType where Value == [String] {
    /// One line or a list of lines.
    static var greeting: KeyType<[String]> {
        let line: JSONValue = ["type": ["string", "integer"]]
        return KeyType(schema: ["oneOf": [line, ["type": "array", "minItems": 1, "items": line]]]) {
            (value) throws(ScenarioError) in
            var lines: [String] = []
            for line in value.listOrSingle() { lines.append(try line.nonEmptyString(acceptingNumbers: true)) }
            guard !lines.isEmpty else { throw value.error("a greeting has at least one line") }
            return lines
        }
    }
}

extension KeyType {
    /// A non-empty list of distinct values, each spelled as one of `pairs`' names.
    static func distinctList<Item: Equatable>(
        of pairs: [(String, Item)], what: String, noun: String, items: JSONValue
    ) -> KeyType<[Item]> {
        KeyType<[Item]>(schema: ["type": "array", "minItems": 1, "uniqueItems": true, "items": items]) {
            (value) throws(ScenarioError) in
            var result: [Item] = []
            let list = try value.list()
            guard !list.isEmpty else { throw value.error("list at least one \(noun)") }
            for element in list {
                let item = try element.oneOf(pairs, what: what)
                guard !result.contains(item) else {
                    throw element.error("\(noun) \(pairs.first { $0.1 == item }?.0 ?? "") appears twice")
                }
                result.append(item)
            }
            return result
        }
    }
}

extension KeyType where Value == [MimicTLSVersion] {
    static var versions: KeyType<[MimicTLSVersion]> {
        .distinctList(
            of: MimicTLSVersion.allCases.map { ($0.rawValue, $0) }, what: "TLS version", noun: "version",
            items: .ref("version"))
    }
}

extension KeyType where Value == [TLSBackend] {
    static var backends: KeyType<[TLSBackend]> {
        .distinctList(
            of: TLSBackend.allCases.map { ($0.rawValue, $0) }, what: "backend", noun: "backend", items: .ref("backend"))
    }
}

extension KeyType where Value == TLSAlert {
    /// The alert a name (`handshake_failure`) or number (`40`) denotes.
    static var alert: KeyType<TLSAlert> {
        KeyType(
            schema: [
                "oneOf": [
                    ["type": "string", "pattern": "^[a-z_]+$|^[0-9]+$"],
                    ["type": "integer", "minimum": 0, "maximum": 255],
                ]
            ]
        ) { (value) throws(ScenarioError) in
            if value.node.tagName == .int { return TLSAlert(code: UInt8(try value.int(in: 0...255))) }
            let name = try value.nonEmptyString()
            guard let alert = TLSSpec.alert(named: name) else {
                let hint =
                    EditDistance.suggestion(for: name, among: TLSSpec.alertNames).map { " (did you mean '\($0)'?)" }
                    ?? " (use an RFC 8446 name such as handshake_failure, or a number)"
                throw value.error("unknown TLS alert '\(name)'\(hint)")
            }
            return alert
        }
    }
}

extension KeyType where Value == ServerDialogConfiguration.StartTLS.Advertise {
    /// `true`, `false` (left out of the capabilities) or `mangled`.
    static var advertise: KeyType<ServerDialogConfiguration.StartTLS.Advertise> {
        KeyType(schema: ["oneOf": [["type": "boolean"], ["const": "mangled"]]]) { (value) throws(ScenarioError) in
            if value.node.tagName == .bool { return try value.bool() ? .advertised : .stripped }
            return try value.oneOf(
                [("true", .advertised), ("false", .stripped), ("mangled", .mangled)], what: "advertise value")
        }
    }
}

extension KeyType where Value == ServerDialogConfiguration.LDAP.ResponseName {
    /// `true` (the StartTLS OID), `false` (none) or a dotted OID.
    static var responseName: KeyType<ServerDialogConfiguration.LDAP.ResponseName> {
        KeyType(schema: ["oneOf": [["type": "boolean"], ["type": "string", "pattern": "^[0-9]+(\\.[0-9]+)+$"]]]) {
            (value) throws(ScenarioError) in
            if value.node.tagName == .bool { return try value.bool() ? .startTLS : .omitted }
            let oid = try value.nonEmptyString()
            let arcs = oid.split(separator: ".", omittingEmptySubsequences: false)
            guard arcs.count >= 2,
                arcs.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
            else {
                throw value.error("expected true, false or a dotted OID such as 1.3.6.1.4.1.1466.20037, got '\(oid)'")
            }
            return oid == Value.startTLS.oid ? .startTLS : .oid(oid)
        }
    }
}
