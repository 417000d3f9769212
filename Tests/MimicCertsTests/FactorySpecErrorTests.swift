import Foundation
import Testing
import Yams

@testable import MimicCerts

@Suite struct FactorySpecErrorTests {
    static let good = """
        certificates:
          - name: intermediate
            issuer: local-ca
            ca: true
          - name: leaf
            issuer: intermediate
            sans: [dns:mail.example.test, "dns:*.example.test", "ip:127.0.0.1", "ip:::1"]
            not_before: -2h
            not_after: +1y
            key: p384
            signature: ecdsa-sha256
        serve: [leaf, intermediate]
        """

    @Test func aGoodSpecParsesWithEveryField() throws {
        let spec = try ChainSpec.parse(yaml: Self.good, file: "good.yaml")
        let leaf = try #require(spec.certificate(named: "leaf"))
        #expect(leaf.sans == [.dns("mail.example.test"), .dns("*.example.test"), .ip("127.0.0.1"), .ip("::1")])
        #expect(leaf.notBefore.seconds == -7_200)
        #expect(leaf.notAfter.seconds == 365 * 86_400)
        #expect(leaf.key == .p384)
        #expect(leaf.signature == .ecdsaSHA256)
        #expect(spec.certificate(named: "intermediate")?.notAfter == .defaultNotAfter)
        #expect(spec.serve == ["leaf", "intermediate"])
        #expect(spec.trust == nil)
    }

    @Test func yamlDecoderAndJSONDecoderGiveTheSameSpec() throws {
        let parsed = try ChainSpec.parse(yaml: Self.good)
        let decoded = try YAMLDecoder().decode(ChainSpec.self, from: Self.good)
        #expect(decoded == parsed)
        let json = #"{"certificates":[{"name":"leaf","ca":false,"path_length":null}],"serve":["leaf"]}"#
        let fromJSON = try JSONDecoder().decode(ChainSpec.self, from: Data(json.utf8))
        #expect(fromJSON.certificates.first?.isSelfSigned == true)
    }

    @Test func yamlDecoderRejectsUnknownKeysNamingThem() {
        let yaml = Self.good.replacingOccurrences(of: "    ca: true", with: "    ca: true\n    colour: blue")
        let thrown = #expect(throws: (any Error).self) { try YAMLDecoder().decode(ChainSpec.self, from: yaml) }
        let error = thrown.flatMap { ChainSpecError(unwrapping: $0) }
        #expect(error?.field == "certificates[0].colour")
        #expect(error?.message.contains("unknown key 'colour'") == true)
    }

