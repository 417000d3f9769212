import MimicCore
import MimicNet
import Testing

@Suite("Probe targets")
struct ProbeURLTests {
    @Test(
        "the mode follows the port",
        arguments: [
            ("submission://mail.example.test", ServiceProtocol.smtp, 587, TLSMode.startTLS),
            ("smtp://mail.example.test", .smtp, 25, .startTLS),
            ("smtps://mail.example.test", .smtp, 465, .implicit),
            ("smtp://mail.example.test:465", .smtp, 465, .implicit),
            ("smtps://mail.example.test:587", .smtp, 587, .startTLS),
            ("imap://h", .imap, 143, .startTLS), ("imaps://h", .imap, 993, .implicit),
            ("pop3://h", .pop3, 110, .startTLS), ("pop3s://h", .pop3, 995, .implicit),
            ("ftp://h", .ftp, 21, .startTLS), ("ftps://h", .ftp, 990, .implicit),
            ("ldap://h", .ldap, 389, .startTLS), ("ldaps://h:636", .ldap, 636, .implicit),
            ("https://h", .https, 443, .implicit), ("https://h:8443", .https, 8443, .implicit),
            ("IMAPS://h/", .imap, 993, .implicit),
        ]
    )
    func byPort(url: String, serviceProtocol: ServiceProtocol, port: Int, mode: TLSMode) throws {
        if url == "smtps://mail.example.test:587" {
            // smtps names implicit TLS, the port says STARTTLS: that is a question for the user, not a guess.
            #expect(throws: ProbeURL.ParseError.self) { try ProbeURL.parse(url) }
            return
        }
        let target = try ProbeURL.parse(url)
        #expect(target.serviceProtocol == serviceProtocol && target.port == port && target.mode == mode, "\(url)")
    }

    @Test("an unregistered port needs a mode; --mode decides")
    func unknownPort() throws {
        #expect(throws: ProbeURL.ParseError.self) { try ProbeURL.parse("smtp://h:2525") }
        #expect(try ProbeURL.parse("smtp://h:2525", mode: .startTLS).mode == .startTLS)
        #expect(try ProbeURL.parse("smtp://h:465", mode: .startTLS).mode == .startTLS)
        #expect(throws: ProbeURL.ParseError.self) { try ProbeURL.parse("smtp://h:2525", mode: TLSMode.none) }
    }

    @Test("hosts: names, IPv4, bracketed IPv6")
    func hosts() throws {
        #expect(try ProbeURL.parse("ldaps://[::1]:636").host == "::1")
        #expect(try ProbeURL.parse("imaps://127.0.0.1/").host == "127.0.0.1")
        #expect(try ProbeURL.parse("imaps://mail.example.test.").host == "mail.example.test.")
        #expect(try ProbeURL.parse("imaps://xn--bcher-kva.example").host == "xn--bcher-kva.example")
        #expect(try ProbeURL.parse("smtp://localhost").host == "localhost")
        #expect(try ProbeURL.parse("https://" + String(repeating: "a.", count: 126) + "b").port == 443)
        let target = try ProbeURL.parse("imaps://127.0.0.1", serverName: "mail.example.test")
        #expect(target.verifyName == "mail.example.test" && target.sniName == "mail.example.test")
        #expect(try ProbeURL.parse("imaps://127.0.0.1").sniName == nil, "an IP literal is never sent as SNI")
        #expect(try ProbeURL.parse("ldaps://[::1]").sniName == nil)
    }

    @Test(
        "bad targets say what is wrong",
        arguments: [
            ("mail.example.test", "expected SCHEME://HOST"), ("gopher://h", "unknown scheme"),
            ("smtp://h:0", "not a number from 1 to 65535"), ("smtp://h:99999", "1 to 65535"),
            ("smtp://h:x", "not a number"), ("ldaps://::1", "brackets"), ("ldaps://[::1", "unclosed"),
            ("smtps://", "no host"), ("smtp://h:", "not a number"), ("smtp://h:+25", "not a number"),
            // Parts of a URL that a probe target has no use for are refused, not silently dropped.
            ("imaps://h/INBOX", "a path ('/INBOX') is not allowed"), ("https://h/a/b", "a path"),
            ("https://h?x=1", "a query ('?x=1') is not allowed"), ("https://h/?x=1", "a query"),
            ("https://h#top", "a fragment ('#top') is not allowed"), ("https://h:443/#top", "a fragment"),
            ("smtp://user@h", "user information"), ("smtp://user:secret@h:25", "user information"),
            // Hosts that are no hosts are refused before any lookup.
            ("smtp://%00", "the character '%' is not allowed"), ("smtp://999.999.999.999", "not a valid IPv4"),
            ("smtp://256.1.1.1", "not a valid IPv4"), ("smtp://1.2.3", "not a valid IPv4"),
            ("smtp://01.2.3.4", "not a valid IPv4"), ("smtp://a..b", "empty label"), ("smtp://.a", "empty label"),
            ("smtp://a b", "space is not allowed"), ("smtp://mail_server", "'_' is not allowed"),
            ("smtp://-a.example", "start or end with '-'"), ("smtp://a.123", "last label cannot be all digits"),
            ("smtp://bücher.example", "xn--"), ("ldaps://[example.test]", "brackets are for IPv6"),
            ("ldaps://[1.2.3.4]", "brackets are for IPv6"), ("ldaps://[::g]", "not a valid IPv6"),
            ("smtp://" + String(repeating: "a", count: 64) + ".example", "at most 63"),
            ("smtp://" + String(repeating: "a.", count: 127) + "b", "at most 253"),
        ]
    )
    func bad(url: String, message: String) {
        do {
            _ = try ProbeURL.parse(url)
            Issue.record("\(url) parsed")
        } catch {
            #expect(error.description.contains(message), "\(url): \(error)")
        }
    }

    @Test("user information is refused without repeating the password")
    func userInfoNotEchoed() {
        do {
            _ = try ProbeURL.parse("smtp://user:hunter2@mail.example.test")
            Issue.record("parsed")
        } catch {
            #expect(!error.description.contains("hunter2"), "\(error)")
        }
    }

    @Test("an invalid --servername is refused too")
    func badServerName() throws {
        #expect(throws: ProbeURL.ParseError.self) { try ProbeURL.parse("smtp://h", serverName: "a..b") }
        #expect(throws: ProbeURL.ParseError.self) {
            try ProbeURL.parse("smtp://h", serverName: String(repeating: "x", count: 10_000))
        }
        #expect(try ProbeURL.parse("smtp://h", serverName: "127.0.0.1").verifyName == "127.0.0.1")
    }
}
