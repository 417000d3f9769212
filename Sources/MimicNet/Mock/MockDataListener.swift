import MimicCore
import MimicDialogs
import MimicTLS
import NIOCore
import NIOPosix

/// One FTP passive-mode listener and the one data connection it accepts.
///
/// It listens on the control connection's host, port 0, on the control connection's event loop (so the listener,
/// its connection and the control handler share one loop and need no locks). The first connection is kept and
/// the listening socket closed, as vsftpd does; with TLS the handshake starts as soon as it is accepted (clients
/// send their ClientHello right after connecting, before or after LIST). A transfer waits for that connection and
/// handshake up to a deadline, writes the bytes, closes (close_notify first), and reports how it ended. Every
/// transfer ends, whatever the peer does: the control channel's final reply waits for it.
final class MockDataListener {
    private enum Connection {
        case none
        /// Plaintext, accepted but not active yet: nothing can be written before it is.
        case accepted(any Channel)
        case handshaking(any Channel)
        case ready(any Channel)
        /// The bytes are being written and the connection closed; its end is no failure.
        case sending(any Channel)
        case failed
    }

    let id: Int
    private let tls: (any TLSContext)?
    private let requireResumption: Bool
    private let timeout: TimeAmount
    private let registry: MockChannelRegistry

    private var eventLoop: (any EventLoop)?
    private var listenerChannel: (any Channel)?
    private var connection: Connection = .none
    private var pending: (bytes: [UInt8], completion: (DataTransferOutcome) -> Void)?
    private var deadline: Scheduled<Void>?
    private var closed = false
    /// The data connection's handshake, once it ended.
    private(set) var handshake: HandshakeReport?

    init(id: Int, tls: (any TLSContext)?, requireResumption: Bool, timeout: TimeAmount, registry: MockChannelRegistry) {
        self.id = id
        self.tls = tls
        self.requireResumption = requireResumption
        self.timeout = timeout
        self.registry = registry
    }

