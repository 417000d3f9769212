/// Why chain facts could not be computed.
public enum ChainFactsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server sent no certificate.
    case emptyChain
    /// More certificates than any sane server sends; the facts refuse to walk them.
    case tooManyCertificates(count: Int, limit: Int)
    /// The certificate at `position` in the served chain is not a certificate we can read.
    case unparseable(position: Int, reason: String)
    /// A trust anchor handed in by the caller is not a certificate we can read.
    case unparseableAnchor(index: Int, reason: String)

    public var description: String {
        switch self {
        case .emptyChain:
            "the server sent no certificate"
        case .tooManyCertificates(let count, let limit):
            "the server sent \(count) certificates; at most \(limit) are examined"
        case .unparseable(let position, let reason):
            "certificate at position \(position) does not parse: \(reason)"
        case .unparseableAnchor(let index, let reason):
            "trust anchor \(index) does not parse: \(reason)"
        }
    }
}
