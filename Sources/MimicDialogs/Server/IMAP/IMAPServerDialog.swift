import MimicCore

/// An IMAP server in Dovecot's shape (RFC 9051 / RFC 3501): greeting with `[CAPABILITY …]`, CAPABILITY, NOOP,
/// STARTTLS, LOGIN (any user and password), SELECT/EXAMINE INBOX (always empty), LIST/LSUB, STATUS, NAMESPACE,
/// ID, ENABLE, FETCH/SEARCH/STORE/UID on the empty box, CLOSE/UNSELECT/EXPUNGE, LOGOUT. Enough for
/// `curl imap://…/INBOX` (CAPABILITY, LOGIN, `LIST "INBOX" *`, LOGOUT) and imaplib.
///
/// Lenient where a mock should be: mailbox commands work before LOGIN (curl without `-u` sends none).
/// Literals (`{n}`) are not supported (LITERAL+ is not advertised): a command using one gets `BAD`.
public struct IMAPServerDialog: LineServerDialog {
    private enum State: Sendable, Hashable {
        case notAuthenticated
        case authenticated
        case selected(readOnly: Bool)
    }

    static let uidValidity = 1_700_000_000

    private var state: State
    var core: ServerCore

    public init(configuration: ServerDialogConfiguration = ServerDialogConfiguration()) {
        core = ServerCore(serviceProtocol: .imap, configuration: configuration)
        state = configuration.preauth ? .authenticated : .notAuthenticated
        // PREAUTH: authenticated in plaintext, STARTTLS no longer possible (RFC 3501 §6.2.1).
        if configuration.preauth { core.observer.withdrawOffer() }
    }

    static let knownVerbs: Set<String> = [
        "CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "AUTHENTICATE", "LOGIN", "SELECT", "EXAMINE", "CREATE",
        "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST", "LSUB", "NAMESPACE", "STATUS", "APPEND", "CHECK",
        "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY", "MOVE", "UID", "ID", "ENABLE", "IDLE",
        "GETQUOTA", "GETQUOTAROOT", "COMPRESS", "XLIST",
    ]

    /// The command after the tag; a line without a tag (a SASL continuation) carries none.
    func observedCommand(_ line: ReceivedLine) -> CommandLine? {
        guard let tag = Self.tag(of: line.text) else { return nil }
        let command = CommandLine(String(line.text.dropFirst(tag.count).drop { $0 == " " }))
        return command.verb.isEmpty ? nil : command
    }

    func classify(_ command: CommandLine) -> ClientCommandKind {
        switch command.verb {
        case "CAPABILITY": .capabilities
        case "STARTTLS": .upgrade
        case "LOGIN", "AUTHENTICATE": .credentials
        case "LOGOUT": .goodbye
        default: .other
        }
    }

    public var serviceProtocol: ServiceProtocol { .imap }
    var isReading: Bool { true }

    private var capabilities: [String] {
        let common = ["IMAP4rev1", "ID", "ENABLE", "NAMESPACE", "UNSELECT"]
        return core.capabilities(
            defaultsBeforeTLS: common + ["STARTTLS"],
            defaultsAfterTLS: common,
            keyword: "STARTTLS"
        )
    }

    func defaultGreeting() -> [String] {
        let code = "[CAPABILITY \(capabilities.joined(separator: " "))]"
        if core.configuration.preauth { return ["* PREAUTH \(code) Logged in as mimic."] }
        return ["* OK \(code) Mimic IMAP ready."]
    }

    func errorReply(_ problem: LineProblem, line: ReceivedLine?) -> [String] {
        switch problem {
        case .bareLF:
            let tag = line.flatMap { Self.tag(of: $0.text) } ?? "*"
            return ["\(tag) BAD Bare LF not allowed."]
        case .lineTooLong: return ["* BYE Too long command line."]
        case .earlyTalk: return ["* BYE Protocol error: command before greeting."]
        case .garbage: return ["* BAD Error in IMAP command received by server."]
        }
    }

