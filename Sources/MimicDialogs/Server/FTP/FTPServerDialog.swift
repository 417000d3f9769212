import MimicCore

/// An FTP control channel in vsftpd's shape (RFC 959, RFC 2228, RFC 4217, RFC 2428): FEAT, AUTH TLS / AUTH SSL,
/// USER/PASS (anonymous or anything), PBSZ, PROT, PWD, CWD, TYPE, SYST, OPTS UTF8, EPSV/PASV with the caller's
/// listener, LIST/NLST of a one-file directory over the data channel, QUIT. Active mode (PORT/EPRT) is refused.
///
/// Lenient: no command needs a login (Mimic's own client lists without one). While a data listener is being
/// opened or a transfer runs, further commands wait in the (bounded) buffer, as in vsftpd's one-thing-at-a-time
/// loop.
public struct FTPServerDialog: LineServerDialog {
    private enum Waiting: Sendable, Hashable {
        case listener(id: Int, extended: Bool)
        case transfer(id: Int)
    }

    /// The directory every listing shows.
    static let listing = "-rw-r--r--    1 ftp      ftp            42 Jan 01  2024 README.txt\r\n"
    static let nameListing = "README.txt\r\n"

    private var waiting: Waiting?
    /// The listener ready for the next transfer.
    private var passive: Int?
    private var nextID = 1
    private var user: String?
    private var protectionBufferSet = false
    private var privateData = false
    var core: ServerCore

    public init(configuration: ServerDialogConfiguration = ServerDialogConfiguration()) {
        core = ServerCore(serviceProtocol: .ftp, configuration: configuration)
    }

    public var serviceProtocol: ServiceProtocol { .ftp }
    var isReading: Bool { waiting == nil }

    func defaultGreeting() -> [String] {
        core.configuration.multilineGreeting ? ["220-Welcome to Mimic FTP.", "220 (Mimic FTP)"] : ["220 (Mimic FTP)"]
    }

    func errorReply(_ problem: LineProblem, line: ReceivedLine?) -> [String] {
        switch problem {
        case .bareLF: ["500 Bare LF not allowed."]
        case .lineTooLong: ["500 Input line too long."]
        case .earlyTalk: ["421 Protocol error: command before greeting."]
        case .garbage: ["500 Unknown command."]
        }
    }

    mutating func didEstablishTLS() {
        protectionBufferSet = false
        privateData = false
    }

    private var features: [String] {
        let tail = ["EPSV", "PASV", "PBSZ", "PROT", "SIZE", "TVFS", "UTF8"].filter {
            $0 != "EPSV" || core.configuration.ftp.extendedPassive
        }
        return core.capabilities(defaultsBeforeTLS: ["AUTH TLS"] + tail, defaultsAfterTLS: tail, keyword: "AUTH TLS")
    }

    /// Whether the next data connection is TLS: PROT P in force and not configured to ignore it.
    private var dataTLS: Bool { privateData && core.configuration.ftp.dataChannel != .plaintext }

    mutating func peerClosed() -> [ServerAction] { dropDataChannel() }

    private mutating func dropDataChannel() -> [ServerAction] {
        var actions: [ServerAction] = []
        if let passive { actions.append(.closeDataListener(id: passive)) }
        switch waiting {
        case .listener(let id, _), .transfer(let id): actions.append(.closeDataListener(id: id))
        case nil: break
        }
        passive = nil
        waiting = nil
        return actions
    }

    static let knownVerbs: Set<String> = [
        "USER", "PASS", "ACCT", "CWD", "CDUP", "XCUP", "SMNT", "QUIT", "REIN", "PORT", "PASV", "EPRT", "EPSV", "TYPE",
        "STRU", "MODE", "RETR", "STOR", "STOU", "APPE", "ALLO", "REST", "RNFR", "RNTO", "ABOR", "DELE", "RMD", "XRMD",
        "MKD", "XMKD", "PWD", "XPWD", "LIST", "NLST", "MLSD", "MLST", "SITE", "SYST", "STAT", "HELP", "NOOP", "FEAT",
        "OPTS", "AUTH", "PBSZ", "PROT", "CCC", "SIZE", "MDTM", "LANG", "HOST", "ADAT", "MIC", "CONF", "ENC",
    ]

