import MimicCore

/// One cipher suite a backend can put in a ClientHello, and how to offer exactly it (enumeration).
public struct TLSSuiteCandidate: Sendable, Hashable, Codable {
    public var backend: TLSBackend
    /// The IANA code point (`0x002F`), the one name both libraries share.
    public var code: UInt16
    /// The library's own name: OpenSSL's `AES128-SHA`, GnuTLS's `TLS_RSA_AES_128_CBC_SHA1`.
    public var libraryName: String
    /// The IANA name where the library knows it (OpenSSL does), else the library's name.
    public var name: String
    /// The versions the suite can be negotiated at.
    public var minimumVersion: MimicTLSVersion
    public var maximumVersion: MimicTLSVersion
    /// OpenSSL: the name for `cipherList` (TLS 1.2 and below) or `cipherSuites` (TLS 1.3). GnuTLS: the priority
    /// keywords of its cipher, MAC and key exchange, in that order (`["AES-128-CBC", "SHA1", "RSA"]`; TLS 1.3
    /// suites have no key exchange keyword).
    public var offer: [String]

    /// `0x002F`.
    public var codeText: String {
        let hex = String(code, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    public func usable(at version: MimicTLSVersion) -> Bool { version >= minimumVersion && version <= maximumVersion }
}

extension TLSBackends {
    /// Every suite `backend` can still offer when asked for everything (OpenSSL at `@SECLEVEL=0`, GnuTLS with
    /// `%COMPAT`), PSK and SRP left out (they need credentials a probe does not have). Debian's OpenSSL 3.0 has
    /// no RC4 or 3DES; GnuTLS 3.7 still has both.
    public static func offerableSuites(_ backend: TLSBackend) -> [TLSSuiteCandidate] {
        switch backend {
        case .openssl: OpenSSLSuiteTable.candidates
        case .gnutls: GnuTLSSuiteTable.candidates
        }
    }
}

/// Key-exchange groups by their IANA names, with each library's spelling.
public enum TLSGroups {
    /// The groups enumeration tries, in the order it reports them. ffdhe6144 and ffdhe8192 are left out: each
    /// costs both ends a key generation of a second or more on a busy machine, and no server offers only them.
    public static let known = [
        "x25519", "secp256r1", "secp384r1", "secp521r1", "x448", "ffdhe2048", "ffdhe3072", "ffdhe4096",
    ]

    /// OpenSSL's `SSL_CTX_set1_groups_list` name.
    static func openSSLName(_ name: String) -> String {
        switch name.lowercased() {
        case "secp256r1": "P-256"
        case "secp384r1": "P-384"
        case "secp521r1": "P-521"
        case "x25519": "X25519"
        case "x448": "X448"
        default: name
        }
    }

    /// The IANA name of a group's code point (RFC 8446 §4.2.7, RFC 7919), as `known` spells it: `x25519` for 0x001d;
    /// `group_0x…` for a code point without one here.
    public static func name(wireValue: UInt16) -> String {
        knownName(wireValue: wireValue) ?? "group_0x" + String(wireValue, radix: 16)
    }

    private static func knownName(wireValue: UInt16) -> String? {
        switch wireValue {
        case 0x0017: "secp256r1"
        case 0x0018: "secp384r1"
        case 0x0019: "secp521r1"
        case 0x001D: "x25519"
        case 0x001E: "x448"
        case 0x0100: "ffdhe2048"
        case 0x0101: "ffdhe3072"
        case 0x0102: "ffdhe4096"
        case 0x0103: "ffdhe6144"
        case 0x0104: "ffdhe8192"
        default: nil
        }
    }

    /// GnuTLS's priority keyword: `GROUP-X25519`.
    public static func gnuTLSKeyword(_ name: String) -> String { "GROUP-" + name.uppercased() }
}

/// What an IANA suite name says about the suite, judged the same way for every backend.
public enum TLSSuiteTraits {
    /// Why the suite is broken (RC4, 3DES, DES, NULL, EXPORT, anonymous, MD5 MAC), or nil.
    public static func weakness(_ ianaName: String) -> String? {
        let name = ianaName.uppercased()
        if name.contains("_ANON_") { return "anonymous (no server authentication)" }
        if name.contains("EXPORT") { return "EXPORT-grade" }
        if name.contains("_NULL_") || name.hasSuffix("_NULL") { return "NULL encryption" }
        if name.contains("_RC4_") { return "RC4" }
        if name.contains("_3DES_") { return "3DES (Sweet32)" }
        if name.contains("_DES_") || name.contains("_DES40_") { return "DES" }
        if name.hasSuffix("_MD5") { return "MD5 MAC" }
        return nil
    }

    /// Whether the key exchange is ephemeral: every TLS 1.3 suite, and (EC)DHE ones. Static RSA, static DH/ECDH
    /// and PSK are not. Anonymous DH is ephemeral (and broken for another reason).
    public static func isForwardSecret(_ ianaName: String) -> Bool {
        let name = ianaName.uppercased()
        guard let with = name.range(of: "_WITH_") else { return true }  // TLS 1.3: TLS_AES_128_GCM_SHA256
        let exchange = name[name.index(name.startIndex, offsetBy: 4)..<with.lowerBound]
        return exchange.hasPrefix("ECDHE") || exchange.hasPrefix("DHE") || exchange.hasSuffix("_ANON")
    }
}