    /// `tag = 1*<any ASTRING-CHAR except "+">` (RFC 9051 §9).
    static func tag(of text: String) -> String? {
        guard let tag = text.split(separator: " ", maxSplits: 1).first, !tag.isEmpty else { return nil }
        let forbidden: Set<Character> = ["(", ")", "{", "%", "*", "\"", "\\", "+"]
        for character in tag {
            guard let ascii = character.asciiValue, ascii > 0x20, ascii < 0x7F, !forbidden.contains(character) else {
                return nil
            }
        }
        return String(tag)
    }

    mutating func handle(_ line: ReceivedLine) -> [ServerAction] {
        let text = line.text
        guard let tag = Self.tag(of: text) else { return core.reply(errorReply(.garbage, line: line)) }
        let rest = text.dropFirst(tag.count).drop { $0 == " " }
        let command = CommandLine(String(rest))
        guard !command.verb.isEmpty else { return core.reply("\(tag) BAD Error in IMAP command received by server.") }
        if let override = core.configuration.commandReplies[command.verb] {
            let lines = ServerCore.lines(override)
            let first = lines.first?.uppercased() ?? ""
            let tagged = ["OK", "NO", "BAD"].contains { first == $0 || first.hasPrefix($0 + " ") }
            let reply = tagged ? ["\(tag) \(lines[0])"] + lines.dropFirst() : lines
            return core.reply(reply) + (first.hasPrefix("* BYE") ? core.close() : [])
        }
        if Self.endsWithLiteral(command.argument) {
            return core.reply("\(tag) BAD Literals are not supported.")
        }
        guard let arguments = Self.arguments(command.argument) else {
            return core.reply("\(tag) BAD Error in IMAP command \(command.verb): Invalid arguments.")
        }
        return execute(tag: tag, verb: command.verb, arguments)
    }

    private mutating func execute(tag: String, verb: String, _ arguments: [String]) -> [ServerAction] {
        switch verb {
        case "CAPABILITY":
            return core.reply("* CAPABILITY \(capabilities.joined(separator: " "))", "\(tag) OK Capability completed.")
        case "NOOP", "CHECK":
            return core.reply("\(tag) OK \(verb.titleCased) completed.")
        case "LOGOUT":
            return core.enter(.close) + core.reply("* BYE Logging out", "\(tag) OK Logout completed.") + core.close()
        case "STARTTLS":
            return startTLS(tag: tag)
        case "LOGIN":
            guard state == .notAuthenticated else { return core.reply("\(tag) BAD Already logged in.") }
            guard arguments.count == 2 else {
                return core.reply("\(tag) BAD Error in IMAP command LOGIN: Missing arguments.")
            }
            state = .authenticated
            return core.reply("\(tag) OK Logged in")
        case "AUTHENTICATE":
            return core.reply("\(tag) NO Unsupported authentication mechanism.")
        case "SELECT", "EXAMINE", "LIST", "LSUB", "STATUS":
            return mailbox(tag: tag, verb: verb, arguments)
        case "NAMESPACE":
            return core.reply("* NAMESPACE ((\"\" \".\")) NIL NIL", "\(tag) OK Namespace completed.")
        case "ID":
            return core.reply("* ID (\"name\" \"Mimic\")", "\(tag) OK ID completed.")
        case "ENABLE":
            return core.reply("* ENABLED", "\(tag) OK Enabled.")
        case "CREATE", "DELETE", "RENAME", "APPEND":
            return core.reply("\(tag) NO [CANNOT] Not supported by this server.")
        case "SUBSCRIBE", "UNSUBSCRIBE":
            return core.reply("\(tag) OK \(verb.titleCased) completed.")
        case "CLOSE", "UNSELECT", "FETCH", "STORE", "COPY", "MOVE", "EXPUNGE", "SEARCH", "UID":
            return inSelectedMailbox(tag: tag, verb: verb, arguments)
        default:
            return core.reply("\(tag) BAD Error in IMAP command \(verb): Unknown command.")
        }
    }

