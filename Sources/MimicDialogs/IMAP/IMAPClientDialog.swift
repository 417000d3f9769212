import MimicCore

/// IMAP up to STARTTLS and after it (RFC 9051 / RFC 3501 §6.2.1).
///
/// Steps: greeting → CAPABILITY (skipped when the greeting's `[CAPABILITY …]` lists STARTTLS) → STARTTLS →
/// [TLS] → CAPABILITY → LOGOUT; in implicit mode greeting → CAPABILITY → LOGOUT. Untagged responses may be
/// interleaved anywhere. A PREAUTH greeting in STARTTLS mode is a finding: the session is authenticated in
/// plaintext and STARTTLS is no longer possible.
public struct IMAPClientDialog: LineDialog {
    private enum State: Sendable, Hashable {
        case idle
        case greeting
        case capability(tag: String, afterTLS: Bool)
        case startTLS(tag: String, advertised: Bool)
        case awaitingTLS
        case logout(tag: String)
        case completed
        case failed
    }

    private var state: State = .idle
    private var tagNumber = 0
    /// Capabilities gathered from untagged responses while a CAPABILITY command is outstanding.
    private var pendingCapabilities: [String] = []
    var core: DialogCore

    public init(options: DialogOptions = DialogOptions()) {
        core = DialogCore(serviceProtocol: .imap, options: options)
    }

    public var serviceProtocol: ServiceProtocol { .imap }

    var isReading: Bool {
        switch state {
        case .greeting, .capability, .startTLS, .logout: true
        case .idle, .awaitingTLS, .completed, .failed: false
        }
    }

    var isAwaitingTLS: Bool { state == .awaitingTLS }

    var currentPhase: Phase {
        switch state {
        case .idle, .greeting: .greeting
        case .capability(_, afterTLS: false): core.options.mode == .implicit ? .postTLS : .capabilities
        case .capability(_, afterTLS: true): .postTLS
        case .startTLS, .awaitingTLS: .upgrade
        case .logout, .completed, .failed: .close
        }
    }

    var isIdle: Bool { state == .idle }

    mutating func awaitGreeting(overTLS: Bool) {
        state = .greeting
    }

    public mutating func tlsEstablished() -> [DialogAction] {
        guard state == .awaitingTLS else { return [] }
        return [command("CAPABILITY") { .capability(tag: $0, afterTLS: true) }] + drain()
    }

    var stage: LineDialogStage {
        switch state {
        case .completed, .failed: .finished
        case .logout: .quitting
        default: .running
        }
    }

    mutating func finish(_ end: LineDialogEnd) {
        state = end == .completed ? .completed : .failed
    }

    /// Sends `tag command` with the next tag and enters the state made from that tag.
    private mutating func command(_ command: String, next: (String) -> State) -> DialogAction {
        tagNumber += 1
        let number = String(tagNumber)
        let tag = "a" + String(repeating: "0", count: max(0, 3 - number.count)) + number
        state = next(tag)
        return core.send("\(tag) \(command)")
    }

    mutating func handle(_ line: ReceivedLine) -> [DialogAction] {
        // Every IMAP line is a whole response here (no literals): the reply bounds restart per line.
        core.replyEnded()
        let response = IMAPResponse(line.text)
        if case .greeting = state {
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
            return [
                command("LOGOUT") { _ in .failed },
                .failed(
                    core.failure(
                        .greeting,
                        .startTLSNotOffered,
                        words: line.display,
                        detail: "PREAUTH greeting: the session is authenticated in plaintext, so STARTTLS is impossible"
                    )
                ),
            ]
        case "BYE":
            return fail(core.failure(.greeting, .greetingRejected, words: line.display, detail: "BYE greeting"))
        default:
            return fail(core.failure(.greeting, .unexpectedReply, words: line.display, detail: "not an IMAP greeting"))
        }
        guard let capabilities = IMAPResponse.capabilityCode(in: rest) else {
            return [command("CAPABILITY") { .capability(tag: $0, afterTLS: implicit) }]
        }
        if implicit {
            return core.capabilitiesAfterTLS(capabilities, upgrade: "STARTTLS") + [
                command("LOGOUT") { .logout(tag: $0) }
            ]
        }
        core.summary.capabilitiesBeforeTLS = capabilities
        guard advertisesStartTLS(capabilities) else {
            // Not in the greeting's list: ask, since some servers only list it in CAPABILITY.
            return [command("CAPABILITY") { .capability(tag: $0, afterTLS: false) }]
        }
        core.summary.upgradeAdvertised = true
        return [command("STARTTLS") { .startTLS(tag: $0, advertised: true) }]
    }

    private mutating func untagged(_ keyword: String, _ rest: String, _ line: ReceivedLine) -> [DialogAction] {
        switch (keyword, state) {
        case ("BYE", .logout):
            return []
        case ("BYE", _):
            return fail(
                core.failure(currentPhase, .unexpectedReply, words: line.display, detail: "the server said BYE")
            )
        case ("CAPABILITY", .capability):
            pendingCapabilities += IMAPResponse.atoms(Substring(rest))
            return []
        case (_, .startTLS):
            // Legal, but a server that talks between STARTTLS and its OK is the shape of response injection.
            return [
                core.finding(
                    Finding(
                        .unexpectedReply,
                        severity: .warning,
                        phase: .upgrade,
                        evidence: "untagged response before the STARTTLS completion: \(line.display)",
                        source: "dialog"
                    )
                )
            ]
        default:
            return []
        }
    }

    private mutating func tagged(
        _ tag: String, _ status: String, _ rest: String, _ line: ReceivedLine
    )
        -> [DialogAction]
    {
        let expected: String
        switch state {
        case .capability(let t, _), .startTLS(let t, _), .logout(let t): expected = t
        default: return []
        }
        guard tag == expected else {
            return fail(
                core.failure(currentPhase, .unexpectedReply, words: line.display, detail: "expected tag \(expected)")
            )
        }
        switch state {
        case .capability(_, let afterTLS):
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
                let findings = core.capabilitiesAfterTLS(capabilities, upgrade: "STARTTLS")
                return findings + [command("LOGOUT") { .logout(tag: $0) }]
            }
            core.summary.capabilitiesBeforeTLS = capabilities
            let advertised = advertisesStartTLS(capabilities)
            core.summary.upgradeAdvertised = advertised
            guard advertised || core.options.tryStartTLSAnyway else {
                return [
                    command("LOGOUT") { _ in .failed },
                    .failed(
                        core.failure(
                            .capabilities,
                            .startTLSNotOffered,
                            words: line.display,
                            detail: "CAPABILITY does not list STARTTLS: \(capabilities.joined(separator: " "))"
                        )
                    ),
                ]
            }
            return [command("STARTTLS") { .startTLS(tag: $0, advertised: advertised) }]

        case .startTLS(_, let advertised):
            guard status == "OK" else {
                let failure = core.failure(
                    .upgrade,
                    advertised ? .startTLSRejected : .startTLSNotOffered,
                    words: line.display,
                    detail: advertised ? "STARTTLS refused" : "STARTTLS (not advertised) refused"
                )
                return [command("LOGOUT") { _ in .failed }, .failed(failure)]
            }
            var actions: [DialogAction] = []
            if !advertised {
                actions.append(core.finding(notAdvertisedButAccepted(line.display)))
            }
            state = .awaitingTLS
            return actions + goAhead(reply: line.display)

        case .logout:
            state = .completed
            return [.completed(core.summary)]

        default:
            return []
        }
    }

    private func advertisesStartTLS(_ capabilities: [String]) -> Bool {
        DialogCore.listing("STARTTLS", in: capabilities) != nil
    }
}
