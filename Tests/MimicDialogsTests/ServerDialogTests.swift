import MimicCore
import MimicTestSupport
import Testing

@testable import MimicDialogs

/// Starts a server dialog, feeds it client text (each element one segment) and returns every action.
func serve(_ dialog: any ServerDialog, _ inputs: [String], segment: Int? = nil) -> [ServerAction] {
    serveBytes(dialog, inputs.map { Array($0.utf8) }, segment: segment)
}

func serveBytes(_ dialog: any ServerDialog, _ inputs: [[UInt8]], segment: Int? = nil) -> [ServerAction] {
    var dialog = dialog
    var actions = dialog.start()
    for input in inputs {
        let size = segment ?? max(input.count, 1)
        var start = 0
        while start < input.count {
            let end = min(start + size, input.count)
            actions += dialog.received(Array(input[start..<end]))
            start = end
        }
    }
    return actions
}

/// Feeds the input whole, byte by byte and split at every offset; all must give the same actions.
@discardableResult
func serveStable(
    _ make: @autoclosure () -> any ServerDialog,
    _ input: [UInt8],
    sourceLocation: SourceLocation = #_sourceLocation
) -> [ServerAction] {
    let reference = serveBytes(make(), [input])
    #expect(serveBytes(make(), [input], segment: 1) == reference, "byte by byte", sourceLocation: sourceLocation)
    for offset in 1..<max(input.count, 1) {
        let split = serveBytes(make(), [Array(input[..<offset]), Array(input[offset...])])
        #expect(split == reference, "split at \(offset)", sourceLocation: sourceLocation)
        if split != reference { break }
    }
    return reference
}

/// The bytes a server sent, as one string.
func wire(_ actions: [ServerAction]) -> String { String(decoding: actions.sentBytes, as: UTF8.self) }

func config(
    _ mode: TLSMode = .startTLS, _ change: (inout ServerDialogConfiguration) -> Void = { _ in }
)
    -> ServerDialogConfiguration
{
    var configuration = ServerDialogConfiguration(mode: mode)
    change(&configuration)
    return configuration
}

@Suite("Server dialogs: bytes on the wire")
struct ServerDialogTests {
    // MARK: Greetings and exact replies

