import MimicCore
import Testing

@testable import MimicDialogs

@Suite("FTP client dialog")
struct FTPClientDialogTests {
    static let banner = Step.lines(
        "220-Welcome to the FTP service",
        "220-Second line",
        "123 a line that starts with digits",
        " indented",
        "220 Ready"
    )
    static let feat = Step.lines("211-Features:", " AUTH TLS", " PBSZ", " PROT", " EPSV", " UTF8", "211 End")

    @Test("full AUTH TLS dialog with EPSV, data channel and LIST")
    func happyPath() throws {
        let actions = runStable(
            FTPClientDialog(options: options()),
            [
                Self.banner, Self.feat, .lines("234 Proceed with negotiation."), .tls,
                .lines("200 PBSZ set to 0."), .lines("200 PROT now Private."),
                .lines("331 Please specify the password."), .lines("230 Login successful."),
                .lines("229 Entering Extended Passive Mode (|||6446|)"), .dataOpened,
                .lines("150 Here comes the directory listing."), .lines("226 Directory send OK."),
                .lines("221 Goodbye."),
            ]
        )
        #expect(
            actions.sentBytes
                == [
                    "FEAT\r\n", "AUTH TLS\r\n", "PBSZ 0\r\n", "PROT P\r\n", "USER anonymous\r\n",
                    "PASS probe@mimic.test\r\n", "EPSV\r\n", "LIST\r\n", "QUIT\r\n",
                ].map { Array($0.utf8) }
        )
        #expect(try #require(actions.summary).transcript.entries.contains { $0.text == "PASS ****" })
        #expect(actions.startsTLS)
        let channel = try #require(actions.dataChannel)
        #expect(channel.host == nil)
        #expect(channel.port == 6446)
        let summary = try #require(actions.summary)
        #expect(summary.greeting.count == 5)
        #expect(summary.greeting.last == "Ready")
        #expect(summary.capabilitiesBeforeTLS == ["AUTH TLS", "PBSZ", "PROT", "EPSV", "UTF8"])
        #expect(summary.dataChannelReply == "226 Directory send OK.")
        #expect(summary.dataChannel?.command == "EPSV")
    }

    @Test("the banner's second line is not its end (openssl #8645)")
    func bannerWait() {
        var dialog = FTPClientDialog(options: options())
        _ = dialog.start()
        #expect(dialog.received(Array("220-Welcome\r\n220-More\r\n".utf8)).isEmpty)
        #expect(dialog.received(Array("220 Ready\r\n".utf8)).sent == ["FEAT\r\n"])
    }

    @Test("120 then 220 greeting")
    func preliminaryGreeting() {
        let actions = runStable(
            FTPClientDialog(options: options()),
            [.lines("120 Service ready in 1 minute"), .lines("220 ok")]
        )
        #expect(actions.sent == ["FEAT\r\n"])
    }

    @Test(
        "a PASV address other than the control peer is a warning; the same one, EPSV or a mapped peer is none",
        arguments: [
            ("10.255.255.1", "127.0.0.1", true), ("192.0.2.10", "127.0.0.1", true), ("0.0.0.0", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.1", false), ("127.0.0.1", "::ffff:127.0.0.1", false),
            ("127.0.0.1", "::1", true), ("127.0.0.2", nil, true),
        ] as [(String, String?, Bool)]
    )
    func pasvAddressCheck(announced: String, peer: String?, mismatch: Bool) throws {
        let finding = FTPDataChannelAddress.mismatch(announced: announced, controlPeer: peer)
        #expect((finding != nil) == mismatch, "\(announced) vs \(peer ?? "nil")")
        guard let finding else { return }
        #expect(finding.code == .pasvAddressMismatch && finding.severity == .warning && finding.phase == .dataChannel)
        #expect(finding.evidence.contains(announced), "\(finding.evidence)")
        if announced == "0.0.0.0" { #expect(finding.evidence.contains("unspecified")) }
        #expect(FTPDataChannelAddress.mismatch(announced: nil, controlPeer: peer) == nil, "EPSV names no address")
    }

    @Test("EPSV refused: PASV fallback asks for the data channel and passes on the address given, for comparison")
    func pasvFallback() throws {
        let actions = runStable(
            FTPClientDialog(options: options()),
            [
                .lines("220 ok"), .lines("500 FEAT not understood"), .lines("234 go"), .tls, .lines("200 ok"),
                .lines("200 ok"), .lines("230 no password needed"), .lines("502 EPSV not implemented"),
                .lines("227 Entering Passive Mode (127,0,0,1,19,137)."),
            ]
        )
        #expect(actions.sent.suffix(2) == ["EPSV\r\n", "PASV\r\n"])
        let channel = try #require(actions.dataChannel)
        #expect(channel.host == "127.0.0.1")
        #expect(channel.port == 19 * 256 + 137)
    }

    @Test(
        "EPSV replies parse strictly",
        arguments: [
            ("Entering Extended Passive Mode (|||6446|)", 6446 as Int?),
            ("Extended (!!!1!)", 1),
            ("ok (|||65535|)", 65535),
            ("ok (|||65536|)", nil),
            ("ok (|||0|)", nil),
            ("ok (|||123456|)", nil),
            ("ok (||6446|)", nil),
            ("ok (|!|6446|)", nil),
            ("ok (|||6446)", nil),
            ("ok (|||6446|", nil),
            ("ok |||6446|", nil),
            ("ok (111234561)", nil),
            ("ok (|||)", nil),
            ("(", nil),
        ]
    )
    func epsv(text: String, port: Int?) {
        #expect(FTPPassiveReply.epsvPort(text) == port)
    }

    @Test(
        "PASV replies parse strictly",
        arguments: [
            ("Entering Passive Mode (192,168,1,2,19,137).", "192.168.1.2:5001"),
            ("=10,0,0,1,0,21", "10.0.0.1:21"),
            ("Entering Passive Mode (10,0,0,1,255,255)", "10.0.0.1:65535"),
            ("(256,0,0,1,1,1)", nil),
            ("(1,2,3,4,0,0)", nil),
            ("(1,2,3,4,5)", nil),
            ("(1,2,3,4,5,6789)", nil),
            ("(1,2,3,4,5,6,7)", nil),
            ("(1, 2,3,4,5,6)", nil),
            ("(0001,2,3,4,5,6)", nil),
            ("no numbers", nil),
            ("", nil),
        ] as [(String, String?)]
    )
    func pasv(text: String, endpoint: String?) {
        let parsed = FTPPassiveReply.pasvEndpoint(text).map { "\($0.host):\($0.port)" }
        #expect(parsed == endpoint)
    }

    @Test("malformed EPSV or PASV reply is a dataChannel failure")
    func malformedPassive() throws {
        let prefix: [Step] = [
            .lines("220 ok"), Self.feat, .lines("234 go"), .tls, .lines("200 ok"), .lines("200 ok"), .lines("331 pass"),
            .lines("230 in"),
        ]
        let epsv = runStable(FTPClientDialog(options: options()), prefix + [.lines("229 Extended (|||99999|)")])
        #expect(try #require(epsv.failure).code == .unexpectedReply)
        #expect(try #require(epsv.failure).phase == .dataChannel)
        #expect(epsv.dataChannel == nil)
        let pasv = runStable(
            FTPClientDialog(options: options()),
            prefix + [.lines("500 no"), .lines("227 Passive (300,1,1,1,1,1)")]
        )
        #expect(try #require(pasv.failure).phase == .dataChannel)
    }

    @Test("AUTH TLS refused: AUTH SSL is tried, its reply recorded, the refusal reported")
    func authRefused() throws {
        let actions = runStable(
            FTPClientDialog(options: options()),
            [.lines("220 ok"), Self.feat, .lines("534 Policy requires SSL."), .lines("504 Unknown AUTH type")]
        )
        #expect(actions.sent == ["FEAT\r\n", "AUTH TLS\r\n", "AUTH SSL\r\n", "QUIT\r\n"])
        let failure = try #require(actions.failure)
        #expect(failure.code == .startTLSRejected)
        #expect(failure.serverWords == "534 Policy requires SSL.")
        #expect(failure.detail.contains("504 Unknown AUTH type"))
        #expect(!actions.startsTLS)
    }

    @Test("AUTH TLS refused but AUTH SSL accepted: warning, failure, no QUIT in the wrong state")
    func authSSLWorks() throws {
        let actions = runStable(
            FTPClientDialog(options: options()),
            [.lines("220 ok"), Self.feat, .lines("500 AUTH TLS unknown"), .lines("234 AUTH SSL ok")]
        )
        #expect(actions.sent == ["FEAT\r\n", "AUTH TLS\r\n", "AUTH SSL\r\n"])
        #expect(actions.findings.first?.severity == .warning)
        #expect(try #require(actions.failure).detail.contains("AUTH SSL accepted"))
        #expect(!actions.startsTLS)
    }

    @Test("FEAT without AUTH TLS: not offered; injection after 234; PROT P refused")
    func otherShapes() throws {
        let notOffered = runStable(
            FTPClientDialog(options: options()),
            [.lines("220 ok"), .lines("211-Features:", " UTF8", "211 End")]
        )
        #expect(try #require(notOffered.failure).code == .startTLSNotOffered)
        let injected = run(
            FTPClientDialog(options: options()),
            [.lines("220 ok"), Self.feat, .server("234 go\r\n220 injected\r\n")]
        )
        #expect(try #require(injected.failure).code == .plaintextInjection)
        #expect(!injected.startsTLS)
        let prot = runStable(
            FTPClientDialog(options: options()),
            [
                .lines("220 ok"), Self.feat, .lines("234 go"), .tls, .lines("200 ok"), .lines("534 PROT P refused"),
                .lines("221 bye"),
            ]
        )
        #expect(prot.findings.map(\.code) == [.startTLSRejected])
        #expect(prot.findings.first?.phase == .dataChannel)
        #expect(prot.sent.suffix(2) == ["PROT P\r\n", "QUIT\r\n"])
        #expect(prot.summary != nil)
    }

    @Test("greeting 421 and 530 are rejections; LIST failure 522 is a data-channel warning")
    func rejections() throws {
        for line in ["421 Too many users", "530 Not allowed"] {
            #expect(runStable(FTPClientDialog(options: options()), [.lines(line)]).failure?.code == .greetingRejected)
        }
        let list = runStable(
            FTPClientDialog(options: options(.implicit)),
            [
                .lines("220 ok"), Self.feat, .lines("200 ok"), .lines("200 ok"), .lines("230 in"),
                .lines("229 (|||2000|)"),
                .dataOpened,
                .lines("522 SSL connection failed: session reuse required"), .lines("221 bye"),
            ]
        )
        #expect(
            list.sent == [
                "FEAT\r\n", "PBSZ 0\r\n", "PROT P\r\n", "USER anonymous\r\n", "EPSV\r\n", "LIST\r\n", "QUIT\r\n",
            ])
        #expect(list.findings.map(\.phase) == [.dataChannel])
        #expect(try #require(list.summary).capabilitiesAfterTLS.contains("AUTH TLS"))
    }

    @Test("a refused login ends the dialog politely with a warning, no data channel")
    func loginRefused() throws {
        let actions = runStable(
            FTPClientDialog(options: options(.implicit)),
            [.lines("220 ok"), Self.feat, .lines("200 ok"), .lines("200 ok"), .lines("331 pass"), .lines("530 no")]
        )
        #expect(actions.sent.suffix(2) == ["PASS probe@mimic.test\r\n", "QUIT\r\n"])
        #expect(actions.findings.map(\.severity) == [.warning])
        #expect(actions.dataChannel == nil)
    }

    @Test("data channel that could not open: QUIT, completed")
    func dataChannelFailed() throws {
        var dialog = FTPClientDialog(options: options(.implicit))
        _ = dialog.start()
        _ = dialog.received(Array("220 ok\r\n500 no\r\n200 ok\r\n200 ok\r\n230 in\r\n229 (|||2000|)\r\n".utf8))
        #expect(dialog.dataChannelFailed("connection refused").sent == ["QUIT\r\n"])
        let done = dialog.received(Array("221 bye\r\n".utf8))
        #expect(try #require(done.summary).dataChannelReply == "data channel not opened: connection refused")
    }

    @Test("a data channel that fails after LIST: QUIT at once, the transfer's 150 and 426 recorded, ended by 221")
    func dataChannelFailedAfterList() throws {
        var dialog = FTPClientDialog(options: options(.implicit))
        _ = dialog.start()
        _ = dialog.received(Array("220 ok\r\n500 no\r\n200 ok\r\n200 ok\r\n230 in\r\n229 (|||2000|)\r\n".utf8))
        #expect(dialog.dataChannelOpened().sent == ["LIST\r\n"])
        #expect(dialog.dataChannelFailed("no TLS on the data channel").sent == ["QUIT\r\n"])
        #expect(dialog.received(Array("150 Here comes the listing.\r\n426 Transfer aborted.\r\n".utf8)).isEmpty)
        let done = dialog.received(Array("221 Goodbye.\r\n".utf8))
        let summary = try #require(done.summary)
        #expect(summary.dataChannelReply == "426 Transfer aborted.")
        #expect(summary.transcript.entries.last?.text == "221 Goodbye.")
    }

    @Test("multi-line reply with no end and an over-long line are bounded")
    func bounded() throws {
        let endless = run(
            FTPClientDialog(options: options()),
            [.server("220-x\r\n" + String(repeating: "220-y\r\n", count: 1000))]
        )
        #expect(try #require(endless.failure).code == .unexpectedReply)
        let long = run(FTPClientDialog(options: options()), [.server(String(repeating: "2", count: 9000))])
        #expect(try #require(long.failure).code == .unexpectedReply)
    }
}
