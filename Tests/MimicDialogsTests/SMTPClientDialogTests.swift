import MimicCore
import Testing

@testable import MimicDialogs

@Suite("SMTP client dialog")
struct SMTPClientDialogTests {
    static let ehlo = Step.lines("250-mx.example.test", "250-PIPELINING", "250-SIZE 10240000", "250 STARTTLS")

    @Test("full STARTTLS dialog sends exactly EHLO, STARTTLS, EHLO, QUIT")
    func happyPath() throws {
        let actions = runStable(
            SMTPClientDialog(options: options()),
            [
                .lines("220 mx.example.test ESMTP Postfix"),
                Self.ehlo,
                .lines("220 2.0.0 Ready to start TLS"),
                .tls,
                .lines("250-mx.example.test", "250-AUTH PLAIN LOGIN", "250 8BITMIME"),
                .lines("221 2.0.0 Bye"),
            ]
        )
        #expect(
            actions.sentBytes == [
                Array("EHLO probe.mimic.test\r\n".utf8), Array("STARTTLS\r\n".utf8),
                Array("EHLO probe.mimic.test\r\n".utf8),
                Array("QUIT\r\n".utf8),
            ]
        )
        #expect(actions.startsTLS)
        let summary = try #require(actions.summary)
        #expect(summary.greeting == ["mx.example.test ESMTP Postfix"])
        #expect(summary.capabilitiesBeforeTLS == ["PIPELINING", "SIZE 10240000", "STARTTLS"])
        #expect(summary.capabilitiesAfterTLS == ["AUTH PLAIN LOGIN", "8BITMIME"])
        #expect(summary.upgradeAdvertised)
        #expect(summary.upgradeReply == "220 2.0.0 Ready to start TLS")
        #expect(!summary.bareLineFeeds)
        #expect(
            summary.transcript.entries.first
                == .init(direction: .received, text: "220 mx.example.test ESMTP Postfix", crlf: true)
        )
        // The startTLS action comes right after the go-ahead, before anything post-TLS is sent.
        let startIndex = try #require(actions.firstIndex(of: .startTLS(leftover: [])))
        #expect(Array(actions[..<startIndex]).sent == ["EHLO probe.mimic.test\r\n", "STARTTLS\r\n"])
    }

    @Test("postscreen-style 220- first line: nothing is sent until the final 220 line")
    func postscreenGreeting() {
        var dialog = SMTPClientDialog(options: options())
        #expect(dialog.start().isEmpty)
        #expect(dialog.received(Array("220-mx.example.test ESMTP Postfix\r\n".utf8)).isEmpty)
        #expect(dialog.received(Array("220 mx.example.test ESMTP Postfix\r".utf8)).isEmpty)
        #expect(dialog.received(Array("\n".utf8)).sent == ["EHLO probe.mimic.test\r\n"])
        runStable(
            SMTPClientDialog(options: options()),
            [.lines("220-mx.example.test ESMTP Postfix", "220 mx.example.test ESMTP Postfix"), Self.ehlo]
        )
    }

    @Test("a 10-line banner (MDaemon) is one greeting")
    func tenLineBanner() throws {
        let banner = (1...9).map { "220-line \($0) of the banner" } + ["220 mail.example.test ESMTP MDaemon ready"]
        let actions = runStable(
            SMTPClientDialog(options: options()),
            [.server(banner.map { $0 + "\r\n" }.joined()), Self.ehlo]
        )
        #expect(actions.sent == ["EHLO probe.mimic.test\r\n", "STARTTLS\r\n"])
        var dialog = SMTPClientDialog(options: options())
        _ = dialog.start()
        let summaryActions = run(
            dialog,
            [
                .server(banner.map { $0 + "\r\n" }.joined()), Self.ehlo, .lines("220 go"), .tls, .lines("250 x"),
                .lines("221 bye"),
            ]
        )
        #expect(try #require(summaryActions.summary).greeting.count == 10)
    }

    @Test("STARTTLS on the last EHLO line, in lower case, and a greeting without ESMTP")
    func startTLSLastLineNoESMTP() {
        let actions = runStable(
            SMTPClientDialog(options: options()),
            [.lines("220 mail.example.test"), .lines("250-mail.example.test Hello", "250 starttls")]
        )
        #expect(actions.sent == ["EHLO probe.mimic.test\r\n", "STARTTLS\r\n"])
        #expect(actions.failure == nil)
    }

    @Test("a configured EHLO name is used")
    func ehloName() {
        var opts = options()
        opts.ehloName = "monitor.example.org"
        let actions = run(SMTPClientDialog(options: opts), [.lines("220 x")])
        #expect(actions.sent == ["EHLO monitor.example.org\r\n"])
    }

    @Test("bare LF line endings are tolerated and reported once")
    func bareLF() throws {
        let actions = runStable(
            SMTPClientDialog(options: options()),
            [
                .server("220 mx.example.test ESMTP\n"), .server("250-mx\n250 STARTTLS\n"), .server("220 go\r\n"), .tls,
                .lines("250 mx"), .lines("221 bye"),
            ]
        )
        #expect(actions.findings.count == 1)
        #expect(actions.findings.first?.code == .unexpectedReply)
        #expect(actions.findings.first?.severity == .warning)
        let summary = try #require(actions.summary)
        #expect(summary.bareLineFeeds)
        #expect(summary.transcript.entries.first?.crlf == false)
    }

    @Test(
        "greeting 554 and 421 are greetingRejected; garbage is unexpectedReply",
        arguments: [
            ("554 5.7.1 No SMTP service here", FindingCode.greetingRejected),
            ("421 4.3.2 Service shutting down", .greetingRejected),
            ("SSH-2.0-OpenSSH_9.2", .unexpectedReply),
            ("250 not a greeting", .unexpectedReply),
        ]
    )
    func rejectedGreeting(line: String, code: FindingCode) throws {
        let actions = runStable(SMTPClientDialog(options: options()), [.lines(line)])
        let failure = try #require(actions.failure)
        #expect(failure.code == code)
        #expect(failure.phase == .greeting)
        #expect(failure.serverWords == line)
        #expect(actions.sent.isEmpty)
    }

    @Test(
        "STARTTLS refused with 454 or 502: startTLSRejected with the server's words, QUIT, no TLS",
        arguments: [
            "454 4.7.0 TLS not available due to local problem", "502 5.5.1 Command not implemented",
            "501 5.5.4 Syntax error",
        ]
    )
    func refused(line: String) throws {
        let actions = runStable(
            SMTPClientDialog(options: options()),
            [.lines("220 mx ESMTP"), Self.ehlo, .lines(line)]
        )
        let failure = try #require(actions.failure)
        #expect(failure.code == .startTLSRejected)
        #expect(failure.phase == .upgrade)
        #expect(failure.serverWords == line)
        #expect(!actions.startsTLS)
        #expect(actions.sent.last == "QUIT\r\n")
        #expect(failure.finding.evidence.contains(line))
    }

    @Test("STARTTLS not advertised: fails by default, tried when asked")
    func notAdvertised() throws {
        let script: [Step] = [.lines("220 mx ESMTP"), .lines("250-mx", "250 PIPELINING")]
        let actions = runStable(SMTPClientDialog(options: options()), script)
        #expect(try #require(actions.failure).code == .startTLSNotOffered)
        #expect(actions.sent == ["EHLO probe.mimic.test\r\n", "QUIT\r\n"])
        // The failure's transcript ends with the goodbye it was sent with.
        #expect(try #require(actions.failure).transcript.entries.last?.text == "QUIT")

        let anyway = runStable(SMTPClientDialog(options: options(tryAnyway: true)), script + [.lines("220 ok")])
        #expect(anyway.sent == ["EHLO probe.mimic.test\r\n", "STARTTLS\r\n"])
        #expect(anyway.startsTLS)
        #expect(anyway.findings.map(\.code) == [.startTLSNotOffered])
        #expect(anyway.findings.first?.severity == .warning)

        let refused = runStable(SMTPClientDialog(options: options(tryAnyway: true)), script + [.lines("502 no")])
        #expect(try #require(refused.failure).code == .startTLSNotOffered)
        #expect(try #require(refused.failure).transcript.entries.last?.text == "502 no", "reported up to the refusal")
    }

    @Test("plaintext after the 220 go-ahead in the same segment: injection, no startTLS")
    func injectionSameSegment() throws {
        let actions = run(
            SMTPClientDialog(options: options()),
            [.lines("220 mx ESMTP"), Self.ehlo, .server("220 2.0.0 Ready to start TLS\r\n250 injected\r\n")]
        )
        let failure = try #require(actions.failure)
        #expect(failure.code == .plaintextInjection)
        #expect(failure.serverWords == "250 injected\\x0D\\x0A")
        #expect(!actions.startsTLS)
        // Any split inside the go-ahead line gives the same verdict.
        let goAhead = "220 2.0.0 Ready to start TLS\r\n"
        for offset in 1..<goAhead.utf8.count {
            let split = run(
                SMTPClientDialog(options: options()),
                [.lines("220 mx ESMTP"), Self.ehlo, .server(goAhead + "250 injected\r\n")],
                chunking: .split(offset)
            )
            #expect(split == actions, "split at \(offset)")
        }
    }

    @Test("plaintext arriving after the go-ahead but before the handshake completes: injection")
    func injectionLaterSegment() throws {
        var dialog = SMTPClientDialog(options: options())
        _ = dialog.start()
        _ = dialog.received(Array("220 mx\r\n250-mx\r\n250 STARTTLS\r\n".utf8))
        #expect(dialog.received(Array("220 go\r\n".utf8)) == [.startTLS(leftover: [])])
        let actions = dialog.received(Array("250 x".utf8))
        #expect(actions.failure?.code == .plaintextInjection)
        #expect(dialog.tlsEstablished().isEmpty)
        #expect(dialog.received(Array("more".utf8)).isEmpty)
    }

    @Test("over-long line, too many lines, changing codes: unexpectedReply, no trap")
    func limits() throws {
        let long = run(SMTPClientDialog(options: options()), [.server("220 " + String(repeating: "a", count: 10_000))])
        #expect(try #require(long.failure).code == .unexpectedReply)
        #expect(try #require(long.failure).detail.contains("8192"))
        let longWithLF = run(
            SMTPClientDialog(options: options()),
            [.server("220 " + String(repeating: "a", count: 9_000) + "\r\n")]
        )
        #expect(try #require(longWithLF.failure).code == .unexpectedReply)
        // Exactly at the limit is fine.
        let atLimit = run(
            SMTPClientDialog(options: options()),
            [.server("220 " + String(repeating: "a", count: 8188) + "\r\n")]
        )
        #expect(atLimit.failure == nil)
        #expect(atLimit.sent == ["EHLO probe.mimic.test\r\n"])
        let many = run(
            SMTPClientDialog(options: options()),
            [.server(String(repeating: "220-more\r\n", count: 1001) + "220 end\r\n")]
        )
        #expect(try #require(many.failure).detail.contains("1000 lines"))
        let mixed = runStable(SMTPClientDialog(options: options()), [.lines("220-a", "250 b")])
        #expect(try #require(mixed.failure).code == .unexpectedReply)
    }

    @Test("implicit mode: greeting, EHLO, QUIT, capabilities reported as after TLS")
    func implicit() throws {
        let actions = runStable(
            SMTPClientDialog(options: options(.implicit)),
            [.lines("220 smtps.example.test ESMTP"), .lines("250-smtps", "250 AUTH PLAIN"), .lines("221 bye")]
        )
        #expect(actions.sent == ["EHLO probe.mimic.test\r\n", "QUIT\r\n"])
        #expect(!actions.startsTLS)
        #expect(try #require(actions.summary).capabilitiesAfterTLS == ["AUTH PLAIN"])
    }

    @Test("closing early is a failure; closing after QUIT completes")
    func closes() throws {
        let early = run(SMTPClientDialog(options: options()), [.server("220-partial\r\n"), .closed])
        #expect(try #require(early.failure).code == .closed)
        let late = run(
            SMTPClientDialog(options: options(.implicit)),
            [.lines("220 x"), .lines("250 x"), .closed]
        )
        #expect(late.summary != nil)
    }

    @Test("mode none is refused at start")
    func modeNone() {
        #expect(run(SMTPClientDialog(options: options(.none)), []).failure?.code == .modeMismatch)
    }

    @Test("EHLO rejected (rate limiting, sslyze #606): unexpectedReply in capabilities with the reply")
    func ehloRejected() throws {
        let actions = runStable(
            SMTPClientDialog(options: options()),
            [.lines("220 mx ESMTP"), .lines("421-4.7.0 Too many connections", "421 4.7.0 Try again later")])
        let failure = try #require(actions.failure)
        #expect(failure.code == .unexpectedReply)
        #expect(failure.phase == .capabilities)
        #expect(failure.serverWords == "421-4.7.0 Too many connections\n421 4.7.0 Try again later")
        #expect(actions.sent == ["EHLO probe.mimic.test\r\n"])
    }

    @Test("EHLO refused after TLS fails in the post-TLS phase")
    func postTLSEHLORefused() throws {
        let actions = runStable(
            SMTPClientDialog(options: options()),
            [.lines("220 mx"), Self.ehlo, .lines("220 go"), .tls, .lines("554 5.7.1 no")])
        #expect(actions.startsTLS)
        #expect(try #require(actions.failure).phase == .postTLS)
    }

    @Test("events out of order are ignored, never a trap")
    func outOfOrder() {
        var dialog = SMTPClientDialog(options: options())
        #expect(dialog.tlsEstablished().isEmpty)
        #expect(dialog.received(Array("220 early\r\n".utf8)).isEmpty)
        #expect(dialog.start().sent == ["EHLO probe.mimic.test\r\n"])
        #expect(dialog.start().isEmpty)
        #expect(dialog.dataChannelOpened().isEmpty)
    }
}
