import MimicCore

/// What every server dialog keeps besides its protocol state: the configuration, the framing, the transcript,
/// the phase last announced and where the connection stands (greeting, open, upgrading, closed).
struct ServerCore: Sendable {
    enum Stage: Sendable, Hashable {
        /// Before `start()`.
        case idle
        /// The greeting is being sent: a delay is running, `pending` holds what follows it.
        case greeting
        /// Reading commands.
        case open
        /// `.startTLS` was asked for; waiting for `tlsEstablished()`.
        case awaitingTLS
        /// The go-ahead went out but TLS never starts (`transition: false`); `replied` once the ClientHello got
        /// its plaintext answer.
        case noTransition(replied: Bool)
        case closed
    }

    let serviceProtocol: ServiceProtocol
    let configuration: ServerDialogConfiguration
    var reader: LineReader
    var transcript = Transcript()
    var stage: Stage = .idle
    /// True once TLS protects the connection (from the start in implicit mode).
    var tlsActive: Bool
    /// Greeting actions still to perform after the running delay.
    var pending: [ServerAction] = []
    private(set) var phase: Phase?
    /// What the client did, verbs and booleans only.
    var observer: DialogObserver

    init(serviceProtocol: ServiceProtocol, configuration: ServerDialogConfiguration) {
        self.serviceProtocol = serviceProtocol
        self.configuration = configuration
        self.reader = LineReader(maxLineLength: configuration.limits.maxLineLength)
        self.tlsActive = configuration.mode == .implicit
        self.observer = DialogObserver(
            upgradeOffered: configuration.mode == .startTLS && configuration.startTLS.advertise == .advertised
        )
    }

    /// Records a client command for the observation: its verb (as the protocol knows it, else `?`) and meaning.
    mutating func observe(_ verb: String, _ kind: ClientCommandKind, known: Set<String>) {
        observer.command(DialogObserver.verb(verb, known: known), kind, overTLS: tlsActive)
    }

    var isClosed: Bool { stage == .closed }
    var lineEnding: [UInt8] { configuration.lineEnding.bytes }
    /// True when this port offers the in-band upgrade now.
    var offersUpgrade: Bool { configuration.mode == .startTLS && !tlsActive }

    // MARK: Output

    /// `.enterPhase` when the phase changes, nothing otherwise.
    mutating func enter(_ phase: Phase) -> [ServerAction] {
        guard self.phase != phase else { return [] }
        self.phase = phase
        return [.enterPhase(phase)]
    }

    /// The bytes of these lines, each with the configured ending, recorded in the transcript.
    mutating func encode(_ lines: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        for line in lines {
            record(.server, escaped(line.utf8))
            bytes += Array(line.utf8) + lineEnding
        }
        return bytes
    }

    /// One write of these lines.
    mutating func reply(_ lines: String...) -> [ServerAction] { reply(lines) }

    mutating func reply(_ lines: [String]) -> [ServerAction] {
        lines.isEmpty ? [] : [.send(encode(lines))]
    }

    /// Ask for the close: the `close` phase, then `.close`.
    mutating func close() -> [ServerAction] {
        guard stage != .closed else { return [] }
        stage = .closed
        return enter(.close) + [.close]
    }

    mutating func note(_ text: String) {
        record(.server, "[\(text)]")
    }

    /// Most transcript entries kept: a client that sends commands forever must not grow it without end.
    static let maxTranscriptEntries = 4096

    /// Appends to the transcript while under its bound; one marker says when entries were dropped.
    mutating func record(_ direction: Transcript.Direction, _ text: String, crlf: Bool = true) {
        let count = transcript.entries.count
        if count < Self.maxTranscriptEntries {
            transcript.append(direction, text, crlf: crlf)
        } else if count == Self.maxTranscriptEntries {
            transcript.append(.server, "[transcript truncated]")
        }
    }

