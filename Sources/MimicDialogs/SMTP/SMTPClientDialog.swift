import MimicCore

/// SMTP up to STARTTLS and after it (RFC 5321, RFC 3207).
///
/// Nothing is sent before the greeting's final line (Exim's "554 SMTP synchronization error", postscreen's
/// "521 Protocol error" after a `220-` first line), and one command at a time (no PIPELINING).
/// Steps: greeting → EHLO → STARTTLS → [TLS] → EHLO → QUIT; in implicit mode greeting → EHLO → QUIT.
public struct SMTPClientDialog: CodedReplyDialog {
    enum Step: Sendable, Hashable {
        case greeting(afterTLS: Bool)
        case ehlo(afterTLS: Bool)
        case startTLS(UpgradeAdvertisement)
    }

    var state: LineDialogState<Step> = .idle
    var assembler = SMTPReplyAssembler()
    var core: DialogCore

    public init(options: DialogOptions = DialogOptions()) {
        core = DialogCore(serviceProtocol: .smtp, options: options)
    }

    func greetingStep(overTLS: Bool) -> Step { .greeting(afterTLS: overTLS) }

    func phase(of step: Step) -> Phase {
        switch step {
        case .greeting(afterTLS: false): .greeting
        case .greeting(afterTLS: true): core.options.mode == .implicit ? .greeting : .postTLS
        case .ehlo(afterTLS: false): .capabilities
        case .ehlo(afterTLS: true): .postTLS
        case .startTLS: .upgrade
        }
    }

    mutating func resumeOverTLS() -> [DialogAction] { ehlo(afterTLS: true) }

    private mutating func ehlo(afterTLS: Bool) -> [DialogAction] {
        state = .awaiting(.ehlo(afterTLS: afterTLS))
        return [core.send("EHLO \(core.options.ehloName)")]
    }

    mutating func handle(_ reply: CodedReply, in step: Step) -> [DialogAction] {
        switch step {
        case .greeting(let afterTLS): greeting(reply, afterTLS: afterTLS)
        case .ehlo(afterTLS: true): ehloAfterTLS(reply)
        case .ehlo(afterTLS: false): ehloBeforeTLS(reply)
        case .startTLS(let advertisement): startTLS(reply, advertisement)
        }
    }

    private mutating func greeting(_ reply: CodedReply, afterTLS: Bool) -> [DialogAction] {
        core.summary.greeting = reply.lines
        guard reply.code == 220 else {
            let code: FindingCode = reply.code >= 400 ? .greetingRejected : .unexpectedReply
            return fail(core.failure(currentPhase, code, words: reply.display, detail: "greeting is not 220"))
        }
        return ehlo(afterTLS: afterTLS)
    }

    private mutating func ehloAfterTLS(_ reply: CodedReply) -> [DialogAction] {
        guard reply.code == 250 else { return ehloRefused(reply) }
        return core.capabilitiesAfterTLS(Array(reply.lines.dropFirst()), upgrade: "STARTTLS") + quit()
    }

    private mutating func ehloBeforeTLS(_ reply: CodedReply) -> [DialogAction] {
        guard reply.code == 250 else { return ehloRefused(reply) }
        let capabilities = Array(reply.lines.dropFirst())
        core.summary.capabilitiesBeforeTLS = capabilities
        // A keyword match, not a `^250-STARTTLS` regex: the last line is `250 STARTTLS` (nginx mail proxy).
        let advertisement = UpgradeAdvertisement(listed: DialogCore.listing("STARTTLS", in: capabilities) != nil)
        guard mayAskForUpgrade(advertisement) else {
            return upgradeNotOffered(words: reply.display, detail: "EHLO reply does not advertise STARTTLS")
        }
        state = .awaiting(.startTLS(advertisement))
        return [core.send("STARTTLS")]
    }

    private mutating func ehloRefused(_ reply: CodedReply) -> [DialogAction] {
        fail(core.failure(currentPhase, .unexpectedReply, words: reply.display, detail: "EHLO refused"))
    }

    private mutating func startTLS(_ reply: CodedReply, _ advertisement: UpgradeAdvertisement) -> [DialogAction] {
        guard reply.code == 220 else {
            return upgradeRefused(
                "STARTTLS", advertisement, words: reply.display, capabilityCommand: "EHLO", goodbyeInTranscript: false)
        }
        return goAhead(reply: reply.display, advertisement: advertisement)
    }
}
