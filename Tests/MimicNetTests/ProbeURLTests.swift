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
            ("IMAPS://h/INBOX", .imap, 993, .implicit),
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

    @Test("hosts: names, IPv4, bracketed IPv6, user info dropped")
    func hosts() throws {
        #expect(try ProbeURL.parse("ldaps://[::1]:636").host == "::1")
        #expect(try ProbeURL.parse("imaps://user@127.0.0.1").host == "127.0.0.1")
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
            ("smtps://", "no host"),
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
}
