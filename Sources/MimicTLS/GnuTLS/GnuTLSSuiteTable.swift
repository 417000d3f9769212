private import CGnuTLS
import MimicCore

/// The suites this GnuTLS can offer, read from its suite table (`gnutls_cipher_suite_info`).
enum GnuTLSSuiteTable {
    static let candidates: [TLSSuiteCandidate] = {
        try? GnuTLSLibrary.ensureInitialized()
        var out: [TLSSuiteCandidate] = []
        var seen: Set<UInt16> = []
        var index = 0
        // Bounded: the table has a few hundred entries.
        while index < 4096 {
            defer { index += 1 }
            var id: (UInt8, UInt8) = (0, 0)
            var kx = GNUTLS_KX_UNKNOWN
            var cipher = GNUTLS_CIPHER_UNKNOWN
            var mac = GNUTLS_MAC_UNKNOWN
            var version = GNUTLS_VERSION_UNKNOWN
            let rawName = withUnsafeMutableBytes(of: &id) { bytes in
                gnutls_cipher_suite_info(
                    index, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), &kx, &cipher, &mac, &version)
            }
            guard let rawName else { break }
            let code = UInt16(id.0) << 8 | UInt16(id.1)
            guard let minimum = tlsVersion(version), seen.insert(code).inserted else { continue }
            guard let cipherName = gnutls_cipher_get_name(cipher).map({ String(cString: $0) }),
                let macName = gnutls_mac_get_name(mac).map({ String(cString: $0) })
            else { continue }
            var offer = [cipherName, macName]
            if minimum < .tls1_3 {
                guard let kxName = gnutls_kx_get_name(kx).map({ String(cString: $0) }), offerable(kx: kxName)
                else { continue }
                offer.append(kxName)
            }
            if cipherName.hasPrefix("GOST") { continue }
            let name = String(cString: rawName)
            out.append(
                TLSSuiteCandidate(
                    backend: .gnutls, code: code, libraryName: name, name: name, minimumVersion: minimum,
                    maximumVersion: minimum == .tls1_3 ? .tls1_3 : .tls1_2, offer: offer))
        }
        return out
    }()

    /// Key exchanges a probe can run without credentials of its own (no PSK, SRP or GOST).
    private static func offerable(kx: String) -> Bool {
        ["RSA", "DHE-RSA", "DHE-DSS", "ECDHE-RSA", "ECDHE-ECDSA", "ANON-DH", "ANON-ECDH", "RSA-EXPORT"].contains(kx)
    }

    private static func tlsVersion(_ version: gnutls_protocol_t) -> MimicTLSVersion? {
        switch version {
        case GNUTLS_SSL3, GNUTLS_TLS1_0: .tls1_0
        case GNUTLS_TLS1_1: .tls1_1
        case GNUTLS_TLS1_2: .tls1_2
        case GNUTLS_TLS1_3: .tls1_3
        default: nil
        }
    }
}
