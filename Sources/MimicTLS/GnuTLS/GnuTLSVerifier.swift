private import CGnuTLS
import Foundation
import Synchronization
import MimicCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Offline chain verification with GnuTLS: a trust list holding only the given anchors (never the system store),
/// `gnutls_x509_trust_list_verify_crt2` with the hostname and the serverAuth purpose, and the MEDIUM profile so
/// that keys and signatures below 112-bit security (RSA-1024, SHA-1) are refused as Debian's OpenSSL level 2
/// refuses them. The client engine runs exactly this after a handshake.
///
/// Verification time: GnuTLS has no per-call time, only a process-wide clock hook
/// (`gnutls_global_set_time_function`). When `time` is given the hook is pointed at a clock reading a
/// lock-protected value, the chain verified, and the system clock put back. One lock is held around every
/// verification, timed or not, so concurrent verifications with different times never see each other's clock.
/// Other GnuTLS work in the process during a timed verification (a handshake on another thread) sees the
/// verification time too; handshakes here do not verify certificates, so this only touches ticket lifetimes.
enum GnuTLSVerifier: TLSChainVerifier {
    static let backend = TLSBackend.gnutls

    /// Serialises verifications (see the type's documentation).
    private static let verifyLock = SleepingMutex(())

    static func verify(_ request: ChainVerificationRequest) -> VerificationResult {
        let (chain, anchors, time, policy) = (request.chain, request.anchors, request.time, request.policy)
        let hostname = request.hostname.flatMap { $0.isEmpty ? nil : $0 }
        func rejected(_ raw: VerificationResult.RawError) -> VerificationResult {
            VerificationResult(
                backend: .gnutls,
                accepted: false,
                rawErrors: [raw],
                findings: GnuTLSFindingMap.findings(for: [raw], facts: GnuTLSChainFacts()),
                hostname: hostname
            )
        }
        do {
            try GnuTLSLibrary.ensureInitialized()
        } catch {
            return rejected(.init(code: error.libraryError ?? "GNUTLS_E_INTERNAL_ERROR", value: -1, text: error.reason))
        }
        guard !chain.isEmpty else {
            return rejected(
                .init(
                    code: "GNUTLS_E_NO_CERTIFICATE_FOUND",
                    value: Int(GNUTLS_E_NO_CERTIFICATE_FOUND),
                    text: "no certificate to verify"
                )
            )
        }

        let certificates = X509List()
        for (index, der) in chain.enumerated() {
            let rc = certificates.append(der)
            if rc < 0 {
                return rejected(
                    .init(
                        code: GnuTLSLibrary.errorName(rc) ?? "GNUTLS_E_\(rc)",
                        value: Int(rc),
                        text: "certificate \(index) could not be parsed: \(GnuTLSLibrary.errorText(rc))",
                        depth: index
                    )
                )
            }
        }

        // The strict policy must see every anchor: one GnuTLS cannot parse fails it. Chosen before the lock, which
        // every verification in the process waits on.
        let consulted = policy == .strict ? anchors : anchorsLookedUp(anchors, for: chain)
        return verifyLock.withLock { _ in
            let now = time.map { time_t(clamping: Int64($0.rounded(.down))) } ?? systemClock(nil)
            if time != nil {
                VerificationClock.set(now)
                gnutls_global_set_time_function(verificationClock)
            }
            defer {
                if time != nil { gnutls_global_set_time_function(systemClock) }
            }

            CerttoolOutput.reset()
            let (status, failure) = verifyLocked(certificates, anchors: consulted, hostname: hostname, policy: policy)
            if let failure { return rejected(failure) }
            if policy == .strict, let code = CerttoolOutput.failure() {
                // The strict policy's own refusal, not the library's: named as such.
                let raw = VerificationResult.RawError(
                    code: GnuTLSLibrary.errorName(code) ?? "GNUTLS_E_\(code)",
                    value: Int(code),
                    text: "a certificate on the path has an empty issuer name, or its issuer an empty subject: "
                        + "certtool --verify fails printing it (\(GnuTLSLibrary.errorText(code)))"
                )
                return VerificationResult(
                    backend: .gnutls,
                    accepted: false,
                    rawErrors: [raw],
                    findings: [
                        Finding(
                            .policyViolation,
                            phase: .verification,
                            evidence: raw.text,
                            source: TLSBackend.gnutls.rawValue,
                            rawCode: raw.code
                        )
                    ],
                    hostname: hostname
                )
            }

            let rawErrors = GnuTLSFindingMap.bits(of: status).map { bit in
                let entry = GnuTLSFindingMap.entry(forBit: bit)
                return VerificationResult.RawError(code: entry.name, value: Int(bit), text: statusText(bit) ?? entry.text)
            }
            let facts = chainFacts(certificates, now: now)
            return VerificationResult(
                backend: .gnutls,
                accepted: status == 0,
                rawErrors: rawErrors,
                findings: GnuTLSFindingMap.findings(for: rawErrors, facts: facts),
                hostname: hostname
            )
        }
    }