    /// Binds `host`:0 and calls `ready` on `eventLoop` with the port, or nil when it cannot listen.
    func open(host: String, eventLoop: any EventLoop, ready: @escaping (Int?) -> Void) {
        self.eventLoop = eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let bootstrap = ServerBootstrap(group: eventLoop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.backlog, value: 4)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // The group is the control connection's loop, so the child is on it too.
                channel.eventLoop.makeCompletedFuture {
                    try bound.value.accept(channel)
                }
            }
        bootstrap.bind(host: host, port: 0).hop(to: eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                guard !self.closed, self.registry.track(channel), let port = channel.localAddress?.port else {
                    channel.close(promise: nil)
                    ready(nil)
                    return
                }
                self.listenerChannel = channel
                ready(port)
            case .failure:
                ready(nil)
            }
        }
    }

    /// Sets up the accepted data connection; every connection after the first is refused.
    private func accept(_ channel: any Channel) throws {
        guard !closed, case .none = connection, registry.track(channel) else {
            throw MockServerError(description: "one data connection per listener")
        }
        let handler = MockDataConnectionHandler(listener: self)
        if let tls {
            connection = .handshaking(channel)
            let engine = try tls.makeEngine()
            try channel.pipeline.syncOperations.addHandlers([TLSEngineHandler(engine: engine), handler])
        } else {
            // Ready once active (`connectionActive`), which also sends a transfer asked for meanwhile: a client
            // may send LIST before this accept runs.
            connection = .accepted(channel)
            try channel.pipeline.syncOperations.addHandler(handler)
        }
    }

    /// Writes `bytes` on the data connection once it is ready, closes it, and calls `completion` (once) with how
    /// it ended: `.noConnection` when none came within the deadline, `.connectionFailed` when one came but its
    /// handshake did not end within it, failed, or the connection ended before the bytes went out.
    func transfer(_ bytes: [UInt8], completion: @escaping (DataTransferOutcome) -> Void) {
        guard !closed, pending == nil else {
            completion(.noConnection)
            return
        }
        pending = (bytes, completion)
        switch connection {
        case .ready(let channel):
            send(on: channel)
        case .failed, .sending:
            finish(.connectionFailed)
        case .none, .accepted, .handshaking:
            guard let eventLoop else {
                finish(.noConnection)
                return
            }
            deadline = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
                self?.deadlinePassed()
            }
        }
    }

    /// Drops the listener, its connection and any transfer in progress (its completion is not called).
    func close() {
        guard !closed else { return }
        closed = true
        pending = nil
        deadline?.cancel()
        deadline = nil
        listenerChannel?.close(promise: nil)
        listenerChannel = nil
        switch connection {
        case .accepted(let channel), .handshaking(let channel), .ready(let channel), .sending(let channel):
            channel.close(promise: nil)
        case .none, .failed:
            break
        }
        connection = .failed
    }

    // MARK: - Events from the data connection

    /// The data connection is registered and active: nobody else gets in. (Not earlier: closing the listener
    /// while its accept is being set up would drop the accepted connection.)
    func connectionActive() {
        listenerChannel?.close(promise: nil)
        listenerChannel = nil
        guard case .accepted(let channel) = connection else { return }
        connection = .ready(channel)
        if pending != nil { send(on: channel) }
    }

    func handshakeCompleted(_ report: HandshakeReport, channel: any Channel) {
        handshake = report
        guard case .handshaking = connection else { return }
        if requireResumption && !report.sessionResumed {
            // vsftpd's require_ssl_reuse: a data connection that did not resume the control session is dropped.
            connection = .failed
            channel.close(promise: nil)
            if pending != nil { finish(.connectionFailed) }
            return
        }
        connection = .ready(channel)
        if pending != nil { send(on: channel) }
    }

    func handshakeFailed(_ report: HandshakeReport) {
        handshake = report
        connectionEnded()
    }

    func connectionEnded() {
        switch connection {
        case .none, .accepted, .handshaking, .ready:
            connection = .failed
            if pending != nil { finish(.connectionFailed) }
        case .sending, .failed:
            break
        }
    }

    private func send(on channel: any Channel) {
        guard let (bytes, _) = pending else { return }
        deadline?.cancel()
        deadline = nil
        connection = .sending(channel)
        let buffer = channel.allocator.buffer(bytes: bytes)
        channel.writeAndFlush(buffer).assumeIsolated().whenComplete { [weak self] result in
            switch result {
            case .success:
                // The close (with close_notify) ends the listing; the 226 goes out once it is done.
                channel.close().assumeIsolated().whenComplete { _ in self?.finish(.sent) }
            case .failure:
                channel.close(promise: nil)
                self?.finish(.connectionFailed)
            }
        }
    }

    /// The transfer's deadline: whatever state the connection is in, the transfer ends now (and the connection
    /// with it, so that a late handshake cannot send the bytes after the final reply).
    private func deadlinePassed() {
        deadline = nil
        let outcome: DataTransferOutcome
        switch connection {
        case .none:
            outcome = .noConnection
        case .accepted(let channel), .handshaking(let channel), .ready(let channel):
            connection = .failed
            channel.close(promise: nil)
            outcome = .connectionFailed
        case .sending, .failed:
            outcome = .connectionFailed
        }
        finish(outcome)
    }

    private func finish(_ outcome: DataTransferOutcome) {
        deadline?.cancel()
        deadline = nil
        guard let (_, completion) = pending else { return }
        pending = nil
        completion(outcome)
    }
}

/// The data connection's last handler: reports the handshake to its listener and discards what the client
/// sends (nothing, in a listing).
final class MockDataConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private weak var listener: MockDataListener?

    init(listener: MockDataListener) {
        self.listener = listener
    }

    func channelActive(context: ChannelHandlerContext) {
        listener?.connectionActive()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? TLSHandshakeEvent else { return }
        switch event {
        case .completed(let report): listener?.handshakeCompleted(report, channel: context.channel)
        case .failed(let report): listener?.handshakeFailed(report)
        case .endedAtServerHello: break  // a client's stop; a mock's handler is never asked for it
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        listener?.connectionEnded()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
