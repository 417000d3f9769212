import Foundation
import Yams

extension ChainSpec: Decodable {
    /// The keys a chain spec mapping may carry.
    static let fieldNames = ["certificates", "serve", "trust"]

    /// Parses a chain spec from YAML text; errors carry `file:line` (or the line alone when `file` is nil).
    public static func parse(yaml: String, file: String? = nil) throws -> ChainSpec {
        let reader = SpecReader(file: file)
        let value = try SpecYAML.compose(yaml, file: file)
        let fields = try reader.fields(value, at: "", allowed: fieldNames)
        return try ChainSpec(fields: fields, at: "", reader: reader)
    }

    /// Parses a chain spec from a Yams node (for example the `pki:` node of a scenario file), so errors carry the
    /// line of the enclosing document. `field` prefixes the field paths in errors (e.g. `pki`).
    public init(node: Node, file: String? = nil, field: String = "") throws {
        let reader = SpecReader(file: file)
        let value = try SpecValue(node: node, field: field, file: file)
        let fields = try reader.fields(value, at: field, allowed: Self.fieldNames)
        self = try ChainSpec(fields: fields, at: field, reader: reader)
    }

    /// Decodes through any Decoder (Yams' `YAMLDecoder`, `JSONDecoder`); the same checks as ``parse(yaml:file:)``,
    /// but a Decoder cannot tell lines, so errors name the field only.
    public init(from decoder: any Decoder) throws {
        let reader = SpecReader(file: nil)
        let prefix = SpecValue.path(decoder.codingPath)
        let value = try SpecValue(from: decoder)
        let fields = try reader.fields(value, at: prefix, allowed: Self.fieldNames)
        self = try ChainSpec(fields: fields, at: prefix, reader: reader)
    }

    /// Reads the spec out of fields already split off a mapping (a profile mixes its own keys with these).
    init(fields: [String: SpecValue], at prefix: String, reader: SpecReader) throws {
        func path(_ key: String) -> String { SpecReader.join(prefix, key) }
        guard let certificatesValue = fields["certificates"] else {
            throw reader.error(
                prefix.isEmpty ? "certificates" : path("certificates"),
                "missing (a list of certificates)"
            )
        }
        let certificates = try reader.list(certificatesValue, at: path("certificates")) { value, field in
            try CertificateSpec(value: value, at: field, reader: reader)
        }
        guard let serveValue = fields["serve"] else {
            throw reader.error(path("serve"), "missing (the names of the certificates the server sends, in order)")
        }
        let serve = try reader.stringList(serveValue, at: path("serve"))
        let trust = try fields["trust"].map { try reader.stringList($0, at: path("trust")) }
        self.init(certificates: certificates, serve: serve, trust: trust)
        try validate(prefix: prefix, reader: reader)
    }
}

extension CertificateSpec {
    static let fieldNames = [
        "name", "issuer", "subject", "sans", "not_before", "not_after", "key", "signature", "ca", "path_length",
        "key_usage", "extended_key_usage", "authority_key_id", "subject_key_id", "basic_constraints", "san_critical",
        "malform", "same_key_as",
    ]

    init(value: SpecValue, at field: String, reader: SpecReader) throws {
        func path(_ key: String) -> String { SpecReader.join(field, key) }
        let fields = try reader.fields(value, at: field, allowed: Self.fieldNames)
        guard let nameValue = fields["name"] else {
            throw reader.error(field, "missing name", line: value.line)
        }
        let name = try reader.string(nameValue, at: path("name"))
        self.init(name: name)

        if let issuer = try reader.optionalString(fields["issuer"], at: path("issuer")) {
            self.issuer = issuer == "self" ? nil : issuer
        }
        if let subjectValue = fields["subject"] {
            // `subject: {}` is an empty subject (no CN, no O); leaving the key out gives the default.
            let subjectFields = try reader.fields(
                subjectValue,
                at: path("subject"),
                allowed: ["common_name", "organization"]
            )
            subject = SubjectSpec(
                commonName: try reader.optionalString(subjectFields["common_name"], at: path("subject.common_name")),
                organization: try reader.optionalString(
                    subjectFields["organization"],
                    at: path("subject.organization")
                )
            )
        }
        if let sansValue = fields["sans"] {
            sans = try reader.list(sansValue, at: path("sans")) { element, itemPath in
                let text = try reader.string(element, at: itemPath)
                guard let san = SANSpec(text) else {
                    throw reader.error(
                        itemPath,
                        "bad SAN '\(text)' (expected dns:NAME or ip:ADDRESS, e.g. dns:mail.example.test, "
                            + "ip:127.0.0.1, ip:::1)",
                        line: element.line
                    )
                }
                return san
            }
        }
        for (key, keyPath) in [("not_before", \CertificateSpec.notBefore), ("not_after", \CertificateSpec.notAfter)] {
            guard let durationValue = fields[key] else { continue }
            let text = try reader.string(durationValue, at: path(key))
            guard let offset = RelativeTime(text) else {
                throw reader.error(
                    path(key),
                    "bad duration '\(text)' (expected a signed offset such as -30d, +90d, -2h, +1y; "
                        + "units s, m, h, d, w, y; or an instant such as 2026-11-30T12:00:00Z)",
                    line: durationValue.line
                )
            }
            self[keyPath: keyPath] = offset
        }
        if let keyValue = fields["key"] {
            key = try reader.enumValue(keyValue, at: path("key"), as: KeyType.self)
        }
        if let signatureValue = fields["signature"] {
            signature = try reader.enumValue(signatureValue, at: path("signature"), as: SignatureKind.self)
        }
        if let caValue = fields["ca"] {
            ca = try reader.bool(caValue, at: path("ca"))
        }
        if let pathLengthValue = fields["path_length"] {
            pathLength = try reader.int(pathLengthValue, at: path("path_length"), range: 0...64)
        }
        if let usageValue = fields["key_usage"] {
            keyUsage = try reader.list(usageValue, at: path("key_usage")) { element, itemPath in
                try reader.enumValue(element, at: itemPath, as: KeyUsageName.self)
            }
        }
        if let usageValue = fields["extended_key_usage"] {
            extendedKeyUsage = try reader.list(usageValue, at: path("extended_key_usage")) { element, itemPath in
                try reader.enumValue(element, at: itemPath, as: ExtendedKeyUsageName.self)
            }
        }
        if let value = fields["authority_key_id"] {
            authorityKeyIdentifier = try reader.bool(value, at: path("authority_key_id"))
        }
        if let value = fields["subject_key_id"] {
            subjectKeyIdentifier = try reader.bool(value, at: path("subject_key_id"))
        }
        if let value = fields["basic_constraints"] {
            basicConstraints = try reader.enumValue(value, at: path("basic_constraints"), as: BasicConstraintsMode.self)
        }
        if let value = fields["san_critical"] {
            sanCritical = try reader.bool(value, at: path("san_critical"))
        }
        if let value = fields["same_key_as"] {
            sameKeyAs = try reader.string(value, at: path("same_key_as"))
        }
        if let value = fields["malform"] {
            malform = try reader.list(value, at: path("malform")) { element, itemPath in
                try reader.enumValue(element, at: itemPath, as: Malformation.self)
            }
        }
    }
}
