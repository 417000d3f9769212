import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Acknowledges every segment at once instead of after Linux's delayed-ACK timer (up to 40 ms).
///
/// A server that leaves Nagle's algorithm on (postfix does) holds a small reply until its previous segment is
/// acknowledged. After a STARTTLS handshake the server's session tickets arrive while the probe, having already
/// written its EHLO, has nothing to send back, so the kernel delays their ACK and the server's 250 waits behind
/// it: about 40 ms that are the network stack's, not the server's. Quick-ack mode is not sticky in Linux, so it is
/// asked for again on every read. It sits in front of the TLS engine, so handshake and ticket records count too.
final class QuickAckHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        #if os(Linux)
        try? context.channel.syncOptions?.setOption(Self.quickAck, value: 1)
        #endif
        context.fireChannelRead(data)
    }

    #if os(Linux)
    private static let quickAck = ChannelOptions.Types.SocketOption(
        level: NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_TCP)),
        name: NIOBSDSocket.Option(rawValue: CInt(TCP_QUICKACK)))
    #endif
}
