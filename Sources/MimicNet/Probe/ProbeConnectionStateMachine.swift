import MimicCore
import MimicDialogs
import MimicTLS
import MimicVerdict

/// One probe connection without the channel: it runs the client dialog, decides when TLS goes in and when the
/// connection is done, and collects the outcome. Each event returns what the handler must do; the handler owns
/// the socket, the clock and the timers, and only switches on the actions.
struct ProbeConnectionStateMachine {
    enum Action: Equatable {
        /// The probe moved from one phase to the next: close the old phase's timing, restart the phase deadline.
        case entered(from: Phase, to: Phase)
        /// A reply or a command: the phase's deadline starts again.
        case restartPhaseTimer
        case write([UInt8])
        /// Put the client engine in front of everything: from now on every byte either way is TLS.
        case startTLS
        /// Connect the FTP data channel to `host` (the control connection's peer, never an address the server
        /// named) and hand-shake on it.
        case openDataChannel(host: String?, port: Int)
        /// The connection is over: report `outcome` and close.
        case finish
    }

    private enum State {
        case waitingForConnection
        /// Before TLS; `heardFromServer` once plaintext arrived (TLS then is no longer a mode mix-up).
        case plaintext(heardFromServer: Bool)
        case tls
        case finished
    }

    private var state = State.waitingForConnection
    private var dialog: any ClientDialog
    private let mode: TLSMode
    private var controlPeer: String?
    private(set) var phase: Phase = .connect
    private(set) var outcome = ProbeOutcome()

    init(dialog: any ClientDialog, mode: TLSMode) {
        self.dialog = dialog
        self.mode = mode
    }

    var isFinished: Bool {
        if case .finished = state { true } else { false }
    }

    /// Whether the client engine was asked for.
    var isTLS: Bool {
        if case .tls = state { true } else { false }
    }

    /// The transcript so far, for a connection that ends by a deadline.
    var transcript: Transcript { dialog.transcript }

    // MARK: - Events

    /// The TCP connection is up; `peer` is its remote address.
    mutating func connected(peer: String?) -> [Action] {
        guard case .waitingForConnection = state else { return [] }
        controlPeer = peer
        state = .plaintext(heardFromServer: false)
        switch mode {
        case .implicit:
            return enter(.handshake) + startTLS()
        case .startTLS, .none:
            return enter(.greeting) + perform(dialog.start())
        }
    }

    mutating func received(_ bytes: [UInt8]) -> [Action] {
        var actions: [Action] = []
        switch state {
        case .waitingForConnection, .finished:
            return []
        case .plaintext(heardFromServer: false) where PeerBytes.classify(bytes) == .tlsRecord:
            // The server's very first bytes, before any upgrade, are TLS (an LDAP StartTLS port answering the
            // ExtendedRequest with an alert, say).
            outcome.tlsWherePlaintextWasDue = true
            return finish()
        case .plaintext:
            state = .plaintext(heardFromServer: true)
        case .tls:
            break
        }
        if [.greeting, .capabilities, .postTLS, .upgrade].contains(phase) { actions.append(.restartPhaseTimer) }
        return actions + perform(dialog.received(bytes))
    }

    mutating func handshakeCompleted(_ report: HandshakeReport) -> [Action] {
        guard !isFinished else { return [] }
        outcome.handshake = report
        let entered = enter(.postTLS)
        switch mode {
        case .implicit: return entered + perform(dialog.start())
        case .startTLS, .none: return entered + perform(dialog.tlsEstablished())
        }
    }

    /// The handshake was stopped at the server's hello, as asked (enumeration): its report is the outcome, and
    /// nothing follows it.
    mutating func handshakeEndedAtServerHello(_ report: HandshakeReport) -> [Action] {
        guard !isFinished else { return [] }
        outcome.handshake = report
        return finish()
    }

    mutating func handshakeFailed(_ report: HandshakeReport, firstBytes: [UInt8]) -> [Action] {
        guard !isFinished else { return [] }
        outcome.handshake = report
        outcome.handshakeFailed = true
        outcome.bytesWhereTLSWasDue = firstBytes
        return finish()
    }

    /// The client engine could not be made or put in place.
    mutating func tlsSetUpFailed(_ error: any Error) -> [Action] {
        guard !isFinished else { return [] }
        outcome.findings.append(Finding(.handshakeFailure, phase: .handshake, evidence: "\(error)"))
        return finish()
    }

