import Foundation
import MimicCore
import Testing

@testable import MimicScenarios

/// scenarios/schema.json is for editors; the loader is the authority. Both come from the key declarations
/// (`ScenarioKeys`); these tests keep the checked-in file current and closed: no section silently accepts unknown keys.
@Suite("Scenario JSON Schema")
struct ModelSchemaTests {
    func schema() throws -> [String: Any] {
        let data = try Data(contentsOf: ModelFixtures.schema)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func properties(_ object: [String: Any]?, _ path: [String]) throws -> [String: Any] {
        var current = try #require(object)
        for key in path {
            let props = try #require(current["properties"] as? [String: Any], "no properties at \(key)")
            current = try #require(props[key] as? [String: Any], "no \(key)")
        }
        return try #require(current["properties"] as? [String: Any])
    }

    @Test("schema.json is draft 2020-12 JSON and lists the model's top-level keys")
    func topLevel() throws {
        let root = try schema()
        #expect(root["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        #expect(Set(try properties(root, []).keys) == Set(Scenario.topLevelKeys))
        #expect(root["additionalProperties"] as? Bool == false)
        #expect(Set(root["required"] as? [String] ?? []) == ["id", "summary", "server", "expect"])
    }

    @Test("scenarios/schema.json is what the key declarations generate (`make schema` rewrites it)")
    func generated() throws {
        let checkedIn = try String(contentsOf: ModelFixtures.schema, encoding: .utf8)
        #expect(checkedIn == ScenarioSchema.json, "scenarios/schema.json is stale: run `make schema`")
    }

    @Test(
        "every section lists exactly the keys the loader accepts",
        arguments: [
            (["server"], ScenarioKeys.Server.section.names),
            (["pki"], ScenarioKeys.PKI.section.names),
            (["tls"], ScenarioKeys.TLS.section.names),
            (["dialog"], ScenarioKeys.Dialog.section.names),
            (["dialog", "capabilities"], ScenarioKeys.Capabilities.section.names),
            (["dialog", "starttls"], ScenarioKeys.StartTLS.section.names),
            (["dialog", "ldap"], ScenarioKeys.LDAP.section.names),
            (["dialog", "ftp"], ScenarioKeys.FTP.section.names),
            (["probe"], ScenarioKeys.Probe.section.names),
            (["expect"], ScenarioKeys.Expect.section.names),
            (["matrix"], ScenarioKeys.Matrix.section.names),
        ]
    )
    func section(path: [String], keys: [String]) throws {
        #expect(Set(try properties(try schema(), path).keys) == Set(keys))
    }

    @Test("network faults and finding codes match the model")
    func faultsAndCodes() throws {
        let defs = try #require(try schema()["$defs"] as? [String: Any])
        let fault = try #require(defs["fault"] as? [String: Any])
        #expect(Set(try properties(fault, []).keys) == Set(ScenarioKeys.Fault.section.names))
        let kinds = try #require((try properties(fault, [])["kind"] as? [String: Any])?["enum"] as? [String])
        #expect(kinds == ScenarioKeys.Fault.kinds.map(\.name))
        let codes = try #require((defs["findingCode"] as? [String: Any])?["enum"] as? [String])
        #expect(codes == FindingCode.allCases.map(\.rawValue))
    }

    @Test("no object in the schema accepts unknown keys")
    func closedEverywhere() throws {
        var open: [String] = []
        func visit(_ value: Any, _ path: String) {
            if let object = value as? [String: Any] {
                if object["properties"] != nil, object["additionalProperties"] as? Bool != false,
                    !path.contains("allOf")
                {
                    open.append(path)
                }
                for (key, child) in object { visit(child, path + "/" + key) }
            } else if let array = value as? [Any] {
                for (index, child) in array.enumerated() { visit(child, path + "/\(index)") }
            }
        }
        visit(try schema(), "#")
        #expect(open.isEmpty, "\(open)")
    }
}
