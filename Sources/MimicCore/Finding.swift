/// One thing wrong (or worth knowing) about a service, with where it was seen and the evidence for it.
public struct Finding: Sendable, Hashable, Codable, CustomStringConvertible {
    public var code: FindingCode
    public var severity: Severity
    public var phase: Phase
    /// What was seen: a reply line, an alert, a library's own error text, a certificate's subject.
    public var evidence: String
    /// Who reported it: a backend (`openssl`, `gnutls`), `facts` for the library-independent chain facts,
    /// or the dialog.
    public var source: String?
    /// The library's raw code when a backend produced it (`X509_V_ERR_CERT_HAS_EXPIRED`, `GNUTLS_CERT_EXPIRED`).
    public var rawCode: String?
    /// Position in the chain as served (0 = leaf) when the finding is about one certificate.
    public var depth: Int?
    /// Days left, for `expiringSoon` (and negative days for `expired`, where known).
    public var days: Int?
    /// How many, for `chainTooLong` (the number of certificates served).
    public var count: Int?

    public init(
        _ code: FindingCode,
        severity: Severity? = nil,
        phase: Phase,
        evidence: String,
        source: String? = nil,
        rawCode: String? = nil,
        depth: Int? = nil,
        days: Int? = nil,
        count: Int? = nil
    ) {
        self.code = code
        self.severity = severity ?? code.defaultSeverity
        self.phase = phase
        self.evidence = evidence
        self.source = source
        self.rawCode = rawCode
        self.depth = depth
        self.days = days
        self.count = count
    }

    public var description: String {
        var text = "\(severity) \(code)"
        if let depth { text += " [depth \(depth)]" }
        if let rawCode { text += " (\(rawCode))" }
        text += ": \(evidence)"
        return text
    }
}

extension Array where Element == Finding {
    /// The worst severity among the findings; OK when there are none.
    public var severity: Severity { map(\.severity).max() ?? .ok }

    /// The distinct codes, in the order first seen.
    public var codes: [FindingCode] {
        var seen = Set<FindingCode>()
        return compactMap { seen.insert($0.code).inserted ? $0.code : nil }
    }
}
