import MimicCore

/// A bounded, sans-I/O reader of a server's first handshake bytes: the ServerHello (or HelloRetryRequest), read
/// before either engine sees it. Enumeration uses it to learn which group a TLS 1.3 server took without the key
/// exchange that follows: the server's choice is in its hello, and the exchange itself (for the finite-field
/// groups, a few modular exponentiations of 2048 to 4096 bits on either side) is most of an enumeration's time.
///
/// Feed it every byte in order with `append(_:)`; it answers `.needMoreBytes` until it has decided, then the same
/// outcome for ever. At most `maxBytes` are held. Nothing it reads is trusted: malformed input is `.unread`.
public struct ServerHelloReader: Sendable {
    /// What a ServerHello says.
    public struct Hello: Sendable, Hashable {
        /// `supported_versions`' selected version, else `legacy_version`; nil for a value no TLS version has.
        public var version: MimicTLSVersion?
        /// IANA code point: `0x1301`.
        public var cipherSuite: UInt16
        /// TLS 1.3: the group of the server's key share, or the group a HelloRetryRequest asks for.
        public var group: UInt16?
        public var isHelloRetryRequest: Bool

        public init(version: MimicTLSVersion?, cipherSuite: UInt16, group: UInt16?, isHelloRetryRequest: Bool) {
            self.version = version
            self.cipherSuite = cipherSuite
            self.group = group
            self.isHelloRetryRequest = isHelloRetryRequest
        }
    }

    public enum Outcome: Sendable, Hashable {
        case needMoreBytes
        case hello(Hello)
        /// Not a ServerHello (an alert, another record, a malformed message): the engine must read it.
        case unread(reason: String)
    }

    /// A record header and 2¹⁴ bytes of it.
    public static let maxBytes = 5 + (1 << 14)

    /// RFC 8446 §4.1.3: a HelloRetryRequest is a ServerHello with this random.
    static let helloRetryRandom: [UInt8] = [
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    ]

    private var buffer: [UInt8] = []
    private var decided: Outcome?

    public init() {}

    public mutating func append(_ bytes: [UInt8]) -> Outcome {
        if let decided { return decided }
        let room = Self.maxBytes - buffer.count
        buffer += bytes.prefix(room)
        let outcome: Outcome
        switch HandshakeRecords.firstMessage(
            buffer, type: 0x02, name: "ServerHello", overflowed: bytes.count > room, maxBytes: Self.maxBytes)
        {
        case .needMoreBytes: outcome = .needMoreBytes
        case .malformed(let reason): outcome = .unread(reason: reason)
        case .message(let body):
            do {
                outcome = .hello(try Self.serverHello(body))
            } catch {
                outcome = .unread(reason: error.reason)
            }
        }
        if outcome != .needMoreBytes {
            decided = outcome
            buffer = []
        }
        return outcome
    }

    ///     struct { ProtocolVersion legacy_version; Random random; opaque legacy_session_id_echo<0..32>;
    ///              CipherSuite cipher_suite; uint8 legacy_compression_method;
    ///              Extension extensions<6..2^16-1>; } ServerHello;
    ///
    /// Extensions are optional before TLS 1.3 (RFC 5246 §7.4.1.3).
    static func serverHello(_ body: [UInt8]) throws(TLSMalformed) -> Hello {
        var reader = TLSByteReader(body)
        let legacyVersion = try reader.uint16("legacy_version")
        let random = try reader.bytes(32, "random")
        _ = try reader.vector(lengthBytes: 1, max: 32, "legacy_session_id_echo")
        let suite = try reader.uint16("cipher_suite")
        _ = try reader.uint8("legacy_compression_method")
        let retry = random == helloRetryRandom
        var hello = Hello(
            version: MimicTLSVersion(wireValue: legacyVersion), cipherSuite: suite, group: nil,
            isHelloRetryRequest: retry)
        guard reader.remaining > 0 else { return hello }
        try reader.eachExtension { (type, bytes) throws(TLSMalformed) in
            var data = TLSByteReader(bytes)
            switch type {
            case 43:  // supported_versions: the selected version
                hello.version = MimicTLSVersion(wireValue: try data.uint16("selected_version"))
            case 51:  // key_share: a KeyShareEntry, or a HelloRetryRequest's selected_group
                hello.group = try data.uint16("key_share group")
                if !retry {
                    guard !(try data.vector(lengthBytes: 2, max: 0xFFFF, "key_exchange")).isEmpty else {
                        throw TLSMalformed(reason: "empty key_exchange")
                    }
                }
            default:
                return
            }
            guard data.remaining == 0 else { throw TLSMalformed(reason: "extension \(type) longer than its content") }
        }
        return hello
    }

    /// IANA names of the TLS 1.3 suites (RFC 8446 §B.4), for a report made from a hello.
    public static func tls13SuiteName(_ code: UInt16) -> String? {
        switch code {
        case 0x1301: "TLS_AES_128_GCM_SHA256"
        case 0x1302: "TLS_AES_256_GCM_SHA384"
        case 0x1303: "TLS_CHACHA20_POLY1305_SHA256"
        case 0x1304: "TLS_AES_128_CCM_SHA256"
        case 0x1305: "TLS_AES_128_CCM_8_SHA256"
        default: nil
        }
    }
}
