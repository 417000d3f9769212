import MimicCore
import Testing

@testable import MimicDialogs

@Suite("IMAP client dialog")
struct IMAPClientDialogTests {
    @Test("capabilities only in the greeting: STARTTLS sent directly, then CAPABILITY and LOGOUT after TLS")
    func greetingCapabilities() throws {
        let actions = runStable(
            IMAPClientDialog(options: options()),
            [
                .lines(
                    "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS LOGINDISABLED] Dovecot ready."
                ),
                .lines("a001 OK Begin TLS negotiation now."),
                .tls,
                .lines(
                    "* CAPABILITY IMAP4rev1 AUTH=PLAIN",
                    "a002 OK Pre-login capabilities listed, post-login capabilities have more."
                ),
                .lines("* BYE Logging out", "a003 OK Logout completed."),
            ]
        )
        #expect(actions.sent == ["a001 STARTTLS\r\n", "a002 CAPABILITY\r\n", "a003 LOGOUT\r\n"])
        #expect(actions.startsTLS)
        let summary = try #require(actions.summary)
        #expect(summary.capabilitiesBeforeTLS.contains("STARTTLS"))
        #expect(summary.capabilitiesAfterTLS == ["IMAP4rev1", "AUTH=PLAIN"])
    }

    @Test("greeting without capabilities: CAPABILITY first, untagged responses interleaved")
    func capabilityCommand() throws {
        let actions = runStable(
            IMAPClientDialog(options: options()),
            [
                .lines("* OK IMAP4 ready"),
                .lines("* OK [ALERT] maintenance tonight", "* CAPABILITY IMAP4rev1 starttls", "a001 OK done"),
                .lines("a002 OK go"),
            ]
        )
        #expect(actions.sent == ["a001 CAPABILITY\r\n", "a002 STARTTLS\r\n"])
        #expect(actions.startsTLS)
    }

    @Test("greeting lists capabilities without STARTTLS: CAPABILITY is asked before deciding")
    func greetingWithoutStartTLS() throws {
        let actions = runStable(
            IMAPClientDialog(options: options()),
            [.lines("* OK [CAPABILITY IMAP4rev1] hi"), .lines("* CAPABILITY IMAP4rev1", "a001 OK done")]
        )
        #expect(actions.sent == ["a001 CAPABILITY\r\n", "a002 LOGOUT\r\n"])
        #expect(try #require(actions.failure).code == .startTLSNotOffered)
    }

    @Test("capabilities in the tagged OK's response code count")
    func taggedCapabilityCode() {
        let actions = runStable(
            IMAPClientDialog(options: options()),
            [.lines("* OK hi"), .lines("a001 OK [CAPABILITY IMAP4rev1 STARTTLS] done")]
        )
        #expect(actions.sent.last == "a002 STARTTLS\r\n")
    }

    @Test("PREAUTH in STARTTLS mode: reported, LOGOUT, no TLS")
    func preauth() throws {
        let actions = runStable(
            IMAPClientDialog(options: options()),
            [.lines("* PREAUTH [CAPABILITY IMAP4rev1] ready")]
        )
        let failure = try #require(actions.failure)
        #expect(failure.code == .startTLSNotOffered)
        #expect(failure.phase == .greeting)
        #expect(failure.detail.contains("PREAUTH"))
        #expect(actions.sent == ["a001 LOGOUT\r\n"])
        #expect(!actions.startsTLS)
    }

    @Test("PREAUTH over implicit TLS is accepted")
    func preauthImplicit() throws {
        let actions = runStable(
            IMAPClientDialog(options: options(.implicit)),
            [.lines("* PREAUTH ready"), .lines("* CAPABILITY IMAP4rev1", "a001 OK"), .lines("a002 OK bye")]
        )
        #expect(actions.sent == ["a001 CAPABILITY\r\n", "a002 LOGOUT\r\n"])
        #expect(actions.summary != nil)
    }

    @Test("BYE greeting is greetingRejected")
    func byeGreeting() throws {
        let actions = runStable(IMAPClientDialog(options: options()), [.lines("* BYE Too many connections")])
        #expect(try #require(actions.failure).code == .greetingRejected)
        #expect(actions.sent.isEmpty)
    }

    @Test(
        "STARTTLS answered NO or BAD: startTLSRejected with the reply",
        arguments: [
            "a002 NO [UNAVAILABLE] TLS not available", "a002 BAD Unknown command",
        ]
    )
    func refused(line: String) throws {
        let actions = runStable(
            IMAPClientDialog(options: options()),
            [.lines("* OK hi"), .lines("* CAPABILITY IMAP4rev1 STARTTLS", "a001 OK"), .lines(line)]
        )
        let failure = try #require(actions.failure)
        #expect(failure.code == .startTLSRejected)
        #expect(failure.serverWords == line)
        #expect(actions.sent.last == "a003 LOGOUT\r\n")
        #expect(!actions.startsTLS)
    }

    @Test("injected response after the STARTTLS OK (libetpan #386)")
    func injection() throws {
        let actions = run(
            IMAPClientDialog(options: options()),
            [.lines("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi"), .server("a001 OK Begin TLS\r\nB OK injected\r\n")]
        )
        #expect(try #require(actions.failure).code == .plaintextInjection)
        #expect(!actions.startsTLS)
    }

    @Test("untagged data between STARTTLS and its OK is a warning")
    func untaggedBeforeOK() {
        let actions = runStable(
            IMAPClientDialog(options: options()),
            [
                .lines("* OK [CAPABILITY STARTTLS] hi"),
                .lines("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] cached", "a001 OK go"),
            ]
        )
        #expect(actions.findings.map(\.code) == [.unexpectedReply])
        #expect(actions.startsTLS)
    }

    @Test("wrong tag, continuation and BYE mid-dialog are failures")
    func unexpected() throws {
        for line in ["a999 OK what", "+ go ahead", "* BYE shutting down", "garbage"] {
            let actions = runStable(IMAPClientDialog(options: options()), [.lines("* OK hi"), .lines(line)])
            #expect(try #require(actions.failure).code == .unexpectedReply, "\(line)")
        }
    }
}
