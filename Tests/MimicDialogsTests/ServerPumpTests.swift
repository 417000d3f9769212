import MimicCore
import Testing

@testable import MimicDialogs

/// Moves bytes between a client dialog and a server dialog in memory. The TLS step is simulated: when both
/// sides asked for TLS, both are told it is established. When only the client did (the server said go-ahead but
/// stays in plaintext), a fake ClientHello goes to the server and whatever the server answers is what a real
/// client's TLS engine would choke on (`plaintextAfterGoAhead`). FTP data channels are simulated from the
/// server's listener: a TLS listener lets the client's data handshake succeed, a plaintext one makes it fail.
struct Pump {
    static let fakeClientHello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03]

    var client: any ClientDialog
    var server: any ServerDialog
    /// Client→server bytes are cut into segments of this size (nil: whole).
    var segment: Int?

    private(set) var clientActions: [DialogAction] = []
    private(set) var serverActions: [ServerAction] = []
    /// What the server sent after a go-ahead that TLS never followed.
    private(set) var plaintextAfterGoAhead: [UInt8] = []
    private(set) var handshakes = 0
    private var toClient: [[UInt8]] = []
    private var toServer: [[UInt8]] = []
    private var serverClosed = false
    private var clientDone = false
    private var clientTold = false
    private var serverAwaitingTLS = false
    private var clientTLSBroken = false
    /// FTP: listener id → (port, tls, client connected).
    private var listeners: [Int: (port: Int, tls: Bool, connected: Bool)] = [:]

    init(client: any ClientDialog, server: any ServerDialog, segment: Int? = nil) {
        self.client = client
        self.server = server
        self.segment = segment
    }

    var summary: DialogSummary? { clientActions.summary }
    var failure: DialogFailure? { clientActions.failure }
    var serverSent: String {
        serverActions.compactMap { if case .send(let b) = $0 { String(decoding: b, as: UTF8.self) } else { nil } }
            .joined()
    }

    mutating func run() -> Pump {
        serverDo(server.start())
        clientDo(client.start())
        var steps = 0
        while steps < 100_000 {
            steps += 1
            if !toClient.isEmpty {
                let bytes = toClient.removeFirst()
                if clientTLSBroken {
                    plaintextAfterGoAhead += bytes
                } else if !clientDone {
                    clientDo(client.received(bytes))
                }
                continue
            }
            if !toServer.isEmpty {
                let bytes = toServer.removeFirst()
                guard !serverClosed else { continue }
                let size = segment ?? max(bytes.count, 1)
                var start = 0
                while start < bytes.count, !serverClosed {
                    let end = min(start + size, bytes.count)
                    serverDo(server.received(Array(bytes[start..<end])))
                    start = end
                }
                continue
            }
            if serverClosed, !clientDone, !clientTold, !clientTLSBroken {
                clientTold = true
                clientDo(client.closed())
                continue
            }
            if !serverClosed, clientDone || clientTLSBroken {
                serverClosed = true
                serverDo(server.closed())
            }
            break
        }
        return self
    }

    private mutating func serverDo(_ actions: [ServerAction]) {
        for action in actions {
            serverActions.append(action)
            switch action {
            case .send(let bytes): toClient.append(bytes)
            case .delay: serverDo(server.delayElapsed())
            case .startTLS: serverAwaitingTLS = true
            case .listenForData(let id, let tls):
                listeners[id] = (40000 + id, tls, false)
                serverDo(server.dataListenerReady(port: 40000 + id))
            case .transferData(let id, _):
                serverDo(server.dataTransferFinished(listeners[id]?.connected == true ? .sent : .noConnection))
            case .closeDataListener(let id): listeners[id] = nil
            case .close: serverClosed = true
            case .enterPhase: break
            }
        }
    }

    private mutating func clientDo(_ actions: [DialogAction]) {
        for action in actions {
            clientActions.append(action)
            switch action {
            case .send(let bytes): toServer.append(bytes)
            case .startTLS:
                if serverAwaitingTLS {
                    serverAwaitingTLS = false
                    handshakes += 1
                    serverDo(server.tlsEstablished())
                    clientDo(client.tlsEstablished())
                } else {
                    clientTLSBroken = true
                    toServer.append(Self.fakeClientHello)
                }
            case .openDataChannel(_, let port):
                guard let (id, listener) = listeners.first(where: { $0.value.port == port }) else {
                    clientDo(client.dataChannelFailed("connection refused"))
                    continue
                }
                if listener.tls {
                    listeners[id]?.connected = true
                    clientDo(client.dataChannelOpened())
                } else {
                    clientDo(client.dataChannelFailed("TLS handshake failed: the data channel speaks plaintext"))
                }
            case .completed, .failed: clientDone = true
            case .finding: break
            }
        }
    }
}

