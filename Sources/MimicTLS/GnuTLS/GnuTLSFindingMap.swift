import MimicCore

/// What the mapping needs to know about a chain beyond GnuTLS's status bits, read from the certificates by
/// `GnuTLSVerifier`. GnuTLS says *that* a signer was not found, not *which*; these facts tell a missing
/// intermediate from an unknown root.
struct GnuTLSChainFacts: Sendable, Hashable {
    /// The leaf names itself as its issuer.
    var leafSelfIssued = false
    /// The top of the served path, following issuer → subject from the leaf through the served certificates, is a
    /// CA (basic constraints). False when the path stops at the leaf or an end-entity.
    var topOfPathIsCA = false
    /// Some served certificate has an RSA/DSA key under 2048 bits or an EC key under 224.
    var hasWeakKey = false
    /// Served position of the first certificate past its notAfter / before its notBefore, at the verification time.
    var expiredDepth: Int?
    var notYetValidDepth: Int?
}

/// The one table from GnuTLS certificate status bits to Mimic's findings.
enum GnuTLSFindingMap {
    enum Rule: Sendable {
        case fixed(FindingCode)
        /// SIGNER_NOT_FOUND: self-signed, incomplete chain or untrusted root, by the chain's shape.
        case signerNotFound
        /// INSECURE_ALGORITHM: a weak key when one is in the chain, else a weak signature.
        case insecureAlgorithm
    }

    struct Entry: Sendable {
        var bit: UInt32
        var name: String
        var rule: Rule
        /// Fallback text when GnuTLS prints nothing for the bit.
        var text: String
    }

    /// In bit order. `GNUTLS_CERT_INVALID` (1 << 1) is only the summary of the others and is no finding of its own.
    static let table: [Entry] = [
        Entry(
            bit: 1 << 5,
            name: "GNUTLS_CERT_REVOKED",
            rule: .fixed(.verificationError),
            text: "a certificate in the chain is revoked"
        ),
        Entry(
            bit: 1 << 6,
            name: "GNUTLS_CERT_SIGNER_NOT_FOUND",
            rule: .signerNotFound,
            text: "the certificate's issuer is not known"
        ),
        Entry(
            bit: 1 << 7,
            name: "GNUTLS_CERT_SIGNER_NOT_CA",
            rule: .fixed(.notACA),
            text: "the certificate's signer is not a CA"
        ),
        Entry(
            bit: 1 << 8,
            name: "GNUTLS_CERT_INSECURE_ALGORITHM",
            rule: .insecureAlgorithm,
            text: "the chain uses an insecure algorithm"
        ),
        Entry(
            bit: 1 << 9,
            name: "GNUTLS_CERT_NOT_ACTIVATED",
            rule: .fixed(.notYetValid),
            text: "the chain uses a certificate not yet valid"
        ),
        Entry(
            bit: 1 << 10,
            name: "GNUTLS_CERT_EXPIRED",
            rule: .fixed(.expired),
            text: "the chain uses an expired certificate"
        ),
        Entry(
            bit: 1 << 11,
            name: "GNUTLS_CERT_SIGNATURE_FAILURE",
            rule: .fixed(.verificationError),
            text: "the signature in the certificate is invalid"
        ),
        Entry(
            bit: 1 << 12,
            name: "GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED",
            rule: .fixed(.verificationError),
            text: "the revocation data are old and have been superseded"
        ),
        Entry(
            bit: 1 << 14,
            name: "GNUTLS_CERT_UNEXPECTED_OWNER",
            rule: .fixed(.hostnameMismatch),
            text: "the name in the certificate does not match the expected"
        ),
        Entry(
            bit: 1 << 15,
            name: "GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE",
            rule: .fixed(.verificationError),
            text: "the revocation data have a future issue date"
        ),
        Entry(
            bit: 1 << 16,
            name: "GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE",
            rule: .fixed(.pathLength),
            text: "the certificate's signer constraints were violated"
        ),
        Entry(
            bit: 1 << 17,
            name: "GNUTLS_CERT_MISMATCH",
            rule: .fixed(.verificationError),
            text: "the certificate presented is not the one expected"
        ),
        Entry(
            bit: 1 << 18,
            name: "GNUTLS_CERT_PURPOSE_MISMATCH",
            rule: .fixed(.wrongPurpose),
            text: "the certificate is not intended for the requested purpose"
        ),
        Entry(
            bit: 1 << 19,
            name: "GNUTLS_CERT_MISSING_OCSP_STATUS",
            rule: .fixed(.verificationError),
            text: "the certificate requires the server to include an OCSP status, which was missing"
        ),
        Entry(
            bit: 1 << 20,
            name: "GNUTLS_CERT_INVALID_OCSP_STATUS",
            rule: .fixed(.verificationError),
            text: "the received OCSP status response is invalid"
        ),
        Entry(
            bit: 1 << 21,
            name: "GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS",
            rule: .fixed(.verificationError),
            text: "the certificate has unknown critical extensions"
        ),
    ]

    static let invalidBit: UInt32 = 1 << 1

    /// The entry for one status bit; bits this table does not know yet get a generic name.
    static func entry(forBit bit: UInt32) -> Entry {
        table.first { $0.bit == bit }
            ?? Entry(
                bit: bit,
                name: "GNUTLS_CERT_STATUS_\(bit)",
                rule: .fixed(.verificationError),
                text: "certificate status bit \(bit)"
            )
    }

    /// The status bits set, summary bit excluded, lowest first.
    static func bits(of status: UInt32) -> [UInt32] {
        (0..<32).map { UInt32(1) << UInt32($0) }.filter { status & $0 != 0 && $0 != invalidBit }
    }

    static func code(for rule: Rule, facts: GnuTLSChainFacts) -> FindingCode {
        switch rule {
        case .fixed(let code): code
        case .signerNotFound:
            if facts.leafSelfIssued {
                .selfSigned
            } else if facts.topOfPathIsCA {
                .untrustedRoot
            } else {
                .incompleteChain
            }
        case .insecureAlgorithm: facts.hasWeakKey ? .weakKey : .weakSignature
        }
    }

    /// One finding per raw error, through the table.
    static func findings(for rawErrors: [VerificationResult.RawError], facts: GnuTLSChainFacts) -> [Finding] {
        rawErrors.map { raw in
            let bit = UInt32(truncatingIfNeeded: raw.value)
            // Raw errors that are not status bits (a chain GnuTLS could not parse) carry negative GNUTLS_E values.
            let code = raw.value > 0 ? code(for: entry(forBit: bit).rule, facts: facts) : .verificationError
            var depth = raw.depth
            if depth == nil {
                switch code {
                case .expired: depth = facts.expiredDepth
                case .notYetValid: depth = facts.notYetValidDepth
                case .hostnameMismatch, .selfSigned: depth = 0
                default: break
                }
            }
            return Finding(
                code,
                phase: .verification,
                evidence: raw.text,
                source: "gnutls",
                rawCode: raw.code,
                depth: depth
            )
        }
    }
}
