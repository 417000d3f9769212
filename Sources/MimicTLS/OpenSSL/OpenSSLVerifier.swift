private import COpenSSL
import MimicCore

/// OpenSSL's verdict on a chain, offline: the same code the client engine runs on the chain a server sent.
///
/// Only the given anchors are trusted (no default paths, never the OS store). Verification goes on past the
/// first problem so that every one is reported, each with its depth.
enum OpenSSLVerifier: TLSChainVerifier {
    static let backend = TLSBackend.openssl

    /// One complaint from the verify callback, with what the finding map needs to know about the certificate.
    struct Complaint: Hashable {
        var raw: VerificationResult.RawError
        /// RFC 2253 subject of the certificate at that depth, when OpenSSL had one in hand.
        var subject: String?
        /// Whether that certificate is a CA (`X509_check_ca` non-zero); nil when unknown.
        var isCA: Bool?
    }

    /// Collects complaints during one verification; reached from the C callback through the store context's
    /// app data.
    final class Collector {
        var complaints: [Complaint] = []
        /// The callback can fire many times on a long, broken chain; more than this is noise.
        static let maximumComplaints = 64
    }

    static func verify(_ request: ChainVerificationRequest) -> VerificationResult {
        verify(request, certificates: nil)
    }

    /// `verify(request)` with the chain's certificates already in hand as OpenSSL objects (`certificates`, one per
    /// DER of the chain, in its order; the caller keeps its references): the client engine passes the ones its
    /// handshake read, which are the same certificates, rather than have each DER decoded again (a tenth of a
    /// millisecond a certificate: OpenSSL 3 decodes the public key through its providers).
    static func verify(_ request: ChainVerificationRequest, certificates: [OpaquePointer]?) -> VerificationResult {
        let complaints = Self.complaints(request, certificates: certificates)
        return VerificationResult(
            backend: .openssl,
            accepted: complaints.isEmpty,
            rawErrors: complaints.map(\.raw),
            findings: OpenSSLFindingMap.findings(for: complaints),
            hostname: request.hostname
        )
    }

