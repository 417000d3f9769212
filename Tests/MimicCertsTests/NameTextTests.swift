import Testing
import X509

@testable import MimicCerts

/// The facts write names themselves (`rfc4514`) rather than through swift-certificates' `description`; the text
/// must be the same, whatever the name holds.
@Suite("Chain facts: names as RFC 4514 text")
struct NameTextTests {
    @Test("the text swift-certificates' description gives")
    func sameText() throws {
        let multiValued = try RelativeDistinguishedName([
            RelativeDistinguishedName.Attribute(type: .RDNAttributeType.commonName, utf8String: "a+b"),
            RelativeDistinguishedName.Attribute(type: .RDNAttributeType.organizationalUnitName, utf8String: "Ops"),
        ])
        let names: [DistinguishedName] = [
            DistinguishedName(),
            try DistinguishedName { CommonName("mail.example.test") },
            try DistinguishedName {
                CountryName("DE")
                OrganizationName("Example, Inc.")
                CommonName("Mimic \"Test\" CA #1")
            },
            DistinguishedName([
                multiValued,
                try RelativeDistinguishedName(
                    RelativeDistinguishedName.Attribute(
                        type: .RDNAttributeType.organizationName, printableString: "Example")),
            ]),
            try DistinguishedName { CommonName(" leading and trailing ") },
            try DistinguishedName { CommonName("Ünïcödé ✓") },
        ]
        for name in names {
            #expect(name.rfc4514 == name.description, "\(name.description)")
        }
    }

    @Test("the canonical form: lowercased, runs of spaces made one, none at either end")
    func canonical() throws {
        for text in ["Mimic  Test   CA", " leading", "trailing  ", "  ", "A  b\u{0301}  C", "x"] {
            let name = try DistinguishedName { CommonName(text) }
            let expected = name.description.lowercased().split(separator: " ").joined(separator: " ")
            #expect(ChainFacts.canonical(name) == expected, "\(text)")
        }
    }
}
