import MimicCore

/// Something wrong with the client's bytes that the protocol answers with its usual error.
enum LineProblem: Sendable, Hashable {
    /// A command ended in a bare LF while `strictCRLF` is on.
    case bareLF
    /// A line over `limits.maxLineLength`: answered, then the connection closes.
    case lineTooLong
    /// Bytes before the greeting's final line while `rejectEarlyTalk` is on: answered, then close.
    case earlyTalk
    /// Non-protocol bytes (a ClientHello) after a go-ahead that TLS never followed.
    case garbage
}

/// A server dialog over a line protocol (SMTP, IMAP, POP3, FTP, HTTP): the event handling every one of them
/// shares — greeting plan and delays, early talk, framing with bounds, strict CRLF, the upgrade's stages.
protocol LineServerDialog: ServerDialog {
    var core: ServerCore { get set }
    /// False while the protocol waits on the caller (FTP data listener or transfer): lines stay buffered.
    var isReading: Bool { get }
    /// False inside a message body (SMTP DATA), where strict CRLF does not apply.
    var isCommandMode: Bool { get }
    /// The greeting lines, unless configured verbatim.
    func defaultGreeting() -> [String]
    /// One command line (terminator stripped, already in the transcript).
    mutating func handle(_ line: ReceivedLine) -> [ServerAction]
    /// The protocol's error reply for a problem (the line is the offending one where there is one).
    func errorReply(_ problem: LineProblem, line: ReceivedLine?) -> [String]
    /// TLS is up: forget what RFC 3207 / 2595 / 4217 say must be forgotten (EHLO, capabilities).
    mutating func didEstablishTLS()
    /// The peer closed: actions for the caller (FTP drops its data listener).
    mutating func peerClosed() -> [ServerAction]
    /// False when the configured greeting refusal leaves the session open (SMTP's 554 waits for QUIT).
    var closesAfterRefusal: Bool { get }
    /// The command verbs this protocol knows: only these are kept in an observation, anything else as `?`.
    static var knownVerbs: Set<String> { get }
    /// The command a line carries, for the observation (IMAP drops the tag); nil when it carries none.
    func observedCommand(_ line: ReceivedLine) -> CommandLine?
    /// What a command means to an observer (capabilities, upgrade, credentials, mail, goodbye).
    func classify(_ command: CommandLine) -> ClientCommandKind
}

extension LineServerDialog {
    public var transcript: Transcript { core.transcript }
    public var isClosed: Bool { core.isClosed }

    var isCommandMode: Bool { true }
    mutating func didEstablishTLS() {}
    mutating func peerClosed() -> [ServerAction] { [] }
    var closesAfterRefusal: Bool { true }
    func observedCommand(_ line: ReceivedLine) -> CommandLine? { CommandLine(line.text) }
    public var observation: DialogObservation { core.observer.observation }

    var greetingLines: [String] { core.configuration.greeting ?? defaultGreeting() }

    public mutating func start() -> [ServerAction] {
        guard core.stage == .idle else { return [] }
        core.stage = .greeting
        if core.configuration.rejectEarlyTalk, core.reader.bufferedCount > 0 {
            return core.enter(.greeting) + earlyTalk()
        }
        core.pending = core.greetingPlan(greetingLines, closesAfterRefusal: closesAfterRefusal)
        return runPending()
    }

    public mutating func delayElapsed() -> [ServerAction] {
        guard core.stage == .greeting else { return [] }
        return runPending()
    }

    /// Performs the greeting plan up to its next delay; when it is done, reading starts.
    mutating func runPending() -> [ServerAction] {
        var actions: [ServerAction] = []
        while !core.pending.isEmpty {
            let action = core.pending.removeFirst()
            if action == .close {
                core.pending = []
                return actions + core.close()
            }
            actions.append(action)
            if case .delay = action { return actions }
        }
        core.stage = .open
        actions += core.enter(core.tlsActive ? .postTLS : .capabilities)
        return actions + drain()
    }

