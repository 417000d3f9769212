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
}
