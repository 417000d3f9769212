import MimicCore

/// FTP control-channel dialog up to AUTH TLS and after it (RFC 959, RFC 2228, RFC 4217).
///
/// Steps: banner → FEAT → AUTH TLS → [TLS] → PBSZ 0 → PROT P → USER/PASS → EPSV (else PASV) → `.openDataChannel` →
/// LIST → QUIT; in implicit mode the banner and FEAT come over TLS and the rest follows.
///
/// FEAT that works and lacks `AUTH TLS` counts as "not offered"; FEAT that is refused says nothing, so AUTH TLS
/// is tried. When AUTH TLS is refused, AUTH SSL (the pre-RFC 4217 form) is tried once and its reply is put in
/// the failure's detail, and a warning finding is added when it would have worked.
public struct FTPClientDialog: CodedReplyDialog {
    enum Step: Sendable, Hashable {
        case greeting(afterTLS: Bool)
        case feat(afterTLS: Bool)
        case authTLS(UpgradeAdvertisement)
        case authSSL(refusal: String, UpgradeAdvertisement)
        case pbsz
        case prot
        case user
        case pass
        case epsv
        case pasv
        /// `.openDataChannel` was asked for: no command is outstanding until it opened or failed.
        case dataChannel
        case list
    }

    var state: LineDialogState<Step> = .idle
    var assembler = FTPReplyAssembler()
    var core: DialogCore

    public init(options: DialogOptions = DialogOptions()) {
        core = DialogCore(serviceProtocol: .ftp, options: options)
    }

    func greetingStep(overTLS: Bool) -> Step { .greeting(afterTLS: overTLS) }

    func phase(of step: Step) -> Phase {
        switch step {
        case .greeting: .greeting
        case .feat(let afterTLS): afterTLS ? .postTLS : .capabilities
        case .authTLS, .authSSL: .upgrade
        case .pbsz, .prot, .user, .pass: .postTLS
        case .epsv, .pasv, .dataChannel, .list: .dataChannel
        }
    }

    mutating func resumeOverTLS() -> [DialogAction] { send("PBSZ 0", awaiting: .pbsz) }

    private mutating func send(_ command: String, awaiting step: Step) -> [DialogAction] {
        state = .awaiting(step)
        return [core.send(command)]
    }

    public mutating func dataChannelOpened() -> [DialogAction] {
        guard state == .awaiting(.dataChannel) else { return [] }
        return send("LIST", awaiting: .list) + drain()
    }

    public mutating func dataChannelFailed(_ reason: String) -> [DialogAction] {
        switch state {
        case .awaiting(.dataChannel):
            core.summary.dataChannelReply = "data channel not opened: \(reason)"
        case .awaiting(.list):
            // The listing was asked for but its channel failed (no TLS on it, say): a server may never send the
            // transfer's final reply, so end the session instead of waiting for it.
            core.summary.dataChannelReply = "data channel failed: \(reason)"
        default:
            return []
        }
        return quit() + drain()
    }

    mutating func handle(_ reply: CodedReply, in step: Step) -> [DialogAction] {
        switch step {
        case .greeting(let afterTLS): greeting(reply, afterTLS: afterTLS)
        case .feat(afterTLS: true): featAfterTLS(reply)
        case .feat(afterTLS: false): featBeforeTLS(reply)
        case .authTLS(let advertisement): authTLS(reply, advertisement)
        case .authSSL(let refusal, let advertisement): authSSL(reply, refusal: refusal, advertisement)
        case .pbsz: pbsz(reply)
        case .prot: prot(reply)
        case .user: user(reply)
        case .pass: pass(reply)
        case .epsv: epsv(reply)
        case .pasv: pasv(reply)
        case .dataChannel:
            fail(
                core.failure(
                    .dataChannel, .unexpectedReply, words: reply.display,
                    detail: "reply while no command was outstanding"))
        case .list: list(reply)
        }
    }

    private mutating func greeting(_ reply: CodedReply, afterTLS: Bool) -> [DialogAction] {
        // 120: "service ready in nnn minutes", a preliminary reply; the 220 follows.
        if reply.isPreliminary { return [] }
        core.summary.greeting = reply.lines
        guard reply.code == 220 else {
            let code: FindingCode = reply.code >= 400 ? .greetingRejected : .unexpectedReply
            return fail(core.failure(.greeting, code, words: reply.display, detail: "banner is not 220"))
        }
        return send("FEAT", awaiting: .feat(afterTLS: afterTLS))
    }

    private static func features(_ reply: CodedReply) -> [String] {
        reply.code == 211 ? reply.lines.dropFirst().dropLast().map { $0.trimmingLeadingSpace } : []
    }

    private mutating func featAfterTLS(_ reply: CodedReply) -> [DialogAction] {
        core.summary.capabilitiesAfterTLS = Self.features(reply)
        return send("PBSZ 0", awaiting: .pbsz)
    }

    private mutating func featBeforeTLS(_ reply: CodedReply) -> [DialogAction] {
        let features = Self.features(reply)
        core.summary.capabilitiesBeforeTLS = features
        let advertisement =
            reply.code != 211 ? .unknown : UpgradeAdvertisement(listed: features.contains(where: Self.isAuthTLS))
        guard mayAskForUpgrade(advertisement) else {
            return upgradeNotOffered(words: reply.display, detail: "FEAT does not list AUTH TLS")
        }
        return send("AUTH TLS", awaiting: .authTLS(advertisement))
    }