    /// Every complaint OpenSSL makes about `chain`, de-duplicated, in the order made.
    ///
    /// Every served certificate after the leaf goes in as untrusted input, in the order served, and OpenSSL builds
    /// the path itself, exactly as `openssl verify -untrusted` does; the served order plays no part here.
    static func complaints(_ request: ChainVerificationRequest, certificates: [OpaquePointer]? = nil) -> [Complaint] {
        let (chain, anchors, hostname, time, policy) =
            (request.chain, request.anchors, request.hostname, request.time, request.policy)
        OpenSSLErrorQueue.clear()
        defer { OpenSSLErrorQueue.clear() }
        guard !chain.isEmpty else {
            return [setupComplaint(X509_V_ERR_UNSPECIFIED, "the peer sent no certificate")]
        }
        var parsed: [OpaquePointer] = []
        defer { parsed.forEach { X509_free($0) } }
        if let certificates, certificates.count == chain.count {
            // A reference of our own on each, given back by the `defer` above.
            for certificate in certificates where X509_up_ref(certificate) == 1 { parsed.append(certificate) }
        }
        if parsed.count != chain.count {
            parsed.forEach { X509_free($0) }
            parsed = []
            for (index, der) in chain.enumerated() {
                guard let cert = parse(der) else {
                    return [
                        setupComplaint(
                            X509_V_ERR_UNSPECIFIED,
                            "certificate \(index) of the chain is not DER X.509",
                            depth: index
                        )
                    ]
                }
                parsed.append(cert)
            }
        }

        guard let store = X509_STORE_new() else { return [setupComplaint(X509_V_ERR_OUT_OF_MEM, "X509_STORE_new")] }
        defer { X509_STORE_free(store) }
        if policy == .strict {
            for (index, der) in anchors.enumerated() {
                // Under the strict policy an unreadable anchor fails the whole verification, as
                // `openssl verify -CAfile` fails to load such a file.
                guard let anchor = parse(der) else {
                    return [setupComplaint(X509_V_ERR_UNSPECIFIED, "trust anchor \(index) is not DER X.509")]
                }
                _ = X509_STORE_add_cert(store, anchor)
                X509_free(anchor)
            }
        } else {
            // An unreadable anchor simply trusts nothing; the chain's own errors will say so.
            addAnchors(anchors, lookedUpFrom: parsed, to: store)
        }
        guard let untrusted = mimic_sk_X509_new_null() else {
            return [setupComplaint(X509_V_ERR_OUT_OF_MEM, "sk_X509_new_null")]
        }
        defer { mimic_sk_X509_pop_free(untrusted) }
        for cert in parsed.dropFirst() {
            _ = X509_up_ref(cert)
            if mimic_sk_X509_push(untrusted, cert) == 0 { X509_free(cert) }
        }

        if policy == .strict {
            // `openssl verify` puts its options on the store before the context is made; so do we, so that the
            // trust setting is inferred from the purpose exactly as there.
            guard let parameters = X509_VERIFY_PARAM_new() else {
                return [setupComplaint(X509_V_ERR_OUT_OF_MEM, "X509_VERIFY_PARAM_new")]
            }
            defer { X509_VERIFY_PARAM_free(parameters) }
            _ = X509_VERIFY_PARAM_set_purpose(parameters, X509_PURPOSE_SSL_SERVER)
            X509_VERIFY_PARAM_set_auth_level(parameters, 2)
            _ = X509_VERIFY_PARAM_set_flags(parameters, UInt(X509_V_FLAG_X509_STRICT) | UInt(X509_V_FLAG_PARTIAL_CHAIN))
            if let hostname, !hostname.isEmpty {
                // -verify_ip for an address, -verify_hostname (host flags 0) for anything else.
                if X509_VERIFY_PARAM_set1_ip_asc(parameters, hostname) != 1 {
                    _ = X509_VERIFY_PARAM_set1_host(parameters, hostname, hostname.utf8.count)
                }
            }
            if let time {
                X509_VERIFY_PARAM_set_time(parameters, time_t(time))
            }
            _ = X509_STORE_set1_param(store, parameters)
        }

        guard let context = X509_STORE_CTX_new() else {
            return [setupComplaint(X509_V_ERR_OUT_OF_MEM, "X509_STORE_CTX_new")]
        }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, parsed[0], untrusted) == 1 else {
            return [setupComplaint(X509_V_ERR_UNSPECIFIED, "X509_STORE_CTX_init failed")]
        }
        if policy == .default {
            // What an SSL client does: the ssl_server purpose and trust.
            _ = X509_STORE_CTX_set_default(context, "ssl_server")
            let parameters = X509_STORE_CTX_get0_param(context)
            _ = X509_VERIFY_PARAM_set_purpose(parameters, X509_PURPOSE_SSL_SERVER)
            // Debian's default security level 2: RSA under 2048 bits and SHA-1 signatures are refused.
            X509_VERIFY_PARAM_set_auth_level(parameters, 2)
            if let hostname, !hostname.isEmpty {
                // An IP literal is checked against IP SANs, anything else against DNS names.
                if X509_VERIFY_PARAM_set1_ip_asc(parameters, hostname) != 1 {
                    X509_VERIFY_PARAM_set_hostflags(parameters, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
                    _ = X509_VERIFY_PARAM_set1_host(parameters, hostname, hostname.utf8.count)
                }
            }
            if let time {
                X509_VERIFY_PARAM_set_time(parameters, time_t(time))
            }
        }

        let collector = Collector()
        let unmanaged = Unmanaged.passRetained(collector)
        defer { unmanaged.release() }
        _ = mimic_X509_STORE_CTX_set_app_data(context, unmanaged.toOpaque())
        X509_STORE_CTX_set_verify_cb(context, openSSLVerifyCallback)
        let result = X509_verify_cert(context)

        var complaints = collector.complaints
        // A failure the callback never saw (an internal error) must still be a complaint, never an acceptance.
        if result != 1 && complaints.isEmpty {
            let code = X509_STORE_CTX_get_error(context)
            complaints.append(
                setupComplaint(
                    code == X509_V_OK ? X509_V_ERR_UNSPECIFIED : code,
                    errorText(code),
                    depth: Int(X509_STORE_CTX_get_error_depth(context))
                )
            )
        }
        return complaints
    }

