/// A handshake message that could not be read, and why.
struct TLSMalformed: Error {
    var reason: String
}

/// The first handshake message of a peer's first bytes, reassembled from consecutive handshake records; what the
/// hello readers (``ClientHelloParser``, ``ServerHelloReader``) share. Nothing here is trusted: every length is
/// checked against what arrived and against `maxBytes`.
enum HandshakeRecords {
    enum Assembled: Sendable, Hashable {
        case needMoreBytes
        /// The message's body, without its four-byte header.
        case message([UInt8])
        case malformed(String)
    }

    ///     struct { ContentType type; ProtocolVersion legacy_record_version; uint16 length;
    ///              opaque fragment[TLSPlaintext.length]; } TLSPlaintext;
    ///
    /// `bytes` are all the bytes so far (the caller holds at most `maxBytes`; `overflowed` says more came).
    static func firstMessage(
        _ bytes: [UInt8], type: UInt8, name: String, overflowed: Bool, maxBytes: Int
    ) -> Assembled {
        var handshake: [UInt8] = []
        var offset = 0
        while bytes.count - offset >= 5 {
            guard bytes[offset] == 0x16, bytes[offset + 1] == 0x03 else {
                return .malformed("a record other than handshake before the \(name) ended")
            }
            let length = Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
            guard length > 0, length <= 1 << 14 else { return .malformed("record length \(length)") }
            guard bytes.count - offset - 5 >= length else { break }
            handshake += bytes[(offset + 5)..<(offset + 5 + length)]
            offset += 5 + length
            // The handshake header says how much is wanted: stop as soon as the message is whole.
            if handshake.count >= 4 {
                guard handshake[0] == type else {
                    return .malformed("handshake type \(handshake[0]), not \(name)")
                }
                let wanted = 4 + (Int(handshake[1]) << 16 | Int(handshake[2]) << 8 | Int(handshake[3]))
                if handshake.count >= wanted { return .message(Array(handshake[4..<wanted])) }
                guard wanted <= maxBytes else { return .malformed("\(name) of \(wanted) bytes is over the bound") }
            }
        }
        if overflowed || bytes.count >= maxBytes {
            return .malformed("over \(maxBytes) bytes without a whole \(name)")
        }
        return .needMoreBytes
    }
}

/// Reads big-endian integers and length-prefixed vectors; never past the end.
struct TLSByteReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func uint8(_ field: String) throws(TLSMalformed) -> UInt8 {
        guard remaining >= 1 else { throw TLSMalformed(reason: "truncated \(field)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint16(_ field: String) throws(TLSMalformed) -> UInt16 {
        guard remaining >= 2 else { throw TLSMalformed(reason: "truncated \(field)") }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func bytes(_ count: Int, _ field: String) throws(TLSMalformed) -> [UInt8] {
        guard remaining >= count else { throw TLSMalformed(reason: "truncated \(field)") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func skip(_ count: Int, _ field: String) throws(TLSMalformed) {
        guard remaining >= count else { throw TLSMalformed(reason: "truncated \(field)") }
        offset += count
    }

    mutating func vector(lengthBytes: Int, max: Int, _ field: String) throws(TLSMalformed) -> [UInt8] {
        var length = 0
        for _ in 0..<lengthBytes { length = length << 8 | Int(try uint8("\(field) length")) }
        guard length <= max else { throw TLSMalformed(reason: "\(field) length \(length) over \(max)") }
        guard remaining >= length else { throw TLSMalformed(reason: "truncated \(field)") }
        defer { offset += length }
        return Array(bytes[offset..<(offset + length)])
    }
}

extension TLSByteReader {
    /// The rest of a hello: its extensions block, each extension handed to `body` with its data, in order. RFC 8446
    /// §4.2: no extension type twice; nothing may follow the block.
    mutating func eachExtension(_ body: (UInt16, [UInt8]) throws(TLSMalformed) -> Void) throws(TLSMalformed) {
        var extensions = TLSByteReader(try vector(lengthBytes: 2, max: 0xFFFF, "extensions"))
        guard remaining == 0 else { throw TLSMalformed(reason: "bytes after the extensions") }
        var seen: Set<UInt16> = []
        while extensions.remaining > 0 {
            let type = try extensions.uint16("extension type")
            let data = try extensions.vector(lengthBytes: 2, max: 0xFFFF, "extension data")
            guard seen.insert(type).inserted else { throw TLSMalformed(reason: "extension \(type) twice") }
            try body(type, data)
        }
    }
}