    /// The anchors a GnuTLS trust list could consult when verifying `chain`, in their order.
    ///
    /// `gnutls_x509_trust_list_verify_crt2` finds anchors only through a hash table keyed by a name's DER: the
    /// issuer of the chain's last certificate, that certificate's own subject (is it trusted itself?), and each
    /// chain certificate's subject when it shortens the chain at a trusted one; and it takes an anchor only when
    /// the DER of its subject equals the name looked up. So the anchors whose subject DER equals a chain
    /// certificate's issuer or subject DER are all it can use, and it verifies alike with only those. Importing
    /// the other 130 of a bundled store cost 8 ms of a probe (libtasn1 decodes each certificate whole). Should a
    /// chain certificate's names not be found this way, every anchor is kept; so is an anchor whose subject is not.
    static func anchorsLookedUp(_ anchors: [[UInt8]], for chain: [[UInt8]]) -> [[UInt8]] {
        var names = Set<ArraySlice<UInt8>>()
        for der in chain {
            guard let ranges = CertificateNameRanges(der: der) else { return anchors }
            names.insert(der[ranges.issuer])
            names.insert(der[ranges.subject])
        }
        return anchors.filter { der in
            guard let ranges = CertificateNameRanges(der: der) else { return true }
            return names.contains(der[ranges.subject])
        }
    }

    /// Builds the trust list and verifies; call with `verifyLock` held.
    private static func verifyLocked(
        _ certificates: X509List,
        anchors: [[UInt8]],
        hostname: String?,
        policy: VerificationPolicy
    ) -> (UInt32, VerificationResult.RawError?) {
        var list: OpaquePointer?
        var rc = gnutls_x509_trust_list_init(&list, 0)
        guard rc >= 0, let list else {
            return (
                0,
                .init(
                    code: GnuTLSLibrary.errorName(rc) ?? "GNUTLS_E_\(rc)",
                    value: Int(rc),
                    text: "gnutls_x509_trust_list_init: \(GnuTLSLibrary.errorText(rc))"
                )
            )
        }
        // 1: the list owns (and frees) the anchors added to it.
        defer { gnutls_x509_trust_list_deinit(list, 1) }

        // Anchors GnuTLS cannot parse trust nothing, like an empty list; under the strict policy they fail the
        // verification, as certtool fails to load such a --load-ca-certificate file.
        let anchorList = X509List()
        for (index, der) in anchors.enumerated() {
            let added = anchorList.append(der)
            if added < 0 && policy == .strict {
                return (
                    0,
                    .init(
                        code: GnuTLSLibrary.errorName(added) ?? "GNUTLS_E_\(added)",
                        value: Int(added),
                        text: "trust anchor \(index) could not be parsed: \(GnuTLSLibrary.errorText(added))"
                    )
                )
            }
        }
        var cas = anchorList.take()
        if !cas.isEmpty {
            _ = gnutls_x509_trust_list_add_cas(list, &cas, UInt32(cas.count), 0)
        }

        var hostnameBytes = Array((hostname ?? "").utf8) + [0]
        var purpose = Array(String(cString: mimic_gnutls_kp_tls_www_server()).utf8) + [0]
        var status: UInt32 = 0
        // Both policies verify at the MEDIUM profile; strict adds what `certtool --verify` always sets: a
        // certificate may not be its own issuer's copy (GNUTLS_VERIFY_DO_NOT_ALLOW_SAME).
        var flags = mimic_gnutls_profile_to_vflags(GNUTLS_PROFILE_MEDIUM)
        if policy == .strict { flags |= UInt32(GNUTLS_VERIFY_DO_NOT_ALLOW_SAME.rawValue) }
        rc = hostnameBytes.withUnsafeMutableBufferPointer { host in
            purpose.withUnsafeMutableBufferPointer { oid in
                var data: [gnutls_typed_vdata_st] = [
                    gnutls_typed_vdata_st(
                        type: GNUTLS_DT_KEY_PURPOSE_OID,
                        data: oid.baseAddress,
                        size: UInt32(oid.count - 1)
                    )
                ]
                if hostname != nil {
                    data.append(
                        gnutls_typed_vdata_st(
                            type: GNUTLS_DT_DNS_HOSTNAME,
                            data: host.baseAddress,
                            size: UInt32(host.count - 1)
                        )
                    )
                }
                return certificates.withPointers { crts, count in
                    gnutls_x509_trust_list_verify_crt2(
                        list,
                        crts,
                        count,
                        &data,
                        UInt32(data.count),
                        flags,
                        &status,
                        policy == .strict ? certtoolOutputCallback : nil
                    )
                }
            }
        }
        if rc < 0 {
            return (
                0,
                .init(
                    code: GnuTLSLibrary.errorName(rc) ?? "GNUTLS_E_\(rc)",
                    value: Int(rc),
                    text: "gnutls_x509_trust_list_verify_crt2: \(GnuTLSLibrary.errorText(rc))"
                )
            )
        }
        return (status, nil)
    }

