import Foundation
import MimicCore
import MimicDialogs
import MimicTLS
import MimicVerdict
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

/// Drives one client dialog over one connection: executes the actions of its ``ProbeConnectionStateMachine``,
/// inserts the TLS engine at the front of the pipeline at the upgrade, enforces a deadline per phase and one
/// overall, and never writes anything after a failed upgrade.
final class ProbeConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: ProbeConnectionStateMachine
    private let deadlines: ProbeDeadlines
    private let makeEngine: @Sendable (TLSSession?) throws(TLSFailure) -> any TLSEngine
    /// Opens an FTP data channel to (the control peer's address, or the target's host when the socket does not
    /// say, port).
    private let openDataChannel:
        @Sendable (String?, Int, TLSSession?, any EventLoop) -> EventLoopFuture<DataChannelResult>
    private let promise: EventLoopPromise<ProbeOutcome>
    private let connectStarted: NIODeadline

    private var timings: [ProbeReport.Timing] = []
    private var phaseStarted: NIODeadline = .now()
    private var phaseTimer: DeadlineTimer?
    private var overallTimer: DeadlineTimer?
    private var tlsHandler: TLSEngineHandler?
    private var pendingDataChannel: EventLoopFuture<DataChannelResult>?
    /// Set by `.finish`: actions still queued behind it (a write after a handshake failed re-entrantly, say) are
    /// dropped.
    private var finished = false
    /// A session to offer in the handshake (the resumption check's second connection); nil for a full handshake.
    private let resumeSession: TLSSession?
    /// End the handshake at a TLS 1.3 server's hello (``ProbeOptions/stopAtServerHello``).
    private let stopAtServerHello: Bool

    init(
        dialog: any ClientDialog,
        mode: TLSMode,
        deadlines: ProbeDeadlines,
        promise: EventLoopPromise<ProbeOutcome>,
        connectStarted: NIODeadline,
        makeEngine: @escaping @Sendable (TLSSession?) throws(TLSFailure) -> any TLSEngine,
        openDataChannel:
            @escaping @Sendable (String?, Int, TLSSession?, any EventLoop) -> EventLoopFuture<DataChannelResult>,
        resumeSession: TLSSession? = nil,
        stopAtServerHello: Bool = false
    ) {
        self.resumeSession = resumeSession
        self.stopAtServerHello = stopAtServerHello
        self.machine = ProbeConnectionStateMachine(dialog: dialog, mode: mode)
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

    private func begin(context: ChannelHandlerContext) {
        guard machine.phase == .connect else { return }
        phaseStarted = .now()
        timings.append(
            ProbeReport.Timing(phase: .connect, milliseconds: Double((phaseStarted - connectStarted).nanoseconds) / 1e6)
        )
        perform(machine.connected(peer: context.channel.remoteAddress?.ipAddress), context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        perform(machine.received(bytes), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? TLSHandshakeEvent, !machine.isFinished else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch event {
        case .completed(let report):
            perform(machine.handshakeCompleted(report), context: context)
        case .failed(let report):
            perform(machine.handshakeFailed(report, firstBytes: tlsHandler?.firstBytesReceived ?? []), context: context)
        case .endedAtServerHello(let report):
            perform(machine.handshakeEndedAtServerHello(report), context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        perform(machine.closed(), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let described: ProbeConnectionStateMachine.ConnectionError =
            if let failure = error as? TLSFailure {
                .tls(failure)
            } else if Prober.errnoCodes(error).contains(ECONNRESET) {
                .reset("\(error)")
            } else {
                .other("\(error)")
            }
        perform(machine.errorCaught(described), context: context)
    }

    // MARK: - Actions

    private func perform(_ actions: [ProbeConnectionStateMachine.Action], context: ChannelHandlerContext) {
        for action in actions {
            guard !finished else { return }
            switch action {
            case .entered(let from, _):
                let now = NIODeadline.now()
                if from != .connect {
                    timings.append(
                        ProbeReport.Timing(phase: from, milliseconds: Double((now - phaseStarted).nanoseconds) / 1e6))
                }
                phaseStarted = now
                restartPhaseTimer(context: context)
            case .restartPhaseTimer:
                restartPhaseTimer(context: context)
            case .write(let bytes):
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            case .startTLS:
                startTLS(context: context)
            case .openDataChannel(let host, let port):
                openDataChannel(host: host, port: port, context: context)
            case .finish:
                finish(context: context)
            }
        }
    }

    private func startTLS(context: ChannelHandlerContext) {
        do {
            let engine = try makeEngine(resumeSession)
            let handler = TLSEngineHandler(engine: engine, stopAtServerHello: stopAtServerHello)
            tlsHandler = handler
            restartPhaseTimer(context: context)
            // In front of the dialog (behind only the socket-level quick-ack), so that from now on every byte in
            // either direction is TLS.
            try context.pipeline.syncOperations.addHandler(handler, position: .before(self))
        } catch {
            perform(machine.tlsSetUpFailed(error), context: context)
        }
    }

    private func openDataChannel(host: String?, port: Int, context: ChannelHandlerContext) {
        let future = openDataChannel(host, port, tlsHandler?.sessionForResumption(), context.eventLoop)
        pendingDataChannel = future
        future.hop(to: context.eventLoop).assumeIsolated().whenComplete { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(let data):
                self.perform(
                    self.machine.dataChannelEnded(handshake: data.handshake, failure: data.failure), context: context)
            case .failure(let error):
                self.perform(self.machine.dataChannelError("\(error)"), context: context)
            }
        }
    }

    // MARK: - Deadlines

    private func restartPhaseTimer(context: ChannelHandlerContext) {
        phaseTimer?.cancel()
        let phase = machine.phase
        let limit = TimeAmount.milliseconds(
            Int64((phase == .handshake ? deadlines.handshake : deadlines.reply) * 1000))
        phaseTimer = DeadlineTimer(on: context.eventLoop, in: limit) { [weak self] in
            self?.timedOut(context: context, what: "\(phase) (\(Self.seconds(limit)) without an answer)")
        }
    }

    private func timedOut(context: ChannelHandlerContext, what: String) {
        perform(machine.timedOut(what, handshake: tlsHandler?.report), context: context)
    }

    private func finish(context: ChannelHandlerContext) {
        finished = true
        phaseTimer?.cancel()
        overallTimer?.cancel()
        let now = NIODeadline.now()
        timings.append(
            ProbeReport.Timing(phase: machine.phase, milliseconds: Double((now - phaseStarted).nanoseconds) / 1e6))
        var result = machine.outcome
        result.timings = timings
        if result.handshake == nil, let report = tlsHandler?.report, report.completed || report.failure != nil {
            result.handshake = report
        }
        if result.handshake?.completed == true { result.session = tlsHandler?.sessionForResumption() }
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
