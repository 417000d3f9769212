import MimicCore
/// A bounded, sans-I/O reader of the first bytes a client sends once TLS is due: it reassembles the ClientHello
/// from its handshake records and reads what the client offered. Pure Swift, no library: it sees the bytes
/// before either engine does, and nothing it reads is trusted — any malformed input is just `.unparsed`.
///
/// Feed it every byte in order with `append(_:)`; it answers `.needMoreBytes` until it has decided, then the
/// same outcome for ever. At most `maxBytes` (one maximal record, RFC 8446 §5.1: 2¹⁴ bytes and its header) are
/// held; a hello that does not fit is `.unparsed`.
public struct ClientHelloParser: Sendable {
    public enum Outcome: Sendable, Hashable {
        case needMoreBytes
        case parsed(TLSClientHello)
        /// Not a ClientHello, or not one this reader accepts; `looksLikeTLS` when the bytes began as a TLS
        /// handshake record (`16 03 xx`), so a ClientHello was seen even if it could not be read.
        case unparsed(reason: String, looksLikeTLS: Bool)
    }

    /// A record header and 2¹⁴ bytes of it.
    public static let maxBytes = 5 + (1 << 14)

    private var buffer: [UInt8] = []
    private var decided: Outcome?

    public init() {}

    /// The outcome once decided, nil while more bytes are needed.
    public var outcome: Outcome? { decided }

    public mutating func append(_ bytes: [UInt8]) -> Outcome {
        if let decided { return decided }
        let room = Self.maxBytes - buffer.count
        buffer += bytes.prefix(room)
        let outcome = Self.parse(buffer, overflowed: bytes.count > room)
        if outcome != .needMoreBytes {
            decided = outcome
            buffer = []
        }
        return outcome
    }

    /// The connection ended (or TLS was abandoned): whatever was buffered is all there will be.
    public mutating func finish() -> Outcome {
        if let decided { return decided }
        let looksLikeTLS = Self.looksLikeTLS(buffer)
        let outcome = Outcome.unparsed(
            reason: buffer.isEmpty ? "no bytes" : "truncated after \(buffer.count) bytes",
            looksLikeTLS: looksLikeTLS
        )
        decided = outcome
        buffer = []
        return outcome
    }

    static func looksLikeTLS(_ bytes: [UInt8]) -> Bool {
        guard let first = bytes.first, first == 0x16 else { return false }
        return bytes.count < 2 || bytes[1] == 0x03
    }

    // MARK: - Parsing

    private struct Malformed: Error {
        var reason: String
    }

    /// Reassembles the handshake message from consecutive handshake records, then reads it.
    ///
    ///     struct { ContentType type; ProtocolVersion legacy_record_version; uint16 length;
    ///              opaque fragment[TLSPlaintext.length]; } TLSPlaintext;
    private static func parse(_ bytes: [UInt8], overflowed: Bool) -> Outcome {
        let looksLikeTLS = looksLikeTLS(bytes)
        guard looksLikeTLS else {
            return bytes.isEmpty ? .needMoreBytes : .unparsed(reason: "not a TLS handshake record", looksLikeTLS: false)
        }
        var handshake: [UInt8] = []
        var offset = 0
        while true {
            guard bytes.count - offset >= 5 else { break }
            guard bytes[offset] == 0x16, bytes[offset + 1] == 0x03 else {
                return .unparsed(
                    reason: "a record other than handshake before the ClientHello ended", looksLikeTLS: true)
            }
            let length = Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
            guard length > 0, length <= 1 << 14 else {
                return .unparsed(reason: "record length \(length)", looksLikeTLS: true)
            }
            guard bytes.count - offset - 5 >= length else { break }
            handshake += bytes[(offset + 5)..<(offset + 5 + length)]
            offset += 5 + length
            // The handshake header says how much is wanted: stop as soon as the message is whole.
            if handshake.count >= 4 {
                guard handshake[0] == 0x01 else {
                    return .unparsed(reason: "handshake type \(handshake[0]), not ClientHello", looksLikeTLS: true)
                }
                let wanted = 4 + (Int(handshake[1]) << 16 | Int(handshake[2]) << 8 | Int(handshake[3]))
                if handshake.count >= wanted {
                    do {
                        return .parsed(try clientHello(Array(handshake[4..<wanted])))
                    } catch {
                        return .unparsed(reason: error.reason, looksLikeTLS: true)
                    }
                }
                guard wanted <= maxBytes else {
                    return .unparsed(reason: "ClientHello of \(wanted) bytes is over the bound", looksLikeTLS: true)
                }
            }
        }
        if overflowed || bytes.count >= maxBytes {
            return .unparsed(reason: "over \(maxBytes) bytes without a whole ClientHello", looksLikeTLS: true)
        }
        return .needMoreBytes
    }