    /// The server closed the connection: the dialog's expected end, or a failure in the phase it came in.
    mutating func closed() -> [Action] {
        guard !isFinished else { return [] }
        let actions = perform(dialog.closed())
        guard !isFinished else { return actions }
        outcome.networkFailure = Finding(.closed, phase: phase, evidence: "the server closed the connection")
        return actions + finish()
    }

    /// What went wrong on the connection, as the channel reported it.
    enum ConnectionError {
        case tls(TLSFailure)
        case reset(String)
        case other(String)
    }

    mutating func errorCaught(_ error: ConnectionError) -> [Action] {
        guard !isFinished else { return [] }
        switch error {
        case .tls(let failure):
            outcome.findings.append(Finding(.handshakeFailure, phase: phase, evidence: failure.description))
        case .reset(let evidence):
            outcome.networkFailure = Finding(.reset, phase: phase, evidence: evidence)
        case .other(let evidence):
            outcome.networkFailure = Finding(.closed, phase: phase, evidence: evidence)
        }
        return finish()
    }

    /// A deadline passed; `handshake` is the engine's report when one was put in.
    mutating func timedOut(_ what: String, handshake: HandshakeReport?) -> [Action] {
        guard !isFinished else { return [] }
        outcome.networkFailure = Finding(.timeout, phase: phase, evidence: "deadline passed in \(what)")
        outcome.transcript = dialog.transcript
        if phase == .handshake, let handshake {
            outcome.handshake = handshake
            outcome.handshakeFailed = true
        }
        return finish()
    }

    /// The data channel ended: its handshake (if it got that far), and why it failed (if it did).
    mutating func dataChannelEnded(handshake: HandshakeReport?, failure: String?) -> [Action] {
        guard !isFinished else { return [] }
        outcome.dataChannel = handshake
        if handshake == nil, let failure {
            // No TCP connection at all: without this the data channel would go unreported.
            outcome.findings.append(Finding(.refused, phase: .dataChannel, evidence: failure, source: "dialog"))
        }
        guard let failure else { return [] }
        return perform(dialog.dataChannelFailed(failure))
    }

    /// The data channel could not even be tried.
    mutating func dataChannelError(_ error: String) -> [Action] {
        guard !isFinished else { return [] }
        return perform(dialog.dataChannelFailed(error))
    }

    // MARK: - The dialog's actions

    private mutating func perform(_ dialogActions: [DialogAction]) -> [Action] {
        var actions: [Action] = []
        for action in dialogActions {
            guard !isFinished else { break }
            switch action {
            case .send(let bytes):
                if phase == .greeting { actions += enter(.capabilities) }
                actions += [.write(bytes), .restartPhaseTimer]
            case .startTLS(let leftover):
                // The dialog reports injection itself; a non-empty leftover here must still never reach TLS.
                guard leftover.isEmpty else {
                    outcome.findings.append(
                        Finding(
                            .plaintextInjection, phase: .upgrade, evidence: "\(leftover.count) bytes after the go-ahead"
                        ))
                    return actions + finish()
                }
                actions += enter(.handshake) + startTLS()
            case .openDataChannel(let announced, let port):
                actions += enter(.dataChannel)
                // Only the port comes from the server: the data channel goes where the control connection went,
                // whatever address a PASV reply named (a peer must never steer the probe to another host).
                if let mismatch = FTPDataChannelAddress.mismatch(announced: announced, controlPeer: controlPeer) {
                    outcome.findings.append(mismatch)
                }
                actions.append(.openDataChannel(host: controlPeer, port: port))
                // The server accepts the data connection and starts its TLS only once it has the transfer
                // command (vsftpd): ask for the listing as soon as the TCP connection is up.
                actions += perform(dialog.dataChannelOpened())
            case .finding(let finding):
                outcome.findings.append(finding)
            case .completed(let summary):
                outcome.summary = summary
                outcome.transcript = summary.transcript
                actions += finish()
            case .failed(let failure):
                outcome.failure = failure
                outcome.transcript = failure.transcript
                actions += finish()
            }
        }
        return actions
    }

    private mutating func startTLS() -> [Action] {
        state = .tls
        return [.startTLS]
    }

    private mutating func enter(_ next: Phase) -> [Action] {
        guard next != phase else { return [] }
        defer { phase = next }
        return [.entered(from: phase, to: next)]
    }

    private mutating func finish() -> [Action] {
        state = .finished
        if outcome.transcript.entries.isEmpty { outcome.transcript = dialog.transcript }
        return [.finish]
    }
}
