import MimicCore

/// What every dialog keeps besides its state: options, framing, the summary being built and the reply bounds.
struct DialogCore: Sendable {
    let options: DialogOptions
    var reader: LineReader
    var summary: DialogSummary
    private var replyLines = 0
    private var replyBytes = 0
    private var reportedBareLF = false

    init(serviceProtocol: ServiceProtocol, options: DialogOptions) {
        self.options = options
        self.reader = LineReader(maxLineLength: options.limits.maxLineLength)
        self.summary = DialogSummary(serviceProtocol: serviceProtocol, mode: options.mode)
    }

    var transcript: Transcript { summary.transcript }

    /// A command line: CRLF appended, recorded in the transcript.
    mutating func send(_ line: String) -> DialogAction {
        summary.transcript.append(.sent, line)
        return .send(Array(line.utf8) + [0x0D, 0x0A])
    }

    /// A command whose argument is a secret: sent in full, recorded as `COMMAND ****`.
    mutating func sendSecret(_ command: String, _ secret: String) -> DialogAction {
        summary.transcript.append(.sent, "\(command) ****")
        return .send(Array("\(command) \(secret)".utf8) + [0x0D, 0x0A])
    }

    /// Bytes of a binary protocol, recorded under a readable name.
    mutating func send(_ bytes: [UInt8], as description: String) -> DialogAction {
        summary.transcript.append(.sent, description)
        return .send(bytes)
    }

    /// Records a received line and counts it toward the current reply's bounds. Returns the bare-LF finding the
    /// first time one is seen.
    mutating func record(_ line: ReceivedLine, phase: Phase) -> [DialogAction] {
        summary.transcript.append(.received, line.display, crlf: !line.bareLF)
        replyLines += 1
        replyBytes += line.bytes.count + (line.bareLF ? 1 : 2)
        guard line.bareLF, !reportedBareLF else { return [] }
        reportedBareLF = true
        summary.bareLineFeeds = true
        return [
            finding(
                Finding(
                    .unexpectedReply,
                    severity: .warning,
                    phase: phase,
                    evidence: "line ended with a bare LF instead of CRLF: \(line.display)",
                    source: "dialog"
                )
            )
        ]
    }

    /// Why the reply in progress is over its bounds, or nil.
    var replyOverLimit: String? {
        if replyLines > options.limits.maxLinesPerReply {
            return "reply exceeds \(options.limits.maxLinesPerReply) lines"
        }
        if replyBytes > options.limits.maxReplyBytes {
            return "reply exceeds \(options.limits.maxReplyBytes) bytes"
        }
        return nil
    }

    /// A reply ended: the next line starts a new one.
    mutating func replyEnded() {
        replyLines = 0
        replyBytes = 0
    }

    mutating func finding(_ finding: Finding) -> DialogAction {
        summary.findings.append(finding)
        return .finding(finding)
    }

    /// Records the capabilities read after TLS. After a STARTTLS upgrade, `upgrade` (STARTTLS, STLS) listed again is
    /// a finding: the server must not offer it on the TLS session (RFC 3207 §4.2; RFC 2595 §3.1 and §4 have the
    /// client discard what it learnt before TLS), and one that does answers from the plaintext session's state —
    /// a proxy or a cache in front of it, or capabilities not refreshed (catalogue #38).
    mutating func capabilitiesAfterTLS(_ capabilities: [String], upgrade: String) -> [DialogAction] {
        summary.capabilitiesAfterTLS = capabilities
        guard options.mode == .startTLS,
            let listed = Self.listing(upgrade, in: capabilities)
        else { return [] }
        return [
            finding(
                Finding(
                    .startTLSStillAdvertised, phase: .postTLS,
                    evidence: "\(listed) still advertised after TLS: capabilities not refreshed for the TLS session"))
        ]
    }

    /// The capability whose keyword — its first word (`SIZE 52428800` → `SIZE`), in any case — is `keyword`.
    static func listing(_ keyword: String, in capabilities: [String]) -> String? {
        capabilities.first { equalsIgnoringCase($0.split(separator: " ", maxSplits: 1).first ?? "", keyword) }
    }