    /// A configured text reply split into lines (`\n` separates, a CR before it is dropped).
    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
    }

    // MARK: Greeting

    /// The greeting plan: the phase, the delay where configured, the lines; then reading starts. `refuse` sends
    /// the refusal instead and closes, unless `closesAfterRefusal` says the protocol keeps reading after it (SMTP's
    /// 554, RFC 5321 §3.1).
    mutating func greetingPlan(_ lines: [String], closesAfterRefusal: Bool = true) -> [ServerAction] {
        var plan = enter(.greeting)
        let delay = configuration.greetingDelay.wholeMilliseconds
        if let refusal = configuration.refuseGreeting {
            if delay > 0 { plan.append(.delay(milliseconds: delay)) }
            return plan + reply(Self.lines(refusal)) + (closesAfterRefusal ? [.close] : [])
        }
        if delay > 0 {
            if configuration.greetingDelayPlacement == .beforeFinalLine, lines.count > 1 {
                plan += reply(Array(lines.dropLast()))
                plan.append(.delay(milliseconds: delay))
                plan += reply(Array(lines.suffix(1)))
            } else {
                plan.append(.delay(milliseconds: delay))
                plan += reply(lines)
            }
        } else {
            plan += reply(lines)
        }
        return plan
    }

    /// The upgrade keyword as middleboxes rewrite it: `STARTTLS` → `XXXXXXXA` (Cisco), otherwise every letter
    /// and digit → `X` (`AUTH TLS` → `XXXX XXX`, an OID keeps only its dots).
    static func mangled(_ keyword: String) -> String {
        if keyword.uppercased() == "STARTTLS" { return "XXXXXXXA" }
        return String(keyword.map { $0.isLetter || $0.isNumber ? "X" : $0 })
    }

    /// The capability list for now: the override or the defaults; before TLS on a STARTTLS port the upgrade
    /// keyword is ensured and then advertised, stripped or mangled.
    func capabilities(defaultsBeforeTLS: [String], defaultsAfterTLS: [String], keyword: String) -> [String] {
        guard offersUpgrade else {
            return configuration.capabilitiesAfterTLS ?? defaultsAfterTLS
        }
        let isKeyword = { (capability: String) in capability.uppercased() == keyword.uppercased() }
        var list = configuration.capabilitiesBeforeTLS ?? defaultsBeforeTLS
        if !list.contains(where: isKeyword) { list.append(keyword) }
        switch configuration.startTLS.advertise {
        case .advertised: return list
        case .stripped: return list.filter { !isKeyword($0) }
        case .mangled: return list.map { isKeyword($0) ? Self.mangled($0) : $0 }
        }
    }

    // MARK: Upgrade

    /// What to do with an upgrade command, for the text protocols.
    enum UpgradeAnswer {
        /// Go ahead with these reply lines.
        case goAhead([String])
        /// Refuse with these reply lines.
        case refuse([String])
    }

    /// The answer to the upgrade command: already active, not offered at all, mangled away, configured or the
    /// default go-ahead. `isGoAhead` classifies a configured reply's first line.
    func upgradeAnswer(
        goAhead: [String],
        unknownCommand: [String],
        alreadyActive: [String],
        configuredReply: String?,
        isGoAhead: (String) -> Bool
    ) -> UpgradeAnswer {
        if tlsActive { return .refuse(alreadyActive) }
        if configuration.mode == .none { return .refuse(unknownCommand) }
        if let configuredReply {
            let lines = Self.lines(configuredReply)
            return isGoAhead(lines.first ?? "") ? .goAhead(lines) : .refuse(lines)
        }
        if configuration.startTLS.advertise == .mangled { return .refuse(unknownCommand) }
        return .goAhead(goAhead)
    }

    /// Sends the go-ahead (and any injection in the same write), drops what the client pipelined after the
    /// command (unless configured to keep it), and asks for TLS, or stays in plaintext when `transition` is off.
    mutating func goAhead(_ lines: [String]) -> [ServerAction] {
        var bytes = encode(lines)
        if let injection = configuration.startTLS.injectAfterGoAhead {
            bytes += encode(Self.lines(injection))
        }
        var actions: [ServerAction] = [.send(bytes)]
        if reader.bufferedCount > 0, !configuration.startTLS.executeInjectedCommands {
            note(
                "discarded \(reader.bufferedCount) bytes pipelined after the upgrade command: "
                    + escaped(reader.bufferedBytes, limit: 80)
            )
            reader = LineReader(maxLineLength: configuration.limits.maxLineLength)
        }
        guard configuration.startTLS.transition else {
            stage = .noTransition(replied: false)
            return actions
        }
        stage = .awaitingTLS
        actions += enter(.handshake)
        actions.append(.startTLS)
        return actions
    }
}
