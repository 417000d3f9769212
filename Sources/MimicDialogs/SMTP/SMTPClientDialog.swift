import MimicCore

/// SMTP up to STARTTLS and after it (RFC 5321, RFC 3207).
///
/// Nothing is sent before the greeting's final line (Exim's "554 SMTP synchronization error", postscreen's
/// "521 Protocol error" after a `220-` first line), and one command at a time (no PIPELINING).
/// Steps: greeting → EHLO → STARTTLS → [TLS] → EHLO → QUIT; in implicit mode greeting → EHLO → QUIT.
public struct SMTPClientDialog: LineDialog {
    private enum State: Sendable, Hashable {
        case idle
        case greeting(afterTLS: Bool)
        case ehlo(afterTLS: Bool)
        case startTLS(advertised: Bool)
        case awaitingTLS
        case quit
        case completed
        case failed
    }

    private var state: State = .idle
    private var assembler = SMTPReplyAssembler()
    var core: DialogCore

    public init(options: DialogOptions = DialogOptions()) {
        core = DialogCore(serviceProtocol: .smtp, options: options)
    }

    public var serviceProtocol: ServiceProtocol { .smtp }

    var isReading: Bool {
        switch state {
        case .greeting, .ehlo, .startTLS, .quit: true
        case .idle, .awaitingTLS, .completed, .failed: false
        }
    }

    var isAwaitingTLS: Bool { state == .awaitingTLS }

    var currentPhase: Phase {
        switch state {
        case .idle, .greeting(afterTLS: false): .greeting
        case .greeting(afterTLS: true): core.options.mode == .implicit ? .greeting : .postTLS
        case .ehlo(afterTLS: false): .capabilities
        case .ehlo(afterTLS: true): .postTLS
        case .startTLS, .awaitingTLS: .upgrade
        case .quit, .completed, .failed: .close
        }
    }

    var isIdle: Bool { state == .idle }

    mutating func awaitGreeting(overTLS: Bool) {
        state = .greeting(afterTLS: overTLS)
    }

    public mutating func tlsEstablished() -> [DialogAction] {
        guard state == .awaitingTLS else { return [] }
        state = .ehlo(afterTLS: true)
        return [core.send("EHLO \(core.options.ehloName)")] + drain()
    }

    var stage: LineDialogStage {
        switch state {
        case .completed, .failed: .finished
        case .quit: .quitting
        default: .running
        }
    }

    mutating func finish(_ end: LineDialogEnd) {
        state = end == .completed ? .completed : .failed
    }

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
        case .greeting(let afterTLS):
            core.summary.greeting = reply.lines
            guard reply.code == 220 else {
                let code: FindingCode = reply.code >= 400 ? .greetingRejected : .unexpectedReply
                return fail(core.failure(currentPhase, code, words: reply.display, detail: "greeting is not 220"))
            }
            state = .ehlo(afterTLS: afterTLS)
            return [core.send("EHLO \(core.options.ehloName)")]

        case .ehlo(let afterTLS):
            guard reply.code == 250 else {
                return fail(core.failure(currentPhase, .unexpectedReply, words: reply.display, detail: "EHLO refused"))
            }
            let capabilities = Array(reply.lines.dropFirst())
            if afterTLS {
                let findings = core.capabilitiesAfterTLS(capabilities, upgrade: "STARTTLS")
                state = .quit
                return findings + [core.send("QUIT")]
            }
            core.summary.capabilitiesBeforeTLS = capabilities
            // A keyword match, not a `^250-STARTTLS` regex: the last line is `250 STARTTLS` (nginx mail proxy).
            let advertised = DialogCore.listing("STARTTLS", in: capabilities) != nil
            core.summary.upgradeAdvertised = advertised
            guard advertised || core.options.tryStartTLSAnyway else {
                state = .failed
                return [
                    core.send("QUIT"),
                    .failed(
                        core.failure(
                            .capabilities,
                            .startTLSNotOffered,
                            words: reply.display,
                            detail: "EHLO reply does not advertise STARTTLS"
                        )
                    ),
                ]
            }
            state = .startTLS(advertised: advertised)
            return [core.send("STARTTLS")]

        case .startTLS(let advertised):
            guard reply.code == 220 else {
                state = .failed
                let failure = core.failure(
                    .upgrade,
                    advertised ? .startTLSRejected : .startTLSNotOffered,
                    words: reply.display,
                    detail: advertised ? "STARTTLS refused" : "STARTTLS (not advertised) refused"
                )
                return [core.send("QUIT"), .failed(failure)]
            }
            var actions: [DialogAction] = []
            if !advertised {
                actions.append(core.finding(notAdvertisedButAccepted(reply.display)))
            }
            state = .awaitingTLS
            return actions + goAhead(reply: reply.display)

        case .quit:
            state = .completed
            return [.completed(core.summary)]

        case .idle, .awaitingTLS, .completed, .failed:
            return []
        }
    }
}

/// The warning for an upgrade the server accepted without advertising it (grommunio/gromox #3).
func notAdvertisedButAccepted(_ reply: String) -> Finding {
    Finding(
        .startTLSNotOffered,
        severity: .warning,
        phase: .upgrade,
        evidence: "upgrade accepted although not advertised: \(reply)",
        source: "dialog"
    )
}