    /// Each malformed variant must fail naming the field and the line of the offending text.
    @Test(arguments: [
        ("    ca: true", "    ca: true\n    colour: blue", "certificates[0].colour", 5, "unknown key"),
        ("not_after: +1y", "not_after: +1 year", "certificates[1].not_after", 9, "bad duration"),
        ("not_before: -2h", "not_before: 2023-01-01", "certificates[1].not_before", 8, "bad duration"),
        ("key: p384", "key: ed448", "certificates[1].key", 10, "unknown value 'ed448'"),
        ("issuer: intermediate", "issuer: intermediat", "certificates[1].issuer", 6, "unknown issuer"),
        ("serve: [leaf, intermediate]", "serve: [leaf, root]", "serve[1]", 12, "unknown certificate 'root'"),
        ("    ca: true", "    ca: maybe", "certificates[0].ca", 4, "true or false"),
        ("\"ip:::1\"]", "\"ip:localhost\"]", "certificates[1].sans[3]", 7, "bad SAN"),
        ("signature: ecdsa-sha256", "signature: rsa-sha1", "certificates[1].signature", 11, "cannot be made"),
        ("    ca: true", "    path_length: 1", "certificates[0].path_length", 4, "needs ca: true"),
        ("  - name: leaf", "  - name: intermediate", "certificates[1].name", 5, "duplicate"),
    ])
    func malformedSpecsNameFieldAndLine(
        original: String,
        replacement: String,
        field: String,
        line: Int,
        message: String
    ) throws {
        #expect(Self.good.contains(original))
        let yaml = Self.good.replacingOccurrences(of: original, with: replacement)
        let error = #expect(throws: ChainSpecError.self) { try ChainSpec.parse(yaml: yaml, file: "spec.yaml") }
        #expect(error?.field == field)
        #expect(error?.line == line)
        #expect(error?.file == "spec.yaml")
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "no error")")
        #expect(error?.description.hasPrefix("spec.yaml:\(line): \(field): ") == true)
    }

    @Test func issuerCyclesAreRejected() {
        let yaml = """
            certificates:
              - name: a
                issuer: b
                ca: true
              - name: b
                issuer: a
                ca: true
              - name: leaf
                issuer: a
            serve: [leaf]
            """
        let error = #expect(throws: ChainSpecError.self) { try ChainSpec.parse(yaml: yaml, file: "cycle.yaml") }
        #expect(error?.field == "certificates[0].issuer")
        #expect(error?.line == 3)
        #expect(error?.message.contains("a -> b -> a") == true)
    }

    @Test func specsBuiltInCodeAreValidatedWhenMinted() {
        let factory = FactoryFixture.sharedFactory()
        let cycle = ChainSpec(
            certificates: [CertificateSpec(name: "x", issuer: "y"), CertificateSpec(name: "y", issuer: "x")],
            serve: ["x"]
        )
        let error = #expect(throws: ChainSpecError.self) { try factory.mint(cycle, hostname: "h") }
        #expect(error?.field == "certificates[0].issuer")
        #expect(error?.line == nil)

        let servesCAFirst = ChainSpec(certificates: [CertificateSpec(name: "leaf")], serve: ["local-ca", "leaf"])
        let first = #expect(throws: ChainSpecError.self) { try factory.mint(servesCAFirst, hostname: "h") }
        #expect(first?.field == "serve[0]")

        let reserved = ChainSpec(certificates: [CertificateSpec(name: "chain")], serve: ["chain"])
        #expect(throws: ChainSpecError.self) { try factory.mint(reserved, hostname: "h") }

        let badName = ChainSpec(certificates: [CertificateSpec(name: "../leaf")], serve: ["../leaf"])
        #expect(throws: ChainSpecError.self) { try factory.mint(badName, hostname: "h") }
    }

    @Test func structuralErrorsAreClear() {
        let notAMapping = #expect(throws: ChainSpecError.self) { try ChainSpec.parse(yaml: "- a\n- b\n") }
        #expect(notAMapping?.message.contains("expected a mapping") == true)
        let scalarList = #expect(throws: ChainSpecError.self) {
            try ChainSpec.parse(yaml: "certificates:\n  - name: leaf\nserve: leaf\n", file: "f.yaml")
        }
        #expect(scalarList?.field == "serve")
        #expect(scalarList?.line == 3)
        let missingServe = #expect(throws: ChainSpecError.self) {
            try ChainSpec.parse(yaml: "certificates:\n  - name: leaf\n")
        }
        #expect(missingServe?.field == "serve")
        let notYAML = #expect(throws: ChainSpecError.self) { try ChainSpec.parse(yaml: "certificates: [\n") }
        #expect(notYAML?.message.contains("not valid YAML") == true)
        let duplicateKey = #expect(throws: ChainSpecError.self) {
            try ChainSpec.parse(yaml: "certificates:\n  - name: a\nserve: [a]\nserve: [a]\n")
        }
        #expect(duplicateKey?.message.lowercased().contains("duplicate") == true, "\(String(describing: duplicateKey))")
    }

    @Test(arguments: [
        ("-30d", -30 * 86_400), ("+90d", 90 * 86_400), ("-2h", -7_200), ("+1y", 31_536_000), ("15m", 900),
        ("+2w", 1_209_600), ("-45s", -45),
    ])
    func durationsParse(text: String, seconds: Int) {
        #expect(RelativeTime(text)?.seconds == seconds)
    }

    @Test(arguments: ["", "d", "-d", "30", "+30x", "1.5d", "--3d", "+99999999d", " 3d", "3 d"])
    func badDurationsAreRejected(text: String) {
        #expect(RelativeTime(text) == nil)
    }
}
