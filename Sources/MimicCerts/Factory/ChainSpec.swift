import Foundation

/// A certificate chain to mint: the certificates (each naming its issuer), which of them the server sends and in
/// what order, and which of them a client should trust besides the local CA.
///
/// The served order, omissions and extras are the point: a spec describes a misconfigured server as readily as a
/// good one. Decode it from YAML with Yams' `YAMLDecoder`, or with ``ChainSpec/parse(yaml:file:)`` to get
/// `file:line` in errors.
public struct ChainSpec: Sendable, Hashable {
    /// Every certificate of the chain, in any order; issuers are resolved by name.
    public var certificates: [CertificateSpec]
    /// Names of the certificates the server sends, in the order it sends them (leaf first when well configured).
    /// `local-ca` may appear after the first position (a server that also sends its root).
    public var serve: [String]
    /// Names of certificates in this spec that clients trust as anchors besides the local CA; nil = none.
    public var trust: [String]?

    public init(certificates: [CertificateSpec], serve: [String], trust: [String]? = nil) {
        self.certificates = certificates
        self.serve = serve
        self.trust = trust
    }

    /// The certificate named `name`, if the spec has one.
    public func certificate(named name: String) -> CertificateSpec? {
        certificates.first { $0.name == name }
    }
}

/// One certificate of a ``ChainSpec``.
public struct CertificateSpec: Sendable, Hashable {
    /// The issuer name that means the persistent local CA.
    public static let localCA = "local-ca"

    /// The name other certificates and `serve` refer to; also the key cache's key and the file name when written.
    public var name: String
    /// Another certificate's name, ``CertificateSpec/localCA`` for the local CA, or nil for self-signed.
    public var issuer: String?
    /// The subject; nil means a default (the first SAN for a leaf, a name derived from the chain for a CA).
    public var subject: SubjectSpec?
    /// Subject alternative names; empty means no SAN extension at all.
    public var sans: [SANSpec]
    /// Validity start relative to the factory's reference time.
    public var notBefore: RelativeTime
    /// Validity end relative to the factory's reference time.
    public var notAfter: RelativeTime
    public var key: KeyType
    /// nil means the default for the issuer's key: ecdsa-sha256 for EC issuers, rsa-sha256 for RSA issuers.
    public var signature: SignatureKind?
    public var ca: Bool
    /// BasicConstraints pathLenConstraint; only meaningful (and only allowed) with `ca`.
    public var pathLength: Int?
    /// nil means the default: keyCertSign + cRLSign for a CA, digitalSignature (+ keyEncipherment for RSA) for a
    /// leaf. An empty list means no KeyUsage extension.
    public var keyUsage: [KeyUsageName]?
    /// nil means the default: serverAuth for a leaf, none for a CA. An empty list means no EKU extension.
    public var extendedKeyUsage: [ExtendedKeyUsageName]?
    /// Carry the authorityKeyIdentifier extension (default true; OpenSSL's X509_STRICT requires it).
    public var authorityKeyIdentifier: Bool = true
    /// Carry the subjectKeyIdentifier extension (default true; X509_STRICT requires it on a CA).
    public var subjectKeyIdentifier: Bool = true
    /// basicConstraints critical (the default), non-critical, or left out.
    public var basicConstraints: BasicConstraintsMode = .critical
    /// Mark subjectAltName critical; nil means the RFC 5280 rule (critical exactly when the subject is empty).
    public var sanCritical: Bool?
    /// Another certificate of the spec whose key this one carries too (a cross-signed CA: one subject and key,
    /// two issuers); nil for a key of its own.
    public var sameKeyAs: String?
    /// Ways to break the certificate that no well-behaved issuer produces (see ``Malformation``).
    public var malform: [Malformation] = []

    public init(
        name: String,
        issuer: String? = nil,
        subject: SubjectSpec? = nil,
        sans: [SANSpec] = [],
        notBefore: RelativeTime = .defaultNotBefore,
        notAfter: RelativeTime = .defaultNotAfter,
        key: KeyType = .p256,
        signature: SignatureKind? = nil,
        ca: Bool = false,
        pathLength: Int? = nil,
        keyUsage: [KeyUsageName]? = nil,
        extendedKeyUsage: [ExtendedKeyUsageName]? = nil
    ) {
        self.name = name
        self.issuer = issuer
        self.subject = subject
        self.sans = sans
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.key = key
        self.signature = signature
        self.ca = ca
        self.pathLength = pathLength
        self.keyUsage = keyUsage
        self.extendedKeyUsage = extendedKeyUsage
    }

    /// True when the certificate signs itself.
    public var isSelfSigned: Bool { issuer == nil || issuer == name }
}

/// A certificate subject. Either part may be missing: a certificate without a common name is a case to test.
public struct SubjectSpec: Sendable, Hashable {
    public var commonName: String?
    public var organization: String?

    public init(commonName: String? = nil, organization: String? = nil) {
        self.commonName = commonName
        self.organization = organization
    }
}

/// One subject alternative name, written `dns:NAME` or `ip:ADDRESS` in a spec.
public enum SANSpec: Sendable, Hashable, CustomStringConvertible {
    case dns(String)
    /// The address as written; its bytes come from ``SANSpec/ipAddressBytes``.
    case ip(String)

