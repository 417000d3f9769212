import Foundation
import MimicTestSupport
import Testing

@testable import MimicScenarios

/// Every file in Fixtures/malformed starts with `# expect: LINE[:COLUMN] PATH "FRAGMENT"`: the loader must
/// reject it with exactly one error at that place, naming that field path (`-` for none), with the fragment
/// in its message.
@Suite("Malformed scenario files")
struct ModelMalformedTests {
    struct Expectation {
        var line: Int
        var column: Int?
        var path: String
        var fragment: String?
    }

    static func expectation(in text: String) -> Expectation? {
        guard let header = text.split(separator: "\n", maxSplits: 1).first, header.hasPrefix("# expect: ") else {
            return nil
        }
        var rest = header.dropFirst("# expect: ".count)
        var fragment: String?
        if let quote = rest.firstIndex(of: "\""), rest.last == "\"" {
            fragment = String(rest[rest.index(after: quote)..<rest.index(before: rest.endIndex)])
            rest = rest[..<quote]
        }
        let words = rest.split(separator: " ")
        guard words.count == 2 else { return nil }
        let position = words[0].split(separator: ":")
        guard let line = position.first.flatMap({ Int($0) }) else { return nil }
        let column = position.count > 1 ? Int(position[1]) : nil
        let path = words[1] == "-" ? "" : String(words[1])
        return Expectation(line: line, column: column, path: path, fragment: fragment)
    }

    @Test("the corpus is big enough to mean something")
    func corpusSize() {
        #expect(ModelFixtures.malformedNames().count >= 30)
    }

    @Test(
        "each malformed file is rejected at the line, column and field its header names",
        arguments: ModelFixtures.malformedNames()
    )
    func rejected(name: String) throws {
        let file = ModelFixtures.malformed.appendingPathComponent(name)
        let text = try String(contentsOf: file, encoding: .utf8)
        let expected = try #require(Self.expectation(in: text), "\(name) has no '# expect:' header")

        // The valid fixtures load first, so a file that repeats one of their ids is the one reported.
        let loader = ScenarioLoader(knownProfiles: ModelFixtures.profiles)
        let (scenarios, errors) = loader.load(paths: [ModelFixtures.valid, file])
        #expect(errors.count == 1, "\(name): \(errors)")
        let error = try #require(errors.first)
        #expect(error.file.hasSuffix("/malformed/\(name)"), "\(error)")
        #expect(error.line == expected.line, "\(error)")
        if let column = expected.column { #expect(error.column == column, "\(error)") }
        #expect(error.path == expected.path, "\(error)")
        if let fragment = expected.fragment { #expect(error.message.contains(fragment), "\(error)") }
        #expect(!scenarios.contains { $0.source.file == error.file })

        // The rendering is the compiler-style one editors and CI annotate.
        let prefix = "\(error.file):\(error.line):\(error.column): "
        #expect(error.description.hasPrefix(prefix + (expected.path.isEmpty ? "" : expected.path + ": ")))
    }

    @Test("a file over 1 MiB is rejected before it is parsed")
    func oversized() throws {
        let folder = Scratch.folder("mimic-oversized-")
        let file = folder.appendingPathComponent("oversized.yaml")
        defer { try? FileManager.default.removeItem(at: folder) }
        let line = "# " + String(repeating: "x", count: 1021) + "\n"
        try String(repeating: line, count: 1025).write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: ScenarioError.self) { try ScenarioLoader().load(file: file) }
        do {
            _ = try ScenarioLoader().load(file: file)
        } catch {
            #expect(error.line == 1 && error.column == 1)
            #expect(error.message.contains("1 MiB"))
        }
    }

    @Test("aliases that expand exponentially are refused without being expanded")
    func billionLaughs() throws {
        var yaml = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(level): &a\(level) [\(refs)]\n"
        }
        yaml += "id: x\nsummary: s\nserver: { protocol: smtp, tls: none, backend: openssl }\nexpect: { verdict: [] }\n"
        // The node budget stops it: the error says so (expanding it would take the machine's memory first).
        do {
            _ = try ScenarioLoader().load(yaml: yaml, file: "laughs.yaml")
            Issue.record("loaded a billion laughs")
        } catch {
            #expect(error.message.contains("YAML nodes"))
        }
    }

    @Test("a path that does not exist is an error, not a silent empty load")
    func missingPath() {
        let missing = ModelFixtures.valid.appendingPathComponent("no-such-dir")
        let (scenarios, errors) = ScenarioLoader().load(paths: [missing])
        #expect(scenarios.isEmpty)
        #expect(errors.count == 1)
        #expect(errors.first?.message == "no such file or directory")
    }

    @Test("invalid UTF-8 is reported at the start of the file")
    func invalidUTF8() throws {
        let folder = Scratch.folder("mimic-latin1-")
        let file = folder.appendingPathComponent("latin1.yaml")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data([0x69, 0x64, 0x3A, 0x20, 0xE9, 0xFF, 0x0A]).write(to: file)
        do {
            _ = try ScenarioLoader().load(file: file)
            Issue.record("loaded invalid UTF-8")
        } catch {
            #expect(error.message.contains("UTF-8"))
        }
    }

