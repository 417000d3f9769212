import Foundation
import X509

/// Library-independent facts about a certificate chain as a server served it: what each certificate says, the
/// path from the leaf to a trust anchor, the order it was served in, and whether the leaf names the host.
///
/// These are the facts a report sets beside what OpenSSL and GnuTLS concluded, so a verdict that differs between
/// the libraries can be explained by what was actually on the wire.
public struct ChainFacts: Sendable, Codable {
    /// More certificates than this in one Certificate message are refused rather than walked.
    public static let maximumChainLength = 32
    /// Bound on the trust anchors handed in (a bundled store holds a few hundred).
    public static let maximumAnchors = 10_000

    /// The time the facts were computed for.
    public var checkedAt: Date
    /// The name the client asked for, if any.
    public var hostname: String?
    /// Every served certificate, in the order served (`certificates[0]` is the leaf).
    public var certificates: [CertificateFacts]
    /// Served positions from the leaf up: each certificate's issuer (same name, verifying signature) follows it.
    public var path: [Int]
    /// The index into the trust anchors that the path reached, if any.
    public var anchor: Int?
    /// The trust anchor that issued the top of the path, when the server did not send it itself.
    public var anchorCertificate: CertificateFacts?
    /// A trust anchor was reached.
    public var complete: Bool
    /// The served order is leaf, issuer, issuer's issuer… (with or without the root).
    public var chainOrder: Bool
    /// Served positions on no path from the leaf.
    public var unrelated: [Int]
    /// The leaf is self-signed.
    public var leafSelfSigned: Bool
    /// Served positions whose issuer was accepted on its name alone, because the signature's algorithm or key
    /// (MD5, DSA, RSA-PSS, RSA under 1024 bits, an unusual curve) cannot be checked here.
    public var uncheckedSignatures: [Int]
    /// The leaf checked against `hostname`.
    public var hostnameMatch: HostnameMatch

    /// The served leaf.
    public var leaf: CertificateFacts? { certificates.first }

    /// The path's certificates from the leaf up, ending with the trust anchor when it was not served.
    public var pathCertificates: [CertificateFacts] {
        path.compactMap { certificates.indices.contains($0) ? certificates[$0] : nil }
            + [anchorCertificate].compactMap { $0 }
    }

    /// The fewest whole days left on any certificate of the path (anchor included), at `checkedAt`.
    public var minimumDaysLeft: Int? { pathCertificates.map { $0.daysLeft(at: checkedAt) }.min() }

    /// Certificates of the path with a weak key, the trust anchor included.
    public var weakKeys: [CertificateFacts] { pathCertificates.filter(\.hasWeakKey) }

    /// Certificates of the path whose signature relies on a broken digest. A trust anchor's own signature is
    /// never relied upon, so it does not count, whether or not the server sent the anchor.
    public var weakSignatures: [CertificateFacts] {
        let relied = anchor != nil && anchorCertificate == nil ? path.dropLast() : path[...]
        return relied.compactMap { certificates.indices.contains($0) ? certificates[$0] : nil }
            .filter(\.hasWeakSignature)
    }

    /// - Parameters:
    ///   - chain: the DER certificates as served, leaf first.
    ///   - anchors: the DER trust anchors to build the path to; the OS trust store plays no part.
    ///   - hostname: the name the client asked for; nil skips the identity check.
    ///   - at: the time validity is judged at.
    public init(chain: [[UInt8]], anchors: [[UInt8]], hostname: String?, at: Date = Date()) throws(ChainFactsError) {
        guard !chain.isEmpty else { throw .emptyChain }
        guard chain.count <= Self.maximumChainLength else {
            throw .tooManyCertificates(count: chain.count, limit: Self.maximumChainLength)
        }
        guard anchors.count <= Self.maximumAnchors else {
            throw .unparseableAnchor(index: Self.maximumAnchors, reason: "more than \(Self.maximumAnchors) anchors")
        }
        var served: [ParsedCertificate] = []
        var facts: [CertificateFacts] = []
        for (position, der) in chain.enumerated() {
            do {
                let parsed = try ParsedCertificate(der: der)
                facts.append(try CertificateFacts(parsed, position: position))
                served.append(parsed)
            } catch {
                throw .unparseable(position: position, reason: error.description)
            }
        }
        var trusted: [ParsedCertificate] = []
        for (index, der) in anchors.enumerated() {
            do {
                trusted.append(try ParsedCertificate(der: der))
            } catch {
                throw .unparseableAnchor(index: index, reason: error.description)
            }
        }

        checkedAt = at
        self.hostname = hostname
        certificates = facts
        leafSelfSigned = facts[0].selfSigned

        let walk = PathWalk(served: served, facts: facts, anchors: trusted)
        let walkedPath = walk.path
        path = walkedPath
        anchor = walk.anchor
        complete = walk.anchor != nil
        uncheckedSignatures = walk.unchecked
        if let index = walk.anchor, !walk.anchorServed {
            do {
                anchorCertificate = try CertificateFacts(trusted[index], position: nil)
            } catch {
                throw .unparseableAnchor(index: index, reason: error.description)
            }
        } else {
            anchorCertificate = nil
        }
        chainOrder = walkedPath == Array(0..<walkedPath.count)
        unrelated = chain.indices.filter { !walkedPath.contains($0) }
        hostnameMatch = HostnameMatcher.match(hostname: hostname, certificate: facts[0])
    }