    func failure(_ phase: Phase, _ code: FindingCode, words: String, detail: String) -> DialogFailure {
        DialogFailure(phase: phase, code: code, serverWords: words, detail: detail, transcript: summary.transcript)
    }

    /// The failure for bytes that arrived after the go-ahead and before the handshake (CVE-2011-0411 shape).
    func injection(_ bytes: some Sequence<UInt8>, phase: Phase = .upgrade) -> DialogFailure {
        failure(
            phase,
            .plaintextInjection,
            words: escaped(bytes),
            detail: "plaintext received after the go-ahead and before the TLS handshake; not starting TLS"
        )
    }
}

/// A dialog over a line protocol; `drain()` runs the framing loop that every text dialog shares.
/// Where a line dialog stands, for the events every line protocol handles alike.
enum LineDialogStage {
    case running
    /// QUIT or LOGOUT sent: the server closing now is the expected end.
    case quitting
    /// Completed or failed: every further event is ignored.
    case finished
}

protocol LineDialog: ClientDialog {
    var core: DialogCore { get set }
    var stage: LineDialogStage { get }
    /// Enters a terminal state: completed (the server closed in answer to QUIT or LOGOUT) or failed.
    mutating func finish(_ end: LineDialogEnd)
    /// True before `start()`.
    var isIdle: Bool { get }
    /// Starts waiting for the greeting, which comes in plaintext or, in implicit mode, over TLS.
    mutating func awaitGreeting(overTLS: Bool)
    /// True once `start()` ran: lines received earlier wait in the buffer.
    var isReading: Bool { get }
    /// True between the go-ahead and `tlsEstablished()`: any byte then is injection.
    var isAwaitingTLS: Bool { get }
    var currentPhase: Phase { get }
    mutating func handle(_ line: ReceivedLine) -> [DialogAction]
}

/// How a line dialog ended.
enum LineDialogEnd {
    case completed
    case failed
}

extension LineDialog {
    public var transcript: Transcript { core.transcript }

    /// Enters the failed state and returns the action reporting it.
    mutating func fail(_ failure: DialogFailure) -> [DialogAction] {
        finish(.failed)
        return [.failed(failure)]
    }

    /// The mail and file protocols start alike: wait for the greeting, in plaintext or over implicit TLS.
    public mutating func start() -> [DialogAction] {
        guard isIdle else { return [] }
        switch core.options.mode {
        case .startTLS: awaitGreeting(overTLS: false)
        case .implicit: awaitGreeting(overTLS: true)
        case .none:
            let name = serviceProtocol.rawValue.uppercased()
            return fail(core.failure(.greeting, .modeMismatch, words: "", detail: "\(name) dialog needs a TLS mode"))
        }
        return drain()
    }

    public mutating func received(_ bytes: [UInt8]) -> [DialogAction] {
        receiveLines(bytes, isTerminal: stage == .finished)
    }

    /// The server closed: the expected end after QUIT or LOGOUT, a failure anywhere else.
    public mutating func closed() -> [DialogAction] {
        switch stage {
        case .finished:
            return []
        case .quitting:
            finish(.completed)
            return [.completed(core.summary)]
        case .running:
            return fail(
                core.failure(
                    currentPhase,
                    .closed,
                    words: escaped(core.reader.bufferedBytes),
                    detail: "the server closed the connection"
                )
            )
        }
    }

    /// The shared body of `received(_:)`.
    mutating func receiveLines(_ bytes: [UInt8], isTerminal: Bool) -> [DialogAction] {
        if isTerminal { return [] }
        if isAwaitingTLS {
            return fail(core.injection(bytes))
        }
        core.reader.append(bytes)
        return drain()
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
                            currentPhase,
                            .unexpectedReply,
                            words: evidence,
                            detail: "line exceeds \(limit) bytes"
                        )
                    )
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

    /// The go-ahead arrived: start TLS unless the server already sent more.
    mutating func goAhead(reply: String) -> [DialogAction] {
        core.summary.upgradeReply = reply
        if core.reader.bufferedCount > 0 {
            return fail(core.injection(core.reader.bufferedBytes))
        }
        return [.startTLS(leftover: [])]
    }
}
