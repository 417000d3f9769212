/// How a certificate's identities relate to the name a client asked for.
public enum HostnameMatch: Sendable, Hashable, Codable {
    /// A subjectAltName matched; `san` is the entry as `CertificateFacts` prints it (`DNS:*.example.test`).
    case matched(san: String)
    /// There is no subjectAltName extension and the subject CN matched. RFC 6125 allowed this fallback;
    /// RFC 9525 and every browser refuse it.
    case commonNameOnly(cn: String)
    case mismatch
    /// No hostname was given.
    case notChecked
}

/// Service identity checks by RFC 9525 (which obsoletes RFC 6125), as a careful TLS client does them.
///
/// - DNS-IDs only when the certificate has any subjectAltName; the CN is looked at only when the extension is
///   absent, and then reported apart as `.commonNameOnly`.
/// - Case-insensitive, a trailing dot ignored on either side.
/// - A wildcard only as the complete left-most label, standing for exactly one non-empty label, never in a name
///   of fewer than three labels (`*.test`, `*.com`); partial wildcards (`f*.example.test`) never match.
/// - An IP literal matches iPAddress SANs only (octet for octet), never a DNS-ID that spells it.
public enum HostnameMatcher {
    /// Checks `hostname` against a certificate's facts.
    public static func match(hostname: String?, certificate: CertificateFacts) -> HostnameMatch {
        match(
            hostname: hostname,
            subjectAlternativeNames: certificate.hasSubjectAlternativeNames ? certificate.subjectAlternativeNames : nil,
            commonNames: certificate.commonNames
        )
    }

    /// Checks `hostname` against SAN entries printed as `CertificateFacts` prints them (`DNS:…`, `IP:…`);
    /// `subjectAlternativeNames` nil means the certificate has no subjectAltName extension at all.
    public static func match(
        hostname: String?,
        subjectAlternativeNames: [String]?,
        commonNames: [String] = []
    ) -> HostnameMatch {
        guard let hostname, !hostname.isEmpty else { return .notChecked }
        if let address = IPAddress.parse(hostname) {
            for san in subjectAlternativeNames ?? [] where san.hasPrefix("IP:") {
                if IPAddress.parse(String(san.dropFirst(3))) == address { return .matched(san: san) }
            }
            return .mismatch
        }
        guard let subjectAlternativeNames else {
            for cn in commonNames where matches(pattern: cn, hostname: hostname) {
                return .commonNameOnly(cn: cn)
            }
            return .mismatch
        }
        for san in subjectAlternativeNames where san.hasPrefix("DNS:") {
            if matches(pattern: String(san.dropFirst(4)), hostname: hostname) { return .matched(san: san) }
        }
        return .mismatch
    }

    /// Whether one presented DNS identifier (`mail.example.test`, `*.example.test`) covers `hostname`.
    public static func matches(pattern: String, hostname: String) -> Bool {
        guard let host = labels(hostname), let presented = labels(pattern) else { return false }
        // The reference identifier is a name, never a pattern, and never an IP literal.
        guard !host.contains(where: { $0.contains("*" as Character) }), IPAddress.parse(hostname) == nil else {
            return false
        }
        guard presented.count == host.count else { return false }
        if presented[0] == "*" {
            guard presented.count >= 3, !presented.dropFirst().contains(where: { $0.contains("*" as Character) }) else {
                return false
            }
            return presented.dropFirst() == host.dropFirst()
        }
        guard !presented.contains(where: { $0.contains("*" as Character) }) else { return false }
        return presented == host
    }

    /// Lower-cased ASCII labels with one trailing dot dropped; nil for an empty name or an empty label.
    private static func labels(_ name: String) -> [Substring]? {
        var name = Substring(name)
        if name.hasSuffix(".") { name = name.dropLast() }
        guard !name.isEmpty, name.utf8.count <= 253 else { return nil }
        let lowered = Substring(
            String(decoding: name.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
        )
        let labels = lowered.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ !$0.isEmpty }) else { return nil }
        return labels
    }
}
