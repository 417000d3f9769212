import Testing

@testable import MimicCerts

@Suite("Hostname matching (RFC 9525)")
struct HostnameMatcherTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let hostname: String?
        let sans: [String]?
        let cns: [String]
        let expected: HostnameMatch
        let why: String

        init(_ hostname: String?, _ sans: [String]?, cns: [String] = [], _ expected: HostnameMatch, _ why: String) {
            self.hostname = hostname
            self.sans = sans
            self.cns = cns
            self.expected = expected
            self.why = why
        }

        var testDescription: String { "\(hostname ?? "nil") vs \(sans.map { "\($0)" } ?? "no SAN") — \(why)" }
    }

    static let cases: [Case] = [
        Case("mail.example.test", ["DNS:mail.example.test"], .matched(san: "DNS:mail.example.test"), "exact"),
        Case(
            "MAIL.Example.TEST",
            ["DNS:mail.example.test"],
            .matched(san: "DNS:mail.example.test"),
            "case-insensitive host"
        ),
        Case(
            "mail.example.test",
            ["DNS:Mail.EXAMPLE.test"],
            .matched(san: "DNS:Mail.EXAMPLE.test"),
            "case-insensitive SAN"
        ),
        Case(
            "mail.example.test.",
            ["DNS:mail.example.test"],
            .matched(san: "DNS:mail.example.test"),
            "trailing dot on host"
        ),
        Case(
            "mail.example.test",
            ["DNS:mail.example.test."],
            .matched(san: "DNS:mail.example.test."),
            "trailing dot on SAN"
        ),
        Case("imap.example.test", ["DNS:mail.example.test"], .mismatch, "other name"),
        Case("example.test", ["DNS:mail.example.test"], .mismatch, "parent domain"),
        Case("mail.example.test", ["DNS:example.test"], .mismatch, "subdomain of SAN"),
        Case(
            "mail.example.test",
            ["DNS:imap.example.test", "DNS:mail.example.test"],
            .matched(san: "DNS:mail.example.test"),
            "second SAN"
        ),
        Case("mail.example.test", ["DNS:*.example.test"], .matched(san: "DNS:*.example.test"), "wildcard"),
        Case("MAIL.example.test", ["DNS:*.EXAMPLE.test"], .matched(san: "DNS:*.EXAMPLE.test"), "wildcard, mixed case"),
        Case("a.mail.example.test", ["DNS:*.example.test"], .mismatch, "wildcard covers one label only"),
        Case("example.test", ["DNS:*.example.test"], .mismatch, "wildcard needs a label"),
        Case(".example.test", ["DNS:*.example.test"], .mismatch, "empty label"),
        Case("foo.example.test", ["DNS:f*.example.test"], .mismatch, "partial wildcard prefix"),
        Case("foo.example.test", ["DNS:*o.example.test"], .mismatch, "partial wildcard suffix"),
        Case("foo.example.test", ["DNS:f*o.example.test"], .mismatch, "partial wildcard infix"),
        Case("mail.example.test", ["DNS:mail.*.test"], .mismatch, "wildcard not left-most"),
        Case("mail.example.test", ["DNS:*.*.test"], .mismatch, "two wildcards"),
        Case("example.test", ["DNS:*.test"], .mismatch, "wildcard on a two-label name"),
        Case("example.com", ["DNS:*.com"], .mismatch, "wildcard on a TLD"),
        Case("localhost", ["DNS:*"], .mismatch, "bare wildcard"),
        Case("*.example.test", ["DNS:*.example.test"], .mismatch, "host that is a pattern"),
        Case("127.0.0.1", ["IP:127.0.0.1"], .matched(san: "IP:127.0.0.1"), "IPv4 SAN"),
        Case("127.0.0.1", ["DNS:127.0.0.1"], .mismatch, "IPv4 spelled as a DNS SAN"),
        Case("127.0.0.2", ["IP:127.0.0.1"], .mismatch, "other IPv4"),
        Case("::1", ["IP:::1"], .matched(san: "IP:::1"), "IPv6 SAN"),
        Case("[0:0:0:0:0:0:0:1]", ["IP:::1"], .matched(san: "IP:::1"), "IPv6 long form, bracketed"),
        Case("2001:DB8::1", ["IP:2001:db8::1"], .matched(san: "IP:2001:db8::1"), "IPv6 upper-case"),
        Case("::1", ["DNS:::1"], .mismatch, "IPv6 spelled as a DNS SAN"),
        Case("::ffff:127.0.0.1", ["IP:127.0.0.1"], .mismatch, "mapped IPv6 is not the IPv4 address"),
        Case("mail.example.test", ["IP:127.0.0.1"], .mismatch, "DNS host against IP SAN"),
        Case(
            "mail.example.test",
            nil,
            cns: ["mail.example.test"],
            .commonNameOnly(cn: "mail.example.test"),
            "CN fallback"
        ),
        Case(
            "mail.example.test",
            nil,
            cns: ["*.example.test"],
            .commonNameOnly(cn: "*.example.test"),
            "CN wildcard fallback"
        ),
        Case("mail.example.test", [], cns: ["mail.example.test"], .mismatch, "SAN present, CN ignored"),
        Case("mail.example.test", ["email:a@example.test"], cns: ["mail.example.test"], .mismatch, "only email SAN"),
        Case("127.0.0.1", nil, cns: ["127.0.0.1"], .mismatch, "IP never matches a CN"),
        Case("mail.example.test", nil, .mismatch, "neither SAN nor CN"),
        Case(nil, ["DNS:mail.example.test"], .notChecked, "no hostname"),
        Case("", ["DNS:mail.example.test"], .notChecked, "empty hostname"),
        Case("mail..example.test", ["DNS:mail..example.test"], .mismatch, "empty label on both sides"),
    ]

    @Test(arguments: cases)
    func table(_ c: Case) {
        #expect(
            HostnameMatcher.match(hostname: c.hostname, subjectAlternativeNames: c.sans, commonNames: c.cns)
                == c.expected
        )
    }

    @Test(arguments: [
        ("127.0.0.1", [127, 0, 0, 1] as [UInt8]?),
        ("255.255.255.255", [255, 255, 255, 255]),
        ("256.0.0.1", nil),
        ("127.0.0", nil),
        ("127.000.0.1", nil),
        ("1.2.3.4.5", nil),
        ("::", Array(repeating: 0, count: 16)),
        ("::1", Array(repeating: 0, count: 15) + [1]),
        ("1::", [0, 1] + Array(repeating: 0, count: 14)),
        ("2001:db8::1:0:0:1", [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]),
        ("::ffff:10.0.0.1", Array(repeating: 0, count: 10) + [0xff, 0xff, 10, 0, 0, 1]),
        ("1:2:3:4:5:6:7:8:9", nil),
        ("1::2::3", nil),
        ("12345::", nil),
        ("fe80::1%eth0", nil),
        ("mail.example.test", nil),
    ])
    func ipParsing(text: String, octets: [UInt8]?) {
        #expect(IPAddress.parse(text) == octets)
    }

    @Test(arguments: [
        ([127, 0, 0, 1] as [UInt8], "127.0.0.1"),
        (Array(repeating: 0, count: 16), "::"),
        (Array(repeating: 0, count: 15) + [1], "::1"),
        ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], "2001:db8::1:0:0:1"),
        ([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1], "2001:db8:1:0:1:1:1:1"),
        ([1, 2, 3], "010203"),
    ])
    func ipFormatting(octets: [UInt8], text: String) {
        #expect(IPAddress.string(octets) == text)
    }
}