    @Test("without a profile list, any profile name is accepted; with one, unknown names are rejected")
    func profileCheckIsOptional() throws {
        let yaml = """
            id: x
            summary: s
            server: { protocol: smtp, tls: starttls, backend: openssl }
            pki: { profile: homemade }
            expect: { verdict: [] }
            """
        #expect(try ScenarioLoader().load(yaml: yaml, file: "x.yaml").count == 1)
        #expect(throws: ScenarioError.self) {
            try ScenarioLoader(knownProfiles: ["good"]).load(yaml: yaml, file: "x.yaml")
        }
    }

    static let header = """
        id: x
        summary: s
        server: { protocol: smtp, tls: starttls, backend: openssl }
        expect: { verdict: [] }

        """

    @Test(
        "every explicit tag is refused at the tag, wherever it is",
        arguments: [
            ("tags: !!python/object/apply:os.system [\"true\"]", 5, 7, "tags"),
            ("tags: [a, !!str b]", 5, 11, "tags[1]"),
            ("tags:\n  - ok\n  - ! b", 7, 5, "tags[1]"),
            ("tags: &t\n  !!seq [a]", 6, 3, "tags"),
            ("dialog: !<tag:yaml.org,2002:map> { preauth: false }", 5, 9, "dialog"),
            ("dialog: { starttls: { reply: !!binary aGVsbG8= } }", 5, 30, "dialog.starttls.reply"),
        ])
    func explicitTags(tail: String, line: Int, column: Int, path: String) {
        do {
            _ = try ScenarioLoader().load(yaml: Self.header + tail + "\n", file: "t.yaml")
            Issue.record("loaded: \(tail)")
        } catch {
            #expect(error.line == line && error.column == column, "\(error)")
            #expect(error.path == path, "\(error)")
            #expect(error.message.hasPrefix("explicit YAML tag '!"), "\(error)")
        }
    }

    @Test("an exclamation mark that is no tag, anchors and aliases still load")
    func notTags() throws {
        let yaml =
            Self.header + """
                tags: [&first "hello!", 'bang!', plain!, *first]
                dialog: { starttls: { reply: "454 not now!" }, greeting: &g "220 hi! there" }
                """
        let scenario = try #require(try ScenarioLoader().load(yaml: yaml, file: "t.yaml").first)
        #expect(scenario.tags == ["hello!", "bang!", "plain!", "hello!"])
    }

    @Test("a key repeated three times is reported at its second occurrence; CRLF files count lines the same")
    func duplicates() {
        for newline in ["\n", "\r\n"] {
            let yaml = ["id: x", "summary: s", "tags: [a]", "summary: t", "summary: u"].joined(separator: newline)
            do {
                _ = try ScenarioLoader().load(yaml: yaml, file: "d.yaml")
                Issue.record("loaded duplicates")
            } catch {
                #expect(error.line == 4 && error.column == 1 && error.path == "summary", "\(error)")
                #expect(error.message.contains("first at line 2, column 1"), "\(error)")
            }
        }
    }

    @Test("a duplicate inside a list item names the item")
    func duplicateInList() {
        let yaml = Self.header + "network:\n  - { kind: reset }\n  - kind: stall\n    phase: any\n    kind: reset\n"
        do {
            _ = try ScenarioLoader().load(yaml: yaml, file: "d.yaml")
            Issue.record("loaded duplicates")
        } catch {
            #expect(error.line == 9 && error.column == 5 && error.path == "network[1].kind", "\(error)")
        }
    }

    @Test(
        "listen addresses: IP literals and localhost load",
        arguments: ["127.0.0.1", "::1", "0.0.0.0", "::", "localhost"])
    func goodAddresses(address: String) throws {
        let yaml = """
            id: x
            summary: s
            server: { protocol: smtp, tls: starttls, backend: openssl, address: "\(address)" }
            expect: { verdict: [] }
            """
        #expect(try ScenarioLoader().load(yaml: yaml, file: "a.yaml").first?.server.address == address)
    }

    @Test(
        "listen addresses that are no IP literal are refused at load time",
        arguments: ["999.1.1.1", "127.0.0.01", "1.2.3", "[::1]", "::g", "mail.example.test", "127.0.0.1 "])
    func badAddresses(address: String) {
        let yaml = """
            id: x
            summary: s
            server: { protocol: smtp, tls: starttls, backend: openssl, address: "\(address)" }
            expect: { verdict: [] }
            """
        do {
            _ = try ScenarioLoader().load(yaml: yaml, file: "a.yaml")
            Issue.record("loaded address '\(address)'")
        } catch {
            #expect(error.path == "server.address" && error.line == 3, "\(error)")
        }
    }

    @Test(
        "probe.servername: a host name or IP literal, at most 253 characters",
        arguments: [
            ("mail.example.test", true), ("127.0.0.1", true), ("::1", true),
            ("a." + String(repeating: "b", count: 63), true),
            (String(repeating: "a.", count: 126) + "b", true), (String(repeating: "a.", count: 127) + "b", false),
            (String(repeating: "x", count: 10_000), false), ("a b", false), ("999.999.999.999", false),
            ("under_score.example", false), ("-x.example", false),
        ])
    func servername(name: String, valid: Bool) {
        let yaml = Self.header + "probe: { servername: \"\(name)\" }\n"
        do {
            let scenario = try ScenarioLoader().load(yaml: yaml, file: "s.yaml").first
            #expect(valid, "accepted '\(name.prefix(40))'")
            #expect(scenario?.probe.servername == name)
        } catch {
            #expect(!valid, "\(error)")
            #expect(error.path == "probe.servername" && error.line == 5, "\(error)")
            #expect(error.description.count < 400, "the message does not repeat a huge name")
        }
    }
}