    /// STARTTLS (RFC 9051 §6.2.1): only before authentication.
    private mutating func startTLS(tag: String) -> [ServerAction] {
        guard state == .notAuthenticated || core.tlsActive else {
            core.observer.upgradeRefused()
            return core.reply("\(tag) BAD STARTTLS not allowed in authenticated state.")
        }
        return upgrade(
            goAhead: ["\(tag) OK Begin TLS negotiation now."],
            unknownCommand: ["\(tag) BAD Error in IMAP command STARTTLS: Unknown command."],
            alreadyActive: ["\(tag) BAD TLS is already active."],
            configuredReply: core.configuration.startTLS.reply.map { reply in
                let upper = reply.uppercased()
                let isStatus = ["OK", "NO", "BAD"].contains { upper == $0 || upper.hasPrefix($0 + " ") }
                return isStatus ? "\(tag) \(reply)" : reply
            },
            isGoAhead: { $0.hasPrefix("\(tag) ") && $0.dropFirst(tag.count + 1).uppercased().hasPrefix("OK") }
        )
    }

    /// The mailbox commands: INBOX is the only mailbox, and it is empty.
    private mutating func mailbox(tag: String, verb: String, _ arguments: [String]) -> [ServerAction] {
        switch verb {
        case "SELECT", "EXAMINE":
            guard arguments.count == 1 else {
                return core.reply("\(tag) BAD Error in IMAP command \(verb): Missing arguments.")
            }
            guard Self.isInbox(arguments[0]) else {
                if isSelected { state = .authenticated }
                return core.reply("\(tag) NO Mailbox doesn't exist: \(arguments[0])")
            }
            let readOnly = verb == "EXAMINE"
            state = .selected(readOnly: readOnly)
            return core.reply(
                "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
                "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.",
                "* 0 EXISTS",
                "* 0 RECENT",
                "* OK [UIDVALIDITY \(Self.uidValidity)] UIDs valid",
                "* OK [UIDNEXT 1] Predicted next UID",
                "\(tag) OK [\(readOnly ? "READ-ONLY" : "READ-WRITE")] \(verb.titleCased) completed."
            )
        case "LIST", "LSUB":
            guard arguments.count == 2 else {
                return core.reply("\(tag) BAD Error in IMAP command \(verb): Missing arguments.")
            }
            var lines: [String] = []
            if arguments[1].isEmpty {
                lines.append("* \(verb) (\\Noselect) \".\" \"\"")
            } else if Self.matches(arguments[0] + arguments[1], "INBOX") {
                lines.append("* \(verb) (\\HasNoChildren) \".\" INBOX")
            }
            return core.reply(lines + ["\(tag) OK \(verb.titleCased) completed."])
        case "STATUS":
            guard arguments.count == 2 else {
                return core.reply("\(tag) BAD Error in IMAP command STATUS: Missing arguments.")
            }
            guard Self.isInbox(arguments[0]) else {
                return core.reply("\(tag) NO Mailbox doesn't exist: \(arguments[0])")
            }
            let items = arguments[1][...].trimmingCharacters(in: "()").split(separator: " ").map { item -> String in
                let name = item.uppercased()
                switch name {
                case "UIDNEXT": return "UIDNEXT 1"
                case "UIDVALIDITY": return "UIDVALIDITY \(Self.uidValidity)"
                default: return "\(name) 0"
                }
            }
            return core.reply("* STATUS INBOX (\(items.joined(separator: " ")))", "\(tag) OK Status completed.")
        default:
            return core.reply("\(tag) BAD Error in IMAP command \(verb): Unknown command.")
        }
    }

