import Foundation
import MimicCore
import MimicDialogs
import MimicTLS
import NIOCore

/// Drives one connection's `ServerDialog`: feeds it every byte read (decrypted once TLS is up) and performs the
/// actions it returns, in order — writes, delays on the event loop, phases for the fault handler, the STARTTLS
/// insertion of the TLS handler, the close, and the FTP data channel.
///
/// The last handler of the pipeline; confined to the channel's event loop. Every wait it starts has a deadline:
/// greeting delays are capped, the idle timeout closes a connection silent both ways, the connection's lifetime
/// closes it whatever it is doing, data transfers time out.
///
/// A connection beyond the server's limit gets the same pipeline with the refusal dialog (the protocol's "too many
/// connections", after the handshake on an implicit-TLS port), no faults, no observer, and the refusal lifetime.
///
/// With an observer configured it also keeps who closed the connection and, through the TLS handler, the
/// client's ClientHello, and hands the `ClientObservation` to the observer once, when the connection closes.
final class MockConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let setup: MockConnectionSetup
    private let faultHandler: NetworkFaultHandler
    /// Phases with a `stall` fault. A stall is a black hole: once in such a phase the connection never leaves it,
    /// or the held greeting would go out as soon as the dialog moved on to the next phase.
    private let stallPhases: Set<FaultPhase>
    private var dialog: any ServerDialog
    private var context: ChannelHandlerContext?
    private var started = false
    private var tlsInserted: Bool
    private var closed = false
    private var bytesReceived = 0
    private var delayTask: Scheduled<Void>?
    private var lifetimeTask: Scheduled<Void>?
    private var idleTask: Scheduled<Void>?
    /// The last byte the dialog received or sent (or the handshake's end): the idle clock starts there.
    private var lastActivity = NIODeadline.now()
    /// A connection beyond the limit, being refused.
    private let refusing: Bool
    private var listeners: [Int: MockDataListener] = [:]
    /// The control connection's handshake, once it ended (for a requireResumption check and for diagnostics).
    private(set) var handshake: HandshakeReport?

    // Observation: only kept when the configuration has an observer.
    private let sequence: Int
    private let startedAt: Date
    private var peerAddress: String?
    private var tlsHandler: TLSEngineHandler?
    private var closedBy: ClientObservation.Closer?
    private var observed = false
    private var observing: Bool { !refusing && setup.configuration.observer != nil }

    /// Builds the pipeline of an accepted connection: faults, TLS when it starts at once, the dialog.
    /// `refusing`: the connection is beyond the limit and gets the refusal dialog.
    static func install(
        on channel: any Channel,
        setup: MockConnectionSetup,
        sequence: Int = 0,
        refusing: Bool = false
    ) throws {
        let faultHandler = NetworkFaultHandler(
            faults: refusing ? [] : setup.configuration.faults,
            initialPhase: setup.tlsFirst ? .handshake : .greeting
        )
        let handler = MockConnectionHandler(
            setup: setup,
            faultHandler: faultHandler,
            sequence: sequence,
            refusing: refusing
        )
        var handlers: [any ChannelHandler] = [faultHandler]
        if setup.tlsFirst, let tls = setup.controlTLS {
            let tlsHandler = TLSEngineHandler(engine: try tls.makeEngine(), observeClientHello: handler.observing)
            handler.tlsHandler = tlsHandler
            handlers.append(tlsHandler)
        }
        handlers.append(handler)
        try channel.pipeline.syncOperations.addHandlers(handlers)
    }

    private init(setup: MockConnectionSetup, faultHandler: NetworkFaultHandler, sequence: Int, refusing: Bool) {
        self.setup = setup
        self.sequence = sequence
        self.refusing = refusing
        self.startedAt = Date()
        self.faultHandler = faultHandler
        self.stallPhases =
            refusing ? [] : Set(setup.configuration.faults.filter { $0.kind == .stall }.map(\.phase))
        self.dialog = ServerDialogs.make(
            for: setup.configuration.serviceProtocol,
            configuration: refusing ? setup.refusalDialogConfiguration : setup.dialogConfiguration
        )
        self.tlsInserted = setup.tlsFirst && setup.controlTLS != nil
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if observing { peerAddress = context.channel.remoteAddress.map(Self.display) }
        if context.channel.isActive { begin(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        report()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        begin(context: context)
        context.fireChannelActive()
    }

    private func begin(context: ChannelHandlerContext) {
        guard lifetimeTask == nil, !closed else { return }
        let lifetime = Self.timeAmount(seconds: refusing ? setup.refusalLifetime : setup.lifetime)
        lifetimeTask = context.eventLoop.assumeIsolated().scheduleTask(in: lifetime) { [weak self] in
            self?.forceClose()
        }
        noteActivity()
        scheduleIdleCheck(in: Self.timeAmount(seconds: setup.idleTimeout), context: context)
        // Without TLS first the server speaks first; otherwise the greeting waits for the handshake.
        if !tlsInserted { startDialog() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        if closedBy == nil { closedBy = setup.registry.isStopping ? .serverStopped : .client }
        perform(dialog.closed())
        tearDown()
        report()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS record failure after the handshake, a fault's overflow: nothing to say to this peer any more.
        // A socket error is the peer's doing (a reset); anything else the server's decision.
        if closedBy == nil, context.channel.isActive { closedBy = error is IOError ? .client : .server }
        context.close(promise: nil)
    }

    /// Hands the observation to the observer, once.
    private func report() {
        guard let observer = setup.configuration.observer, !observed else { return }
        observed = true
        var hello: TLSClientHello?
        var helloSeen = false
        switch tlsHandler?.clientHelloOutcome() {
        case .parsed(let parsed)?:
            hello = parsed
            helloSeen = true
        case .unparsed(_, let looksLikeTLS)?:
            helloSeen = looksLikeTLS
        case .needMoreBytes?, nil:
            break
        }
        observer(
            ClientObservation(
                sequence: sequence,
                serviceProtocol: setup.configuration.serviceProtocol,
                mode: setup.configuration.mode,
                peerAddress: peerAddress,
                started: startedAt,
                ended: Date(),
                clientHelloSeen: helloSeen,
                clientHello: hello,
                handshakeCompleted: handshake?.completed ?? false,
                negotiatedVersion: handshake?.completed == true ? handshake?.negotiatedVersion : nil,
                dialog: dialog.observation,
                closedBy: closedBy ?? .server
            )
        )
    }

    /// `127.0.0.1:50123`, `[::1]:50123`.
    private static func display(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "?"
        let port = address.port.map { ":\($0)" } ?? ""
        return (host.contains(":") ? "[\(host)]" : host) + port
    }

    private func tearDown() {
        delayTask?.cancel()
        delayTask = nil
        lifetimeTask?.cancel()
        lifetimeTask = nil
        idleTask?.cancel()
        idleTask = nil
        let open = listeners.values
        listeners = [:]
        for listener in open { listener.close() }
    }

    private func noteActivity() {
        lastActivity = .now()
    }

    /// Closes the connection once it has been silent both ways for the idle timeout. One timer per connection,
    /// re-armed for the time left rather than on every byte. A greeting delay running is the server's own
    /// silence: the client is not idle then.
    private func scheduleIdleCheck(in wait: TimeAmount, context: ChannelHandlerContext) {
        idleTask = context.eventLoop.assumeIsolated().scheduleTask(in: wait) { [weak self] in
            guard let self, !self.closed, let context = self.context else { return }
            let idle = Self.timeAmount(seconds: self.setup.idleTimeout)
            if self.delayTask != nil { self.noteActivity() }
            let due = self.lastActivity + idle
            if due <= .now() {
                self.forceClose()
            } else {
                self.scheduleIdleCheck(in: due - .now(), context: context)
            }
        }
    }

    /// Closes now, even behind writes a fault holds back (the lifetime is up, or the peer sent too much).
    private func forceClose() {
        guard let context else { return }
        if closedBy == nil { closedBy = .limit }
        context.close(promise: nil)
        context.close(promise: nil)
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        let buffer = unwrapInboundIn(data)
        bytesReceived += buffer.readableBytes
        noteActivity()
        guard bytesReceived <= setup.configuration.limits.maxBytesReceived else {
            forceClose()
            return
        }
        perform(dialog.received(Array(buffer.readableBytesView)))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? TLSHandshakeEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch event {
        case .completed(let report):
            handshake = report
            noteActivity()
            guard !closed else { return }
            if started {
                enterFaultPhase(.postTLS)
                perform(dialog.tlsEstablished())
            } else {
                // Implicit TLS (or a STARTTLS port speaking TLS): the dialog starts behind the handshake and
                // moves the fault phase to the greeting itself.
                startDialog()
            }
        case .failed(let report):
            handshake = report
            // The peer gone or its alert ended the handshake; otherwise this server's engine did.
            if closedBy == nil {
                closedBy = !context.channel.isActive || report.alertReceived != nil ? .client : .server
            }
            // The TLS handler has sent what the engine had (an alert, or the part of a flight a cut allows) and
            // closes the connection; nothing more goes out from here.
            closed = true
            context.close(promise: nil)
        case .endedAtServerHello:
            break  // a client's stop; a mock's handler is never asked for it
        }
    }

    private func startDialog() {
        guard !started else { return }
        started = true
        perform(dialog.start())
    }

    // MARK: - Actions

    private func perform(_ actions: [ServerAction]) {
        for action in actions {
            guard let context else { return }
            switch action {
            case .send(let bytes):
                guard !closed else { continue }
                noteActivity()
                context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            case .delay(let milliseconds):
                scheduleDelay(milliseconds: milliseconds, context: context)
            case .enterPhase(let phase):
                if let faultPhase = FaultPhase(phase) { enterFaultPhase(faultPhase) }
            case .startTLS:
                startTLS(context: context)
            case .listenForData(let id, let tls):
                listen(id: id, tls: tls, context: context)
            case .transferData(let id, let bytes):
                transfer(id: id, bytes: bytes)
            case .closeDataListener(let id):
                listeners.removeValue(forKey: id)?.close()
            case .close:
                guard !closed else { continue }
                closed = true
                if closedBy == nil { closedBy = .server }
                context.close(promise: nil)
            }
        }
    }

    private func enterFaultPhase(_ phase: FaultPhase) {
        guard !stallPhases.contains(faultHandler.phase) else { return }
        faultHandler.enter(phase)
    }

    private func scheduleDelay(milliseconds: Int, context: ChannelHandlerContext) {
        delayTask?.cancel()
        // Bounded like every fault; the connection lifetime cuts it shorter still.
        let wait = Int64(min(max(0, milliseconds), NetworkFault.maximumMilliseconds))
        delayTask = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(wait)) { [weak self] in
            guard let self, !self.closed else { return }
            self.delayTask = nil
            self.perform(self.dialog.delayElapsed())
        }
    }

    private func startTLS(context: ChannelHandlerContext) {
        guard !closed, !tlsInserted else { return }
        guard let tls = setup.controlTLS else {
            // A dialog asked for TLS on a server without any: nothing sensible follows.
            closed = true
            context.close(promise: nil)
            return
        }
        do {
            let handler = TLSEngineHandler(engine: try tls.makeEngine(), observeClientHello: observing)
            tlsHandler = handler
            enterFaultPhase(.handshake)
            try context.pipeline.syncOperations.addHandler(handler, position: .after(faultHandler))
            tlsInserted = true
        } catch {
            closed = true
            context.close(promise: nil)
        }
    }

    // MARK: - FTP data channel

    private func listen(id: Int, tls: Bool, context: ChannelHandlerContext) {
        listeners.removeValue(forKey: id)?.close()
        let tlsContext = tls ? setup.dataTLS : nil
        if tls && tlsContext == nil {
            perform(dialog.dataListenerFailed())
            return
        }
        let listener = MockDataListener(
            id: id,
            tls: tlsContext,
            requireResumption: setup.dialogConfiguration.ftp.dataChannel == .requireResumption,
            timeout: Self.timeAmount(seconds: setup.configuration.limits.dataConnectionTimeout),
            registry: setup.registry
        )
        listeners[id] = listener
        listener.open(host: setup.configuration.host, eventLoop: context.eventLoop) { [weak self] port in
            guard let self, !self.closed, self.listeners[id] === listener else {
                listener.close()
                return
            }
            if let port {
                self.perform(self.dialog.dataListenerReady(port: port))
            } else {
                self.listeners[id] = nil
                self.perform(self.dialog.dataListenerFailed())
            }
        }
    }

    private func transfer(id: Int, bytes: [UInt8]) {
        guard let listener = listeners[id] else {
            perform(dialog.dataTransferFinished(.noConnection))
            return
        }
        listener.transfer(bytes) { [weak self] outcome in
            guard let self else { return }
            if self.listeners[id] === listener { self.listeners[id] = nil }
            listener.close()
            guard !self.closed else { return }
            self.perform(self.dialog.dataTransferFinished(outcome))
        }
    }

    static func timeAmount(seconds: Double) -> TimeAmount {
        // Bounded both ways: no negative wait, none beyond the faults' ten-minute cap.
        let capped = min(max(0, seconds.isFinite ? seconds : 0), Double(NetworkFault.maximumMilliseconds) / 1000)
        return .nanoseconds(Int64(capped * 1_000_000_000))
    }
}
