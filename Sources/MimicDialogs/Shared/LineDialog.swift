import MimicCore

/// Where a line dialog stands: the states every line protocol shares, around the protocol's own steps.
enum LineDialogState<Step: Sendable & Hashable>: Sendable, Hashable {
    /// Before `start()`.
    case idle
    /// A command (or the greeting) is outstanding: lines received are the answer to this step.
    case awaiting(Step)
    /// Between the go-ahead and `tlsEstablished()`: any byte then is injection.
    case awaitingTLS
    /// QUIT or LOGOUT sent: its answer, or the server closing, is the expected end.
    case quitting
    /// Completed or failed: every further event is ignored.
    case completed
    case failed
}

/// Whether a server listed the upgrade (STARTTLS, STLS, AUTH TLS) before the client asked for it.
enum UpgradeAdvertisement: Sendable, Hashable {
    case advertised
    case notAdvertised
    /// The capability command itself was refused: nothing is known.
    case unknown

    init(listed: Bool) { self = listed ? .advertised : .notAdvertised }
}

/// A client dialog over a line protocol: the shared state machine core. A protocol names its steps, the phase
/// each belongs to and its first command over TLS; the core runs the framing loop (`drain()`), the start, the
/// close, the upgrade and the end, and the protocol handles one step's reply in one method per step.
protocol LineDialog: ClientDialog {
    associatedtype Step: Sendable & Hashable
    var core: DialogCore { get set }
    var state: LineDialogState<Step> { get set }
    /// The step that waits for the greeting, which comes in plaintext or, in implicit mode, over TLS.
    func greetingStep(overTLS: Bool) -> Step
    /// The phase a step belongs to, for findings and failures.
    func phase(of step: Step) -> Phase
    /// TLS came up after the go-ahead: the first command over it (the step it enters is set by the protocol).
    mutating func resumeOverTLS() -> [DialogAction]
    /// One received line, framed and bounded by the core.
    mutating func handle(_ line: ReceivedLine) -> [DialogAction]
    var currentPhase: Phase { get }
}

extension LineDialog {
    public var transcript: Transcript { core.transcript }
    public var serviceProtocol: ServiceProtocol { core.summary.serviceProtocol }

    var isReading: Bool {
        switch state {
        case .awaiting, .quitting: true
        case .idle, .awaitingTLS, .completed, .failed: false
        }
    }

    var currentPhase: Phase {
        switch state {
        case .idle: .greeting
        case .awaiting(let step): phase(of: step)
        case .awaitingTLS: .upgrade
        case .quitting, .completed, .failed: .close
        }
    }

    /// Enters the failed state and returns the action reporting it.
    mutating func fail(_ failure: DialogFailure) -> [DialogAction] {
        state = .failed
        return [.failed(failure)]
    }

    /// Says goodbye (`QUIT`, `a004 LOGOUT`) and waits for the server's answer or close.
    mutating func quit(_ command: String = "QUIT") -> [DialogAction] {
        state = .quitting
        return [core.send(command)]
    }

    /// The session ended as it should.
    mutating func complete() -> [DialogAction] {
        state = .completed
        return [.completed(core.summary)]
    }

    /// Fails, saying goodbye first: the server is still talking plaintext and deserves a clean end. The failure's
    /// transcript ends with the goodbye unless `goodbyeInTranscript` is false (SMTP's and IMAP's refused
    /// upgrade have always been reported up to the refusal, and reports stay as they were).
    mutating func failSayingGoodbye(
        _ phase: Phase, _ code: FindingCode, words: String, detail: String, goodbye: String = "QUIT",
        goodbyeInTranscript: Bool = true
    ) -> [DialogAction] {
        state = .failed
        let before = core.failure(phase, code, words: words, detail: detail)
        let sent = core.send(goodbye)
        return [sent, .failed(goodbyeInTranscript ? core.failure(phase, code, words: words, detail: detail) : before)]
    }

    /// The capabilities read before TLS decide whether to ask for the upgrade: when it is listed, when nothing is
    /// known, or when told to try anyway. Records what was advertised.
    mutating func mayAskForUpgrade(_ advertisement: UpgradeAdvertisement) -> Bool {
        core.summary.upgradeAdvertised = advertisement == .advertised
        return advertisement != .notAdvertised || core.options.tryStartTLSAnyway
    }

    /// The upgrade is not in the capabilities: fail with `startTLSNotOffered`, saying goodbye.
    mutating func upgradeNotOffered(words: String, detail: String, goodbye: String = "QUIT") -> [DialogAction] {
        failSayingGoodbye(.capabilities, .startTLSNotOffered, words: words, detail: detail, goodbye: goodbye)
    }

