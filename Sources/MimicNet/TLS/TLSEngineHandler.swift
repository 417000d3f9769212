import MimicCore
import MimicTLS
import NIOCore

/// What the TLS handler tells the handlers behind it about the handshake.
public enum TLSHandshakeEvent: Sendable {
    case completed(HandshakeReport)
    case failed(HandshakeReport)
    /// `stopAtServerHello`: the server's TLS 1.3 hello was read and the handshake stopped there (the report has
    /// `endedAtServerHello`); the engine never saw the hello.
    case endedAtServerHello(HandshakeReport)
}

/// Runs a sans-I/O `TLSEngine` inside a SwiftNIO pipeline: ciphertext on the channel side, plaintext behind it.
///
/// Added at the front of the pipeline when a STARTTLS dialog gets its go-ahead (or at connect for implicit TLS),
/// it starts the handshake as soon as the channel is active. Writes made before the handshake completes are
/// held and sent after it; if the handshake fails they are failed, never sent in plaintext.
public final class TLSEngineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case handshaking
        case active
        case closing
        case failed
        case closed
    }

    private let engine: any TLSEngine
    private var state: State = .idle
    private var pendingWrites: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    /// The first bytes the peer sent, kept so that plaintext where TLS was due can be named for what it is.
    public private(set) var firstBytesReceived: [UInt8] = []
    static let firstBytesLimit = 256

    /// Reads the peer's ClientHello from its first bytes, when asked to (a mock that watches its clients).
    private var clientHelloParser: ClientHelloParser?
    /// Reads the server's hello before the engine does, when asked to stop there; nil once decided.
    private var serverHelloReader: ServerHelloReader?
    /// The bytes held back from the engine while `serverHelloReader` decides.
    private var heldForEngine: [UInt8] = []

    /// `observeClientHello`: also read the peer's ClientHello (bounded, see `ClientHelloParser`) for
    /// `clientHelloOutcome()`; off, nothing is parsed. `stopAtServerHello` (a client): read the server's hello
    /// first (`ServerHelloReader`) and, if it is a TLS 1.3 ServerHello, end there with `.endedAtServerHello`
    /// without handing it to the engine; anything else (a HelloRetryRequest, an older version's hello, an alert)
    /// goes to the engine as usual.
    public init(engine: any TLSEngine, observeClientHello: Bool = false, stopAtServerHello: Bool = false) {
        self.engine = engine
        if observeClientHello { clientHelloParser = ClientHelloParser() }
        if stopAtServerHello { serverHelloReader = ServerHelloReader() }
    }

    /// What the peer's first bytes held, when `observeClientHello` was on (nil otherwise): decided once the
    /// ClientHello was whole or malformed, settled as `.unparsed` from what arrived when called before that.
    public func clientHelloOutcome() -> ClientHelloParser.Outcome? {
        guard var parser = clientHelloParser else { return nil }
        let outcome = parser.outcome ?? parser.finish()
        clientHelloParser = parser
        return outcome
    }

    /// The engine's report so far (complete once the handshake event has fired).
    public var report: HandshakeReport { engine.report }

    /// The session to resume on a later connection (the FTPS data channel resumes the control channel's).
    public func sessionForResumption() -> TLSSession? { engine.sessionForResumption() }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startHandshake(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        startHandshake(context: context)
        context.fireChannelActive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        guard let bytes = buffer.readBytes(length: buffer.readableBytes), !bytes.isEmpty else { return }
        if firstBytesReceived.count < Self.firstBytesLimit {
            firstBytesReceived += bytes.prefix(Self.firstBytesLimit - firstBytesReceived.count)
        }
        if clientHelloParser?.outcome == nil { _ = clientHelloParser?.append(bytes) }
        switch state {
        case .failed, .closed:
            return
        case .idle:
            startHandshake(context: context)
        case .handshaking, .active, .closing:
            break
        }
        if var reader = serverHelloReader {
            let outcome = reader.append(bytes)
            serverHelloReader = reader
            heldForEngine += bytes
            switch outcome {
            case .needMoreBytes:
                return
            case .hello(let hello) where hello.version == .tls1_3 && !hello.isHelloRetryRequest:
                endAtServerHello(hello, context: context)
                return
            case .hello, .unread:
                serverHelloReader = nil
                engine.receivedFromNetwork(heldForEngine)
                heldForEngine = []
            }
        } else {
            engine.receivedFromNetwork(bytes)
        }
        if state == .handshaking { advanceHandshake(context: context) }
        if state == .active || state == .closing { deliverPlaintext(context: context) }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let wasHandshaking = state == .handshaking || state == .idle
        if state != .failed && state != .closed {
            // Bytes held back for the hello reader were all there will be: the engine gets them first.
            if serverHelloReader != nil {
                serverHelloReader = nil
                if !heldForEngine.isEmpty { engine.receivedFromNetwork(heldForEngine) }
                heldForEngine = []
            }
            // The engine settles what it already has (a last record, a close_notify) and learns the peer is gone.
            engine.receivedEndOfStream()
            if state == .active || state == .closing { deliverPlaintext(context: context) }
        }
        state = .closed
        failPendingWrites(TLSFailure(.peerClosed, reason: "connection closed"))
        if wasHandshaking {
            var report = engine.report
            if report.failure == nil {
                // Nothing told the engine: the failure is the peer's close, without Mimic's raw code.
                report.failure = TLSFailure(.peerClosed, reason: "the peer closed the connection during the handshake")
            }
            context.fireUserInboundEventTriggered(TLSHandshakeEvent.failed(report))
        }
        context.fireChannelInactive()
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        switch state {
        case .idle, .handshaking:
            pendingWrites.append((buffer, promise))
        case .active:
            encrypt(buffer, context: context, promise: promise)
        case .closing, .failed, .closed:
            promise?.fail(TLSFailure(reason: "TLS session is not open"))
        }
    }

    public func flush(context: ChannelHandlerContext) {
        if state == .active { context.flush() }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, state == .active else {
            context.close(mode: mode, promise: promise)
            return
        }
        // Say close_notify before the socket goes: a peer that sees a bare FIN may report truncation.
        state = .closing
        engine.close()
        flushNetworkOutput(context: context)
        context.close(mode: mode, promise: promise)
    }

    // MARK: - Handshake

    private func startHandshake(context: ChannelHandlerContext) {
        guard state == .idle else { return }
        state = .handshaking
        advanceHandshake(context: context)
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        let step = engine.handshake()
        flushNetworkOutput(context: context)
        switch step {
        case .incomplete:
            return
        case .complete:
            state = .active
            context.fireUserInboundEventTriggered(TLSHandshakeEvent.completed(engine.report))
            let writes = pendingWrites
            pendingWrites = []
            for (buffer, promise) in writes { encrypt(buffer, context: context, promise: promise) }
            if !writes.isEmpty { context.flush() }
            deliverPlaintext(context: context)
        case .failed(let failure):
            state = .failed
            failPendingWrites(failure)
            context.fireUserInboundEventTriggered(TLSHandshakeEvent.failed(engine.report))
            context.close(promise: nil)
        }
    }

    /// The hello told what was asked: report it and stop, the engine none the wiser.
    private func endAtServerHello(_ hello: ServerHelloReader.Hello, context: ChannelHandlerContext) {
        serverHelloReader = nil
        heldForEngine = []
        var report = engine.report
        report.negotiatedVersion = hello.version
        report.cipherSuite = ServerHelloReader.tls13SuiteName(hello.cipherSuite)
        report.keyExchangeGroup = hello.group.map(TLSGroups.name(wireValue:))
        report.endedAtServerHello = true
        state = .closed
        failPendingWrites(TLSFailure(reason: "the handshake was stopped at the server's hello"))
        context.fireUserInboundEventTriggered(TLSHandshakeEvent.endedAtServerHello(report))
        context.close(promise: nil)
    }

    // MARK: - Data

    private func encrypt(_ buffer: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        do {
            try engine.write(plaintext: Array(buffer.readableBytesView))
            let output = engine.takeNetworkOutput()
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: output)), promise: promise)
        } catch {
            promise?.fail(error)
        }
    }

    private func deliverPlaintext(context: ChannelHandlerContext) {
        // Bounded: each read returns what the engine has now; the engine's input is finite.
        var delivered = false
        for _ in 0..<10_000 {
            switch engine.readPlaintext() {
            case .data(let bytes):
                delivered = true
                context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: bytes)))
                continue
            case .wouldBlock:
                break
            case .closed:
                flushNetworkOutput(context: context)
                context.close(promise: nil)
            case .failed(let failure):
                context.fireErrorCaught(failure)
                context.close(promise: nil)
            }
            break
        }
        // Post-handshake messages (TLS 1.3 tickets, key updates) may need an answer.
        flushNetworkOutput(context: context)
        if delivered { context.fireChannelReadComplete() }
    }

    private func flushNetworkOutput(context: ChannelHandlerContext) {
        let output = engine.takeNetworkOutput()
        guard !output.isEmpty else { return }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: output)), promise: nil)
    }

    private func failPendingWrites(_ failure: TLSFailure) {
        let writes = pendingWrites
        pendingWrites = []
        for (_, promise) in writes { promise?.fail(failure) }
    }
}
