import MimicCore
import Testing

@testable import MimicDialogs

/// The upgrade still offered on the TLS session (catalogue #38): a warning after a STARTTLS upgrade, nothing on a
/// refreshed list or on an implicit-TLS port, and the dialog goes on to its end either way.
@Suite("Capabilities after TLS")
struct CapabilitiesAfterTLSTests {
    private static func smtp(afterTLS: [String]) -> [Step] {
        [
            .lines("220 mx.example.test ESMTP"),
            .lines("250-mx.example.test", "250-PIPELINING", "250 STARTTLS"),
            .lines("220 2.0.0 Ready to start TLS"),
            .tls,
            .server(
                (["250-mx.example.test"] + afterTLS.dropLast().map { "250-" + $0 } + ["250 " + afterTLS.last!])
                    .map { $0 + "\r\n" }.joined()),
            .lines("221 2.0.0 Bye"),
        ]
    }

    private static func imap(afterTLS: String) -> [Step] {
        [
            .lines("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready"),
            .lines("a001 OK Begin TLS negotiation now."),
            .tls,
            .lines("* CAPABILITY \(afterTLS)", "a002 OK Capability completed."),
            .lines("* BYE Logging out", "a003 OK Logout completed."),
        ]
    }

    private static func pop3(afterTLS: String...) -> [Step] {
        [
            .lines("+OK ready"),
            .lines("+OK", "TOP", "STLS", "."),
            .lines("+OK Begin TLS negotiation"),
            .tls,
            .server((["+OK"] + afterTLS + ["."]).map { $0 + "\r\n" }.joined()),
            .lines("+OK Logging out."),
        ]
    }

    private func expectStillAdvertised(_ actions: [DialogAction], _ listed: String) throws {
        let summary = try #require(actions.summary, "the dialog completes")
        #expect(actions.findings.map(\.code) == [.startTLSStillAdvertised])
        #expect(summary.findings.map(\.code) == [.startTLSStillAdvertised])
        let finding = try #require(actions.findings.first)
        #expect(finding.severity == .warning)
        #expect(finding.phase == .postTLS)
        #expect(finding.evidence.contains(listed), "\(finding.evidence)")
    }

    @Test("SMTP: EHLO after TLS listing STARTTLS (any case, last line) is a warning")
    func smtpStillAdvertised() throws {
        let actions = runStable(SMTPClientDialog(options: options()), Self.smtp(afterTLS: ["AUTH PLAIN", "starttls"]))
        try expectStillAdvertised(actions, "starttls")
        #expect(actions.sent.last == "QUIT\r\n")
    }

    @Test("SMTP: a refreshed EHLO, and a keyword that only starts with STARTTLS, are not")
    func smtpRefreshed() throws {
        for afterTLS in [["AUTH PLAIN", "8BITMIME"], ["STARTTLSX", "X-STARTTLS"]] {
            let actions = runStable(SMTPClientDialog(options: options()), Self.smtp(afterTLS: afterTLS))
            #expect(actions.summary?.capabilitiesAfterTLS == afterTLS)
            #expect(actions.findings.isEmpty, "\(afterTLS): \(actions.findings)")
        }
    }

    @Test("IMAP: CAPABILITY after TLS listing STARTTLS is a warning; without it nothing")
    func imap() throws {
        try expectStillAdvertised(
            runStable(IMAPClientDialog(options: options()), Self.imap(afterTLS: "IMAP4rev1 STARTTLS LOGINDISABLED")),
            "STARTTLS")
        let refreshed = runStable(IMAPClientDialog(options: options()), Self.imap(afterTLS: "IMAP4rev1 AUTH=PLAIN"))
        #expect(refreshed.summary?.capabilitiesAfterTLS == ["IMAP4rev1", "AUTH=PLAIN"])
        #expect(refreshed.findings.isEmpty)
    }

    @Test("IMAP over implicit TLS: STARTTLS in the greeting's list is not this finding (there was no upgrade)")
    func imapImplicit() {
        let actions = runStable(
            IMAPClientDialog(options: options(.implicit)),
            [
                .lines("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready"),
                .lines("* BYE Logging out", "a001 OK Logout completed."),
            ])
        #expect(actions.summary?.capabilitiesAfterTLS == ["IMAP4rev1", "STARTTLS"])
        #expect(actions.findings.isEmpty)
    }

    @Test("POP3: CAPA after STLS naming STLS is a warning; without it nothing")
    func pop3() throws {
        try expectStillAdvertised(
            runStable(POP3ClientDialog(options: options()), Self.pop3(afterTLS: "TOP", "STLS", "USER")), "STLS")
        let refreshed = runStable(POP3ClientDialog(options: options()), Self.pop3(afterTLS: "TOP", "USER"))
        #expect(refreshed.summary?.capabilitiesAfterTLS == ["TOP", "USER"])
        #expect(refreshed.findings.isEmpty)
    }
}