func pump(
    _ serviceProtocol: ServiceProtocol,
    mode: TLSMode = .startTLS,
    _ configure: (inout ServerDialogConfiguration) -> Void = { _ in },
    clientOptions: DialogOptions? = nil,
    segment: Int? = nil
) -> Pump {
    var configuration = ServerDialogConfiguration(mode: mode)
    configure(&configuration)
    var options = clientOptions ?? DialogOptions(mode: mode)
    options.mode = mode
    var pump = Pump(
        client: ClientDialogs.make(for: serviceProtocol, options: options),
        server: ServerDialogs.make(for: serviceProtocol, configuration: configuration),
        segment: segment
    )
    return pump.run()
}

@Suite("Server dialogs: client ↔ server round trips")
struct ServerPumpTests {
    static let upgradeReplies: [ServiceProtocol: String] = [
        .smtp: "220 2.0.0 Ready to start TLS",
        .imap: "a001 OK Begin TLS negotiation now.",
        .pop3: "+OK Begin TLS negotiation now.",
        .ftp: "234 Proceed with negotiation.",
        .ldap: "success (0)",
    ]

    static let keywords: [ServiceProtocol: String] = [
        .smtp: "STARTTLS", .imap: "STARTTLS", .pop3: "STLS", .ftp: "AUTH TLS",
    ]

    @Test("STARTTLS mode completes for every protocol", arguments: [ServiceProtocol.smtp, .imap, .pop3, .ftp, .ldap])
    func startTLSRoundTrip(serviceProtocol: ServiceProtocol) throws {
        for segment in [nil, 1, 3] as [Int?] {
            let result = pump(serviceProtocol, segment: segment)
            let summary = try #require(result.summary, "\(result.failure?.description ?? "no outcome")")
            #expect(result.handshakes == 1)
            #expect(summary.upgradeReply == Self.upgradeReplies[serviceProtocol])
            #expect(summary.findings.isEmpty)
            if let keyword = Self.keywords[serviceProtocol] {
                #expect(summary.upgradeAdvertised)
                #expect(summary.capabilitiesBeforeTLS.contains(keyword))
                #expect(!summary.capabilitiesAfterTLS.contains(keyword))
            }
            #expect(result.server.isClosed)
        }
    }

    @Test("implicit mode completes for every protocol", arguments: ServiceProtocol.allCases)
    func implicitRoundTrip(serviceProtocol: ServiceProtocol) throws {
        let result = pump(serviceProtocol, mode: .implicit)
        let summary = try #require(result.summary, "\(result.failure?.description ?? "no outcome")")
        #expect(result.handshakes == 0)
        #expect(summary.upgradeReply == nil)
        #expect(!result.serverActions.contains(.startTLS))
        if let keyword = Self.keywords[serviceProtocol] {
            #expect(!summary.capabilitiesAfterTLS.isEmpty)
            #expect(!summary.capabilitiesAfterTLS.contains(keyword))
        }
    }

