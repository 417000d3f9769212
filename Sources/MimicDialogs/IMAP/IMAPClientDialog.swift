import MimicCore

/// IMAP up to STARTTLS and after it (RFC 9051 / RFC 3501 §6.2.1).
///
/// Steps: greeting → CAPABILITY (skipped when the greeting's `[CAPABILITY …]` lists STARTTLS) → STARTTLS →
/// [TLS] → CAPABILITY → LOGOUT; in implicit mode greeting → CAPABILITY → LOGOUT. Untagged responses may be
/// interleaved anywhere. A PREAUTH greeting in STARTTLS mode is a finding: the session is authenticated in
/// plaintext and STARTTLS is no longer possible.
public struct IMAPClientDialog: LineDialog {
    enum Step: Sendable, Hashable {
        case greeting
        case capability(tag: String, afterTLS: Bool)
        case startTLS(tag: String, UpgradeAdvertisement)
    }

    var state: LineDialogState<Step> = .idle
    private var tagNumber = 0
    /// The tag of the LOGOUT sent, whose completion ends the session.
    private var logoutTag = ""
    /// Capabilities gathered from untagged responses while a CAPABILITY command is outstanding.
    private var pendingCapabilities: [String] = []
    var core: DialogCore

    public init(options: DialogOptions = DialogOptions()) {
        core = DialogCore(serviceProtocol: .imap, options: options)
    }

    func greetingStep(overTLS: Bool) -> Step { .greeting }

    func phase(of step: Step) -> Phase {
        switch step {
        case .greeting: .greeting
        case .capability(_, afterTLS: false): core.options.mode == .implicit ? .postTLS : .capabilities
        case .capability(_, afterTLS: true): .postTLS
        case .startTLS: .upgrade
        }
    }

    mutating func resumeOverTLS() -> [DialogAction] {
        command("CAPABILITY") { .capability(tag: $0, afterTLS: true) }
    }

    /// `a001`, `a002`, …
    private mutating func nextTag() -> String {
        tagNumber += 1
        let number = String(tagNumber)
        return "a" + String(repeating: "0", count: max(0, 3 - number.count)) + number
    }

    /// Sends `tag command` with the next tag and waits in the step made from that tag.
    private mutating func command(_ command: String, awaiting step: (String) -> Step) -> [DialogAction] {
        let tag = nextTag()
        state = .awaiting(step(tag))
        return [core.send("\(tag) \(command)")]
    }

    /// LOGOUT as the session's expected end.
    private mutating func logout() -> [DialogAction] {
        logoutTag = nextTag()
        return quit("\(logoutTag) LOGOUT")
    }

    /// LOGOUT said on the way out of a failure.
    private mutating func goodbye() -> String { "\(nextTag()) LOGOUT" }

    mutating func handle(_ line: ReceivedLine) -> [DialogAction] {
        // Every IMAP line is a whole response here (no literals): the reply bounds restart per line.
        core.replyEnded()
        let response = IMAPResponse(line.text)
        if state == .awaiting(.greeting) {
            return greeting(response, line)
        }
        switch response {
        case .untagged(let keyword, let rest):
            return untagged(keyword, rest, line)
        case .tagged(let tag, let status, let rest):
            return tagged(tag, status, rest, line)
        case .continuation, .malformed:
            return fail(
                core.failure(currentPhase, .unexpectedReply, words: line.display, detail: "not an IMAP response")
            )
        }
    }

    private mutating func greeting(_ response: IMAPResponse, _ line: ReceivedLine) -> [DialogAction] {
        guard case .untagged(let keyword, let rest) = response else {
            return fail(core.failure(.greeting, .unexpectedReply, words: line.display, detail: "not an IMAP greeting"))
        }
        core.summary.greeting = [line.text]
        let implicit = core.options.mode == .implicit
        switch keyword {
        case "OK":
            break
        case "PREAUTH" where implicit:
            break
        case "PREAUTH":
            let detail = "PREAUTH greeting: the session is authenticated in plaintext, so STARTTLS is impossible"
            let goodbye = goodbye()
            return failSayingGoodbye(.greeting, .startTLSNotOffered, words: line.display, detail: detail, goodbye: goodbye)
        case "BYE":
            return fail(core.failure(.greeting, .greetingRejected, words: line.display, detail: "BYE greeting"))
        default:
            return fail(core.failure(.greeting, .unexpectedReply, words: line.display, detail: "not an IMAP greeting"))
        }
        guard let capabilities = IMAPResponse.capabilityCode(in: rest) else {
            return command("CAPABILITY") { .capability(tag: $0, afterTLS: implicit) }
        }
        if implicit {
            return core.capabilitiesAfterTLS(capabilities, upgrade: "STARTTLS") + logout()
        }
        core.summary.capabilitiesBeforeTLS = capabilities
        guard advertisesStartTLS(capabilities) else {
            // Not in the greeting's list: ask, since some servers only list it in CAPABILITY.
            return command("CAPABILITY") { .capability(tag: $0, afterTLS: false) }
        }
        _ = mayAskForUpgrade(.advertised)
        return command("STARTTLS") { .startTLS(tag: $0, .advertised) }
    }

