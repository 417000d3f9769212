import MimicCore

/// What a client offered in its ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2), as a mock observes it: the
/// name it asked for, the versions, suites and ALPN protocols it offered. GREASE values (RFC 8701) are left out:
/// they are noise, not offers.
public struct TLSClientHello: Sendable, Hashable, Codable {
    /// `legacy_version`: the highest version a pre-1.3 client offers; 0x0303 from every TLS 1.3 client.
    public var legacyVersion: UInt16
    /// The `supported_versions` extension (43), in the client's order; empty when the client sent none.
    public var supportedVersions: [UInt16]
    /// `cipher_suites`, IANA code points in the client's order.
    public var cipherSuites: [UInt16]
    /// The `server_name` extension's host_name (RFC 6066 §3); nil when the client sent none.
    public var serverName: String?
    /// The `application_layer_protocol_negotiation` extension (RFC 7301), in the client's order.
    public var alpn: [String]
    /// Every extension type, in the client's order.
    public var extensions: [UInt16]

    public init(
        legacyVersion: UInt16,
        supportedVersions: [UInt16] = [],
        cipherSuites: [UInt16] = [],
        serverName: String? = nil,
        alpn: [String] = [],
        extensions: [UInt16] = []
    ) {
        self.legacyVersion = legacyVersion
        self.supportedVersions = supportedVersions
        self.cipherSuites = cipherSuites
        self.serverName = serverName
        self.alpn = alpn
        self.extensions = extensions
    }

    /// The versions offered: `supported_versions` when sent, else `legacy_version` alone (the highest a pre-1.3
    /// client offers; what it would accept below it is not on the wire). `1.0` … `1.3`; anything else as
    /// `0x0300`.
    public var offeredVersions: [String] {
        let versions = supportedVersions.isEmpty ? [legacyVersion] : supportedVersions
        return versions.map(Self.versionName)
    }

    /// The suites offered as IANA code points: `0x1301`.
    public var offeredCipherSuites: [String] { cipherSuites.map(hex16) }

    static func versionName(_ value: UInt16) -> String {
        MimicTLSVersion(wireValue: value)?.rawValue ?? hex16(value)
    }

    /// RFC 8701: 0x0A0A, 0x1A1A, … 0xFAFA.
    static func isGREASE(_ value: UInt16) -> Bool {
        value & 0x0F0F == 0x0A0A && value >> 8 == value & 0xFF
    }
}

/// `0x1301`: four lower-case hex digits.
func hex16(_ value: UInt16) -> String {
    "0x" + Hex.word(value)
}