    /// GnuTLS's own sentence for one status bit, without the "The certificate is NOT trusted." preamble.
    private static func statusText(_ bit: UInt32) -> String? {
        var out = gnutls_datum_t(data: nil, size: 0)
        guard gnutls_certificate_verification_status_print(bit, GNUTLS_CRT_X509, &out, 0) >= 0 else { return nil }
        defer { mimic_gnutls_free(out.data) }
        var text = String(decoding: bytes(of: out), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        for preamble in ["The certificate is NOT trusted.", "The certificate is trusted."]
        where text.hasPrefix(preamble) {
            text = String(text.dropFirst(preamble.count)).trimmingCharacters(in: .whitespaces)
        }
        return text.isEmpty ? nil : text
    }

    /// The chain's shape, for the mapping of SIGNER_NOT_FOUND and INSECURE_ALGORITHM.
    private static func chainFacts(_ certificates: X509List, now: time_t) -> GnuTLSChainFacts {
        var facts = GnuTLSChainFacts()
        let crts = certificates.items
        guard let leaf = crts.first else { return facts }
        facts.leafSelfIssued = gnutls_x509_crt_check_issuer(leaf, leaf) != 0

        // Follow issuer → subject from the leaf through the served certificates, each used once.
        var top = leaf
        var unused = Array(crts.dropFirst())
        while gnutls_x509_crt_check_issuer(top, top) == 0,
            let next = unused.firstIndex(where: { gnutls_x509_crt_check_issuer(top, $0) != 0 })
        {
            top = unused.remove(at: next)
        }
        if top != leaf {
            var critical: UInt32 = 0
            var ca: UInt32 = 0
            var pathLength: Int32 = 0
            facts.topOfPathIsCA =
                gnutls_x509_crt_get_basic_constraints(top, &critical, &ca, &pathLength) >= 0 && ca != 0
        }

        for (index, crt) in crts.enumerated() {
            var bits: UInt32 = 0
            let algorithm = gnutls_pk_algorithm_t(UInt32(bitPattern: gnutls_x509_crt_get_pk_algorithm(crt, &bits)))
            switch algorithm {
            case GNUTLS_PK_RSA, GNUTLS_PK_RSA_PSS, GNUTLS_PK_DSA:
                if bits < 2048 { facts.hasWeakKey = true }
            case GNUTLS_PK_ECDSA:
                if bits < 224 { facts.hasWeakKey = true }
            default: break
            }
            let notAfter = gnutls_x509_crt_get_expiration_time(crt)
            let notBefore = gnutls_x509_crt_get_activation_time(crt)
            if facts.expiredDepth == nil && notAfter != -1 && notAfter < now { facts.expiredDepth = index }
            if facts.notYetValidDepth == nil && notBefore != -1 && notBefore > now { facts.notYetValidDepth = index }
        }
        return facts
    }
}

/// Parsed X.509 certificates, freed together.
private final class X509List {
    private(set) var items: [OpaquePointer] = []

