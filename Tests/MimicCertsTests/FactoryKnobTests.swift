import Foundation
import SwiftASN1
import Testing
import X509

@testable import MimicCerts

/// The chain-spec knobs for strictness and malformation: parsed with line-numbered errors, and minted into the
/// bytes they promise, read back with plain ASN.1 and with the facts' tolerant reader.
@Suite struct FactoryKnobTests {
    static func spec(leaf: String = "", intermediate: String = "") -> String {
        """
        certificates:
          - name: intermediate
            issuer: local-ca
            ca: true
        \(intermediate)
          - name: leaf
            issuer: intermediate
            sans: [dns:mail.example.test]
        \(leaf)
        serve: [leaf, intermediate]
        """
    }

    static func mint(leaf: String = "", intermediate: String = "") throws -> MintedChain {
        let spec = try ChainSpec.parse(yaml: Self.spec(leaf: leaf, intermediate: intermediate))
        return try FactoryFixture.sharedFactory().mint(spec, name: "knobs", hostname: "mail.example.test")
    }

    @Test func knobsParse() throws {
        let spec = try ChainSpec.parse(
            yaml: Self.spec(
                leaf: """
                        authority_key_id: false
                        subject_key_id: false
                        basic_constraints: absent
                        san_critical: true
                        malform: [negative-serial, oversized]
                    """,
                intermediate: "    basic_constraints: non-critical"
            ))
        let leaf = try #require(spec.certificate(named: "leaf"))
        #expect(!leaf.authorityKeyIdentifier && !leaf.subjectKeyIdentifier)
        #expect(leaf.basicConstraints == .absent)
        #expect(leaf.sanCritical == true)
        #expect(leaf.malform == [.negativeSerial, .oversized])
        #expect(spec.certificate(named: "intermediate")?.basicConstraints == .nonCritical)
    }

    @Test func badKnobValuesNameTheField() {
        for (leaf, field) in [
            ("    basic_constraints: sometimes", "certificates[1].basic_constraints"),
            ("    malform: [crumpled]", "certificates[1].malform[0]"),
            ("    same_key_as: nobody", "certificates[1].same_key_as"),
            ("    same_key_as: leaf", "certificates[1].same_key_as"),
        ] {
            let thrown = #expect(throws: ChainSpecError.self) { try ChainSpec.parse(yaml: Self.spec(leaf: leaf)) }
            #expect(thrown?.field == field, "\(leaf): \(String(describing: thrown))")
        }
    }

    @Test func missingIdentifiersAndBasicConstraintsAreLeftOut() throws {
        let minted = try Self.mint(
            leaf: "    authority_key_id: false\n    subject_key_id: false\n    basic_constraints: absent",
            intermediate: "    basic_constraints: non-critical"
        )
        let leaf = try Certificate(derEncoded: try #require(minted.certificates["leaf"]))
        #expect(leaf.extensions[oid: .X509ExtensionID.authorityKeyIdentifier] == nil)
        #expect(leaf.extensions[oid: .X509ExtensionID.subjectKeyIdentifier] == nil)
        #expect(leaf.extensions[oid: .X509ExtensionID.basicConstraints] == nil)
        let intermediate = try Certificate(derEncoded: try #require(minted.certificates["intermediate"]))
        #expect(intermediate.extensions[oid: .X509ExtensionID.basicConstraints]?.critical == false)
    }

    @Test(
        "each malformation is minted, still signed by its issuer, and marked by the facts",
        arguments: Malformation.allCases)
    func malformations(_ malformation: Malformation) throws {
        let minted = try Self.mint(leaf: "    malform: [\(malformation)]")
        let facts = try ChainFacts(
            chain: minted.served, anchors: minted.anchors, hostname: "mail.example.test", at: Date())
        #expect(facts.malformedPositions == [0], "\(malformation): \(facts.certificates[0].malformed ?? [])")
        #expect(!facts.certificates[1].isMalformed)
        let der = minted.served[0]
        switch malformation {
        case .oversized: #expect(der.count > ParsedCertificate.maximumSize)
        case .negativeSerial, .zeroSerial:
            let tbs = try #require(Self.children(try DER.parse(der)).first)
            let serial = Self.children(tbs)[1]
            #expect(serial.encodedBytes == (malformation == .zeroSerial ? [0x02, 0x01, 0x00] : [0x02, 0x01, 0xFF]))
        default: break
        }
        if malformation != .oversized && malformation != .algorithmMismatch && malformation != .truncatedKey {
            // Re-signed over the new tbsCertificate: the path to the local CA still holds.
            #expect(facts.complete, "\(malformation)")
        }
    }

    @Test func sameKeyAsGivesOneKeyTwoIssuers() throws {
        let spec = try ChainSpec.parse(
            yaml: """
                certificates:
                  - name: root-self
                    ca: true
                    subject: { common_name: Knob Cross Root }
                  - name: root-cross
                    issuer: local-ca
                    ca: true
                    same_key_as: root-self
                    subject: { common_name: Knob Cross Root }
                serve: [root-cross]
                """)
        let minted = try FactoryFixture.sharedFactory().mint(spec, name: "knobs-cross", hostname: "x.example.test")
        let selfSigned = try FactoryFixture.subjectPublicKeyInfo(of: try #require(minted.certificates["root-self"]))
        let cross = try FactoryFixture.subjectPublicKeyInfo(of: try #require(minted.certificates["root-cross"]))
        #expect(selfSigned == cross)
    }

    private static func children(_ node: ASN1Node) -> [ASN1Node] {
        guard case .constructed(let nodes) = node.content else { return [] }
        return Array(nodes)
    }
}
