import MimicCore
import Testing

@testable import MimicDialogs

@Suite("POP3 client dialog")
struct POP3ClientDialogTests {
    @Test("full STLS dialog: CAPA, STLS, CAPA, QUIT")
    func happyPath() throws {
        let actions = runStable(
            POP3ClientDialog(options: options()),
            [
                .lines("+OK Dovecot ready."),
                .lines("+OK", "CAPA", "TOP", "UIDL", "..dot-stuffed", "STLS", "SASL PLAIN", "."),
                .lines("+OK Begin TLS negotiation"),
                .tls,
                .lines("+OK", "CAPA", "USER", "."),
                .lines("+OK Logging out."),
            ]
        )
        #expect(
            actions.sentBytes == [
                Array("CAPA\r\n".utf8), Array("STLS\r\n".utf8), Array("CAPA\r\n".utf8), Array("QUIT\r\n".utf8),
            ]
        )
        let summary = try #require(actions.summary)
        #expect(summary.capabilitiesBeforeTLS == ["CAPA", "TOP", "UIDL", ".dot-stuffed", "STLS", "SASL PLAIN"])
        #expect(summary.capabilitiesAfterTLS == ["CAPA", "USER"])
        #expect(summary.greeting == ["Dovecot ready."])
    }

    @Test("server without CAPA: STLS is tried anyway")
    func withoutCAPA() throws {
        let ok = runStable(
            POP3ClientDialog(options: options()),
            [.lines("+OK POP3 ready"), .lines("-ERR unknown command"), .lines("+OK go")]
        )
        #expect(ok.sent == ["CAPA\r\n", "STLS\r\n"])
        #expect(ok.startsTLS)
        #expect(ok.findings.isEmpty)
        let refused = runStable(
            POP3ClientDialog(options: options()),
            [.lines("+OK POP3 ready"), .lines("-ERR unknown command"), .lines("-ERR unknown command")]
        )
        #expect(try #require(refused.failure).code == .startTLSNotOffered)
        #expect(refused.sent.last == "QUIT\r\n")
    }

    @Test("-ERR greeting is greetingRejected")
    func errGreeting() throws {
        let actions = runStable(POP3ClientDialog(options: options()), [.lines("-ERR [SYS/TEMP] busy")])
        #expect(try #require(actions.failure).code == .greetingRejected)
    }

    @Test("STLS refused with -ERR when advertised: startTLSRejected")
    func refused() throws {
        let actions = runStable(
            POP3ClientDialog(options: options()),
            [.lines("+OK hi"), .lines("+OK", "STLS", "."), .lines("-ERR TLS not available")]
        )
        let failure = try #require(actions.failure)
        #expect(failure.code == .startTLSRejected)
        #expect(failure.serverWords == "-ERR TLS not available")
        #expect(!actions.startsTLS)
    }

    @Test("CAPA without STLS: not offered")
    func notOffered() throws {
        let actions = runStable(POP3ClientDialog(options: options()), [.lines("+OK hi"), .lines("+OK", "USER", ".")])
        #expect(try #require(actions.failure).code == .startTLSNotOffered)
        #expect(actions.sent == ["CAPA\r\n", "QUIT\r\n"])
    }

    @Test("injection after +OK")
    func injection() throws {
        let actions = run(
            POP3ClientDialog(options: options()),
            [.lines("+OK hi"), .lines("+OK", "STLS", "."), .server("+OK go\r\n+OK injected\r\n")]
        )
        #expect(try #require(actions.failure).code == .plaintextInjection)
        #expect(!actions.startsTLS)
    }

    @Test("garbage greeting and endless CAPA are failures")
    func garbage() throws {
        let garbage = runStable(POP3ClientDialog(options: options()), [.lines("* OK IMAP here")])
        #expect(try #require(garbage.failure).code == .unexpectedReply)
        let endless = run(
            POP3ClientDialog(options: options()),
            [.lines("+OK hi"), .server("+OK\r\n" + String(repeating: "X\r\n", count: 1200))]
        )
        #expect(try #require(endless.failure).code == .unexpectedReply)
    }

    @Test("implicit mode: CAPA and QUIT")
    func implicit() throws {
        let actions = runStable(
            POP3ClientDialog(options: options(.implicit)),
            [.lines("+OK hi"), .lines("+OK", "USER", "."), .lines("+OK bye")]
        )
        #expect(actions.sent == ["CAPA\r\n", "QUIT\r\n"])
        #expect(try #require(actions.summary).capabilitiesAfterTLS == ["USER"])
    }
}
