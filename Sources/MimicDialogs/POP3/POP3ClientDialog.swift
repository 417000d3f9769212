import MimicCore

/// POP3 up to STLS and after it (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS).
///
/// Steps: greeting → CAPA → STLS → [TLS] → CAPA → QUIT; in implicit mode greeting → CAPA → QUIT.
///
/// A server that answers CAPA with `-ERR` predates RFC 2449; that says nothing about STLS, so STLS is tried
/// anyway, and a refusal is then reported as `startTLSNotOffered`. When CAPA works and lacks STLS, the dialog
/// fails with `startTLSNotOffered` unless `tryStartTLSAnyway`.
public struct POP3ClientDialog: LineDialog {
    private enum Advertisement: Sendable, Hashable {
        case advertised
        case notAdvertised
        /// CAPA was refused.
        case unknown
    }

    private enum State: Sendable, Hashable {
        case idle
        case greeting(afterTLS: Bool)
        /// `body` once the `+OK` line of a multi-line CAPA arrived.
        case capa(afterTLS: Bool, body: Bool)
        case stls(Advertisement)
        case awaitingTLS
        case quit
        case completed
        case failed
    }

    private var state: State = .idle
    private var capabilities: [String] = []
    var core: DialogCore

    public init(options: DialogOptions = DialogOptions()) {
        core = DialogCore(serviceProtocol: .pop3, options: options)
    }

    public var serviceProtocol: ServiceProtocol { .pop3 }

    var isReading: Bool {
        switch state {
        case .greeting, .capa, .stls, .quit: true
        case .idle, .awaitingTLS, .completed, .failed: false
        }
    }

    var isAwaitingTLS: Bool { state == .awaitingTLS }

    var currentPhase: Phase {
        switch state {
        case .idle, .greeting: .greeting
        case .capa(let afterTLS, _): afterTLS ? .postTLS : .capabilities
        case .stls, .awaitingTLS: .upgrade
        case .quit, .completed, .failed: .close
        }
    }

    var isIdle: Bool { state == .idle }

    mutating func awaitGreeting(overTLS: Bool) {
        state = .greeting(afterTLS: overTLS)
    }

    public mutating func tlsEstablished() -> [DialogAction] {
        guard state == .awaitingTLS else { return [] }
        state = .capa(afterTLS: true, body: false)
        return [core.send("CAPA")] + drain()
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
        if case .capa(let afterTLS, body: true) = state {
            return capaBody(line, afterTLS: afterTLS)
        }
        core.replyEnded()
        guard let status = status(line) else {
            return fail(
                core.failure(currentPhase, .unexpectedReply, words: line.display, detail: "neither +OK nor -ERR")
            )
        }
        switch (state, status) {
        case (.greeting(let afterTLS), .ok(let text)):
            core.summary.greeting = [text]
            state = .capa(afterTLS: afterTLS, body: false)
            return [core.send("CAPA")]
        case (.greeting, .err):
            core.summary.greeting = [line.text]
            return fail(core.failure(.greeting, .greetingRejected, words: line.display, detail: "-ERR greeting"))

        case (.capa(let afterTLS, _), .ok):
            capabilities = []
            state = .capa(afterTLS: afterTLS, body: true)
            return []
        case (.capa(afterTLS: true, _), .err):
            state = .quit
            return [core.send("QUIT")]
        case (.capa(afterTLS: false, _), .err):
            state = .stls(.unknown)
            return [core.send("STLS")]

        case (.stls(let advertisement), .ok):
            var actions: [DialogAction] = []
            if advertisement == .notAdvertised {
                actions.append(core.finding(notAdvertisedButAccepted(line.display)))
            }
            state = .awaitingTLS
            return actions + goAhead(reply: line.display)
        case (.stls(let advertisement), .err):
            let code: FindingCode = advertisement == .advertised ? .startTLSRejected : .startTLSNotOffered
            let detail =
                switch advertisement {
                case .advertised: "STLS refused"
                case .notAdvertised: "STLS (not advertised) refused"
                case .unknown: "CAPA unsupported and STLS refused"
                }
            state = .failed
            return [core.send("QUIT"), .failed(core.failure(.upgrade, code, words: line.display, detail: detail))]

        case (.quit, _):
            state = .completed
            return [.completed(core.summary)]

        default:
            return []
        }
    }

    /// The CAPA list (RFC 2449 §5): one capability per line, ended by a lone `.`, dot-stuffed.
    private mutating func capaBody(_ line: ReceivedLine, afterTLS: Bool) -> [DialogAction] {
        var text = line.text
        if text == "." {
            core.replyEnded()
            if afterTLS {
                let findings = core.capabilitiesAfterTLS(capabilities, upgrade: "STLS")
                state = .quit
                return findings + [core.send("QUIT")]
            }
            core.summary.capabilitiesBeforeTLS = capabilities
            let advertised = DialogCore.listing("STLS", in: capabilities) != nil
            core.summary.upgradeAdvertised = advertised
            guard advertised || core.options.tryStartTLSAnyway else {
                state = .failed
                return [
                    core.send("QUIT"),
                    .failed(
                        core.failure(
                            .capabilities,
                            .startTLSNotOffered,
                            words: capabilities.joined(separator: "\n"),
                            detail: "CAPA does not list STLS"
                        )
                    ),
                ]
            }
            state = .stls(advertised ? .advertised : .notAdvertised)
            return [core.send("STLS")]
        }
        if text.hasPrefix(".") { text.removeFirst() }
        capabilities.append(text)
        return []
    }
}

extension String {
    var trimmingLeadingSpace: String { String(drop { $0 == " " }) }
}
