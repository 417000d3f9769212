import MimicCore

/// An SMTP server in Postfix's shape (RFC 5321, RFC 3207): greeting, EHLO/HELO, STARTTLS, MAIL, RCPT, DATA
/// (accepted and discarded, only counted), RSET, NOOP, QUIT. After TLS the client must EHLO again (RFC 3207
/// §4.2). Commands are case-insensitive; unknown ones get `502 5.5.2 Error: command not recognized`.
///
/// A session greeted with 554 (the refusal knob or a configured greeting) is refused for good, as RFC 5321 §3.1
/// says: the server waits for QUIT (221) and answers every other command with 503, STARTTLS included.
public struct SMTPServerDialog: LineServerDialog {
    private enum State: Sendable, Hashable {
        case command
        /// Inside DATA; the bytes received so far, only counted.
        case data(bytes: Int)
    }

    /// The SIZE advertised; bigger messages are refused after the final dot.
    static let maxMessageSize = 10_240_000
    static let maxRecipients = 1000

    private var state: State = .command
    private var greeted = false
    private var mailFrom = false
    private var recipients = 0
    private var queued = 0
    var core: ServerCore

    public init(configuration: ServerDialogConfiguration = ServerDialogConfiguration()) {
        core = ServerCore(serviceProtocol: .smtp, configuration: configuration)
    }

    public var serviceProtocol: ServiceProtocol { .smtp }
    var isReading: Bool { true }
    var isCommandMode: Bool { state == .command }
    private var host: String { core.configuration.hostname }

    static let knownVerbs: Set<String> = [
        "HELO", "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT", "VRFY", "EXPN", "HELP", "STARTTLS",
        "AUTH", "ETRN", "XCLIENT", "XFORWARD", "TURN", "ATRN", "SEND", "SOML", "SAML",
    ]

    func classify(_ command: CommandLine) -> ClientCommandKind {
        switch command.verb {
        case "EHLO": .capabilities
        case "STARTTLS": .upgrade
        case "AUTH": .credentials
        case "MAIL", "RCPT", "DATA", "BDAT": .mail
        case "QUIT": .goodbye
        default: .other
        }
    }

    /// True when the greeting's final line refuses the session (554): only QUIT is then served.
    private var sessionRefused: Bool {
        let finalLine = core.configuration.refuseGreeting.map(ServerCore.lines)?.last ?? greetingLines.last ?? ""
        return startsWithCode(finalLine, 554)
    }

    /// A 554 refusal keeps the connection until the client's QUIT; any other (421) closes it at once.
    var closesAfterRefusal: Bool { !sessionRefused }

    func defaultGreeting() -> [String] {
        let last = "220 \(host) ESMTP Mimic"
        return core.configuration.multilineGreeting ? ["220-\(host) ESMTP Mimic", last] : [last]
    }

    func errorReply(_ problem: LineProblem, line: ReceivedLine?) -> [String] {
        switch problem {
        case .bareLF: ["500 5.5.2 Error: bare <LF> received"]
        case .lineTooLong: ["500 5.5.0 Error: line too long"]
        case .earlyTalk: ["554 5.5.1 Protocol error"]
        case .garbage: ["502 5.5.2 Error: command not recognized"]
        }
    }

    mutating func didEstablishTLS() {
        greeted = false
        resetTransaction()
    }

    private mutating func resetTransaction() {
        mailFrom = false
        recipients = 0
    }

    /// The EHLO keywords: Postfix's, minus what this server does not implement (VRFY, ETRN, DSN, CHUNKING).
    private var capabilities: [String] {
        let common = ["PIPELINING", "SIZE \(Self.maxMessageSize)"]
        let tail = ["ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8"]
        return core.capabilities(
            defaultsBeforeTLS: common + ["STARTTLS"] + tail,
            defaultsAfterTLS: common + tail,
            keyword: "STARTTLS"
        )
    }