    @Test("greetings, byte for byte")
    func greetings() {
        #expect(wire(serve(SMTPServerDialog(), [])) == "220 mail.example.test ESMTP Mimic\r\n")
        #expect(
            wire(serve(IMAPServerDialog(), []))
                == "* OK [CAPABILITY IMAP4rev1 ID ENABLE NAMESPACE UNSELECT STARTTLS] Mimic IMAP ready.\r\n"
        )
        #expect(
            wire(serve(IMAPServerDialog(configuration: config(.implicit)), []))
                == "* OK [CAPABILITY IMAP4rev1 ID ENABLE NAMESPACE UNSELECT] Mimic IMAP ready.\r\n"
        )
        #expect(wire(serve(POP3ServerDialog(), [])) == "+OK Mimic POP3 ready.\r\n")
        #expect(wire(serve(FTPServerDialog(), [])) == "220 (Mimic FTP)\r\n")
        #expect(serve(LDAPServerDialog(), []) == [.enterPhase(.capabilities)])
        #expect(serve(HTTPServerDialog(), []) == [.enterPhase(.postTLS)])
        #expect(
            wire(serve(SMTPServerDialog(configuration: config { $0.greeting = ["220 mx ready"] }), []))
                == "220 mx ready\r\n"
        )
    }

    @Test("SMTP: postfix-shaped session as curl drives it")
    func smtpCurl() {
        let actions = serve(
            SMTPServerDialog(),
            [
                "EHLO client\r\n", "STARTTLS\r\n",
            ]
        )
        #expect(
            actions.sentText == [
                "220 mail.example.test ESMTP Mimic\r\n",
                "250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n"
                    + "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                "220 2.0.0 Ready to start TLS\r\n",
            ]
        )
        #expect(
            actions.filter { if case .enterPhase = $0 { true } else { false } } == [
                .enterPhase(.greeting), .enterPhase(.capabilities), .enterPhase(.upgrade), .enterPhase(.handshake),
            ]
        )
        #expect(actions.last == .startTLS)

        var server = SMTPServerDialog()
        _ = server.start()
        _ = server.received(Array("EHLO c\r\nSTARTTLS\r\n".utf8))
        var after = server.tlsEstablished()
        #expect(after == [.enterPhase(.postTLS)])
        after = server.received(
            Array(
                ("MAIL FROM:<a@example.test>\r\nEHLO c\r\nmail FROM:<a@example.test> SIZE=12\r\nrcpt TO:<b@example.test>\r\n"
                    + "DATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nSTARTTLS\r\nNOOP\r\nXYZZY\r\nQUIT\r\n").utf8
            )
        )
        #expect(
            after.sentText == [
                "503 5.5.1 Error: send HELO/EHLO first\r\n",
                "250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n"
                    + "250-8BITMIME\r\n250 SMTPUTF8\r\n",
                "250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n", "354 End data with <CR><LF>.<CR><LF>\r\n",
                "250 2.0.0 Ok: queued as MIMIC1\r\n", "554 5.5.1 Error: TLS already active\r\n", "250 2.0.0 Ok\r\n",
                "502 5.5.2 Error: command not recognized\r\n", "221 2.0.0 Bye\r\n",
            ]
        )
        #expect(after.suffix(3) == [.enterPhase(.close), .send(Array("221 2.0.0 Bye\r\n".utf8)), .close])
        #expect(server.isClosed)
        #expect(server.received(Array("NOOP\r\n".utf8)).isEmpty)
    }

    @Test("IMAP: what curl and imaplib send")
    func imapCurl() {
        let actions = serve(
            IMAPServerDialog(configuration: config(.implicit)),
            [
                "A001 CAPABILITY\r\n", "A002 LOGIN user \"pa ss\"\r\n", "A003 LIST \"INBOX\" *\r\n",
                "A004 SELECT INBOX\r\n", "A005 UID FETCH 1 BODY[]\r\n", "A006 LIST \"\" \"\"\r\n",
                "A007 FETCH 1 (FLAGS)\r\n", "A008 STATUS INBOX (MESSAGES UIDNEXT)\r\n", "A009 FOO\r\n",
                "A010 APPEND INBOX {5}\r\n", "A011 LOGOUT\r\n",
            ]
        )
        #expect(
            Array(actions.sentText.dropFirst()) == [
                "* CAPABILITY IMAP4rev1 ID ENABLE NAMESPACE UNSELECT\r\nA001 OK Capability completed.\r\n",
                "A002 OK Logged in\r\n",
                "* LIST (\\HasNoChildren) \".\" INBOX\r\nA003 OK List completed.\r\n",
                "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                    + "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
                    + "* 0 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
                    + "* OK [UIDNEXT 1] Predicted next UID\r\nA004 OK [READ-WRITE] Select completed.\r\n",
                "A005 OK Fetch completed.\r\n",
                "* LIST (\\Noselect) \".\" \"\"\r\nA006 OK List completed.\r\n",
                "A007 OK Fetch completed.\r\n",
                "* STATUS INBOX (MESSAGES 0 UIDNEXT 1)\r\nA008 OK Status completed.\r\n",
                "A009 BAD Error in IMAP command FOO: Unknown command.\r\n",
                "A010 BAD Literals are not supported.\r\n",
                "* BYE Logging out\r\nA011 OK Logout completed.\r\n",
            ]
        )
        #expect(actions.last == .close)
    }

    @Test(
        "IMAP: LIST patterns",
        arguments: [
            ("", "*", true), ("", "%", true), ("", "inbox", true), ("", "IN*", true), ("INBOX", "*", true),
            ("", "Sent", false), ("", "INBOX.%", false), ("", "*X", true), ("", "**********************Z*", false),
        ]
    )
    func listPatterns(reference: String, pattern: String, listed: Bool) {
        #expect(IMAPServerDialog.matches(reference + pattern, "INBOX") == listed)
    }

    @Test("POP3: what curl and poplib send")
    func pop3Curl() {
        let actions = serve(
            POP3ServerDialog(),
            [
                "CAPA\r\n", "USER user\r\n", "PASS secret\r\n", "STAT\r\n", "LIST\r\n", "UIDL\r\n", "RETR 1\r\n",
                "LIST 1\r\n", "STLS\r\n", "QUIT\r\n",
            ]
        )
        #expect(
            Array(actions.sentText.dropFirst()) == [
                "+OK\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nSTLS\r\nUSER\r\n.\r\n", "+OK\r\n",
                "+OK Logged in.\r\n", "+OK 0 0\r\n", "+OK 0 messages:\r\n.\r\n", "+OK\r\n.\r\n",
                "-ERR There's no message 1.\r\n", "-ERR There's no message 1.\r\n",
                "-ERR [IN-USE] STLS not allowed after login.\r\n", "+OK Logging out.\r\n",
            ]
        )
    }

    @Test("FTP: what curl sends, data channel included")
    func ftpCurl() {
        var server = FTPServerDialog()
        var actions = server.start()
        actions += server.received(Array("AUTH SSL\r\n".utf8))
        #expect(actions.sentText.last == "234 Proceed with negotiation.\r\n")
        #expect(actions.last == .startTLS)
        actions = server.tlsEstablished()
        actions += server.received(
            Array("USER anonymous\r\nPASS ftp@example.com\r\nPBSZ 0\r\nPROT P\r\nPWD\r\nEPSV\r\nTYPE A\r\n".utf8)
        )
        // EPSV waits for the listener: TYPE A is not answered yet.
        #expect(actions.last == .listenForData(id: 1, tls: true))
        #expect(
            actions.sentText == [
                "331 Please specify the password.\r\n", "230 Login successful.\r\n", "200 PBSZ=0\r\n",
                "200 PROT now Private.\r\n", "257 \"/\" is the current directory\r\n",
            ]
        )
        actions = server.dataListenerReady(port: 50123)
        #expect(
            actions.sentText == [
                "229 Entering Extended Passive Mode (|||50123|)\r\n", "200 Switching to ASCII mode.\r\n",
            ]
        )
        actions = server.received(Array("LIST\r\n".utf8))
        #expect(
            actions == [
                .send(Array("150 Here comes the directory listing.\r\n".utf8)),
                .transferData(id: 1, bytes: Array(FTPServerDialog.listing.utf8)),
            ]
        )
        actions = server.dataTransferFinished(.sent)
        #expect(actions.sentText == ["226 Directory send OK.\r\n"])
        actions = server.received(Array("LIST\r\nQUIT\r\n".utf8))
        #expect(actions.sentText == ["425 Use PORT or PASV first.\r\n", "221 Goodbye.\r\n"])
    }

    @Test("FTP: ftplib's PASV, a failed transfer, and vsftpd's 522 when resumption is required")
    func ftpPasv() {
        let cases: [(ServerDialogConfiguration.FTP.DataChannel, DataTransferOutcome, String)] = [
            (.tls, .noConnection, "425 Failed to establish connection.\r\n"),
            (.tls, .connectionFailed, "426 Failure writing network stream.\r\n"),
            (.plaintext, .connectionFailed, "426 Failure writing network stream.\r\n"),
            (.requireResumption, .noConnection, "425 Failed to establish connection.\r\n"),
            (.requireResumption, .connectionFailed, "522 SSL connection failed: session reuse required\r\n"),
        ]
        for (mode, outcome, reply) in cases {
            var server = FTPServerDialog(configuration: config(.implicit) { $0.ftp.dataChannel = mode })
            _ = server.start()
            var actions = server.received(Array("PBSZ 0\r\nPROT P\r\nPASV\r\n".utf8))
            #expect(actions.last == .listenForData(id: 1, tls: mode != .plaintext))
            actions = server.dataListenerReady(port: 0x1234)
            #expect(actions.sentText == ["227 Entering Passive Mode (127,0,0,1,18,52).\r\n"])
            _ = server.received(Array("NLST\r\n".utf8))
            #expect(server.dataTransferFinished(outcome).sentText == [reply], "\(mode) \(outcome)")
        }
    }

    @Test("FTP: EPSV refused and left out of FEAT; PASV names the configured address, the listener stays ours")
    func ftpEPSVRefusedPASVElsewhere() {
        var server = FTPServerDialog(
            configuration: config(.implicit) {
                $0.ftp.extendedPassive = false
                $0.ftp.passiveHost = "10.255.255.1"
            })
        _ = server.start()
        var actions = server.received(Array("FEAT\r\n".utf8))
        #expect(!actions.sentText.joined().contains("EPSV"), "\(actions.sentText)")
        #expect(actions.sentText.joined().contains(" PASV\r\n"))
        actions = server.received(Array("EPSV\r\n".utf8))
        #expect(actions.sentText == ["502 EPSV not implemented.\r\n"])
        actions = server.received(Array("PASV\r\n".utf8))
        #expect(actions.last == .listenForData(id: 1, tls: false))
        actions = server.dataListenerReady(port: 0x1234)
        #expect(actions.sentText == ["227 Entering Passive Mode (10,255,255,1,18,52).\r\n"])
    }

    @Test("FTP: a QUIT sent during a transfer is answered after the transfer's final reply")
    func ftpQuitDuringTransfer() {
        for (outcome, final) in [
            (DataTransferOutcome.sent, "226 Directory send OK.\r\n"),
            (.connectionFailed, "426 Failure writing network stream.\r\n"),
        ] {
            var server = FTPServerDialog(configuration: config(.implicit) { $0.ftp.dataChannel = .plaintext })
            _ = server.start()
            var actions = server.received(Array("PBSZ 0\r\nPROT P\r\nEPSV\r\n".utf8))
            #expect(actions.last == .listenForData(id: 1, tls: false))
            _ = server.dataListenerReady(port: 40001)
            actions = server.received(Array("LIST\r\nQUIT\r\n".utf8))
            // The QUIT waits behind the transfer (RFC 959: the reply to the transfer comes first).
            #expect(actions.sentText == ["150 Here comes the directory listing.\r\n"])
            actions = server.dataTransferFinished(outcome)
            #expect(actions.sentText == [final, "221 Goodbye.\r\n"], "\(outcome)")
            #expect(actions.last == .close)
        }
    }

    @Test("FTP: PBSZ and PROT need TLS; unknown AUTH; active mode refused")
    func ftpRefusals() {
        let actions = serve(FTPServerDialog(), ["PBSZ 0\r\nPROT P\r\nAUTH KERBEROS\r\nPORT 1,2,3,4,5,6\r\nSITE X\r\n"])
        #expect(
            Array(actions.sentText.dropFirst()) == [
                "503 PBSZ not allowed on insecure control connection.\r\n",
                "503 PROT not allowed on insecure control connection.\r\n", "504 Unknown AUTH type.\r\n",
                "500 Illegal PORT command.\r\n", "550 Permission denied.\r\n",
            ]
        )
    }

    @Test("HTTPS: GET, HEAD, keep-alive, 405, 400")
    func https() {
        let actions = serve(
            HTTPServerDialog(),
            ["GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]
        )
        let page = HTTPServerDialog.page
        #expect(
            actions.sentText == [
                "HTTP/1.1 200 OK\r\nServer: mimic\r\nContent-Type: text/html\r\nContent-Length: \(page.utf8.count)\r\n"
                    + "Connection: keep-alive\r\n\r\n" + page,
                "HTTP/1.1 200 OK\r\nServer: mimic\r\nContent-Type: text/html\r\nContent-Length: \(page.utf8.count)\r\n"
                    + "Connection: close\r\n\r\n",
            ]
        )
        #expect(actions.last == .close)
        #expect(wire(serve(HTTPServerDialog(), ["POST / HTTP/1.1\r\n\r\n"])).hasPrefix("HTTP/1.1 405 Not Allowed\r\n"))
        #expect(
            wire(serve(HTTPServerDialog(), ["\u{16}\u{03}\u{01}garbage\r\n"])).hasPrefix("HTTP/1.1 400 Bad Request\r\n")
        )
        #expect(wire(serve(HTTPServerDialog(), ["GET / HTTP/2.0\r\n"])).hasPrefix("HTTP/1.1 505 "))
    }

    // MARK: LDAP bytes

    static let startTLSRequest: [UInt8] =
        [0x30, 0x1D, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16] + Array("1.3.6.1.4.1.1466.20037".utf8)

    /// slapd 2.5.13 (Debian 12)'s answer to a StartTLS ExtendedRequest, as captured from a private instance with
    /// TLS configured: the request's messageID, success, empty matchedDN and diagnosticMessage, no responseName.
    /// Each pair: the request (messageID 1, 127, 128, 300, 2³¹-1) and slapd's response, byte for byte.
    static let slapdStartTLS: [(request: String, response: String)] = [
        (
            "301d02010177188016312e332e362e312e342e312e313436362e3230303337",
            "300c02010178070a010004000400"
        ),
        (
            "301d02017f77188016312e332e362e312e342e312e313436362e3230303337",
            "300c02017f78070a010004000400"
        ),
        (
            "301e0202008077188016312e332e362e312e342e312e313436362e3230303337",
            "300d0202008078070a010004000400"
        ),
        (
            "301e0202012c77188016312e332e362e312e342e312e313436362e3230303337",
            "300d0202012c78070a010004000400"
        ),
        (
            "302002047fffffff77188016312e332e362e312e342e312e313436362e3230303337",
            "300f02047fffffff78070a010004000400"
        ),
    ]

    static func bytes(hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    @Test("LDAP: the default StartTLS response is slapd 2.5's, byte for byte, for every messageID")
    func ldapStartTLSIsSlapd() {
        #expect(Self.bytes(hex: Self.slapdStartTLS[0].request) == Self.startTLSRequest)
        for (request, response) in Self.slapdStartTLS {
            let actions = serveStable(LDAPServerDialog(), Self.bytes(hex: request))
            #expect(actions.sentBytes == Self.bytes(hex: response), "request \(request)")
            #expect(actions.last == .startTLS)
        }
    }

    @Test("LDAP: the StartTLS response, with and without responseName, short and long form")
    func ldapStartTLSBytes() {
        let name = [0x8A, 0x16] + Array("1.3.6.1.4.1.1466.20037".utf8)
        let withName = serveBytes(
            LDAPServerDialog(configuration: config { $0.ldap.responseName = true }),
            [Self.startTLSRequest]
        )
        #expect(
            withName.sentBytes == [0x30, 0x24, 0x02, 0x01, 0x01, 0x78, 0x1F, 0x0A, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]
                + name
        )
        #expect(withName.last == .startTLS)
        let openLDAP = serveBytes(LDAPServerDialog(), [Self.startTLSRequest])
        #expect(
            openLDAP.sentBytes == [0x30, 0x0C, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0A, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]
        )
        let ad = serveBytes(
            LDAPServerDialog(
                configuration: config {
                    $0.ldap.longFormLengths = true
                    $0.ldap.responseName = false
                    $0.ldap.resultCode = 52
                }
            ),
            [Self.startTLSRequest]
        )
        #expect(
            ad.sentBytes == [
                0x30, 0x84, 0, 0, 0, 0x20, 0x02, 0x84, 0, 0, 0, 1, 0x01, 0x78, 0x84, 0, 0, 0, 0x13,
                0x0A, 0x84, 0, 0, 0, 1, 0x34, 0x04, 0x84, 0, 0, 0, 0, 0x04, 0x84, 0, 0, 0, 0,
            ]
        )
        #expect(!ad.contains(.startTLS))
    }

    @Test("LDAP: another OID as the responseName, byte for byte; true and false keep their meaning")
    func ldapOtherResponseName() {
        let oid = "1.3.6.1.4.1.4203.1.11.3"
        let served = serveBytes(
            LDAPServerDialog(configuration: config { $0.ldap.responseName = .oid(oid) }),
            [Self.startTLSRequest]
        )
        #expect(
            served.sentBytes == [
                0x30, 0x25, 0x02, 0x01, 0x01, 0x78, 0x20, 0x0A, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00, 0x8A, 0x17,
            ] + Array(oid.utf8)
        )
        // Still a go-ahead: the name does not change the result.
        #expect(served.last == .startTLS)
        var dialog = LDAPServerDialog(configuration: config { $0.ldap.responseName = .oid(oid) })
        _ = dialog.start()
        _ = dialog.received(Self.startTLSRequest)
        #expect(
            dialog.transcript.entries.contains { $0.text.contains("with responseName \(oid)") },
            "\(dialog.transcript)"
        )
        let literals: [ServerDialogConfiguration.LDAP.ResponseName] = [true, false]
        #expect(literals == [.startTLS, .omitted])
        #expect(ServerDialogConfiguration.LDAP().responseName == .omitted)
    }

    @Test("LDAP: bind, RootDSE search (attributes filtered), unknown extop, update refused, unbind")
    func ldapSession() throws {
        let bind: [UInt8] = [0x30, 0x0C, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00]
        let search = LDAPMessage.rootDSESearch(messageID: 2, attributes: ["supportedLDAPVersion"])
        let whoami: [UInt8] =
            [0x30, 0x1E, 0x02, 0x01, 0x03, 0x77, 0x19, 0x80, 0x17] + Array("1.3.6.1.4.1.4203.1.11.3".utf8)
        let delete: [UInt8] = [0x30, 0x08, 0x02, 0x01, 0x04, 0x4A, 0x03] + Array("c=x".utf8)
        let unbind = LDAPMessage.unbind(messageID: 5)
        let actions = serveStable(
            LDAPServerDialog(configuration: config(.implicit)),
            bind + search + whoami + delete + unbind
        )
        let messages = actions.compactMap { if case .send(let bytes) = $0 { bytes } else { nil } }
        #expect(messages.count == 5)
        #expect(messages[0] == [0x30, 0x0C, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0A, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00])
        let entry = try LDAPMessage(decoding: messages[1], maxDepth: 16)
        #expect(
            entry.operation
                == .searchResultEntry(dn: "", attributes: [.init(type: "supportedLDAPVersion", values: ["3"])])
        )
        #expect(
            try LDAPMessage(decoding: messages[2], maxDepth: 16).operation == .searchResultDone(LDAPResult(code: 0))
        )
        let extop = try LDAPMessage(decoding: messages[3], maxDepth: 16)
        #expect(
            extop.operation
                == .extendedResponse(
                    LDAPResult(code: 2, diagnosticMessage: Array("unsupported extended operation".utf8)),
                    name: nil,
                    value: nil
                )
        )
        #expect(Array(messages[4].prefix(7)) == [0x30, 0x1C, 0x02, 0x01, 0x04, 0x6B, 0x17])
        #expect(actions.last == .close)
    }

    @Test("LDAP: garbage gets a Notice of Disconnection (protocolError) and a close")
    func ldapGarbage() throws {
        for bytes: [UInt8] in [
            Array("EHLO x\r\n".utf8), [0x30, 0x80, 0x00], [0x30, 0x03, 0x02, 0x01, 0x01],
            [0x30, 0x05, 0x02, 0x01, 0x01, 0x7F, 0x00], [0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF],
        ] {
            let actions = serveStable(LDAPServerDialog(), bytes)
            let notice = try LDAPMessage(decoding: actions.sentBytes, maxDepth: 16)
            #expect(notice.isNoticeOfDisconnection)
            #expect(actions.last == .close)
        }
    }

    // MARK: Knobs on the wire

    @Test("stripped and mangled capabilities per protocol")
    func advertisement() {
        let mangled = config { $0.startTLS.advertise = .mangled }
        let stripped = config { $0.startTLS.advertise = .stripped }
        #expect(wire(serve(SMTPServerDialog(configuration: mangled), ["EHLO x\r\n"])).contains("250-XXXXXXXA\r\n"))
        #expect(!wire(serve(SMTPServerDialog(configuration: stripped), ["EHLO x\r\n"])).contains("STARTTLS"))
        #expect(wire(serve(POP3ServerDialog(configuration: mangled), ["CAPA\r\n"])).contains("\r\nXXXX\r\n"))
        #expect(wire(serve(FTPServerDialog(configuration: mangled), ["FEAT\r\n"])).contains("\r\n XXXX XXX\r\n"))
        #expect(wire(serve(IMAPServerDialog(configuration: stripped), [])).contains("UNSELECT] Mimic"))
        // Stripped still accepts the command; mangled refuses it as unknown.
        #expect(serve(SMTPServerDialog(configuration: stripped), ["STARTTLS\r\n"]).last == .startTLS)
        #expect(
            wire(serve(SMTPServerDialog(configuration: mangled), ["STARTTLS\r\n"])).hasSuffix(
                "502 5.5.2 Error: command not recognized\r\n"
            )
        )
    }

    @Test("mode none: no upgrade offered or accepted")
    func modeNone() {
        let none = config(.none)
        #expect(!wire(serve(SMTPServerDialog(configuration: none), ["EHLO x\r\n"])).contains("STARTTLS"))
        #expect(wire(serve(POP3ServerDialog(configuration: none), ["STLS\r\n"])).hasSuffix("-ERR Unknown command.\r\n"))
        #expect(
            !serve(LDAPServerDialog(configuration: none), [String(decoding: Self.startTLSRequest, as: UTF8.self)])
                .contains(.startTLS)
        )
    }

    @Test("injection goes out in the same write as the go-ahead")
    func injectionSameWrite() {
        let actions = serve(
            SMTPServerDialog(configuration: config { $0.startTLS.injectAfterGoAhead = "250 injected" }),
            ["STARTTLS\r\n"]
        )
        #expect(actions.sentText.last == "220 2.0.0 Ready to start TLS\r\n250 injected\r\n")
        #expect(actions.last == .startTLS)
    }

    @Test("IMAP: a configured refusal gets the tag, a whole line goes out as written")
    func imapConfiguredReply() {
        let tagged = serve(
            IMAPServerDialog(configuration: config { $0.startTLS.reply = "NO TLS unavailable" }),
            ["x1 STARTTLS\r\n"]
        )
        #expect(tagged.sentText.last == "x1 NO TLS unavailable\r\n")
        let wrongTag = serve(
            IMAPServerDialog(configuration: config { $0.startTLS.reply = "zz OK Begin TLS" }),
            ["x1 STARTTLS\r\n"]
        )
        #expect(wrongTag.sentText.last == "zz OK Begin TLS\r\n")
        #expect(!wrongTag.contains(.startTLS))
    }

    @Test("line ending LF: every line bare")
    func lineEndingLF() {
        let actions = serve(
            SMTPServerDialog(
                configuration: config {
                    $0.lineEnding = .lf
                    $0.multilineGreeting = true
                }
            ),
            []
        )
        #expect(wire(actions) == "220-mail.example.test ESMTP Mimic\n220 mail.example.test ESMTP Mimic\n")
    }

    @Test("strict CRLF: a bare-LF command is refused, the session goes on")
    func strictCRLF() {
        let strict = config { $0.strictCRLF = true }
        let actions = serve(SMTPServerDialog(configuration: strict), ["EHLO x\n", "NOOP\r\n"])
        #expect(Array(actions.sentText.dropFirst()) == ["500 5.5.2 Error: bare <LF> received\r\n", "250 2.0.0 Ok\r\n"])
        #expect(
            serve(IMAPServerDialog(configuration: strict), ["t1 NOOP\n"]).sentText.last
                == "t1 BAD Bare LF not allowed.\r\n"
        )
        // Lenient by default, as Postfix is.
        #expect(serve(SMTPServerDialog(), ["NOOP\n"]).sentText.last == "250 2.0.0 Ok\r\n")
    }

    @Test("greeting delay before the whole greeting, or before its final line (postscreen)")
    func delays() {
        var whole = SMTPServerDialog(configuration: config { $0.greetingDelay = .seconds(2) })
        #expect(whole.start() == [.enterPhase(.greeting), .delay(milliseconds: 2000)])
        #expect(
            whole.delayElapsed() == [
                .send(Array("220 mail.example.test ESMTP Mimic\r\n".utf8)), .enterPhase(.capabilities),
            ]
        )
        #expect(whole.delayElapsed().isEmpty)

        var postscreen = SMTPServerDialog(
            configuration: config {
                $0.greetingDelay = .milliseconds(6000)
                $0.greetingDelayPlacement = .beforeFinalLine
                $0.multilineGreeting = true
            }
        )
        #expect(
            postscreen.start() == [
                .enterPhase(.greeting), .send(Array("220-mail.example.test ESMTP Mimic\r\n".utf8)),
                .delay(milliseconds: 6000),
            ]
        )
        // Without rejectEarlyTalk, early bytes wait and are answered after the greeting.
        #expect(postscreen.received(Array("EHLO x\r\n".utf8)).isEmpty)
        let rest = postscreen.delayElapsed()
        #expect(rest.sentText.first == "220 mail.example.test ESMTP Mimic\r\n")
        #expect(rest.sentText.last?.hasPrefix("250-mail.example.test") == true)
    }

    @Test(
        "early talk: during the greeting delay, or before start",
        arguments: [ServiceProtocol.smtp, .imap, .pop3, .ftp]
    )
    func earlyTalk(serviceProtocol: ServiceProtocol) {
        let configuration = config {
            $0.rejectEarlyTalk = true
            $0.greetingDelay = .milliseconds(500)
            $0.greetingDelayPlacement = .beforeFinalLine
            $0.multilineGreeting = true
        }
        var server = ServerDialogs.make(for: serviceProtocol, configuration: configuration)
        _ = server.start()
        let actions = server.received(Array("EHLO x\r\n".utf8))
        #expect(actions.last == .close)
        #expect(server.isClosed)
        #expect(server.delayElapsed().isEmpty)
        if serviceProtocol == .smtp { #expect(actions.sentText == ["554 5.5.1 Protocol error\r\n"]) }

        var before = ServerDialogs.make(for: serviceProtocol, configuration: config { $0.rejectEarlyTalk = true })
        _ = before.received(Array("x".utf8))
        #expect(before.start().last == .close)
        // In time: fine.
        var polite = ServerDialogs.make(for: serviceProtocol, configuration: configuration)
        _ = polite.start()
        _ = polite.delayElapsed()
        #expect(!polite.received(Array("NOOP\r\n".utf8)).contains(.close))
    }

    @Test("refused greeting honours the delay, then closes")
    func refusedGreetingDelay() {
        var server = POP3ServerDialog(
            configuration: config {
                $0.refuseGreeting = "-ERR busy"
                $0.greetingDelay = .milliseconds(10)
            }
        )
        #expect(server.start() == [.enterPhase(.greeting), .delay(milliseconds: 10)])
        #expect(server.delayElapsed() == [.send(Array("-ERR busy\r\n".utf8)), .enterPhase(.close), .close])
    }

    @Test(
        "SMTP: after a 554 greeting every command but QUIT gets 503 (RFC 5321 §3.1)",
        arguments: [
            config { $0.refuseGreeting = "554 5.7.1 No SMTP service here" },
            config { $0.greeting = ["554 5.7.1 mail.example.test No SMTP service here"] },
            config { $0.greeting = ["554-first", "554 5.7.1 No SMTP service here"] },
        ]
    )
    func smtpRefusedSession(configuration: ServerDialogConfiguration) {
        let commands =
            ["EHLO client.example.test", "HELO x", "STARTTLS", "MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA"]
            + ["AUTH PLAIN AGVqAHA=", "NOOP", "RSET", "bogus"]
        let input = Array((commands.map { $0 + "\r\n" }.joined() + "QUIT\r\n").utf8)
        let actions = serveStable(SMTPServerDialog(configuration: configuration), input)
        let replies = actions.sentText.filter { !$0.hasPrefix("554") }
        #expect(replies.count == commands.count + 1, "\(replies)")
        #expect(replies.dropLast().allSatisfy { $0 == "503 5.5.1 Error: bad sequence of commands\r\n" }, "\(replies)")
        #expect(replies.last == "221 2.0.0 Bye\r\n")
        #expect(!actions.contains(.startTLS))
        #expect(actions.last == .close)
        // Until QUIT the connection stays open: the greeting alone closes nothing.
        #expect(!serve(SMTPServerDialog(configuration: configuration), ["EHLO x\r\n"]).contains(.close))
        // A 421 refusal still closes at once.
        #expect(serve(SMTPServerDialog(configuration: config { $0.refuseGreeting = "421 busy" }), []).last == .close)
    }

    @Test("command replies replace answers; 421 closes")
    func commandReplies() {
        let configuration = config {
            $0.commandReplies = ["MAIL": "451 4.3.0 Try again later", "RCPT": "421 4.7.0 Bye"]
        }
        let actions = serve(
            SMTPServerDialog(configuration: configuration),
            ["EHLO x\r\nMAIL FROM:<a>\r\nRCPT TO:<b>\r\nNOOP\r\n"]
        )
        #expect(actions.sentText.suffix(2) == ["451 4.3.0 Try again later\r\n", "421 4.7.0 Bye\r\n"])
        #expect(actions.last == .close)
        let imap = serve(
            IMAPServerDialog(configuration: config { $0.commandReplies = ["LOGIN": "NO [UNAVAILABLE] Try later"] }),
            ["a LOGIN u p\r\n"]
        )
        #expect(imap.sentText.last == "a NO [UNAVAILABLE] Try later\r\n")
    }

    // MARK: Robustness

    static let sessions: [(ServiceProtocol, TLSMode, String)] = [
        (.smtp, .implicit, "EHLO a\r\nMAIL FROM:<a>\r\nRCPT TO:<b>\r\nDATA\r\nhello\r\n.\r\nRSET\r\nQUIT\r\n"),
        (.smtp, .startTLS, "ehlo a\nHELO b\r\nSTARTTLS\r\nNOOP\r\n"),
        (.imap, .implicit, "a LOGIN u p\r\nb SELECT INBOX\r\nc UID SEARCH ALL\r\n* junk\r\nd LOGOUT\r\n"),
        (.pop3, .startTLS, "CAPA\r\nUSER u\r\nPASS p\r\nSTLS\r\n"),
        (.ftp, .implicit, "FEAT\r\nUSER a\r\nPASS b\r\nPBSZ 0\r\nPROT P\r\nTYPE I\r\nQUIT\r\n"),
        (.https, .implicit, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\n\r\n"),
    ]

    @Test("input split at every offset gives the same actions", arguments: 0..<6)
    func splitting(index: Int) {
        let (serviceProtocol, mode, text) = Self.sessions[index]
        let actions = serveStable(
            ServerDialogs.make(for: serviceProtocol, configuration: config(mode)),
            Array(text.utf8)
        )
        #expect(actions.sentText.count >= 2)
    }

    @Test(
        "over-long lines are answered and closed, never buffered without bound",
        arguments: [ServiceProtocol.smtp, .imap, .pop3, .ftp, .https]
    )
    func overlong(serviceProtocol: ServiceProtocol) {
        let configuration = config { $0.limits.maxLineLength = 64 }
        var server = ServerDialogs.make(for: serviceProtocol, configuration: configuration)
        _ = server.start()
        let actions = server.received([UInt8](repeating: 0x41, count: 200))
        #expect(actions.last == .close)
        #expect(server.isClosed)
        #expect(server.received(Array("QUIT\r\n".utf8)).isEmpty)
    }

    @Test("pending bytes while waiting on the caller are bounded")
    func pendingBound() {
        var server = FTPServerDialog(configuration: config { $0.limits.maxReplyBytes = 1000 })
        _ = server.start()
        _ = server.received(Array("EPSV\r\n".utf8))
        var closed = false
        for _ in 0..<200 where !closed {
            closed = server.received(Array("NOOP\r\n".utf8)).contains(.close)
        }
        #expect(closed)
    }

    @Test("random garbage never traps, in any mode", arguments: ServiceProtocol.allCases)
    func garbage(serviceProtocol: ServiceProtocol) {
        var generator = SplitMix(seed: UInt64(serviceProtocol.rawValue.utf8.count))
        for mode in [TLSMode.startTLS, .implicit, .none] {
            for _ in 0..<40 {
                var server = ServerDialogs.make(
                    for: serviceProtocol,
                    configuration: config(mode) { $0.limits.maxLineLength = 256 }
                )
                _ = server.start()
                for _ in 0..<8 {
                    let count = Int(generator.next() % 300)
                    var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                    if generator.next() % 3 == 0 { bytes += Array("\r\n".utf8) }
                    if generator.next() % 4 == 0 { bytes = [0x30, 0x84] + bytes }
                    _ = server.received(bytes)
                    if generator.next() % 10 == 0 { _ = server.tlsEstablished() }
                }
                _ = server.dataListenerReady(port: 70000)
                _ = server.dataTransferFinished(.connectionFailed)
                _ = server.closed()
                #expect(server.isClosed)
            }
        }
    }

    @Test("events out of order are ignored")
    func outOfOrder() {
        var server = SMTPServerDialog()
        #expect(server.tlsEstablished().isEmpty)
        #expect(server.delayElapsed().isEmpty)
        _ = server.start()
        #expect(server.start().isEmpty)
        #expect(server.tlsEstablished().isEmpty)
        var ftp = FTPServerDialog()
        _ = ftp.start()
        #expect(ftp.dataListenerReady(port: 1).isEmpty)
        #expect(ftp.dataTransferFinished(.sent).isEmpty)
    }

    @Test("the transcript is bounded")
    func transcriptBound() {
        var server = SMTPServerDialog()
        _ = server.start()
        for _ in 0..<3000 { _ = server.received(Array("NOOP\r\n".utf8)) }
        #expect(server.transcript.entries.count == ServerCore.maxTranscriptEntries + 1)
        #expect(server.transcript.entries.last?.text == "[transcript truncated]")
    }
}
