import MimicCore

/// FTP control-channel dialog up to AUTH TLS and after it (RFC 959, RFC 2228, RFC 4217).
///
/// Steps: banner → FEAT → AUTH TLS → [TLS] → PBSZ 0 → PROT P → USER/PASS → EPSV (else PASV) → `.openDataChannel` →
/// LIST → QUIT; in implicit mode the banner and FEAT come over TLS and the rest follows.
///
/// FEAT that works and lacks `AUTH TLS` counts as "not offered"; FEAT that is refused says nothing, so AUTH TLS
/// is tried. When AUTH TLS is refused, AUTH SSL (the pre-RFC 4217 form) is tried once and its reply is put in
/// the failure's detail, and a warning finding is added when it would have worked.
public struct FTPClientDialog: LineDialog {
    private enum Advertisement: Sendable, Hashable {
        case advertised
        case notAdvertised
        case unknown
    }

    private enum State: Sendable, Hashable {
        case idle
        case greeting(afterTLS: Bool)
        case feat(afterTLS: Bool)
        case authTLS(Advertisement)
        case authSSL(refusal: String, Advertisement)
        case awaitingTLS
        case pbsz
        case prot
        case user
        case pass
        case epsv
        case pasv
        case awaitingDataChannel
        case list
        case quit
        case completed
        case failed
    }

    private var state: State = .idle
    private var assembler = FTPReplyAssembler()
    var core: DialogCore

    public init(options: DialogOptions = DialogOptions()) {
        core = DialogCore(serviceProtocol: .ftp, options: options)
    }

    public var serviceProtocol: ServiceProtocol { .ftp }

    var isReading: Bool {
        switch state {
        case .idle, .awaitingTLS, .completed, .failed: false
        default: true
        }
    }

    var isAwaitingTLS: Bool { state == .awaitingTLS }

    var currentPhase: Phase {
        switch state {
        case .idle, .greeting: .greeting
        case .feat(let afterTLS): afterTLS ? .postTLS : .capabilities
        case .authTLS, .authSSL, .awaitingTLS: .upgrade
        case .pbsz, .prot, .user, .pass: .postTLS
        case .epsv, .pasv, .awaitingDataChannel, .list: .dataChannel
        case .quit, .completed, .failed: .close
        }
    }

    var isIdle: Bool { state == .idle }

    mutating func awaitGreeting(overTLS: Bool) {
        state = .greeting(afterTLS: overTLS)
    }

    public mutating func tlsEstablished() -> [DialogAction] {
        guard state == .awaitingTLS else { return [] }
        state = .pbsz
        return [core.send("PBSZ 0")] + drain()
    }

    public mutating func dataChannelOpened() -> [DialogAction] {
        guard state == .awaitingDataChannel else { return [] }
        state = .list
        return [core.send("LIST")] + drain()
    }

