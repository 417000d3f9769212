private import COpenSSL
import MimicCore

/// The one table from OpenSSL's verification errors to Mimic's findings. The raw code stays in each finding.
enum OpenSSLFindingMap {
    /// Findings for the verifier's complaints, one per distinct (code, depth), in the order OpenSSL made them.
    static func findings(for complaints: [OpenSSLVerifier.Complaint]) -> [Finding] {
        var seen = Set<[Int]>()
        var findings: [Finding] = []
        for complaint in complaints {
            guard seen.insert([complaint.raw.value, complaint.raw.depth ?? -1]).inserted else { continue }
            var evidence = complaint.raw.text
            if let subject = complaint.subject { evidence += " (\(subject))" }
            findings.append(
                Finding(
                    code(for: Int32(complaint.raw.value), isCA: complaint.isCA),
                    phase: .verification,
                    evidence: evidence,
                    source: TLSBackend.openssl.rawValue,
                    rawCode: complaint.raw.code,
                    depth: complaint.raw.depth
                )
            )
        }
        return findings
    }

    /// The finding for one raw code. `isCA` is about the certificate at the error's depth.
    static func code(for raw: Int32, isCA: Bool?) -> FindingCode {
        switch raw {
        case X509_V_ERR_CERT_HAS_EXPIRED: .expired
        case X509_V_ERR_CERT_NOT_YET_VALID: .notYetValid
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH: .hostnameMismatch
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: .selfSigned
        case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: .untrustedRoot
        case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
            X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
            // An end-entity whose issuer is missing lacks its intermediate; a CA whose issuer is missing is the
            // top of a chain that ends at a root nobody trusts.
            isCA == true ? .untrustedRoot : .incompleteChain
        case X509_V_ERR_INVALID_CA: .notACA
        case X509_V_ERR_PATH_LENGTH_EXCEEDED: .pathLength
        case X509_V_ERR_INVALID_PURPOSE, X509_V_ERR_KEYUSAGE_NO_CERTSIGN: .wrongPurpose
        case X509_V_ERR_EE_KEY_TOO_SMALL, X509_V_ERR_CA_KEY_TOO_SMALL: .weakKey
        case X509_V_ERR_CA_MD_TOO_WEAK: .weakSignature
        // The X509_STRICT rules, each by the rule it names where Mimic has one.
        case X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER: .missingAKI
        case X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER: .missingSKI
        case X509_V_ERR_CA_BCONS_NOT_CRITICAL: .caNotCritical
        case X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL: .sanNotCritical
        case X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA: .keyCertSignOnLeaf
        case X509_V_ERR_CA_CERT_MISSING_KEY_USAGE: .caMissingKeyUsage
        case X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY, X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH: .algorithmMismatch
        case X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA, X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN,
            X509_V_ERR_ISSUER_NAME_EMPTY, X509_V_ERR_SUBJECT_NAME_EMPTY, X509_V_ERR_EMPTY_SUBJECT_ALT_NAME,
            X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL, X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL,
            X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3, X509_V_ERR_EC_KEY_EXPLICIT_PARAMS:
            .policyViolation
        default: .verificationError
        }
    }
}