    // MARK: - Helpers

    fileprivate static func complaint(code: Int32, depth: Int32, cert: OpaquePointer?) -> Complaint {
        Complaint(
            raw: .init(code: errorName(code), value: Int(code), text: errorText(code), depth: Int(depth)),
            subject: cert.flatMap(subject),
            isCA: cert.map { X509_check_ca($0) != 0 }
        )
    }

    private static func setupComplaint(_ code: Int32, _ text: String, depth: Int? = nil) -> Complaint {
        Complaint(raw: .init(code: errorName(code), value: Int(code), text: text, depth: depth))
    }

    /// Adds to `store` every anchor OpenSSL's path building could ask it for, and no other.
    ///
    /// The store is only ever asked for certificates by subject name (`X509_NAME_cmp`, on the names' canonical
    /// forms): a chain certificate's issuer, a chain certificate itself (is it trusted?), and, past an anchor that is
    /// not self-issued, that anchor's issuer. So the anchors whose subject is one of those names, and the anchors
    /// those lead to in turn, build exactly the paths the whole set would. Reading only each anchor's subject name
    /// spares decoding a hundred public keys for a bundled store (OpenSSL 3 decodes each through its providers when
    /// it parses a certificate): 10 ms of a probe. An anchor whose subject cannot be found this way is parsed whole.
    private static func addAnchors(_ anchors: [[UInt8]], lookedUpFrom chain: [OpaquePointer], to store: OpaquePointer)
    {
        var names: [OpaquePointer] = []
        var certificates: [OpaquePointer] = []
        defer {
            names.forEach { X509_NAME_free($0) }
            certificates.forEach { X509_free($0) }
        }
        // Each anchor's subject: read alone from its DER, or, for an anchor laid out otherwise, from the whole
        // certificate; nil for one OpenSSL cannot read at all (it trusts nothing).
        var parsed: [Int: OpaquePointer] = [:]
        let subjects: [OpaquePointer?] = anchors.indices.map { index in
            if let name = subjectName(anchors[index]) {
                names.append(name)
                return name
            }
            guard let whole = parse(anchors[index]) else { return nil }
            certificates.append(whole)
            parsed[index] = whole
            return X509_get_subject_name(whole)
        }
        var wanted = chain.flatMap { [X509_get_subject_name($0), X509_get_issuer_name($0)] }.compactMap { $0 }
        var added = [Bool](repeating: false, count: anchors.count)
        while !wanted.isEmpty {
            var next: [OpaquePointer] = []
            for index in anchors.indices where !added[index] {
                guard let subject = subjects[index], wanted.contains(where: { X509_NAME_cmp(subject, $0) == 0 })
                else { continue }
                added[index] = true
                guard let anchor = parsed[index] ?? parse(anchors[index]) else { continue }
                if parsed[index] == nil { certificates.append(anchor) }
                _ = X509_STORE_add_cert(store, anchor)
                if let issuer = X509_get_issuer_name(anchor) { next.append(issuer) }
            }
            wanted = next
        }
    }