    private mutating func authTLS(_ reply: CodedReply, _ advertisement: UpgradeAdvertisement) -> [DialogAction] {
        guard reply.code == 234 else {
            return send("AUTH SSL", awaiting: .authSSL(refusal: reply.display, advertisement))
        }
        return goAhead(reply: reply.display, advertisement: advertisement)
    }

    /// AUTH TLS was refused; AUTH SSL (the pre-RFC 4217 form) was tried to say whether it would have worked.
    private mutating func authSSL(
        _ reply: CodedReply, refusal: String, _ advertisement: UpgradeAdvertisement
    ) -> [DialogAction] {
        core.summary.authSSLReply = reply.display
        let code: FindingCode = advertisement == .advertised ? .startTLSRejected : .startTLSNotOffered
        guard reply.code == 234 else {
            let detail = "AUTH TLS refused (AUTH SSL: \(reply.display))"
            return failSayingGoodbye(.upgrade, code, words: refusal, detail: detail)
        }
        // The server now waits for a handshake: nothing more can be said in plaintext.
        let warning = Finding(
            .startTLSRejected, severity: .warning, phase: .upgrade,
            evidence: "AUTH TLS refused but AUTH SSL accepted: \(reply.display)", source: "dialog")
        let detail = "AUTH TLS refused (AUTH SSL accepted: \(reply.display))"
        return [core.finding(warning)] + fail(core.failure(.upgrade, code, words: refusal, detail: detail))
    }

    private mutating func pbsz(_ reply: CodedReply) -> [DialogAction] {
        let refused = reply.isPositive ? [] : [core.finding(warning(.postTLS, "PBSZ 0 refused", reply))]
        return refused + send("PROT P", awaiting: .prot)
    }

    private mutating func prot(_ reply: CodedReply) -> [DialogAction] {
        guard reply.isPositive else {
            // RFC 4217 §9: without PROT P the data channel stays plaintext.
            let finding = Finding(
                .startTLSRejected, phase: .dataChannel,
                evidence: "PROT P refused, so the data channel would be plaintext: \(reply.display)",
                source: "dialog")
            return [core.finding(finding)] + quit()
        }
        guard core.options.ftpDataChannel else { return quit() }
        // Servers list only for a logged-in user (vsftpd answers PASV before login with 530): log in
        // over TLS, anonymously unless told otherwise, then ask for the data channel.
        return send("USER \(core.options.ftpUser)", awaiting: .user)
    }

    private mutating func user(_ reply: CodedReply) -> [DialogAction] {
        switch reply.code {
        case 230:
            return send("EPSV", awaiting: .epsv)
        case 331, 332:
            state = .awaiting(.pass)
            return [core.sendSecret("PASS", core.options.ftpPassword)]
        default:
            return loginRefused(reply)
        }
    }

    private mutating func pass(_ reply: CodedReply) -> [DialogAction] {
        guard reply.isPositive else { return loginRefused(reply) }
        return send("EPSV", awaiting: .epsv)
    }

    private mutating func loginRefused(_ reply: CodedReply) -> [DialogAction] {
        [core.finding(warning(.postTLS, "login refused; the data channel was not tried", reply))] + quit()
    }

    private mutating func epsv(_ reply: CodedReply) -> [DialogAction] {
        guard reply.code == 229 else { return send("PASV", awaiting: .pasv) }
        guard let port = FTPPassiveReply.epsvPort(reply.first) else {
            return fail(
                core.failure(.dataChannel, .unexpectedReply, words: reply.display, detail: "malformed EPSV reply"))
        }
        return openDataChannel(host: nil, port: port, command: "EPSV")
    }

    private mutating func pasv(_ reply: CodedReply) -> [DialogAction] {
        guard reply.code == 227 else {
            return [core.finding(warning(.dataChannel, "no passive mode (EPSV and PASV refused)", reply))] + quit()
        }
        guard let endpoint = FTPPassiveReply.pasvEndpoint(reply.first) else {
            return fail(
                core.failure(.dataChannel, .unexpectedReply, words: reply.display, detail: "malformed PASV reply"))
        }
        return openDataChannel(host: endpoint.host, port: endpoint.port, command: "PASV")
    }

    private mutating func list(_ reply: CodedReply) -> [DialogAction] {
        if reply.isPreliminary { return [] }
        core.summary.dataChannelReply = reply.display
        // 425, or vsftpd's 522 when the data channel did not resume the control session.
        let failed =
            reply.isPositive ? [] : [core.finding(warning(.dataChannel, "LIST over the data channel failed", reply))]
        return failed + quit()
    }

    /// A transfer given up on may still report its progress (150) and its end (226/426) ahead of the answer to
    /// QUIT: those are recorded, and the dialog waits for the 221.
    mutating func quitting(_ reply: CodedReply) -> [DialogAction] {
        if reply.isPreliminary { return [] }
        if reply.code == 226 || reply.code == 425 || reply.code == 426 {
            core.summary.dataChannelReply = reply.display
            return []
        }
        return complete()
    }

    private mutating func openDataChannel(host: String?, port: Int, command: String) -> [DialogAction] {
        core.summary.dataChannel = DialogSummary.DataChannel(host: host, port: port, command: command)
        state = .awaiting(.dataChannel)
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