    func classify(_ command: CommandLine) -> ClientCommandKind {
        switch command.verb {
        case "FEAT": .capabilities
        case "AUTH":
            ["TLS", "TLS-C", "SSL", "TLS-P"].contains(command.argument.trimmingLeadingSpace.uppercased())
                ? .upgrade : .other
        case "USER", "PASS", "ACCT": .credentials
        case "QUIT": .goodbye
        default: .other
        }
    }

    mutating func handle(_ line: ReceivedLine) -> [ServerAction] {
        let command = CommandLine(line.text)
        if let override = core.configuration.commandReplies[command.verb] {
            let lines = ServerCore.lines(override)
            return core.reply(lines) + (startsWithCode(lines.first ?? "", 421) ? dropDataChannel() + core.close() : [])
        }
        let argument = command.argument.trimmingLeadingSpace
        switch command.verb {
        case "FEAT":
            return core.reply(["211-Features:"] + features.map { " " + $0 } + ["211 End"])
        case "AUTH":
            return auth(argument)
        case "USER":
            guard !argument.isEmpty else { return core.reply("500 USER needs an argument.") }
            user = argument
            return core.reply("331 Please specify the password.")
        case "PASS":
            guard user != nil else { return core.reply("503 Login with USER first.") }
            return core.reply("230 Login successful.")
        case "PBSZ", "PROT":
            return protection(command.verb, argument)
        case "PWD", "XPWD", "CWD", "CDUP", "XCUP", "TYPE", "MODE", "STRU", "SYST", "NOOP", "OPTS":
            return session(command.verb, argument)
        case "EPSV":
            guard core.configuration.ftp.extendedPassive else { return core.reply("502 EPSV not implemented.") }
            if argument.uppercased() == "ALL" { return core.reply("200 EPSV ALL ok.") }
            return listen(extended: true)
        case "PASV":
            return listen(extended: false)
        case "PORT", "EPRT":
            return core.reply("500 Illegal PORT command.")
        case "LIST", "NLST", "MLSD":
            guard let id = passive else { return core.reply("425 Use PORT or PASV first.") }
            passive = nil
            waiting = .transfer(id: id)
            let listing = command.verb == "NLST" ? Self.nameListing : Self.listing
            return core.reply("150 Here comes the directory listing.") + [
                .transferData(id: id, bytes: Array(listing.utf8))
            ]
        case "RETR", "STOR", "STOU", "APPE", "SIZE", "MDTM", "DELE", "MKD", "XMKD", "RMD", "XRMD", "RNFR", "RNTO",
            "SITE", "REST", "ABOR":
            return files(command.verb, argument)
        case "QUIT":
            return core.enter(.close) + core.reply("221 Goodbye.") + dropDataChannel() + core.close()
        default:
            return core.reply("500 Unknown command.")
        }
    }

    /// AUTH TLS (RFC 4217 §4) and its pre-RFC forms.
    private mutating func auth(_ argument: String) -> [ServerAction] {
        let configuredReply: String?
        switch argument.uppercased() {
        case "TLS", "TLS-C":
            configuredReply = core.configuration.startTLS.reply
        case "SSL", "TLS-P":
            // The pre-RFC 4217 form: not subject to `startTLS.reply` or to mangling, so it can work alone.
            configuredReply = core.configuration.ftp.authSSLReply ?? "234 Proceed with negotiation."
        default:
            return core.reply("504 Unknown AUTH type.")
        }
        return upgrade(
            goAhead: ["234 Proceed with negotiation."],
            unknownCommand: ["500 Unknown command."],
            alreadyActive: ["534 Already using TLS."],
            configuredReply: configuredReply,
            isGoAhead: { startsWithCode($0, 234) }
        )
    }

    /// PBSZ and PROT (RFC 4217 §8–9): only over TLS, PBSZ first.
    private mutating func protection(_ verb: String, _ argument: String) -> [ServerAction] {
        guard core.tlsActive else { return core.reply("503 \(verb) not allowed on insecure control connection.") }
        guard verb == "PROT" else {
            protectionBufferSet = true
            return core.reply("200 PBSZ=0")
        }
        guard protectionBufferSet else { return core.reply("503 PROT needs PBSZ first.") }
        switch argument.uppercased() {
        case "P":
            privateData = true
            return core.reply("200 PROT now Private.")
        case "C":
            privateData = false
            return core.reply("200 PROT now Clear.")
        case "S", "E":
            return core.reply("536 PROT not supported.")
        default:
            return core.reply("504 PROT not recognised.")
        }
    }