    /// A certificate's subject name, read from its DER without parsing the rest (``CertificateNameRanges``); nil
    /// when the DER is not laid out as a certificate in definite lengths.
    private static func subjectName(_ der: [UInt8]) -> OpaquePointer? {
        guard let ranges = CertificateNameRanges(der: der) else { return nil }
        return der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            guard let base = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base + ranges.subject.lowerBound
            return d2i_X509_NAME(nil, &cursor, ranges.subject.count)
        }
    }

    private static func parse(_ der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
    }

    static func subject(_ cert: OpaquePointer) -> String? {
        var buffer = [CChar](repeating: 0, count: 1024)
        let length = mimic_X509_subject_text(cert, &buffer, Int32(buffer.count))
        guard length > 0 else { return nil }
        return String(decoding: buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func errorText(_ code: Int32) -> String {
        X509_verify_cert_error_string(Int(code)).map { String(cString: $0) } ?? "verification error \(code)"
    }

    /// The symbolic `X509_V_ERR_…` name of a verification error number.
    static func errorName(_ code: Int32) -> String {
        errorNames[code] ?? "X509_V_ERR_\(code)"
    }

    private static let errorNames: [Int32: String] = [
        X509_V_OK: "X509_V_OK",
        X509_V_ERR_UNSPECIFIED: "X509_V_ERR_UNSPECIFIED",
        X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT: "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT",
        X509_V_ERR_UNABLE_TO_GET_CRL: "X509_V_ERR_UNABLE_TO_GET_CRL",
        X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE: "X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE",
        X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: "X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
        X509_V_ERR_CERT_SIGNATURE_FAILURE: "X509_V_ERR_CERT_SIGNATURE_FAILURE",
        X509_V_ERR_CERT_NOT_YET_VALID: "X509_V_ERR_CERT_NOT_YET_VALID",
        X509_V_ERR_CERT_HAS_EXPIRED: "X509_V_ERR_CERT_HAS_EXPIRED",
        X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD: "X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD",
        X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD: "X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD",
        X509_V_ERR_OUT_OF_MEM: "X509_V_ERR_OUT_OF_MEM",
        X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: "X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT",
        X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: "X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN",
        X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
        X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: "X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE",
        X509_V_ERR_CERT_CHAIN_TOO_LONG: "X509_V_ERR_CERT_CHAIN_TOO_LONG",
        X509_V_ERR_CERT_REVOKED: "X509_V_ERR_CERT_REVOKED",
        X509_V_ERR_INVALID_CA: "X509_V_ERR_INVALID_CA",
        X509_V_ERR_PATH_LENGTH_EXCEEDED: "X509_V_ERR_PATH_LENGTH_EXCEEDED",
        X509_V_ERR_INVALID_PURPOSE: "X509_V_ERR_INVALID_PURPOSE",
        X509_V_ERR_CERT_UNTRUSTED: "X509_V_ERR_CERT_UNTRUSTED",
        X509_V_ERR_CERT_REJECTED: "X509_V_ERR_CERT_REJECTED",
        X509_V_ERR_SUBJECT_ISSUER_MISMATCH: "X509_V_ERR_SUBJECT_ISSUER_MISMATCH",
        X509_V_ERR_AKID_SKID_MISMATCH: "X509_V_ERR_AKID_SKID_MISMATCH",
        X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH: "X509_V_ERR_AKID_ISSUER_SERIAL_MISMATCH",
        X509_V_ERR_KEYUSAGE_NO_CERTSIGN: "X509_V_ERR_KEYUSAGE_NO_CERTSIGN",
        X509_V_ERR_INVALID_EXTENSION: "X509_V_ERR_INVALID_EXTENSION",
        X509_V_ERR_INVALID_POLICY_EXTENSION: "X509_V_ERR_INVALID_POLICY_EXTENSION",
        X509_V_ERR_NO_EXPLICIT_POLICY: "X509_V_ERR_NO_EXPLICIT_POLICY",
        X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION: "X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION",
        X509_V_ERR_HOSTNAME_MISMATCH: "X509_V_ERR_HOSTNAME_MISMATCH",
        X509_V_ERR_EMAIL_MISMATCH: "X509_V_ERR_EMAIL_MISMATCH",
        X509_V_ERR_IP_ADDRESS_MISMATCH: "X509_V_ERR_IP_ADDRESS_MISMATCH",
        X509_V_ERR_EE_KEY_TOO_SMALL: "X509_V_ERR_EE_KEY_TOO_SMALL",
        X509_V_ERR_CA_KEY_TOO_SMALL: "X509_V_ERR_CA_KEY_TOO_SMALL",
        X509_V_ERR_CA_MD_TOO_WEAK: "X509_V_ERR_CA_MD_TOO_WEAK",
        X509_V_ERR_INVALID_CALL: "X509_V_ERR_INVALID_CALL",
        X509_V_ERR_STORE_LOOKUP: "X509_V_ERR_STORE_LOOKUP",
        X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA: "X509_V_ERR_PATHLEN_INVALID_FOR_NON_CA",
        X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN: "X509_V_ERR_PATHLEN_WITHOUT_KU_KEY_CERT_SIGN",
        X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA: "X509_V_ERR_KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA",
        X509_V_ERR_ISSUER_NAME_EMPTY: "X509_V_ERR_ISSUER_NAME_EMPTY",
        X509_V_ERR_SUBJECT_NAME_EMPTY: "X509_V_ERR_SUBJECT_NAME_EMPTY",
        X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER: "X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER",
        X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER: "X509_V_ERR_MISSING_SUBJECT_KEY_IDENTIFIER",
        X509_V_ERR_EMPTY_SUBJECT_ALT_NAME: "X509_V_ERR_EMPTY_SUBJECT_ALT_NAME",
        X509_V_ERR_CA_BCONS_NOT_CRITICAL: "X509_V_ERR_CA_BCONS_NOT_CRITICAL",
        X509_V_ERR_EC_KEY_EXPLICIT_PARAMS: "X509_V_ERR_EC_KEY_EXPLICIT_PARAMS",
        X509_V_ERR_NO_ISSUER_PUBLIC_KEY: "X509_V_ERR_NO_ISSUER_PUBLIC_KEY",
        X509_V_ERR_INVALID_NON_CA: "X509_V_ERR_INVALID_NON_CA",
        X509_V_ERR_UNSUPPORTED_EXTENSION_FEATURE: "X509_V_ERR_UNSUPPORTED_EXTENSION_FEATURE",
        X509_V_ERR_PERMITTED_VIOLATION: "X509_V_ERR_PERMITTED_VIOLATION",
        X509_V_ERR_EXCLUDED_VIOLATION: "X509_V_ERR_EXCLUDED_VIOLATION",
        X509_V_ERR_SUBTREE_MINMAX: "X509_V_ERR_SUBTREE_MINMAX",
        X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE: "X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE",
        X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX: "X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX",
        X509_V_ERR_UNSUPPORTED_NAME_SYNTAX: "X509_V_ERR_UNSUPPORTED_NAME_SYNTAX",
        X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM: "X509_V_ERR_UNSUPPORTED_SIGNATURE_ALGORITHM",
        X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH: "X509_V_ERR_SIGNATURE_ALGORITHM_MISMATCH",
        X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY: "X509_V_ERR_SIGNATURE_ALGORITHM_INCONSISTENCY",
        X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL: "X509_V_ERR_EMPTY_SUBJECT_SAN_NOT_CRITICAL",
        X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL: "X509_V_ERR_AUTHORITY_KEY_IDENTIFIER_CRITICAL",
        X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL: "X509_V_ERR_SUBJECT_KEY_IDENTIFIER_CRITICAL",
        X509_V_ERR_CA_CERT_MISSING_KEY_USAGE: "X509_V_ERR_CA_CERT_MISSING_KEY_USAGE",
        X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3: "X509_V_ERR_EXTENSIONS_REQUIRE_VERSION_3",
    ]
}

/// Records every verification error and lets verification go on, so that all problems are reported.
private func openSSLVerifyCallback(ok: Int32, context: OpaquePointer?) -> Int32 {
    guard ok == 0, let context, let data = mimic_X509_STORE_CTX_get_app_data(context) else { return ok == 0 ? 1 : ok }
    let collector = Unmanaged<OpenSSLVerifier.Collector>.fromOpaque(data).takeUnretainedValue()
    let code = X509_STORE_CTX_get_error(context)
    let depth = X509_STORE_CTX_get_error_depth(context)
    let complaint = OpenSSLVerifier.complaint(code: code, depth: depth, cert: X509_STORE_CTX_get_current_cert(context))
    let duplicate = collector.complaints.contains {
        $0.raw.value == complaint.raw.value && $0.raw.depth == complaint.raw.depth
    }
    if !duplicate && collector.complaints.count < OpenSSLVerifier.Collector.maximumComplaints {
        collector.complaints.append(complaint)
    }
    return 1
}
