import NIOCore

/// Keeps the first bytes the server sent, before any TLS handler sees them, so that an implicit-TLS port that
/// answers in plaintext (`220 …`, `* OK …`) can be named for what it is rather than as a garbled handshake.
final class FirstBytesRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let limit = 256
    private(set) var bytes: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if bytes.count < Self.limit {
            let buffer = unwrapInboundIn(data)
            let take = min(Self.limit - bytes.count, buffer.readableBytes)
            bytes += buffer.getBytes(at: buffer.readerIndex, length: take) ?? []
        }
        context.fireChannelRead(data)
    }

    /// The bytes as text when they look like a plaintext protocol line rather than a TLS record.
    var plaintextLine: String? {
        guard let first = bytes.first else { return nil }
        // A TLS record starts with a content type of 20…24; protocol greetings start with a printable character.
        guard first >= 0x20, first < 0x7F else { return nil }
        let line = bytes.prefix { $0 != 0x0D && $0 != 0x0A }
        guard line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        return String(decoding: line, as: UTF8.self)
    }
}