    public mutating func received(_ bytes: [UInt8]) -> [ServerAction] {
        switch core.stage {
        case .closed, .awaitingTLS:
            return []
        case .idle:
            core.reader.append(bytes)
            return overflow()
        case .greeting:
            if core.configuration.rejectEarlyTalk, !bytes.isEmpty {
                core.reader.append(bytes)
                return earlyTalk()
            }
            core.reader.append(bytes)
            return overflow()
        case .noTransition(let replied):
            guard !replied, !bytes.isEmpty else { return [] }
            core.stage = .noTransition(replied: true)
            core.note("\(bytes.count) bytes after the go-ahead, answered in plaintext: \(hexDump(bytes, limit: 16))")
            let reply =
                core.configuration.startTLS.noTransitionReply.map(ServerCore.lines)
                ?? errorReply(.garbage, line: nil)
            return reply == [""] ? [] : core.reply(reply)
        case .open:
            core.reader.append(bytes)
            return drain()
        }
    }

    public mutating func tlsEstablished() -> [ServerAction] {
        guard core.stage == .awaitingTLS else { return [] }
        core.tlsActive = true
        core.stage = .open
        didEstablishTLS()
        return core.enter(.postTLS) + drain()
    }

    public mutating func closed() -> [ServerAction] {
        guard core.stage != .closed else { return [] }
        core.stage = .closed
        return peerClosed()
    }

    /// Early talk: the protocol's complaint (or the configured one), then close.
    mutating func earlyTalk() -> [ServerAction] {
        core.note("client spoke before the greeting ended: " + escaped(core.reader.bufferedBytes, limit: 80))
        let reply = core.configuration.earlyTalkReply.map(ServerCore.lines) ?? errorReply(.earlyTalk, line: nil)
        core.pending = []
        return core.reply(reply) + core.close()
    }

    /// Closes when more bytes wait than the bound allows (a client that pipelines without end).
    mutating func overflow() -> [ServerAction] {
        let limit = core.configuration.limits.maxReplyBytes
        guard core.stage != .closed, core.reader.bufferedCount > limit else { return [] }
        core.note("more than \(limit) bytes pending; closing")
        return core.close()
    }

    /// Handles every complete buffered line while the dialog reads.
    mutating func drain() -> [ServerAction] {
        var actions: [ServerAction] = []
        loop: while core.stage == .open && isReading {
            switch core.reader.next() {
            case .needMoreBytes:
                break loop
            case .lineTooLong(let evidence):
                core.record(.client, evidence + "…")
                return actions + core.reply(errorReply(.lineTooLong, line: nil)) + core.close()
            case .line(let line):
                if isCommandMode {
                    core.record(.client, line.display, crlf: !line.bareLF)
                    if let command = observedCommand(line) {
                        core.observe(command.verb, classify(command), known: Self.knownVerbs)
                    }
                }
                if core.configuration.strictCRLF, line.bareLF, isCommandMode {
                    actions += core.reply(errorReply(.bareLF, line: line))
                    continue
                }
                actions += handle(line)
            }
        }
        return actions + overflow()
    }

    /// The standard upgrade handling for a text protocol: the answer, the `upgrade` phase, the go-ahead or the
    /// refusal.
    mutating func upgrade(
        goAhead: [String],
        unknownCommand: [String],
        alreadyActive: [String],
        configuredReply: String?,
        isGoAhead: (String) -> Bool
    ) -> [ServerAction] {
        let answer = core.upgradeAnswer(
            goAhead: goAhead,
            unknownCommand: unknownCommand,
            alreadyActive: alreadyActive,
            configuredReply: configuredReply,
            isGoAhead: isGoAhead
        )
        switch answer {
        case .refuse(let lines):
            if !core.tlsActive { core.observer.upgradeRefused() }
            return core.reply(lines)
        case .goAhead(let lines):
            return core.enter(.upgrade) + core.goAhead(lines)
        }
    }
}

/// A command line split into its verb (upper-cased) and the rest after one space.
struct CommandLine: Sendable, Hashable {
    var verb: String
    var argument: String

    init(_ text: String) {
        if let space = text.firstIndex(of: " ") {
            verb = text[..<space].uppercased()
            argument = String(text[text.index(after: space)...])
        } else {
            verb = text.uppercased()
            argument = ""
        }
    }
}

/// Whether a configured coded reply is positive with this code (`220`, `234`).
func startsWithCode(_ line: String, _ code: Int) -> Bool {
    CodedReply.code(Array(line.utf8)) == code
}
