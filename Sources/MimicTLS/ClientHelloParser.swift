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

    /// Reassembles the handshake message from consecutive handshake records (``HandshakeRecords``), then reads it.
    private static func parse(_ bytes: [UInt8], overflowed: Bool) -> Outcome {
        let looksLikeTLS = looksLikeTLS(bytes)
        guard looksLikeTLS else {
            return bytes.isEmpty ? .needMoreBytes : .unparsed(reason: "not a TLS handshake record", looksLikeTLS: false)
        }
        switch HandshakeRecords.firstMessage(
            bytes, type: 0x01, name: "ClientHello", overflowed: overflowed, maxBytes: maxBytes)
        {
        case .needMoreBytes:
            return .needMoreBytes
        case .malformed(let reason):
            return .unparsed(reason: reason, looksLikeTLS: true)
        case .message(let body):
            do {
                return .parsed(try clientHello(body))
            } catch {
                return .unparsed(reason: error.reason, looksLikeTLS: true)
            }
        }
    }

    ///     struct { ProtocolVersion legacy_version; Random random; opaque legacy_session_id<0..32>;
    ///              CipherSuite cipher_suites<2..2^16-2>; opaque legacy_compression_methods<1..2^8-1>;
    ///              Extension extensions<8..2^16-1>; } ClientHello;
    ///
    /// Extensions are optional before TLS 1.3 (RFC 5246 §7.4.1.2): a hello may end after the compression methods.
    private static func clientHello(_ body: [UInt8]) throws(TLSMalformed) -> TLSClientHello {
        var reader = TLSByteReader(body)
        let legacyVersion = try reader.uint16("legacy_version")
        try reader.skip(32, "random")
        _ = try reader.vector(lengthBytes: 1, max: 32, "legacy_session_id")
        var suites = TLSByteReader(try reader.vector(lengthBytes: 2, max: 0xFFFE, "cipher_suites"))
        guard suites.remaining > 0, suites.remaining % 2 == 0 else {
            throw TLSMalformed(reason: "cipher_suites length")
        }
        var cipherSuites: [UInt16] = []
        while suites.remaining > 0 {
            let suite = try suites.uint16("cipher suite")
            if !TLSClientHello.isGREASE(suite) { cipherSuites.append(suite) }
        }
        let compression = try reader.vector(lengthBytes: 1, max: 0xFF, "legacy_compression_methods")
        guard !compression.isEmpty else { throw TLSMalformed(reason: "no compression method") }
        var hello = TLSClientHello(legacyVersion: legacyVersion, cipherSuites: cipherSuites)
        guard reader.remaining > 0 else { return hello }
        try reader.eachExtension { (type, data) throws(TLSMalformed) in
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
    private static func serverName(_ data: [UInt8]) throws(TLSMalformed) -> String? {
        var reader = TLSByteReader(data)
        var list = TLSByteReader(try reader.vector(lengthBytes: 2, max: 0xFFFF, "server_name_list"))
        guard reader.remaining == 0 else { throw TLSMalformed(reason: "bytes after server_name_list") }
        var name: String?
        while list.remaining > 0 {
            let type = try list.uint8("name_type")
            let value = try list.vector(lengthBytes: 2, max: 0xFFFF, "HostName")
            guard type == 0, name == nil else { continue }
            // RFC 6066 §3: ASCII, no trailing dot; anything else is kept readable, never trusted.
            guard !value.isEmpty, value.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw TLSMalformed(reason: "host_name is not printable ASCII")
            }
            name = String(decoding: value, as: UTF8.self)
        }
        return name
    }

    ///     opaque ProtocolName<1..2^8-1>;
    ///     struct { ProtocolName protocol_name_list<2..2^16-1> } ProtocolNameList;
    private static func alpn(_ data: [UInt8]) throws(TLSMalformed) -> [String] {
        var reader = TLSByteReader(data)
        var list = TLSByteReader(try reader.vector(lengthBytes: 2, max: 0xFFFF, "protocol_name_list"))
        guard reader.remaining == 0 else { throw TLSMalformed(reason: "bytes after protocol_name_list") }
        var names: [String] = []
        while list.remaining > 0 {
            let name = try list.vector(lengthBytes: 1, max: 0xFF, "ProtocolName")
            guard !name.isEmpty else { throw TLSMalformed(reason: "empty ProtocolName") }
            // Printable names as they are; anything else (GREASE ALPN is binary) in hex.
            names.append(
                name.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
                    ? String(decoding: name, as: UTF8.self) : "0x" + Hex.string(name, uppercase: false)
            )
        }
        return names
    }

    ///     struct { ProtocolVersion versions<2..254>; } SupportedVersions;  (in a ClientHello)
    private static func supportedVersions(_ data: [UInt8]) throws(TLSMalformed) -> [UInt16] {
        var reader = TLSByteReader(data)
        var list = TLSByteReader(try reader.vector(lengthBytes: 1, max: 254, "supported_versions"))
        guard reader.remaining == 0, list.remaining >= 2, list.remaining % 2 == 0 else {
            throw TLSMalformed(reason: "supported_versions length")
        }
        var versions: [UInt16] = []
        while list.remaining > 0 {
            let version = try list.uint16("version")
            if !TLSClientHello.isGREASE(version) { versions.append(version) }
        }
        return versions
    }
}