    ///     struct { ProtocolVersion legacy_version; Random random; opaque legacy_session_id<0..32>;
    ///              CipherSuite cipher_suites<2..2^16-2>; opaque legacy_compression_methods<1..2^8-1>;
    ///              Extension extensions<8..2^16-1>; } ClientHello;
    ///
    /// Extensions are optional before TLS 1.3 (RFC 5246 §7.4.1.2): a hello may end after the compression methods.
    private static func clientHello(_ body: [UInt8]) throws(Malformed) -> TLSClientHello {
        var reader = ByteReader(body)
        let legacyVersion = try reader.uint16("legacy_version")
        try reader.skip(32, "random")
        _ = try reader.vector(lengthBytes: 1, max: 32, "legacy_session_id")
        var suites = ByteReader(try reader.vector(lengthBytes: 2, max: 0xFFFE, "cipher_suites"))
        guard suites.remaining > 0, suites.remaining % 2 == 0 else { throw Malformed(reason: "cipher_suites length") }
        var cipherSuites: [UInt16] = []
        while suites.remaining > 0 {
            let suite = try suites.uint16("cipher suite")
            if !TLSClientHello.isGREASE(suite) { cipherSuites.append(suite) }
        }
        let compression = try reader.vector(lengthBytes: 1, max: 0xFF, "legacy_compression_methods")
        guard !compression.isEmpty else { throw Malformed(reason: "no compression method") }
        var hello = TLSClientHello(legacyVersion: legacyVersion, cipherSuites: cipherSuites)
        guard reader.remaining > 0 else { return hello }
        var extensions = ByteReader(try reader.vector(lengthBytes: 2, max: 0xFFFF, "extensions"))
        guard reader.remaining == 0 else { throw Malformed(reason: "bytes after the extensions") }
        var seen: Set<UInt16> = []
        while extensions.remaining > 0 {
            let type = try extensions.uint16("extension type")
            let data = try extensions.vector(lengthBytes: 2, max: 0xFFFF, "extension data")
            // RFC 8446 §4.2: no extension type twice.
            guard seen.insert(type).inserted else { throw Malformed(reason: "extension \(type) twice") }
            hello.extensions.append(type)
            switch type {
            case 0: hello.serverName = try serverName(data)
            case 16: hello.alpn = try alpn(data)
            case 43: hello.supportedVersions = try supportedVersions(data)
            default: break
            }
        }
        return hello
    }

    ///     struct { NameType name_type; select (name_type) { case host_name: HostName; } name; } ServerName;
    ///     struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
    ///
    /// The first host_name; an empty extension (a server's echo) names nothing.
    private static func serverName(_ data: [UInt8]) throws(Malformed) -> String? {
        var reader = ByteReader(data)
        var list = ByteReader(try reader.vector(lengthBytes: 2, max: 0xFFFF, "server_name_list"))
        guard reader.remaining == 0 else { throw Malformed(reason: "bytes after server_name_list") }
        var name: String?
        while list.remaining > 0 {
            let type = try list.uint8("name_type")
            let value = try list.vector(lengthBytes: 2, max: 0xFFFF, "HostName")
            guard type == 0, name == nil else { continue }
            // RFC 6066 §3: ASCII, no trailing dot; anything else is kept readable, never trusted.
            guard !value.isEmpty, value.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw Malformed(reason: "host_name is not printable ASCII")
            }
            name = String(decoding: value, as: UTF8.self)
        }
        return name
    }

    ///     opaque ProtocolName<1..2^8-1>;
    ///     struct { ProtocolName protocol_name_list<2..2^16-1> } ProtocolNameList;
    private static func alpn(_ data: [UInt8]) throws(Malformed) -> [String] {
        var reader = ByteReader(data)
        var list = ByteReader(try reader.vector(lengthBytes: 2, max: 0xFFFF, "protocol_name_list"))
        guard reader.remaining == 0 else { throw Malformed(reason: "bytes after protocol_name_list") }
        var names: [String] = []
        while list.remaining > 0 {
            let name = try list.vector(lengthBytes: 1, max: 0xFF, "ProtocolName")
            guard !name.isEmpty else { throw Malformed(reason: "empty ProtocolName") }
            // Printable names as they are; anything else (GREASE ALPN is binary) in hex.
            names.append(
                name.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
                    ? String(decoding: name, as: UTF8.self) : "0x" + Hex.string(name, uppercase: false)
            )
        }
        return names
    }

    ///     struct { ProtocolVersion versions<2..254>; } SupportedVersions;  (in a ClientHello)
    private static func supportedVersions(_ data: [UInt8]) throws(Malformed) -> [UInt16] {
        var reader = ByteReader(data)
        var list = ByteReader(try reader.vector(lengthBytes: 1, max: 254, "supported_versions"))
        guard reader.remaining == 0, list.remaining >= 2, list.remaining % 2 == 0 else {
            throw Malformed(reason: "supported_versions length")
        }
        var versions: [UInt16] = []
        while list.remaining > 0 {
            let version = try list.uint16("version")
            if !TLSClientHello.isGREASE(version) { versions.append(version) }
        }
        return versions
    }

    /// Reads big-endian integers and length-prefixed vectors; never past the end.
    private struct ByteReader {
        private let bytes: [UInt8]
        private var offset = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var remaining: Int { bytes.count - offset }

        mutating func uint8(_ field: String) throws(Malformed) -> UInt8 {
            guard remaining >= 1 else { throw Malformed(reason: "truncated \(field)") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func uint16(_ field: String) throws(Malformed) -> UInt16 {
            guard remaining >= 2 else { throw Malformed(reason: "truncated \(field)") }
            defer { offset += 2 }
            return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        }

        mutating func skip(_ count: Int, _ field: String) throws(Malformed) {
            guard remaining >= count else { throw Malformed(reason: "truncated \(field)") }
            offset += count
        }

        mutating func vector(lengthBytes: Int, max: Int, _ field: String) throws(Malformed) -> [UInt8] {
            var length = 0
            for _ in 0..<lengthBytes { length = length << 8 | Int(try uint8("\(field) length")) }
            guard length <= max else { throw Malformed(reason: "\(field) length \(length) over \(max)") }
            guard remaining >= length else { throw Malformed(reason: "truncated \(field)") }
            defer { offset += length }
            return Array(bytes[offset..<(offset + length)])
        }
    }
}
