import MimicCore

/// A POP3 server in Dovecot's shape (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS): CAPA, STLS, USER/PASS (anything
/// accepted), STAT, LIST, UIDL, RETR/TOP/DELE (no such message), NOOP, RSET, QUIT, on an always-empty maildrop.
/// Lenient: the maildrop commands work before login too.
public struct POP3ServerDialog: LineServerDialog {
    private var user: String?
    private var loggedIn = false
    var core: ServerCore

    public init(configuration: ServerDialogConfiguration = ServerDialogConfiguration()) {
        core = ServerCore(serviceProtocol: .pop3, configuration: configuration)
    }

    public var serviceProtocol: ServiceProtocol { .pop3 }
    var isReading: Bool { true }

    func defaultGreeting() -> [String] { ["+OK Mimic POP3 ready."] }

    func errorReply(_ problem: LineProblem, line: ReceivedLine?) -> [String] {
        switch problem {
        case .bareLF: ["-ERR Bare LF not allowed."]
        case .lineTooLong: ["-ERR Input line too long."]
        case .earlyTalk: ["-ERR Protocol error: command before greeting."]
        case .garbage: ["-ERR Unknown command."]
        }
    }

    /// No SASL: clients then use USER/PASS, which is all this server does.
    private var capabilities: [String] {
        let common = ["TOP", "UIDL", "RESP-CODES", "PIPELINING"]
        return core.capabilities(
            defaultsBeforeTLS: common + ["STLS", "USER"],
            defaultsAfterTLS: common + ["USER"],
            keyword: "STLS"
        )
    }

    /// A multi-line response (RFC 1939 §3): status line, dot-stuffed body, lone dot.
    private mutating func multiline(_ status: String, _ body: [String]) -> [ServerAction] {
        core.reply([status] + body.map { $0.hasPrefix(".") ? "." + $0 : $0 } + ["."])
    }

    static let knownVerbs: Set<String> = [
        "CAPA", "STLS", "USER", "PASS", "APOP", "AUTH", "STAT", "LIST", "UIDL", "RETR", "TOP", "DELE", "NOOP",
        "RSET", "QUIT", "UTF8", "LANG",
    ]

    func classify(_ command: CommandLine) -> ClientCommandKind {
        switch command.verb {
        case "CAPA": .capabilities
        case "STLS": .upgrade
        case "USER", "PASS", "APOP", "AUTH": .credentials
        case "QUIT": .goodbye
        default: .other
        }
    }

    mutating func handle(_ line: ReceivedLine) -> [ServerAction] {
        let command = CommandLine(line.text)
        if let override = core.configuration.commandReplies[command.verb] {
            return core.reply(ServerCore.lines(override))
        }
        let argument = command.argument.trimmingLeadingSpace
        switch command.verb {
        case "CAPA":
            return multiline("+OK", capabilities)
        case "STLS":
            guard !loggedIn else { return core.reply("-ERR [IN-USE] STLS not allowed after login.") }
            return upgrade(
                goAhead: ["+OK Begin TLS negotiation now."],
                unknownCommand: ["-ERR Unknown command."],
                alreadyActive: ["-ERR [IN-USE] TLS is already active."],
                configuredReply: core.configuration.startTLS.reply,
                isGoAhead: { $0.uppercased().hasPrefix("+OK") }
            )
        case "USER":
            guard !argument.isEmpty else { return core.reply("-ERR No username given.") }
            user = argument
            return core.reply("+OK")
        case "PASS":
            guard user != nil else { return core.reply("-ERR No username given.") }
            loggedIn = true
            return core.reply("+OK Logged in.")
        case "APOP", "AUTH":
            return core.reply("-ERR [AUTH] Authentication mechanism not supported.")
        case "STAT":
            return core.reply("+OK 0 0")
        case "LIST", "UIDL":
            if !argument.isEmpty { return core.reply("-ERR There's no message \(argument).") }
            return multiline(command.verb == "LIST" ? "+OK 0 messages:" : "+OK", [])
        case "RETR", "TOP", "DELE":
            return core.reply("-ERR There's no message \(argument.split(separator: " ").first ?? "").")
        case "NOOP", "RSET":
            return core.reply("+OK")
        case "QUIT":
            return core.enter(.close) + core.reply("+OK Logging out.") + core.close()
        default:
            return core.reply("-ERR Unknown command: \(escaped(command.verb.utf8, limit: 40))")
        }
    }
}
