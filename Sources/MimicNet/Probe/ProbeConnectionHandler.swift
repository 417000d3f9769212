import Foundation
import MimicCore
import MimicDialogs
import MimicTLS
import NIOCore

/// What one connection of a probe ended with, before the verdict is worked out.
struct ProbeOutcome {
    var summary: DialogSummary?
    var failure: DialogFailure?
    var findings: [Finding] = []
    var transcript: Transcript = Transcript()
    var handshake: HandshakeReport?
    var handshakeFailed = false
    var dataChannel: HandshakeReport?
    var timings: [ProbeReport.Timing] = []
    /// The first bytes that arrived where the handshake was due (plaintext there means a mode mix-up or a server
    /// that said go ahead and went on in plaintext).
    var bytesWhereTLSWasDue: [UInt8] = []
    /// TLS arrived where the plaintext dialog was due: a STARTTLS port that speaks implicit TLS.
    var tlsWherePlaintextWasDue = false
    var networkFailure: Finding?
    /// The session the handshake established, for a later connection to offer (the resumption check).
    var session: TLSSession?
}

/// Drives one client dialog over one connection: executes the dialog's actions, inserts the TLS engine at the
/// front of the pipeline at the upgrade, enforces a deadline per phase and one overall, and never writes
/// anything after a failed upgrade.
final class ProbeConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var dialog: any ClientDialog
    private let mode: TLSMode
    private let deadlines: ProbeDeadlines
    private let makeEngine: @Sendable (TLSSession?) throws(TLSFailure) -> any TLSEngine
    /// Opens an FTP data channel to (the control peer's address, or the target's host when the socket does not
    /// say, port).
    private let openDataChannel:
        @Sendable (String?, Int, TLSSession?, any EventLoop) -> EventLoopFuture<DataChannelResult>
    private let promise: EventLoopPromise<ProbeOutcome>
    private let connectStarted: NIODeadline

    private var outcome = ProbeOutcome()
    private var phase: Phase = .connect
    private var phaseStarted: NIODeadline = .now()
    private var phaseTimer: DeadlineTimer?
    private var overallTimer: DeadlineTimer?
    private var tlsHandler: TLSEngineHandler?
    private var pendingDataChannel: EventLoopFuture<DataChannelResult>?
    private var finished = false
    /// A session to offer in the handshake (the resumption check's second connection); nil for a full handshake.
    private let resumeSession: TLSSession?

    init(
        dialog: any ClientDialog,
        mode: TLSMode,
        deadlines: ProbeDeadlines,
        promise: EventLoopPromise<ProbeOutcome>,
        connectStarted: NIODeadline,
        makeEngine: @escaping @Sendable (TLSSession?) throws(TLSFailure) -> any TLSEngine,
        openDataChannel:
            @escaping @Sendable (String?, Int, TLSSession?, any EventLoop) -> EventLoopFuture<DataChannelResult>,
        resumeSession: TLSSession? = nil
    ) {
        self.resumeSession = resumeSession
        self.dialog = dialog
        self.mode = mode
        self.deadlines = deadlines
        self.promise = promise
        self.connectStarted = connectStarted
        self.makeEngine = makeEngine
        self.openDataChannel = openDataChannel
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let overall = TimeAmount.milliseconds(Int64(deadlines.overall * 1000))
        overallTimer = DeadlineTimer(on: context.eventLoop, in: overall) { [weak self] in
            self?.timedOut(context: context, what: "the whole probe (\(Self.seconds(overall)))")
        }
        if context.channel.isActive { begin(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        begin(context: context)
        context.fireChannelActive()
    }

    private var begun = false
    private var receivedPlaintext = false

    private func begin(context: ChannelHandlerContext) {
        guard !begun else { return }
        begun = true
        phaseStarted = .now()
        outcome.timings.append(
            ProbeReport.Timing(phase: .connect, milliseconds: Double((phaseStarted - connectStarted).nanoseconds) / 1e6)
        )
        switch mode {
        case .implicit:
            enter(.handshake, context: context)
            startTLS(context: context, session: resumeSession)
        case .startTLS, .none:
            enter(.greeting, context: context)
            perform(dialog.start(), context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        if phase == .greeting || phase == .capabilities || phase == .postTLS || phase == .upgrade {
            restartPhaseTimer(context: context)
        }
        if tlsHandler == nil, !receivedPlaintext, PeerBytes.classify(bytes) == .tlsRecord {
            // The server's very first bytes, before any upgrade, are TLS (an LDAP StartTLS port answering the
            // ExtendedRequest with an alert, say).
            outcome.tlsWherePlaintextWasDue = true
            finish(context: context)
            return
        }
        receivedPlaintext = receivedPlaintext || tlsHandler == nil
        perform(dialog.received(bytes), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? TLSHandshakeEvent, !finished else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch event {
        case .completed(let report):
            outcome.handshake = report
            enter(.postTLS, context: context)
            switch mode {
            case .implicit: perform(dialog.start(), context: context)
            case .startTLS, .none: perform(dialog.tlsEstablished(), context: context)
            }
        case .failed(let report):
            outcome.handshake = report
            outcome.handshakeFailed = true
            outcome.bytesWhereTLSWasDue = tlsHandler?.firstBytesReceived ?? []
            finish(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            perform(dialog.closed(), context: context)
            if !finished {
                outcome.networkFailure = Finding(.closed, phase: phase, evidence: "the server closed the connection")
                finish(context: context)
            }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !finished else { return }
        if let failure = error as? TLSFailure {
            outcome.findings.append(Finding(.handshakeFailure, phase: phase, evidence: failure.description))
        } else if Prober.errnoCodes(error).contains(ECONNRESET) {
            outcome.networkFailure = Finding(.reset, phase: phase, evidence: "\(error)")
        } else {
            outcome.networkFailure = Finding(.closed, phase: phase, evidence: "\(error)")
        }
        finish(context: context)
    }

    // MARK: - Actions

    private func perform(_ actions: [DialogAction], context: ChannelHandlerContext) {
        for action in actions {
            guard !finished else { return }
            switch action {
            case .send(let bytes):
                if phase == .greeting { enter(.capabilities, context: context) }
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
                restartPhaseTimer(context: context)
            case .startTLS(let leftover):
                // The dialog reports injection itself; a non-empty leftover here must still never reach TLS.
                guard leftover.isEmpty else {
                    outcome.findings.append(
                        Finding(
                            .plaintextInjection, phase: .upgrade, evidence: "\(leftover.count) bytes after the go-ahead"
                        ))
                    finish(context: context)
                    return
                }
                enter(.handshake, context: context)
                startTLS(context: context, session: resumeSession)
            case .openDataChannel(let announced, let port):
                enter(.dataChannel, context: context)
                // Only the port comes from the server: the data channel goes where the control connection went,
                // whatever address a PASV reply named (a peer must never steer the probe to another host).
                let peer = context.channel.remoteAddress?.ipAddress
                if let mismatch = FTPDataChannelAddress.mismatch(announced: announced, controlPeer: peer) {
                    outcome.findings.append(mismatch)
                }
                let future = openDataChannel(peer, port, tlsHandler?.sessionForResumption(), context.eventLoop)
                pendingDataChannel = future
                future.hop(to: context.eventLoop).assumeIsolated().whenComplete { [weak self] result in
                    guard let self, !self.finished else { return }
                    switch result {
                    case .success(let data):
                        self.outcome.dataChannel = data.handshake
                        if data.handshake == nil, let failure = data.failure {
                            // No TCP connection at all: without this the data channel would go unreported.
                            self.outcome.findings.append(
                                Finding(.refused, phase: .dataChannel, evidence: failure, source: "dialog"))
                        }
                        if let failure = data.failure {
                            self.perform(self.dialog.dataChannelFailed(failure), context: context)
                        }
                    case .failure(let error):
                        self.perform(self.dialog.dataChannelFailed("\(error)"), context: context)
                    }
                }
                // The server accepts the data connection and starts its TLS only once it has the transfer
                // command (vsftpd): ask for the listing as soon as the TCP connection is up.
                perform(dialog.dataChannelOpened(), context: context)
            case .finding(let finding):
                outcome.findings.append(finding)
            case .completed(let summary):
                outcome.summary = summary
                outcome.transcript = summary.transcript
                finish(context: context)
            case .failed(let failure):
                outcome.failure = failure
                outcome.transcript = failure.transcript
                finish(context: context)
            }
        }
    }

    private func startTLS(context: ChannelHandlerContext, session: TLSSession?) {
        do {
            let engine = try makeEngine(session)
            let handler = TLSEngineHandler(engine: engine)
            tlsHandler = handler
            let timeout = TimeAmount.milliseconds(Int64(deadlines.handshake * 1000))
            restartPhaseTimer(context: context, timeout: timeout)
            // In front of the dialog (behind only the socket-level quick-ack), so that from now on every byte in
            // either direction is TLS.
            try context.pipeline.syncOperations.addHandler(handler, position: .before(self))
        } catch {
            outcome.findings.append(Finding(.handshakeFailure, phase: .handshake, evidence: "\(error)"))
            finish(context: context)
        }
    }

    // MARK: - Phases and deadlines

    private func enter(_ next: Phase, context: ChannelHandlerContext) {
        guard next != phase else { return }
        let now = NIODeadline.now()
        if phase != .connect {
            outcome.timings.append(
                ProbeReport.Timing(phase: phase, milliseconds: Double((now - phaseStarted).nanoseconds) / 1e6))
        }
        phase = next
        phaseStarted = now
        restartPhaseTimer(context: context)
    }

    private func restartPhaseTimer(context: ChannelHandlerContext, timeout: TimeAmount? = nil) {
        phaseTimer?.cancel()
        let limit =
            timeout ?? .milliseconds(Int64((phase == .handshake ? deadlines.handshake : deadlines.reply) * 1000))
        phaseTimer = DeadlineTimer(on: context.eventLoop, in: limit) { [weak self] in
            guard let self else { return }
            self.timedOut(context: context, what: "\(self.phase) (\(Self.seconds(limit)) without an answer)")
        }
    }

    private func timedOut(context: ChannelHandlerContext, what: String) {
        guard !finished else { return }
        outcome.networkFailure = Finding(.timeout, phase: phase, evidence: "deadline passed in \(what)")
        outcome.transcript = dialog.transcript
        if phase == .handshake, let report = tlsHandler?.report {
            outcome.handshake = report
            outcome.handshakeFailed = true
        }
        finish(context: context)
    }

    private func finish(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        phaseTimer?.cancel()
        overallTimer?.cancel()
        let now = NIODeadline.now()
        outcome.timings.append(
            ProbeReport.Timing(phase: phase, milliseconds: Double((now - phaseStarted).nanoseconds) / 1e6))
        if outcome.transcript.entries.isEmpty { outcome.transcript = dialog.transcript }
        if outcome.handshake == nil, let report = tlsHandler?.report, report.completed || report.failure != nil {
            outcome.handshake = report
        }
        if outcome.handshake?.completed == true { outcome.session = tlsHandler?.sessionForResumption() }
        let result = outcome
        let promise = self.promise
        let close = { context.close(promise: nil) }
        if let pending = pendingDataChannel {
            // Let the data channel report its handshake before the verdict is made; it has its own deadline.
            pending.hop(to: context.eventLoop).assumeIsolated().whenComplete { dataResult in
                var final = result
                if case .success(let data) = dataResult { final.dataChannel = data.handshake ?? final.dataChannel }
                promise.succeed(final)
            }
            close()
        } else {
            close()
            promise.succeed(result)
        }
    }

    static func seconds(_ amount: TimeAmount) -> String {
        let value = Double(amount.nanoseconds) / 1e9
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