    @Test("the summaries say what each server offered")
    func summaries() throws {
        let smtp = try #require(pump(.smtp).summary)
        #expect(smtp.greeting == ["mail.example.test ESMTP Mimic"])
        #expect(
            smtp.capabilitiesBeforeTLS == [
                "PIPELINING", "SIZE 10240000", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8",
            ]
        )
        let imap = try #require(pump(.imap).summary)
        #expect(imap.capabilitiesBeforeTLS == ["IMAP4rev1", "ID", "ENABLE", "NAMESPACE", "UNSELECT", "STARTTLS"])
        #expect(imap.capabilitiesAfterTLS == ["IMAP4rev1", "ID", "ENABLE", "NAMESPACE", "UNSELECT"])
        let ftp = try #require(pump(.ftp).summary)
        #expect(ftp.dataChannel?.command == "EPSV")
        #expect(ftp.dataChannelReply == "226 Directory send OK.")
        let ldap = try #require(pump(.ldap).summary)
        #expect(ldap.rootDSE["supportedldapversion"] == ["3"])
        #expect(ldap.rootDSE["namingcontexts"] == ["dc=example,dc=test"])
        #expect(ldap.capabilitiesAfterTLS.contains("1.3.6.1.4.1.1466.20037"))
        let https = try #require(pump(.https, mode: .implicit).summary)
        #expect(https.httpStatus == 200)
        #expect(https.httpHeaders.contains(DialogSummary.HTTPHeader(name: "server", value: "mimic")))
    }

    @Test("stripped STARTTLS: startTLSNotOffered", arguments: [ServiceProtocol.smtp, .imap, .pop3, .ftp])
    func stripped(serviceProtocol: ServiceProtocol) throws {
        let result = pump(serviceProtocol) { $0.startTLS.advertise = .stripped }
        let failure = try #require(result.failure)
        #expect(failure.code == .startTLSNotOffered)
        #expect(failure.phase == .capabilities)
    }

    @Test("stripped but tried anyway: the upgrade still works, with a warning")
    func strippedTriedAnyway() throws {
        let result = pump(.smtp, { $0.startTLS.advertise = .stripped }, clientOptions: options(tryAnyway: true))
        let summary = try #require(result.summary)
        #expect(summary.findings.map(\.code) == [.startTLSNotOffered])
    }

    @Test("mangled STARTTLS: XXXXXXXA in EHLO, and the command refused", arguments: [ServiceProtocol.smtp, .imap])
    func mangled(serviceProtocol: ServiceProtocol) throws {
        let result = pump(
            serviceProtocol,
            { $0.startTLS.advertise = .mangled },
            clientOptions: options(tryAnyway: true)
        )
        let failure = try #require(result.failure)
        #expect(failure.code == .startTLSNotOffered)
        #expect(failure.transcript.description.contains("XXXXXXXA"))
        #expect(result.handshakes == 0)
    }

    @Test(
        "refused upgrade: startTLSRejected",
        arguments: [
            (ServiceProtocol.smtp, "454 4.7.0 TLS not available due to local problem"),
            (.smtp, "502 5.5.1 Error: command not implemented"),
            (.imap, "NO [UNAVAILABLE] TLS not available"),
            (.imap, "BAD Unknown command"),
            (.pop3, "-ERR TLS support isn't enabled."),
        ]
    )
    func refused(serviceProtocol: ServiceProtocol, reply: String) throws {
        let result = pump(serviceProtocol) { $0.startTLS.reply = reply }
        let failure = try #require(result.failure)
        #expect(failure.code == .startTLSRejected)
        #expect(failure.serverWords.hasSuffix(reply))
        #expect(result.handshakes == 0)
    }

    @Test("FTP: AUTH TLS refused while AUTH SSL works")
    func authSSL() throws {
        let result = pump(.ftp) { $0.startTLS.reply = "534 Local policy on server does not allow TLS." }
        let failure = try #require(result.failure)
        #expect(failure.code == .startTLSRejected)
        #expect(failure.detail.contains("AUTH SSL accepted: 234 Proceed with negotiation."))
        #expect(result.clientActions.findings.map(\.severity) == [.warning])
    }

    @Test("a configured go-ahead text is still a go-ahead")
    func customGoAhead() throws {
        let summary = try #require(pump(.smtp) { $0.startTLS.reply = "220 Go ahead" }.summary)
        #expect(summary.upgradeReply == "220 Go ahead")
    }

    @Test(
        "transition false: go-ahead, then the ClientHello answered in plaintext",
        arguments: [ServiceProtocol.smtp, .imap, .pop3, .ftp, .ldap]
    )
    func noTransition(serviceProtocol: ServiceProtocol) throws {
        let result = pump(serviceProtocol) { $0.startTLS.transition = false }
        #expect(result.handshakes == 0)
        #expect(!result.serverActions.contains(.startTLS))
        #expect(!result.plaintextAfterGoAhead.isEmpty)
        #expect(result.summary == nil && result.failure == nil)
        if serviceProtocol == .smtp {
            #expect(
                String(decoding: result.plaintextAfterGoAhead, as: UTF8.self)
                    == "502 5.5.2 Error: command not recognized\r\n"
            )
        }
        if serviceProtocol == .ldap {
            #expect(result.plaintextAfterGoAhead.prefix(1) == [0x30])
            #expect(result.server.isClosed)
        }
    }

    @Test("transition false and silent: nothing after the go-ahead")
    func noTransitionSilent() {
        let result = pump(.smtp) {
            $0.startTLS.transition = false
            $0.startTLS.noTransitionReply = ""
        }
        #expect(result.plaintextAfterGoAhead.isEmpty)
        #expect(result.handshakes == 0)
    }

    @Test(
        "bytes injected after the go-ahead: plaintextInjection",
        arguments: [ServiceProtocol.smtp, .imap, .pop3, .ftp, .ldap]
    )
    func injection(serviceProtocol: ServiceProtocol) throws {
        let result = pump(serviceProtocol) { $0.startTLS.injectAfterGoAhead = "250 injected" }
        let failure = try #require(result.failure)
        #expect(failure.code == .plaintextInjection)
        #expect(failure.serverWords.contains("injected"))
        #expect(result.handshakes == 0)
    }

    @Test("IMAP PREAUTH greeting: startTLSNotOffered in the greeting")
    func preauth() throws {
        let result = pump(.imap) { $0.preauth = true }
        let failure = try #require(result.failure)
        #expect(failure.code == .startTLSNotOffered)
        #expect(failure.phase == .greeting)
        #expect(failure.serverWords.hasPrefix("* PREAUTH [CAPABILITY IMAP4rev1"))
    }

    @Test("refused greeting: greetingRejected", arguments: [ServiceProtocol.smtp, .imap, .pop3, .ftp])
    func refusedGreeting(serviceProtocol: ServiceProtocol) throws {
        let refusal = ServerDialogConfiguration.defaultRefusal(for: serviceProtocol)
        let result = pump(serviceProtocol) { $0.refuseGreeting = refusal }
        let failure = try #require(result.failure)
        #expect(failure.code == .greetingRejected)
        #expect(failure.phase == .greeting)
        #expect(result.serverSent == refusal + "\r\n")
        // SMTP's 554 waits for the client's QUIT (RFC 5321 §3.1); the other refusals close at once.
        if serviceProtocol != .smtp { #expect(result.serverActions.last == .close) }
    }

    @Test("LDAP: unavailable (52) with a diagnostic → startTLSRejected")
    func ldapUnavailable() throws {
        let result = pump(.ldap) {
            $0.ldap.resultCode = 52
            $0.ldap.diagnosticMessage = "00000000: LdapErr: DSID-0C09117A, comment: Error initializing SSL/TLS"
        }
        let failure = try #require(result.failure)
        #expect(failure.code == .startTLSRejected)
        #expect(failure.serverWords.hasPrefix("unavailable (52): 00000000: LdapErr"))
    }

    @Test("LDAP: long-form lengths still parse, in both modes")
    func ldapLongForm() throws {
        for mode in [TLSMode.startTLS, .implicit] {
            let result = pump(.ldap, mode: mode) { $0.ldap.longFormLengths = true }
            let summary = try #require(result.summary)
            #expect(summary.rootDSE["supportedldapversion"] == ["3"])
            for case .send(let bytes) in result.serverActions {
                #expect(Array(bytes.prefix(2)) == [0x30, 0x84])
            }
        }
    }

    @Test("LDAP: a wrong messageID → unexpectedReply")
    func ldapMessageID() throws {
        let failure = try #require(pump(.ldap) { $0.ldap.messageIDOverride = 7 }.failure)
        #expect(failure.code == .unexpectedReply)
        #expect(failure.detail == "messageID mismatch: expected 1, got 7")
    }

    @Test("LDAP: Notice of Disconnection instead of the response → startTLSRejected")
    func ldapNotice() throws {
        let result = pump(.ldap) { $0.ldap.noticeOfDisconnection = true }
        let failure = try #require(result.failure)
        #expect(failure.code == .startTLSRejected)
        #expect(failure.serverWords.hasPrefix("Notice of Disconnection: unavailable (52)"))
        #expect(result.server.isClosed)
    }

    @Test("LDAP: protocolError (2) → startTLSRejected; responseName off still a success")
    func ldapProtocolError() throws {
        #expect(pump(.ldap) { $0.ldap.resultCode = 2 }.failure?.code == .startTLSRejected)
        #expect(pump(.ldap) { $0.ldap.responseName = false }.summary != nil)
    }

    @Test("bare LF line endings: the client flags them")
    func bareLF() throws {
        let summary = try #require(pump(.smtp) { $0.lineEnding = .lf }.summary)
        #expect(summary.bareLineFeeds)
        #expect(summary.findings.map(\.code) == [.unexpectedReply])
    }

    @Test("multi-line greeting: the client waits for the last line")
    func multilineGreeting() throws {
        let summary = try #require(pump(.smtp) { $0.multilineGreeting = true }.summary)
        #expect(summary.greeting == ["mail.example.test ESMTP Mimic", "mail.example.test ESMTP Mimic"])
        let ftp = try #require(pump(.ftp) { $0.multilineGreeting = true }.summary)
        #expect(ftp.greeting == ["Welcome to Mimic FTP.", "(Mimic FTP)"])
    }

    @Test("capabilities not refreshed after TLS: the client sees STARTTLS again")
    func capabilitiesAfterTLS() throws {
        let summary = try #require(
            pump(.smtp) { $0.capabilitiesAfterTLS = ["PIPELINING", "STARTTLS"] }.summary
        )
        #expect(summary.capabilitiesAfterTLS == ["PIPELINING", "STARTTLS"])
    }

    @Test("STARTTLS as the last EHLO line (nginx) is still found")
    func startTLSLast() throws {
        let result = pump(.smtp) { $0.capabilitiesBeforeTLS = ["PIPELINING", "8BITMIME"] }
        let summary = try #require(result.summary)
        #expect(summary.capabilitiesBeforeTLS == ["PIPELINING", "8BITMIME", "STARTTLS"])
        #expect(result.serverSent.contains("250 STARTTLS\r\n"))
    }

    @Test("EHLO answered 421 (rate limiting): the client reports it, the server closes")
    func ehloRefused() throws {
        let result = pump(.smtp) { $0.commandReplies = ["EHLO": "421 4.7.0 Too many connections"] }
        let failure = try #require(result.failure)
        #expect(failure.code == .unexpectedReply)
        #expect(failure.serverWords == "421 4.7.0 Too many connections")
        #expect(result.server.isClosed)
    }

    @Test("FTP: PROT P not enforced, the data channel stays plaintext")
    func ftpPlaintextData() throws {
        let result = pump(.ftp) { $0.ftp.dataChannel = .plaintext }
        let summary = try #require(result.summary)
        #expect(summary.dataChannelReply?.hasPrefix("data channel not opened") == true)
        #expect(result.serverActions.contains(.listenForData(id: 1, tls: false)))
        #expect(result.serverActions.contains(.closeDataListener(id: 1)))
    }

    @Test("FTP: the data listener is TLS after PROT P")
    func ftpTLSData() throws {
        let result = pump(.ftp)
        #expect(result.serverActions.contains(.listenForData(id: 1, tls: true)))
        #expect(result.serverActions.contains(.transferData(id: 1, bytes: Array(FTPServerDialog.listing.utf8))))
    }

    @Test("greeting delay: a delay action, then the greeting")
    func greetingDelay() throws {
        let result = pump(.smtp) { $0.greetingDelay = .milliseconds(1500) }
        #expect(result.summary != nil)
        #expect(Array(result.serverActions.prefix(3)).first == .enterPhase(.greeting))
        #expect(result.serverActions[1] == .delay(milliseconds: 1500))
    }

    @Test("vulnerable server: commands pipelined after STARTTLS run after TLS (CVE-2011-0411 shape)")
    func commandInjection() {
        var configuration = ServerDialogConfiguration()
        configuration.startTLS.executeInjectedCommands = true
        var server = SMTPServerDialog(configuration: configuration)
        _ = server.start()
        var actions = server.received(Array("EHLO a\r\nSTARTTLS\r\nRSET\r\n".utf8))
        #expect(actions.contains(.startTLS))
        actions = server.tlsEstablished()
        #expect(actions.sentText == ["250 2.0.0 Ok\r\n"])

        var fixed = SMTPServerDialog()
        _ = fixed.start()
        _ = fixed.received(Array("EHLO a\r\nSTARTTLS\r\nRSET\r\n".utf8))
        #expect(fixed.tlsEstablished().sentText.isEmpty)
        #expect(fixed.transcript.description.contains("discarded 6 bytes"))
    }
}

extension [ServerAction] {
    var sentText: [String] {
        compactMap { if case .send(let bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }
    }

    var sentBytes: [UInt8] {
        flatMap { action -> [UInt8] in if case .send(let bytes) = action { bytes } else { [] } }
    }
}