    /// The session's settings and where it stands: all accepted as vsftpd does, changing nothing.
    private mutating func session(_ verb: String, _ argument: String) -> [ServerAction] {
        switch verb {
        case "PWD", "XPWD":
            return core.reply("257 \"/\" is the current directory")
        case "CWD", "CDUP", "XCUP":
            return core.reply("250 Directory successfully changed.")
        case "TYPE":
            switch argument.uppercased() {
            case "A", "A N": return core.reply("200 Switching to ASCII mode.")
            case "I", "L 8": return core.reply("200 Switching to Binary mode.")
            default: return core.reply("500 Unrecognised TYPE command.")
            }
        case "MODE":
            return core.reply(argument.uppercased() == "S" ? "200 Mode set to S." : "504 Bad MODE command.")
        case "STRU":
            return core.reply(argument.uppercased() == "F" ? "200 Structure set to F." : "504 Bad STRU command.")
        case "SYST":
            return core.reply("215 UNIX Type: L8")
        case "NOOP":
            return core.reply("200 NOOP ok.")
        default:
            return core.reply(
                argument.uppercased() == "UTF8 ON" ? "200 Always in UTF8 mode." : "501 Option not understood."
            )
        }
    }

    /// Commands on files: the mock's directory has none it will give or take.
    private mutating func files(_ verb: String, _ argument: String) -> [ServerAction] {
        switch verb {
        case "RETR":
            return core.reply("550 Failed to open file.")
        case "STOR", "STOU", "APPE":
            return core.reply("553 Could not create file.")
        case "SIZE", "MDTM":
            return core.reply("550 Could not get file size.")
        case "REST":
            return core.reply("350 Restart position accepted (\(argument.isEmpty ? "0" : argument)).")
        case "ABOR":
            return core.reply("225 No transfer to ABOR.")
        default:
            return core.reply("550 Permission denied.")
        }
    }

    /// EPSV/PASV: a fresh listener from the caller, replacing any unused one.
    private mutating func listen(extended: Bool) -> [ServerAction] {
        var actions: [ServerAction] = []
        if let passive {
            actions.append(.closeDataListener(id: passive))
            self.passive = nil
        }
        let id = nextID
        nextID += 1
        waiting = .listener(id: id, extended: extended)
        return actions + core.enter(.dataChannel) + [.listenForData(id: id, tls: dataTLS)]
    }

    public mutating func dataListenerReady(port: Int) -> [ServerAction] {
        guard core.stage == .open, case .listener(let id, let extended) = waiting else { return [] }
        waiting = nil
        guard (1...65535).contains(port) else { return [.closeDataListener(id: id)] + dataListenerFailed() }
        passive = id
        if extended {
            return core.reply("229 Entering Extended Passive Mode (|||\(port)|)") + drain()
        }
        return core.reply("227 Entering Passive Mode (\(pasvAddress),\(port >> 8),\(port & 0xFF)).") + drain()
    }

    public mutating func dataListenerFailed() -> [ServerAction] {
        guard core.stage == .open, case .listener = waiting else { return [] }
        waiting = nil
        return core.reply("425 Failed to enter passive mode.") + backFromData() + drain()
    }

    public mutating func dataTransferFinished(_ outcome: DataTransferOutcome) -> [ServerAction] {
        guard core.stage == .open, case .transfer = waiting else { return [] }
        waiting = nil
        // Always a final reply: the 150 promised one (RFC 959 §4.2), and commands the client sent meanwhile (QUIT
        // first of all) wait behind it.
        let reply: String
        switch outcome {
        case .sent:
            reply = "226 Directory send OK."
        case .noConnection:
            reply = "425 Failed to establish connection."
        case .connectionFailed where core.configuration.ftp.dataChannel == .requireResumption && dataTLS:
            reply = "522 SSL connection failed: session reuse required"
        case .connectionFailed:
            reply = "426 Failure writing network stream."
        }
        return core.reply(reply) + backFromData() + drain()
    }

    private mutating func backFromData() -> [ServerAction] {
        core.enter(core.tlsActive ? .postTLS : .capabilities)
    }

    /// `h1,h2,h3,h4` of the configured IPv4 address; 127,0,0,1 when it is not one.
    private var pasvAddress: String {
        let parts = core.configuration.ftp.passiveHost.split(separator: ".", omittingEmptySubsequences: false)
        let octets = parts.compactMap { Int($0) }.filter { (0...255).contains($0) }
        guard parts.count == 4, octets.count == 4 else { return "127,0,0,1" }
        return octets.map(String.init).joined(separator: ",")
    }
}
