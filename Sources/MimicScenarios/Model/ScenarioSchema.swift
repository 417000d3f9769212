import MimicCore
import MimicTLS

/// `scenarios/schema.json`, the JSON Schema editors use, generated from the key declarations (`ScenarioKeys`):
/// `mimic schema > scenarios/schema.json` writes it, and a test fails when the checked-in file is stale.
///
/// The loader remains the authority: it checks more than a schema can (profile names, divergence, most knob
/// combinations); the few combinations written here as `allOf` rules are the ones an editor can flag.
public enum ScenarioSchema {
    /// The schema as JSON text, two-space indented, ending in a newline.
    public static var json: String { document.rendered }

    static var document: JSONValue {
        typealias Keys = ScenarioKeys
        let header: JSONValue = [
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://mimic.invalid/scenarios/schema.json",
            "title": "Mimic scenario",
            "description": .string(
                "A misbehaving mock server and the verdict each TLS backend's probe must reach. See "
                    + "scenarios/README.md. The loader checks more than this schema can (protocol/knob combinations, "
                    + "profile names, divergence)."),
        ]
        guard case .object(let top) = Keys.Top.section.schema else { return header }
        return header.merging(top + [("allOf", .array(rules)), ("$defs", definitions)])
    }

    /// Knob combinations an editor can flag: https has no STARTTLS; PREAUTH, `ldap` and `ftp` knobs belong to
    /// their protocol; a matrix needs placeholders in the id.
    private static var rules: [JSONValue] {
        typealias Keys = ScenarioKeys
        func whenProtocol(_ test: JSONValue, then: JSONValue) -> JSONValue {
            [
                "if": [
                    "required": .strings([Keys.Top.server.name]),
                    "properties": .single(
                        Keys.Top.server.name,
                        [
                            "required": .strings([Keys.Server.serviceProtocol.name]),
                            "properties": .single(Keys.Server.serviceProtocol.name, test),
                        ]),
                ],
                "then": ["properties": then],
            ]
        }
        func dialog(_ properties: [(String, JSONValue)]) -> JSONValue {
            .object([(Keys.Top.dialog.name, JSONValue.object([("properties", .object(properties))]))])
        }
        return [
            whenProtocol(
                ["const": "https"],
                then: .object([
                    (Keys.Top.server.name, .single("properties", .single(Keys.Server.mode.name, ["not": ["const": "starttls"]])))
                ])),
            whenProtocol(["not": ["const": "imap"]], then: dialog([(Keys.Dialog.preauth.name, ["const": false])])),
            whenProtocol(
                ["not": ["const": "ldap"]],
                then: dialog([
                    (Keys.Dialog.ldap.name, .bool(false)),
                    (
                        Keys.Dialog.startTLS.name,
                        .single(
                            "properties",
                            .object([(Keys.StartTLS.ldapResult.name, .bool(false)), (Keys.StartTLS.ldapDiagnostic.name, .bool(false))]))
                    ),
                ])),
            whenProtocol(["not": ["const": "ftp"]], then: dialog([(Keys.Dialog.ftp.name, .bool(false))])),
            [
                "if": ["required": .strings([Keys.Top.matrix.name])],
                "then": .single("properties", .single(Keys.Top.id.name, ["pattern": "[{]"])),
            ],
        ]
    }

    private static var definitions: JSONValue {
        typealias Keys = ScenarioKeys
        func enumeration(_ names: [String]) -> JSONValue { ["enum": .strings(names)] }
        let versions = MimicTLSVersion.allCases.map(\.rawValue)
        let fault = Keys.Fault.self
        return .object([
            ("protocol", enumeration(ServiceProtocol.allCases.map(\.rawValue))),
            ("mode", enumeration(TLSMode.allCases.map(\.rawValue))),
            ("backend", enumeration(TLSBackend.allCases.map(\.rawValue))),
            (
                "version",
                [
                    "description": "TLS version; 1.2 unquoted is accepted too.",
                    "oneOf": [
                        enumeration(versions), ["enum": .array(versions.compactMap(Double.init).map(JSONValue.number))],
                    ],
                ]
            ),
            (
                "duration",
                [
                    "description": "0, or a number with a unit: 250ms, 2s, 1.5s, 1m (at most one hour).",
                    "oneOf": [["type": "string", "pattern": "^(0|[0-9]+(\\.[0-9]+)?(ms|s|m))$"], ["const": 0]],
                ]
            ),
            ("severity", enumeration(Severity.allCases.map { $0.rawValue.lowercased() })),
            ("findingCode", enumeration(FindingCode.allCases.map(\.rawValue))),
            (
                "verdict",
                [
                    "type": "array", "uniqueItems": true, "items": .ref("findingCode"),
                    "description": "Empty list = OK.",
                ]
            ),
            ("backendExpectation", Keys.BackendExpect.section.schema),
            ("profile", ["type": "string", "minLength": 1, "description": "A profile name from certs/profiles."]),
            (
                "inlineChain",
                [
                    "type": "object",
                    "description": "An inline chain spec, decoded by the certificate factory (its own format).",
                ]
            ),
            (
                "chainSource",
                [
                    "oneOf": [
                        .ref("profile"),
                        chainSourceObject(Keys.PKI.profile),
                        chainSourceObject(Keys.PKI.chain),
                    ]
                ]
            ),
            (
                "ftpAuth",
                [
                    "description":
                        "true = accept, false = refuse with the default reply, a string/number = refuse with that reply.",
                    "type": ["boolean", "string", "integer"],
                ]
            ),
            (
                "fault",
                fault.section.schema.merging([
                    (
                        "allOf",
                        .array(
                            fault.kinds.map { kind in
                                let others = [fault.ms, fault.bytes, fault.interval].map(\.name)
                                    .filter { !kind.parameters.contains($0) }
                                var then: [(String, JSONValue)] = []
                                if !kind.parameters.isEmpty { then.append(("required", .strings(kind.parameters))) }
                                then.append(("properties", .object(others.map { ($0, .bool(false)) })))
                                return [
                                    "if": .single("properties", .single(fault.kind.name, ["const": .string(kind.name)])),
                                    "then": .object(then),
                                ]
                            })
                    )
                ])
            ),
        ])
    }

    private static func chainSourceObject(_ key: ScenarioKey<PKISpec>) -> JSONValue {
        [
            "type": "object", "additionalProperties": false, "properties": .object([(key.name, key.schema)]),
            "required": .strings([key.name]),
        ]
    }
}