    mutating func handle(_ line: ReceivedLine) -> [ServerAction] {
        if case .data(let bytes) = state {
            return dataLine(line, bytes: bytes)
        }
        let command = CommandLine(line.text)
        if sessionRefused {
            guard command.verb == "QUIT" else {
                if command.verb == "STARTTLS", !core.tlsActive { core.observer.upgradeRefused() }
                return core.reply("503 5.5.1 Error: bad sequence of commands")
            }
            return core.enter(.close) + core.reply("221 2.0.0 Bye") + core.close()
        }
        if let override = core.configuration.commandReplies[command.verb] {
            let lines = ServerCore.lines(override)
            return core.reply(lines) + (startsWithCode(lines.first ?? "", 421) ? core.close() : [])
        }
        switch command.verb {
        case "EHLO", "HELO":
            return greet(command)
        case "STARTTLS":
            guard command.argument.isEmpty else { return core.reply("501 5.5.4 Syntax: STARTTLS") }
            return upgrade(
                goAhead: ["220 2.0.0 Ready to start TLS"],
                unknownCommand: ["502 5.5.2 Error: command not recognized"],
                alreadyActive: ["554 5.5.1 Error: TLS already active"],
                configuredReply: core.configuration.startTLS.reply,
                isGoAhead: { startsWithCode($0, 220) }
            )
        case "MAIL", "RCPT", "DATA":
            return transaction(command)
        case "RSET":
            resetTransaction()
            return core.reply("250 2.0.0 Ok")
        case "NOOP":
            return core.reply("250 2.0.0 Ok")
        case "VRFY":
            return core.reply("502 5.5.1 VRFY command is disabled")
        case "AUTH":
            return core.reply("503 5.5.1 Error: authentication not enabled")
        case "QUIT":
            return core.enter(.close) + core.reply("221 2.0.0 Bye") + core.close()
        case "":
            return core.reply("500 5.5.2 Error: bad syntax")
        default:
            return core.reply("502 5.5.2 Error: command not recognized")
        }
    }

    /// EHLO (with the capability list) or HELO.
    private mutating func greet(_ command: CommandLine) -> [ServerAction] {
        let extended = command.verb == "EHLO"
        guard !command.argument.isEmpty else {
            return core.reply(extended ? "501 5.5.4 Syntax: EHLO hostname" : "501 Syntax: HELO hostname")
        }
        greeted = true
        resetTransaction()
        guard extended else { return core.reply("250 \(host)") }
        let lines = [host] + capabilities
        return core.reply(
            lines.enumerated().map { index, text in
                (index == lines.count - 1 ? "250 " : "250-") + text
            }
        )
    }

    /// MAIL, RCPT and DATA, in that order (RFC 5321 §3.3).
    private mutating func transaction(_ command: CommandLine) -> [ServerAction] {
        switch command.verb {
        case "MAIL":
            guard greeted else { return core.reply("503 5.5.1 Error: send HELO/EHLO first") }
            guard !mailFrom else { return core.reply("503 5.5.1 Error: nested MAIL command") }
            guard command.argument.uppercased().hasPrefix("FROM:") else {
                return core.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
            }
            mailFrom = true
            return core.reply("250 2.1.0 Ok")
        case "RCPT":
            guard mailFrom else { return core.reply("503 5.5.1 Error: need MAIL command") }
            guard command.argument.uppercased().hasPrefix("TO:") else {
                return core.reply("501 5.5.4 Syntax: RCPT TO:<address>")
            }
            guard recipients < Self.maxRecipients else { return core.reply("452 4.5.3 Error: too many recipients") }
            recipients += 1
            return core.reply("250 2.1.5 Ok")
        default:
            guard mailFrom else { return core.reply("503 5.5.1 Error: need RCPT command") }
            guard recipients > 0 else { return core.reply("554 5.5.1 Error: no valid recipients") }
            state = .data(bytes: 0)
            return core.reply("354 End data with <CR><LF>.<CR><LF>")
        }
    }

    /// A DATA line: counted and dropped; the lone dot ends the message (RFC 5321 §4.1.1.4).
    private mutating func dataLine(_ line: ReceivedLine, bytes: Int) -> [ServerAction] {
        guard line.bytes == [0x2E] else {
            state = .data(bytes: min(bytes + line.bytes.count + 2, Int.max / 2))
            return []
        }
        state = .command
        resetTransaction()
        core.note("message of \(bytes) bytes discarded")
        guard bytes <= Self.maxMessageSize else { return core.reply("552 5.3.4 Error: message file too big") }
        queued += 1
        return core.reply("250 2.0.0 Ok: queued as MIMIC\(queued)")
    }
}