    /// Parses `dns:mail.example.test`, `dns:*.example.test`, `ip:127.0.0.1`, `ip:::1`.
    public init?(_ text: String) {
        if text.hasPrefix("dns:") {
            let name = String(text.dropFirst(4))
            guard !name.isEmpty, name.count <= 253, name.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
                return nil
            }
            self = .dns(name)
        } else if text.hasPrefix("ip:") {
            let address = String(text.dropFirst(3))
            guard IPAddress.parse(address) != nil else { return nil }
            self = .ip(address)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .dns(let name): "dns:\(name)"
        case .ip(let address): "ip:\(address)"
        }
    }

    /// The value a client compares with the hostname (the DNS name or the address text).
    public var value: String {
        switch self {
        case .dns(let name): name
        case .ip(let address): address
        }
    }
}

/// A signed offset from the factory's reference time: `-30d`, `+90d`, `-2h`, `+1y` (s, m, h, d, w, y; a year is
/// 365 days). Dates relative to a reference time keep minted chains valid (or expired) whenever they are made.
public struct RelativeTime: Sendable, Hashable, CustomStringConvertible {
    public static let defaultNotBefore = RelativeTime(seconds: -86_400)
    public static let defaultNotAfter = RelativeTime(seconds: 90 * 86_400)

    public var seconds: Int
    /// An instant instead of an offset (`2026-11-30T12:00:00Z`), for a chain captured with its dates as they were.
    public var absolute: Date?

    public init(seconds: Int) {
        self.seconds = seconds
    }

    public init(absolute: Date) {
        self.seconds = 0
        self.absolute = absolute
    }

    public static func days(_ days: Int) -> RelativeTime { RelativeTime(seconds: days * 86_400) }

    /// Parses `[+|-]N<unit>`, or an RFC 3339 instant (`2026-11-30T12:00:00Z`); nil for anything else (including
    /// numbers above a million units, and a bare day).
    public init?(_ text: String) {
        if text.count <= 40, text.first?.isNumber == true, text.contains("-"), let instant = Self.instant(text) {
            self.init(absolute: instant)
            return
        }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800, "y": 31_536_000]
        var body = Substring(text)
        var sign = 1
        if body.first == "-" {
            sign = -1
            body = body.dropFirst()
        } else if body.first == "+" {
            body = body.dropFirst()
        }
        guard let unit = body.last, let multiplier = units[unit] else { return nil }
        let digits = body.dropLast()
        guard !digits.isEmpty, digits.count <= 7, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let count = Int(digits), count <= 1_000_000
        else { return nil }
        self.init(seconds: sign * count * multiplier)
    }

    /// A full RFC 3339 instant only: a bare day (`2023-01-01`) is more often a mistake than a wish, and stays an
    /// error.
    private static func instant(_ text: String) -> Date? {
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime]
        return full.date(from: text)
    }

    public var description: String {
        if let absolute {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            return formatter.string(from: absolute)
        }
        let sign = seconds < 0 ? "-" : "+"
        let magnitude = abs(seconds)
        for (unit, size) in [("y", 31_536_000), ("d", 86_400), ("h", 3_600), ("m", 60)]
        where magnitude >= size && magnitude % size == 0 {
            return "\(sign)\(magnitude / size)\(unit)"
        }
        return "\(sign)\(magnitude)s"
    }

    /// The date this offset names from `reference`.
    public func date(from reference: Date) -> Date {
        absolute ?? reference.addingTimeInterval(TimeInterval(seconds))
    }
}

/// The key a certificate carries.
public enum KeyType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case p256
    case p384
    case rsa1024
    case rsa2048
    case rsa3072
    case rsa4096

    public var isRSA: Bool { rsaBits != nil }

    /// The modulus size for RSA keys, nil for EC keys.
    public var rsaBits: Int? {
        switch self {
        case .p256, .p384: nil
        case .rsa1024: 1024
        case .rsa2048: 2048
        case .rsa3072: 3072
        case .rsa4096: 4096
        }
    }

    public var description: String { rawValue }
}

/// The algorithm an issuer signs a certificate with.
public enum SignatureKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ecdsaSHA256 = "ecdsa-sha256"
    case ecdsaSHA384 = "ecdsa-sha384"
    case rsaSHA256 = "rsa-sha256"
    case rsaSHA384 = "rsa-sha384"
    case rsaSHA1 = "rsa-sha1"

    public var isRSA: Bool {
        switch self {
        case .rsaSHA256, .rsaSHA384, .rsaSHA1: true
        case .ecdsaSHA256, .ecdsaSHA384: false
        }
    }

    /// The default an issuer with this key signs with.
    public static func `default`(for issuerKey: KeyType) -> SignatureKind {
        issuerKey.isRSA ? .rsaSHA256 : .ecdsaSHA256
    }

    public var description: String { rawValue }
}

/// The KeyUsage bits a spec may ask for.
public enum KeyUsageName: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case digitalSignature
    case keyEncipherment
    case keyCertSign
    case cRLSign

    public var description: String { rawValue }
}

/// The ExtendedKeyUsage purposes a spec may ask for.
public enum ExtendedKeyUsageName: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case serverAuth
    case clientAuth

    public var description: String { rawValue }
}
