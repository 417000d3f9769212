/// The one verdict vocabulary every layer speaks. Raw library codes map into it, one table per backend;
/// scenario files name these codes in their expectations.
public enum FindingCode: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    // Certificate.
    case expired
    case notYetValid
    case expiringSoon
    case hostnameMismatch
    case selfSigned
    case untrustedRoot
    case incompleteChain
    case chainOrder
    case weakKey
    case weakSignature
    case notACA
    case pathLength
    case wrongPurpose
    /// A backend rejected the chain for a reason with no code of its own here; the raw code says which.
    case verificationError
    /// A served certificate that Mimic's own reader could not read in full (a negative or zero serial, a
    /// malformed subjectAltName, duplicate extensions, differing signature algorithms, a truncated key, more
    /// than 64 KiB); both libraries still judged the bytes as served.
    case malformedCertificate
    /// More certificates served than the chain facts examine (the count is in the finding's detail).
    case chainTooLong
    /// The strict policy refused a rule the raw code names but no finding of its own here does.
    case policyViolation
    /// Strict policy: a certificate without the authorityKeyIdentifier extension (RFC 5280 §4.2.1.1).
    case missingAKI
    /// Strict policy: a CA certificate without the subjectKeyIdentifier extension (RFC 5280 §4.2.1.2).
    case missingSKI
    /// Strict policy: a CA whose basicConstraints is not marked critical (RFC 5280 §4.2.1.9).
    case caNotCritical
    /// Strict policy: an empty subject with a non-critical subjectAltName (RFC 5280 §4.2.1.6).
    case sanNotCritical
    /// Strict policy: an end-entity certificate with keyUsage keyCertSign (RFC 5280 §4.2.1.3).
    case keyCertSignOnLeaf
    /// Strict policy: a CA certificate without keyUsage (RFC 5280 §4.2.1.3).
    case caMissingKeyUsage
    /// Strict policy: the signature algorithm differs between tbsCertificate and certificate (RFC 5280 §4.1.1.2).
    case algorithmMismatch

    // TLS.
    case handshakeFailure
    /// TLS 1.0 or 1.1 negotiated, or (enumeration) accepted at all (RFC 8996).
    case legacyVersion
    /// RC4, 3DES, DES, NULL, EXPORT or anonymous suites negotiated, or (enumeration) accepted at all.
    case weakCipher
    case noSharedCipher
    /// Enumeration: every suite the server accepts has a static key exchange (static RSA, or static DH/ECDH) and
    /// it accepts no TLS 1.3, so a stolen key decrypts every recorded session.
    case noForwardSecrecy

    // Dialog.
    case startTLSNotOffered
    case startTLSRejected
    /// The upgrade still advertised after TLS (RFC 3207 §4.2): capabilities answered from the plaintext session.
    case startTLSStillAdvertised
    case noTLSAfterGoAhead
    case plaintextInjection
    case modeMismatch
    case unexpectedReply
    case greetingRejected
    /// An FTP PASV reply (227) named another address than the control connection's peer: a client that trusts
    /// it can be steered to a third host (FTP bounce, RFC 2577 §3). The probe never connects there.
    case pasvAddressMismatch

    // Network.
    case refused
    case timeout
    case reset
    case closed

    public enum Family: String, Sendable, Hashable, Codable {
        case certificate
        case tls
        case dialog
        case network
    }

    public var family: Family {
        switch self {
        case .expired, .notYetValid, .expiringSoon, .hostnameMismatch, .selfSigned, .untrustedRoot, .incompleteChain,
            .chainOrder, .weakKey, .weakSignature, .notACA, .pathLength, .wrongPurpose, .verificationError,
            .malformedCertificate, .chainTooLong, .policyViolation, .missingAKI, .missingSKI, .caNotCritical,
            .sanNotCritical, .keyCertSignOnLeaf, .caMissingKeyUsage, .algorithmMismatch:
            .certificate
        case .handshakeFailure, .legacyVersion, .weakCipher, .noSharedCipher, .noForwardSecrecy:
            .tls
        case .startTLSNotOffered, .startTLSRejected, .startTLSStillAdvertised, .noTLSAfterGoAhead, .plaintextInjection,
            .modeMismatch, .unexpectedReply, .greetingRejected, .pasvAddressMismatch:
            .dialog
        case .refused, .timeout, .reset, .closed:
            .network
        }
    }

    /// The severity a finding of this code carries unless its producer says otherwise.
    ///
    /// Warnings are what still works today but will not tomorrow or is below par (a certificate that expires
    /// soon, a chain served out of order that libraries reorder, a legacy protocol version); everything that
    /// makes a careful client refuse is critical; a probe that could not reach the answer is unknown.
    ///
    /// The TLS offers (issue 8): `legacyVersion` (TLS 1.0/1.1 accepted) and `noForwardSecrecy` (only static key
    /// exchange accepted) are warnings; `weakCipher` (RC4, 3DES, DES, NULL, EXPORT or anonymous accepted) is
    /// critical — those suites are broken, not merely old. SSL 3.0 would be critical too, but neither library
    /// here can offer it (Debian's OpenSSL 3.0 is built without it, GnuTLS 3.7 refuses `+VERS-SSL3.0`), so no
    /// probe can find it and no code names it.
    public var defaultSeverity: Severity {
        switch self {
        case .expiringSoon, .chainOrder, .legacyVersion, .noForwardSecrecy, .startTLSStillAdvertised,
            .pasvAddressMismatch:
            .warning
        case .refused, .timeout, .reset, .closed:
            .unknown
        default:
            .critical
        }
    }

    public var description: String { rawValue }
}
