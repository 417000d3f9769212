import MimicCore
import MimicTLS

/// Exactly what one enumeration connection offers: one version (or a range), a suite list, groups. Each backend
/// reads only its own fields, as `MimicTLSConfiguration` does; the probe offers everything its library can still speak
/// (`MimicTLSConfiguration.legacyOffers`), then narrows it to this.
public struct ProbeOffer: Sendable, Hashable, Codable {
    public var minimumVersion: MimicTLSVersion
    public var maximumVersion: MimicTLSVersion
    /// OpenSSL cipher list (TLS 1.2 and below).
    public var cipherList: String?
    /// OpenSSL TLS 1.3 ciphersuites.
    public var cipherSuites: String?
    /// GnuTLS priority string.
    public var priority: String?
    /// Key-exchange groups (IANA names); nil keeps the library's.
    public var groups: [String]?

    public init(
        minimumVersion: MimicTLSVersion, maximumVersion: MimicTLSVersion, cipherList: String? = nil,
        cipherSuites: String? = nil, priority: String? = nil, groups: [String]? = nil
    ) {
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.cipherList = cipherList
        self.cipherSuites = cipherSuites
        self.priority = priority
        self.groups = groups
    }

    /// Narrows a client configuration to this offer.
    func apply(to configuration: inout MimicTLSConfiguration) {
        configuration.minimumVersion = minimumVersion
        configuration.maximumVersion = maximumVersion
        configuration.cipherList = cipherList
        configuration.cipherSuites = cipherSuites
        configuration.priority = priority
        configuration.groups = groups
        configuration.legacyOffers = true
        // What the server accepts is the question; the probe itself judges the chain.
        configuration.verifyPeer = false
    }

    // MARK: - Offers built from the libraries' suite tables

    /// Every TLS 1.2-and-below suite OpenSSL can offer (security level 0 comes with `legacyOffers`).
    static let openSSLEverything = "ALL:COMPLEMENTOFALL:!PSK:!SRP"
    static let openSSLAllTLS13 =
        "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:"
        + "TLS_AES_128_CCM_8_SHA256"

    /// GnuTLS: NULL cannot be enabled with TLS 1.3 (GnuTLS then drops TLS 1.3 from the offer), so it joins the
    /// legacy offers only.
    static func gnuTLSEverything(at version: MimicTLSVersion, groups: [String]? = nil) -> String {
        var parts = ["NONE", "+VERS-TLS\(version.rawValue)", "+CIPHER-ALL", "+MAC-ALL"]
        if version < .tls1_3 {
            parts += [
                "+3DES-CBC", "+ARCFOUR-128", "+NULL", "+MD5", "+SHA1", "+RSA", "+DHE-RSA", "+DHE-DSS", "+ECDHE-RSA",
                "+ECDHE-ECDSA", "+ANON-DH", "+ANON-ECDH",
            ]
        } else {
            parts += ["+ECDHE-RSA", "+ECDHE-ECDSA", "+DHE-RSA"]
        }
        parts += gnuTLSTail(groups: groups)
        return parts.joined(separator: ":")
    }

    /// GnuTLS: the given suites' keywords, in this order (cipher-major, as GnuTLS builds its ClientHello).
    static func gnuTLS(suites: [TLSSuiteCandidate], at version: MimicTLSVersion) -> String {
        var ciphers: [String] = []
        var macs: [String] = []
        var exchanges: [String] = []
        for suite in suites {
            if let cipher = suite.offer.first, !ciphers.contains(cipher) { ciphers.append(cipher) }
            if suite.offer.count > 1, !macs.contains(suite.offer[1]) { macs.append(suite.offer[1]) }
            if suite.offer.count > 2, !exchanges.contains(suite.offer[2]) { exchanges.append(suite.offer[2]) }
        }
        if version == .tls1_3 { exchanges = ["ECDHE-RSA", "ECDHE-ECDSA", "DHE-RSA"] }
        let parts =
            ["NONE", "+VERS-TLS\(version.rawValue)"] + (ciphers + macs + exchanges).map { "+" + $0 }
            + gnuTLSTail(groups: nil)
        return parts.joined(separator: ":")
    }

    private static func gnuTLSTail(groups: [String]?) -> [String] {
        let groupParts = groups.map { $0.map { "+" + TLSGroups.gnuTLSKeyword($0) } } ?? ["+GROUP-ALL"]
        return ["+SIGN-ALL"] + groupParts + ["+CTYPE-X509", "+COMP-NULL", "%COMPAT"]
    }

    /// Everything `backend` can offer at `version`.
    static func everything(_ backend: TLSBackend, at version: MimicTLSVersion, groups: [String]? = nil) -> ProbeOffer {
        switch backend {
        case .openssl:
            ProbeOffer(
                minimumVersion: version, maximumVersion: version, cipherList: openSSLEverything,
                cipherSuites: openSSLAllTLS13, groups: groups)
        case .gnutls:
            ProbeOffer(
                minimumVersion: version, maximumVersion: version,
                priority: gnuTLSEverything(at: version, groups: groups))
        }
    }

    /// Exactly `suites`, in this order, at `version`.
    static func suites(_ suites: [TLSSuiteCandidate], backend: TLSBackend, at version: MimicTLSVersion) -> ProbeOffer {
        switch backend {
        case .openssl:
            let names = suites.compactMap(\.offer.first).joined(separator: ":")
            return version == .tls1_3
                // An empty TLS 1.2 list keeps OpenSSL from refusing to build a context with no suites at all.
                ? ProbeOffer(
                    minimumVersion: version, maximumVersion: version, cipherList: openSSLEverything,
                    cipherSuites: names)
                : ProbeOffer(minimumVersion: version, maximumVersion: version, cipherList: names, cipherSuites: "")
        case .gnutls:
            return ProbeOffer(
                minimumVersion: version, maximumVersion: version, priority: gnuTLS(suites: suites, at: version))
        }
    }
}
