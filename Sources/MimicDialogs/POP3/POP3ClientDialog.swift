import MimicCore

/// POP3 up to STLS and after it (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS).
///
/// Steps: greeting → CAPA → STLS → [TLS] → CAPA → QUIT; in implicit mode greeting → CAPA → QUIT.
///
/// A server that answers CAPA with `-ERR` predates RFC 2449; that says nothing about STLS, so STLS is tried
/// anyway, and a refusal is then reported as `startTLSNotOffered`. When CAPA works and lacks STLS, the dialog
/// fails with `startTLSNotOffered` unless `tryStartTLSAnyway`.
public struct POP3ClientDialog: LineDialog {
    enum Step: Sendable, Hashable {
        case greeting(afterTLS: Bool)
        /// `body` once the `+OK` line of a multi-line CAPA arrived.
        case capa(afterTLS: Bool, body: Bool)
        case stls(UpgradeAdvertisement)
    }

    var state: LineDialogState<Step> = .idle
    private var capabilities: [String] = []
    var core: DialogCore

    public init(options: DialogOptions = DialogOptions()) {
        core = DialogCore(serviceProtocol: .pop3, options: options)
    }

    func greetingStep(overTLS: Bool) -> Step { .greeting(afterTLS: overTLS) }

    func phase(of step: Step) -> Phase {
        switch step {
        case .greeting: .greeting
        case .capa(let afterTLS, _): afterTLS ? .postTLS : .capabilities
        case .stls: .upgrade
        }
    }

    mutating func resumeOverTLS() -> [DialogAction] { capa(afterTLS: true) }

    private mutating func capa(afterTLS: Bool) -> [DialogAction] {
        state = .awaiting(.capa(afterTLS: afterTLS, body: false))
        return [core.send("CAPA")]
    }

    private enum Status {
        case ok(String)
        case err(String)
    }

    /// `+OK [text]` or `-ERR [text]` (RFC 1939 §3); keywords matched without regard to case.
    private func status(_ line: ReceivedLine) -> Status? {
        let text = line.text
        let upper = text.uppercased()
        if upper == "+OK" || upper.hasPrefix("+OK ") { return .ok(String(text.dropFirst(3)).trimmingLeadingSpace) }
        if upper == "-ERR" || upper.hasPrefix("-ERR ") { return .err(String(text.dropFirst(4)).trimmingLeadingSpace) }
        return nil
    }

    mutating func handle(_ line: ReceivedLine) -> [DialogAction] {
        if case .awaiting(.capa(let afterTLS, body: true)) = state {
            return capaBody(line, afterTLS: afterTLS)
        }
        core.replyEnded()
        guard let status = status(line) else {
            return fail(
                core.failure(currentPhase, .unexpectedReply, words: line.display, detail: "neither +OK nor -ERR")
            )
        }
        switch state {
        case .awaiting(.greeting(let afterTLS)): return greeting(status, line, afterTLS: afterTLS)
        case .awaiting(.capa(let afterTLS, _)): return capaStatus(status, afterTLS: afterTLS)
        case .awaiting(.stls(let advertisement)): return stls(status, advertisement, line)
        case .quitting: return complete()
        case .idle, .awaitingTLS, .completed, .failed: return []
        }
    }

    private mutating func greeting(_ status: Status, _ line: ReceivedLine, afterTLS: Bool) -> [DialogAction] {
        switch status {
        case .ok(let text):
            core.summary.greeting = [text]
            return capa(afterTLS: afterTLS)
        case .err:
            core.summary.greeting = [line.text]
            return fail(core.failure(.greeting, .greetingRejected, words: line.display, detail: "-ERR greeting"))
        }
    }

    private mutating func capaStatus(_ status: Status, afterTLS: Bool) -> [DialogAction] {
        switch (status, afterTLS) {
        case (.ok, _):
            capabilities = []
            state = .awaiting(.capa(afterTLS: afterTLS, body: true))
            return []
        case (.err, true):
            return quit()
        case (.err, false):
            state = .awaiting(.stls(.unknown))
            return [core.send("STLS")]
        }
    }

    private mutating func stls(
        _ status: Status, _ advertisement: UpgradeAdvertisement, _ line: ReceivedLine
    ) -> [DialogAction] {
        switch status {
        case .ok: goAhead(reply: line.display, advertisement: advertisement)
        case .err: upgradeRefused("STLS", advertisement, words: line.display, capabilityCommand: "CAPA")
        }
    }

    /// The CAPA list (RFC 2449 §5): one capability per line, ended by a lone `.`, dot-stuffed.
    private mutating func capaBody(_ line: ReceivedLine, afterTLS: Bool) -> [DialogAction] {
        var text = line.text
        guard text == "." else {
            if text.hasPrefix(".") { text.removeFirst() }
            capabilities.append(text)
            return []
        }
        core.replyEnded()
        if afterTLS {
            return core.capabilitiesAfterTLS(capabilities, upgrade: "STLS") + quit()
        }
        core.summary.capabilitiesBeforeTLS = capabilities
        let advertisement = UpgradeAdvertisement(listed: DialogCore.listing("STLS", in: capabilities) != nil)
        guard mayAskForUpgrade(advertisement) else {
            return upgradeNotOffered(words: capabilities.joined(separator: "\n"), detail: "CAPA does not list STLS")
        }
        state = .awaiting(.stls(advertisement))
        return [core.send("STLS")]
    }
}

extension String {
    var trimmingLeadingSpace: String { String(drop { $0 == " " }) }
}
