import MimicCore
import MimicTLS
import NIOCore

/// How an FTP data channel went.
struct DataChannelResult: Sendable {
    var handshake: HandshakeReport?
    var failure: String?
    var bytes: Int
}

/// Reads an FTP data channel to its end over TLS: records the handshake, counts (and discards) the listing,
/// and reports when the server closes it or the deadline passes.
final class DataChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// The listing is read only to be counted; a server sending more than this is cut off.
    static let byteLimit = 1 << 20

    private let promise: EventLoopPromise<DataChannelResult>
    private let tls: TLSEngineHandler
    private let deadline: TimeAmount
    private var timer: DeadlineTimer?
    private var result = DataChannelResult(handshake: nil, failure: nil, bytes: 0)
    private var done = false

    init(promise: EventLoopPromise<DataChannelResult>, tls: TLSEngineHandler, deadline: TimeAmount) {
        self.promise = promise
        self.tls = tls
        self.deadline = deadline
    }

    func handlerAdded(context: ChannelHandlerContext) {
        timer = DeadlineTimer(on: context.eventLoop, in: deadline) { [weak self] in
            self?.complete(
                context: context,
                failure: "data channel: no end within \(ProbeConnectionHandler.seconds(self?.deadline ?? .zero))")
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        result.bytes += unwrapInboundIn(data).readableBytes
        if result.bytes > Self.byteLimit { complete(context: context, failure: "data channel: more than 1 MiB") }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? TLSHandshakeEvent else { return }
        switch event {
        case .completed(let report):
            result.handshake = report
        case .failed(let report):
            result.handshake = report
            complete(context: context, failure: "data channel handshake failed: \(report.failure?.description ?? "")")
        case .endedAtServerHello(let report):  // not asked of a data channel; ended all the same
            result.handshake = report
            complete(context: context, failure: "data channel handshake stopped at the server's hello")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(
            context: context, failure: result.handshake?.completed == true ? nil : "data channel closed before TLS")
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        complete(context: context, failure: "data channel: \(error)")
    }

    private func complete(context: ChannelHandlerContext, failure: String?) {
        guard !done else { return }
        done = true
        timer?.cancel()
        if result.handshake == nil { result.handshake = tls.report }
        result.failure = failure
        promise.succeed(result)
        context.close(promise: nil)
    }
}