    /// The server refused the upgrade command: rejected when it had listed it, not offered otherwise.
    mutating func upgradeRefused(
        _ command: String, _ advertisement: UpgradeAdvertisement, words: String, capabilityCommand: String,
        goodbye: String = "QUIT", goodbyeInTranscript: Bool = true
    ) -> [DialogAction] {
        let detail =
            switch advertisement {
            case .advertised: "\(command) refused"
            case .notAdvertised: "\(command) (not advertised) refused"
            case .unknown: "\(capabilityCommand) unsupported and \(command) refused"
            }
        let code: FindingCode = advertisement == .advertised ? .startTLSRejected : .startTLSNotOffered
        return failSayingGoodbye(
            .upgrade, code, words: words, detail: detail, goodbye: goodbye, goodbyeInTranscript: goodbyeInTranscript)
    }

    /// The mail and file protocols start alike: wait for the greeting, in plaintext or over implicit TLS.
    public mutating func start() -> [DialogAction] {
        guard state == .idle else { return [] }
        switch core.options.mode {
        case .startTLS: state = .awaiting(greetingStep(overTLS: false))
        case .implicit: state = .awaiting(greetingStep(overTLS: true))
        case .none:
            let name = serviceProtocol.rawValue.uppercased()
            return fail(core.failure(.greeting, .modeMismatch, words: "", detail: "\(name) dialog needs a TLS mode"))
        }
        return drain()
    }

    public mutating func tlsEstablished() -> [DialogAction] {
        guard state == .awaitingTLS else { return [] }
        return resumeOverTLS() + drain()
    }

    public mutating func received(_ bytes: [UInt8]) -> [DialogAction] {
        switch state {
        case .completed, .failed: return []
        case .awaitingTLS: return fail(core.injection(bytes))
        case .idle, .awaiting, .quitting:
            core.reader.append(bytes)
            return drain()
        }
    }

    /// The server closed: the expected end after QUIT or LOGOUT, a failure anywhere else.
    public mutating func closed() -> [DialogAction] {
        switch state {
        case .completed, .failed:
            return []
        case .quitting:
            return complete()
        case .idle, .awaiting, .awaitingTLS:
            return fail(core.closedEarly(currentPhase, buffered: core.reader.bufferedBytes))
        }
    }

    /// Parses every complete buffered line while the dialog is reading.
    mutating func drain() -> [DialogAction] {
        var actions: [DialogAction] = []
        while isReading {
            switch core.reader.next() {
            case .needMoreBytes:
                return actions
            case .lineTooLong(let evidence):
                let limit = core.options.limits.maxLineLength
                return actions
                    + fail(
                        core.failure(
                            currentPhase, .unexpectedReply, words: evidence, detail: "line exceeds \(limit) bytes"))
            case .line(let line):
                actions += core.record(line, phase: currentPhase)
                if let over = core.replyOverLimit {
                    return actions
                        + fail(core.failure(currentPhase, .unexpectedReply, words: line.display, detail: over))
                }
                actions += handle(line)
            }
        }
        return actions
    }

    /// The go-ahead arrived: start TLS unless the server already sent more. An upgrade the server accepted
    /// without listing it is a warning (grommunio/gromox #3).
    mutating func goAhead(reply: String, advertisement: UpgradeAdvertisement) -> [DialogAction] {
        var actions: [DialogAction] = []
        if advertisement == .notAdvertised {
            actions.append(
                core.finding(
                    Finding(
                        .startTLSNotOffered, severity: .warning, phase: .upgrade,
                        evidence: "upgrade accepted although not advertised: \(reply)", source: "dialog")))
        }
        core.summary.upgradeReply = reply
        if core.reader.bufferedCount > 0 {
            return actions + fail(core.injection(core.reader.bufferedBytes))
        }
        state = .awaitingTLS
        return actions + [.startTLS(leftover: [])]
    }
}

/// Assembles numbered reply lines (`250-…`, `250 …`) into one reply.
protocol ReplyAssembling: Sendable {
    init()
    mutating func add(_ line: ReceivedLine) -> ReplyProgress
}

extension SMTPReplyAssembler: ReplyAssembling {}
extension FTPReplyAssembler: ReplyAssembling {}

/// A line dialog whose server answers in numbered replies (SMTP, FTP): lines become one reply, and the
/// protocol handles the reply to its step.
protocol CodedReplyDialog: LineDialog {
    associatedtype Assembler: ReplyAssembling
    var assembler: Assembler { get set }
    /// The whole reply to `step`.
    mutating func handle(_ reply: CodedReply, in step: Step) -> [DialogAction]
    /// A reply after QUIT: by default the end.
    mutating func quitting(_ reply: CodedReply) -> [DialogAction]
}

extension CodedReplyDialog {
    mutating func handle(_ line: ReceivedLine) -> [DialogAction] {
        let reply: CodedReply
        switch assembler.add(line) {
        case .incomplete: return []
        case .invalid(let reason):
            return fail(core.failure(currentPhase, .unexpectedReply, words: line.display, detail: reason))
        case .complete(let complete): reply = complete
        }
        core.replyEnded()
        switch state {
        case .awaiting(let step): return handle(reply, in: step)
        case .quitting: return quitting(reply)
        case .idle, .awaitingTLS, .completed, .failed: return []
        }
    }

    mutating func quitting(_ reply: CodedReply) -> [DialogAction] { complete() }
}