    private mutating func untagged(_ keyword: String, _ rest: String, _ line: ReceivedLine) -> [DialogAction] {
        switch (keyword, state) {
        case ("BYE", .quitting):
            return []
        case ("BYE", _):
            return fail(
                core.failure(currentPhase, .unexpectedReply, words: line.display, detail: "the server said BYE")
            )
        case ("CAPABILITY", .awaiting(.capability)):
            pendingCapabilities += IMAPResponse.atoms(Substring(rest))
            return []
        case (_, .awaiting(.startTLS)):
            // Legal, but a server that talks between STARTTLS and its OK is the shape of response injection.
            let warning = Finding(
                .unexpectedReply, severity: .warning, phase: .upgrade,
                evidence: "untagged response before the STARTTLS completion: \(line.display)", source: "dialog")
            return [core.finding(warning)]
        default:
            return []
        }
    }

    private mutating func tagged(_ tag: String, _ status: String, _ rest: String, _ line: ReceivedLine)
        -> [DialogAction]
    {
        let expected: String
        switch state {
        case .awaiting(.capability(let t, _)), .awaiting(.startTLS(let t, _)): expected = t
        case .quitting: expected = logoutTag
        default: return []
        }
        guard tag == expected else {
            return fail(
                core.failure(currentPhase, .unexpectedReply, words: line.display, detail: "expected tag \(expected)")
            )
        }
        switch state {
        case .awaiting(.capability(_, let afterTLS)): return capability(status, rest, line, afterTLS: afterTLS)
        case .awaiting(.startTLS(_, let advertisement)): return startTLS(status, line, advertisement)
        case .quitting: return complete()
        default: return []
        }
    }

    private mutating func capability(_ status: String, _ rest: String, _ line: ReceivedLine, afterTLS: Bool)
        -> [DialogAction]
    {
        guard status == "OK" else {
            return fail(
                core.failure(currentPhase, .unexpectedReply, words: line.display, detail: "CAPABILITY refused")
            )
        }
        var capabilities = pendingCapabilities
        pendingCapabilities = []
        if capabilities.isEmpty, let inCode = IMAPResponse.capabilityCode(in: rest) {
            capabilities = inCode
        }
        if afterTLS {
            return core.capabilitiesAfterTLS(capabilities, upgrade: "STARTTLS") + logout()
        }
        core.summary.capabilitiesBeforeTLS = capabilities
        let advertisement = UpgradeAdvertisement(listed: advertisesStartTLS(capabilities))
        guard mayAskForUpgrade(advertisement) else {
            let detail = "CAPABILITY does not list STARTTLS: \(capabilities.joined(separator: " "))"
            return upgradeNotOffered(words: line.display, detail: detail, goodbye: goodbye())
        }
        return command("STARTTLS") { .startTLS(tag: $0, advertisement) }
    }

    private mutating func startTLS(_ status: String, _ line: ReceivedLine, _ advertisement: UpgradeAdvertisement)
        -> [DialogAction]
    {
        guard status == "OK" else {
            return upgradeRefused(
                "STARTTLS", advertisement, words: line.display, capabilityCommand: "CAPABILITY", goodbye: goodbye(),
                goodbyeInTranscript: false)
        }
        return goAhead(reply: line.display, advertisement: advertisement)
    }

    private func advertisesStartTLS(_ capabilities: [String]) -> Bool {
        DialogCore.listing("STARTTLS", in: capabilities) != nil
    }
}