    /// Parses one DER certificate; returns GnuTLS's code (negative on failure).
    func append(_ der: [UInt8]) -> Int32 {
        var crt: OpaquePointer?
        var rc = gnutls_x509_crt_init(&crt)
        guard rc >= 0, let crt else { return rc }
        var copy = der
        rc = copy.withUnsafeMutableBufferPointer { buffer in
            var datum = gnutls_datum_t(data: buffer.baseAddress, size: UInt32(truncatingIfNeeded: buffer.count))
            return gnutls_x509_crt_import(crt, &datum, GNUTLS_X509_FMT_DER)
        }
        if rc < 0 {
            gnutls_x509_crt_deinit(crt)
            return rc
        }
        items.append(crt)
        return 0
    }

    /// Hands the certificates over to a new owner (a trust list).
    func take() -> [OpaquePointer?] {
        defer { items = [] }
        return items.map { Optional($0) }
    }

    func withPointers<R>(_ body: (UnsafeMutablePointer<OpaquePointer?>, UInt32) -> R) -> R {
        var pointers = items.map { Optional($0) }
        return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!, UInt32($0.count)) }
    }

    deinit {
        for crt in items { gnutls_x509_crt_deinit(crt) }
    }
}

/// What `certtool --verify`'s per-certificate output callback (`detailed_verification`) would fail on: it exits 1
/// when a checked certificate's issuer DN, or its issuer's subject DN, cannot be read (an empty name), so certtool
/// rejects such a path whatever GnuTLS concluded. The strict policy is certtool's, so it does the same checks in the
/// same callback. Set and read only under `GnuTLSVerifier.verifyLock`.
private enum CerttoolOutput {
    nonisolated(unsafe) private static var code: Int32?

    static func reset() { code = nil }
    static func record(_ value: Int32) { if code == nil { code = value } }
    static func failure() -> Int32? { code }
}

private func certtoolOutputCallback(
    _ cert: OpaquePointer?,
    _ issuer: OpaquePointer?,
    _ crl: OpaquePointer?,
    _ output: UInt32
) -> Int32 {
    guard let cert else { return 0 }
    var name = gnutls_datum_t(data: nil, size: 0)
    var rc = gnutls_x509_crt_get_issuer_dn3(cert, &name, 0)
    mimic_gnutls_free(name.data)
    if rc < 0 { CerttoolOutput.record(rc) }
    name = gnutls_datum_t(data: nil, size: 0)
    rc = gnutls_x509_crt_get_dn3(cert, &name, 0)
    mimic_gnutls_free(name.data)
    if rc < 0 && rc != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE { CerttoolOutput.record(rc) }
    if let issuer {
        name = gnutls_datum_t(data: nil, size: 0)
        rc = gnutls_x509_crt_get_dn3(issuer, &name, 0)
        mimic_gnutls_free(name.data)
        if rc < 0 { CerttoolOutput.record(rc) }
    }
    return 0
}

/// The clock GnuTLS reads while a timed verification runs.
private enum VerificationClock {
    private static let value = Mutex<time_t>(0)

    static func set(_ time: time_t) { value.withLock { $0 = time } }

    static func get() -> time_t { value.withLock { $0 } }
}

private func verificationClock(_ out: UnsafeMutablePointer<time_t>?) -> time_t {
    let now = VerificationClock.get()
    out?.pointee = now
    return now
}

/// GnuTLS's default clock is libc's `time`; this puts it back (the setter does not accept NULL).
private func systemClock(_ out: UnsafeMutablePointer<time_t>?) -> time_t {
    time(out)
}

/// Copies a GnuTLS-owned datum into Swift bytes.
private func bytes(of datum: gnutls_datum_t) -> [UInt8] {
    guard let data = datum.data, datum.size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: Int(datum.size)))
}
