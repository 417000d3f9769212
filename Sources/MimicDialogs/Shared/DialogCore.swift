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

    /// The failure for a server that closed the connection where the dialog did not expect it; `buffered` is the
    /// unfinished answer it left behind.
    func closedEarly(
        _ phase: Phase, buffered: some Sequence<UInt8>, detail: String = "the server closed the connection"
    ) -> DialogFailure {
        failure(phase, .closed, words: escaped(buffered), detail: detail)
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
