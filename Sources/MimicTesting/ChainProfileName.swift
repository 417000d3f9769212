@_exported import MimicCore
@_exported import MimicNet

/// A built-in chain profile, by name: what the mock's certificate chain gets wrong (or nothing, `.good`).
public struct ChainProfileName: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }

    /// Local CA → intermediate → leaf, served leaf first: nothing wrong.
    public static let good: Self = "good"
    /// The leaf expired three days ago.
    public static let expiredLeaf: Self = "expired-leaf"
    /// The leaf becomes valid in two days.
    public static let notYetValid: Self = "not-yet-valid"
    /// The leaf expires in ten days (a warning).
    public static let expiringSoon: Self = "expiring-soon"
    /// The intermediate expired two days ago.
    public static let expiredIntermediate: Self = "expired-intermediate"
    /// The leaf is for another name.
    public static let wrongHost: Self = "wrong-host"
    /// The name only in the subject CN, no subjectAltName.
    public static let cnOnlyNoSAN: Self = "cn-only-no-san"
    /// `*.example.test` for mail.example.test.
    public static let wildcardGood: Self = "wildcard-good"
    /// `*.example.test` for a.mail.example.test.
    public static let wildcardTooDeep: Self = "wildcard-too-deep"
    /// `m*.example.test` (the libraries differ).
    public static let wildcardPartial: Self = "wildcard-partial"
    /// An iPAddress SAN for 127.0.0.1.
    public static let ipSAN: Self = "ip-san"
    /// One self-signed leaf.
    public static let selfSigned: Self = "self-signed"
    /// A chain under a root the client does not trust.
    public static let untrustedRoot: Self = "untrusted-root"
    /// The leaf alone: the intermediate is missing.
    public static let missingIntermediate: Self = "missing-intermediate"
    /// Intermediates served in the wrong order.
    public static let reversedChain: Self = "reversed-chain"
    /// A good chain plus an unrelated certificate.
    public static let extraUnrelatedCert: Self = "extra-unrelated-cert"
    /// A 1024-bit RSA leaf key.
    public static let rsa1024Leaf: Self = "rsa1024-leaf"
    /// A leaf signed with SHA-1.
    public static let sha1Leaf: Self = "sha1-leaf"
    /// The leaf's issuer is not a CA.
    public static let intermediateNotCA: Self = "intermediate-not-ca"
    /// A path longer than an intermediate's pathLen allows.
    public static let pathLengthExceeded: Self = "path-length-exceeded"
    /// A leaf for client authentication only.
    public static let ekuClientOnly: Self = "eku-client-only"
    /// P-384 keys and ECDSA-SHA384 signatures.
    public static let ecdsaP384Good: Self = "ecdsa-p384-good"
    /// RSA-2048 keys.
    public static let rsa2048Good: Self = "rsa2048-good"
}