    /// The commands of the selected state (RFC 9051 §6.4): each answered for an empty mailbox.
    private mutating func inSelectedMailbox(tag: String, verb: String, _ arguments: [String]) -> [ServerAction] {
        guard isSelected else { return core.reply("\(tag) BAD No mailbox selected.") }
        switch verb {
        case "CLOSE", "UNSELECT":
            state = .authenticated
            return core.reply("\(tag) OK \(verb.titleCased) completed.")
        case "FETCH", "STORE", "COPY", "MOVE", "EXPUNGE":
            return core.reply("\(tag) OK \(verb.titleCased) completed.")
        case "SEARCH":
            return core.reply("* SEARCH", "\(tag) OK Search completed.")
        case "UID":
            let sub = arguments.first?.uppercased() ?? ""
            switch sub {
            case "SEARCH": return core.reply("* SEARCH", "\(tag) OK Search completed.")
            case "FETCH", "STORE", "COPY", "MOVE", "EXPUNGE":
                return core.reply("\(tag) OK \(sub.titleCased) completed.")
            default: return core.reply("\(tag) BAD Error in IMAP command UID: Unknown command.")
            }
        default:
            return core.reply("\(tag) BAD Error in IMAP command \(verb): Unknown command.")
        }
    }

    private var isSelected: Bool {
        if case .selected = state { true } else { false }
    }

    static func isInbox(_ name: String) -> Bool { name.uppercased() == "INBOX" }

    /// `{123}` or `{123+}` at the end of a command: a literal follows (RFC 9051 §4.3).
    static func endsWithLiteral(_ text: String) -> Bool {
        guard text.hasSuffix("}"), let open = text.lastIndex(of: "{") else { return false }
        var body = text[text.index(after: open)..<text.index(before: text.endIndex)]
        if body.hasSuffix("+") { body = body.dropLast() }
        return !body.isEmpty && body.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The arguments as astrings, quoted strings unescaped, parenthesised lists kept whole; nil when a quote or
    /// a parenthesis is not closed.
    static func arguments(_ text: String) -> [String]? {
        var result: [String] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == " " {
                index = text.index(after: index)
                continue
            }
            if character == "\"" {
                var value = ""
                index = text.index(after: index)
                var closed = false
                while index < text.endIndex {
                    let c = text[index]
                    index = text.index(after: index)
                    if c == "\\" {
                        guard index < text.endIndex else { return nil }
                        value.append(text[index])
                        index = text.index(after: index)
                    } else if c == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(c)
                    }
                }
                guard closed else { return nil }
                result.append(value)
            } else if character == "(" {
                let start = index
                var depth = 0
                repeat {
                    if text[index] == "(" { depth += 1 }
                    if text[index] == ")" { depth -= 1 }
                    index = text.index(after: index)
                } while depth > 0 && index < text.endIndex
                guard depth == 0 else { return nil }
                result.append(String(text[start..<index]))
            } else {
                let start = index
                while index < text.endIndex, text[index] != " " { index = text.index(after: index) }
                result.append(String(text[start..<index]))
            }
        }
        return result
    }

    /// LIST wildcards (RFC 9051 §6.3.9): `*` matches anything, `%` anything but the hierarchy delimiter `.`;
    /// INBOX compares case-insensitively. Dynamic programming, so a pattern of many `*` stays linear in its length.
    static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.uppercased())
        let n = Array(name.uppercased())
        var row = [Bool](repeating: false, count: n.count + 1)
        row[0] = true
        for character in p {
            var next = [Bool](repeating: false, count: n.count + 1)
            for j in 0...n.count {
                switch character {
                case "*", "%":
                    // Zero characters, or one more (not a delimiter for %).
                    next[j] = row[j] || (j > 0 && next[j - 1] && (character == "*" || n[j - 1] != "."))
                default:
                    next[j] = j > 0 && row[j - 1] && n[j - 1] == character
                }
            }
            row = next
        }
        return row[n.count]
    }
}

extension String {
    /// `SELECT` → `Select`, for completion texts.
    var titleCased: String { prefix(1).uppercased() + dropFirst().lowercased() }
}