    /// RFC 5280 §7.1 name matching, approximated: the same DER, the same parsed RDNs, or the same RFC 4514 text
    /// compared case-insensitively with runs of spaces folded (what OpenSSL's canonical encoding tolerates).
    static func sameName(
        _ lhs: DistinguishedName,
        _ lhsDER: ArraySlice<UInt8>,
        _ rhs: DistinguishedName,
        _ rhsDER: ArraySlice<UInt8>
    ) -> Bool {
        lhsDER == rhsDER || lhs == rhs || canonical(lhs) == canonical(rhs)
    }

    static func canonical(_ name: DistinguishedName) -> String {
        name.description.lowercased().split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}

/// The walk from the leaf towards a trust anchor over the served certificates.
private struct PathWalk {
    var path: [Int] = [0]
    var anchor: Int? = nil
    /// The top of the path is itself a trust anchor (same DER, or same name and key).
    var anchorServed = false
    var unchecked: [Int] = []

    init(served: [ParsedCertificate], facts: [CertificateFacts], anchors: [ParsedCertificate]) {
        var anchorsByName: [String: [Int]] = [:]
        for (index, anchor) in anchors.enumerated() {
            anchorsByName[ChainFacts.canonical(anchor.subject), default: []].append(index)
        }
        var current = 0
        // Each step adds a served position not yet on the path, so the loop ends; the bound says so twice.
        while path.count <= served.count {
            let certificate = served[current]
            if let index = Self.anchorIndex(of: certificate, in: anchors, byName: anchorsByName) {
                anchor = index
                anchorServed = true
                return
            }
            if facts[current].selfSigned { return }
            let candidates = served.indices.filter { index in
                !path.contains(index)
                    && ChainFacts.sameName(
                        served[index].subject,
                        served[index].subjectDER,
                        certificate.issuer,
                        certificate.issuerDER
                    )
            }
            if let (index, check) = Self.issuer(of: certificate, among: candidates.map { ($0, served[$0]) }) {
                if check == .unsupported { unchecked.append(current) }
                path.append(index)
                current = index
                continue
            }
            let trusted = (anchorsByName[ChainFacts.canonical(certificate.issuer)] ?? []).map { ($0, anchors[$0]) }
            if let (index, check) = Self.issuer(of: certificate, among: trusted) {
                if check == .unsupported { unchecked.append(current) }
                anchor = index
            }
            return
        }
    }

    /// The first candidate whose key verifies the signature; failing that, the first one whose key cannot be
    /// checked here; never one whose key disproves it.
    private static func issuer(
        of certificate: ParsedCertificate,
        among candidates: [(Int, ParsedCertificate)]
    ) -> (Int, SignatureCheck)? {
        var fallback: (Int, SignatureCheck)? = nil
        for (index, candidate) in candidates {
            switch SignatureCheck(certificate, signedBy: candidate) {
            case .valid: return (index, .valid)
            case .unsupported: if fallback == nil { fallback = (index, .unsupported) }
            case .invalid: continue
            }
        }
        return fallback
    }

    private static func anchorIndex(
        of certificate: ParsedCertificate,
        in anchors: [ParsedCertificate],
        byName: [String: [Int]]
    ) -> Int? {
        (byName[ChainFacts.canonical(certificate.subject)] ?? []).first { index in
            anchors[index].der == certificate.der || anchors[index].publicKey.spkiDER == certificate.publicKey.spkiDER
        }
    }
}