    public mutating func dataChannelFailed(_ reason: String) -> [DialogAction] {
        switch state {
        case .awaitingDataChannel:
            core.summary.dataChannelReply = "data channel not opened: \(reason)"
        case .list:
            // The listing was asked for but its channel failed (no TLS on it, say): a server may never send the
            // transfer's final reply, so end the session instead of waiting for it.
            core.summary.dataChannelReply = "data channel failed: \(reason)"
        default:
            return []
        }
        state = .quit
        return [core.send("QUIT")] + drain()
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

    private mutating func quit() -> [DialogAction] {
        state = .quit
        return [core.send("QUIT")]
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
            // 120: "service ready in nnn minutes", a preliminary reply; the 220 follows.
            if reply.isPreliminary { return [] }
            core.summary.greeting = reply.lines
            guard reply.code == 220 else {
                let code: FindingCode = reply.code >= 400 ? .greetingRejected : .unexpectedReply
                return fail(core.failure(.greeting, code, words: reply.display, detail: "banner is not 220"))
            }
            state = .feat(afterTLS: afterTLS)
            return [core.send("FEAT")]

        case .feat(let afterTLS):
            let features: [String] =
                reply.code == 211 ? reply.lines.dropFirst().dropLast().map { $0.trimmingLeadingSpace } : []
            if afterTLS {
                core.summary.capabilitiesAfterTLS = features
                state = .pbsz
                return [core.send("PBSZ 0")]
            }
            core.summary.capabilitiesBeforeTLS = features
            let advertisement: Advertisement
            if reply.code != 211 {
                advertisement = .unknown
            } else if features.contains(where: Self.isAuthTLS) {
                advertisement = .advertised
            } else {
                advertisement = .notAdvertised
            }
            core.summary.upgradeAdvertised = advertisement == .advertised
            guard advertisement != .notAdvertised || core.options.tryStartTLSAnyway else {
                state = .failed
                return [
                    core.send("QUIT"),
                    .failed(
                        core.failure(
                            .capabilities,
                            .startTLSNotOffered,
                            words: reply.display,
                            detail: "FEAT does not list AUTH TLS"
                        )
                    ),
                ]
            }
            state = .authTLS(advertisement)
            return [core.send("AUTH TLS")]

        case .authTLS(let advertisement):
            guard reply.code == 234 else {
                state = .authSSL(refusal: reply.display, advertisement)
                return [core.send("AUTH SSL")]
            }
            var actions: [DialogAction] = []
            if advertisement == .notAdvertised {
                actions.append(core.finding(notAdvertisedButAccepted(reply.display)))
            }
            state = .awaitingTLS
            return actions + goAhead(reply: reply.display)

        case .authSSL(let refusal, let advertisement):
            core.summary.authSSLReply = reply.display
            let code: FindingCode = advertisement == .advertised ? .startTLSRejected : .startTLSNotOffered
            if reply.code == 234 {
                // The server now waits for a handshake: nothing more can be said in plaintext.
                let warning = Finding(
                    .startTLSRejected,
                    severity: .warning,
                    phase: .upgrade,
                    evidence: "AUTH TLS refused but AUTH SSL accepted: \(reply.display)",
                    source: "dialog"
                )
                state = .failed
                return [
                    core.finding(warning),
                    .failed(
                        core.failure(
                            .upgrade,
                            code,
                            words: refusal,
                            detail: "AUTH TLS refused (AUTH SSL accepted: \(reply.display))"
                        )
                    ),
                ]
            }
            state = .failed
            return [
                core.send("QUIT"),
                .failed(
                    core.failure(
                        .upgrade,
                        code,
                        words: refusal,
                        detail: "AUTH TLS refused (AUTH SSL: \(reply.display))"
                    )
                ),
            ]

        case .pbsz:
            var actions: [DialogAction] = []
            if !reply.isPositive {
                actions.append(core.finding(warning(.postTLS, "PBSZ 0 refused", reply)))
            }
            state = .prot
            return actions + [core.send("PROT P")]

        case .prot:
            guard reply.isPositive else {
                // RFC 4217 §9: without PROT P the data channel stays plaintext.
                let finding = Finding(
                    .startTLSRejected,
                    phase: .dataChannel,
                    evidence: "PROT P refused, so the data channel would be plaintext: \(reply.display)",
                    source: "dialog"
                )
                return [core.finding(finding)] + quit()
            }
            guard core.options.ftpDataChannel else { return quit() }
            // Servers list only for a logged-in user (vsftpd answers PASV before login with 530): log in
            // over TLS, anonymously unless told otherwise, then ask for the data channel.
            state = .user
            return [core.send("USER \(core.options.ftpUser)")]

        case .user:
            switch reply.code {
            case 230:
                state = .epsv
                return [core.send("EPSV")]
            case 331, 332:
                state = .pass
                return [core.sendSecret("PASS", core.options.ftpPassword)]
            default:
                return [core.finding(warning(.postTLS, "login refused; the data channel was not tried", reply))]
                    + quit()
            }

        case .pass:
            guard reply.isPositive else {
                return [core.finding(warning(.postTLS, "login refused; the data channel was not tried", reply))]
                    + quit()
            }
            state = .epsv
            return [core.send("EPSV")]

        case .epsv:
            guard reply.code == 229 else {
                state = .pasv
                return [core.send("PASV")]
            }
            guard let port = FTPPassiveReply.epsvPort(reply.first) else {
                return fail(
                    core.failure(.dataChannel, .unexpectedReply, words: reply.display, detail: "malformed EPSV reply")
                )
            }
            return openDataChannel(host: nil, port: port, command: "EPSV")

        case .pasv:
            guard reply.code == 227 else {
                return [core.finding(warning(.dataChannel, "no passive mode (EPSV and PASV refused)", reply))]
                    + quit()
            }
            guard let endpoint = FTPPassiveReply.pasvEndpoint(reply.first) else {
                return fail(
                    core.failure(.dataChannel, .unexpectedReply, words: reply.display, detail: "malformed PASV reply")
                )
            }
            return openDataChannel(host: endpoint.host, port: endpoint.port, command: "PASV")

        case .awaitingDataChannel:
            return fail(
                core.failure(
                    .dataChannel,
                    .unexpectedReply,
                    words: reply.display,
                    detail: "reply while no command was outstanding"
                )
            )

        case .list:
            if reply.isPreliminary { return [] }
            core.summary.dataChannelReply = reply.display
            var actions: [DialogAction] = []
            if !reply.isPositive {
                // 425, or vsftpd's 522 when the data channel did not resume the control session.
                actions.append(core.finding(warning(.dataChannel, "LIST over the data channel failed", reply)))
            }
            return actions + quit()

        case .quit:
            // A transfer given up on may still report its progress (150) and its end (226/426) ahead of the
            // answer to QUIT: those are recorded, and the dialog waits for the 221.
            if reply.isPreliminary { return [] }
            if reply.code == 226 || reply.code == 425 || reply.code == 426 {
                core.summary.dataChannelReply = reply.display
                return []
            }
            state = .completed
            return [.completed(core.summary)]

        case .idle, .awaitingTLS, .completed, .failed:
            return []
        }
    }

    private mutating func openDataChannel(host: String?, port: Int, command: String) -> [DialogAction] {
        core.summary.dataChannel = DialogSummary.DataChannel(host: host, port: port, command: command)
        state = .awaitingDataChannel
        return [.openDataChannel(announced: host, port: port)]
    }

    private func warning(_ phase: Phase, _ what: String, _ reply: CodedReply) -> Finding {
        Finding(
            .unexpectedReply,
            severity: .warning,
            phase: phase,
            evidence: "\(what): \(reply.display)",
            source: "dialog"
        )
    }

    /// `AUTH TLS`, `AUTH TLS;SSL;`, `AUTH SSL TLS` (RFC 4217 §6 lists the mechanisms after AUTH).
    static func isAuthTLS(_ feature: String) -> Bool {
        let upper = feature.uppercased()
        guard upper == "AUTH" || upper.hasPrefix("AUTH ") else { return false }
        return upper.dropFirst(4).split(whereSeparator: { $0 == " " || $0 == ";" || $0 == "," }).contains {
            $0 == "TLS" || $0 == "TLS-C"
        }
    }
}
