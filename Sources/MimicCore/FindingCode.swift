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
            .chainOrder, .weakKey, .weakSignature, .notACA, .pathLength, .wrongPurpose, .verificationError:
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
