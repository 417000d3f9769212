import Foundation
import MimicCore
import SwiftASN1
import X509

/// Library-independent facts about a certificate chain as a server served it: what each certificate says, the
/// path from the leaf to a trust anchor, the order it was served in, and whether the leaf names the host.
///
/// These are the facts a report sets beside what OpenSSL and GnuTLS concluded, so a verdict that differs between
/// the libraries can be explained by what was actually on the wire.
public struct ChainFacts: Sendable, Codable {
    /// More certificates than this in one Certificate message are not walked: the facts describe the first ones
    /// and say how many were served (the libraries still judge them all).
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
    /// How many certificates were served; more than ``maximumChainLength`` means only the first were examined.
    public var servedCount: Int
    /// Unreadable trust anchors, by index, that played no part in the path: those whose subject could name a step of
    /// the path, or could not be read on its own (the others are never read whole).
    public var unreadableAnchors: [Int]

    /// Served positions of the certificates Mimic could not read in full (see ``CertificateFacts/malformed``).
    public var malformedPositions: [Int] { certificates.indices.filter { certificates[$0].isMalformed } }

    /// More certificates were served than are examined.
    public var tooLong: Bool { servedCount > Self.maximumChainLength }

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
    ///
    /// Never throws for what a server can send: a certificate that cannot be read in full is described as far as
    /// it can be and marked (``CertificateFacts/malformed``), more than ``maximumChainLength`` certificates are
    /// counted and the first ones examined, an unreadable trust anchor is left out. Only an empty chain throws.
    public init(chain: [[UInt8]], anchors: [[UInt8]], hostname: String?, at: Date = Date()) throws(ChainFactsError) {
        guard !chain.isEmpty else { throw .emptyChain }
        servedCount = chain.count
        var served: [ParsedCertificate?] = []
        var facts: [CertificateFacts] = []
        for (position, der) in chain.prefix(Self.maximumChainLength).enumerated() {
            do {
                let parsed = try ParsedCertificate(der: der, tolerant: true)
                facts.append(try CertificateFacts(parsed, position: position, tolerant: true))
                served.append(parsed)
            } catch {
                facts.append(CertificateFacts(unreadable: der, position: position, reason: error.description))
                served.append(nil)
            }
        }
        var trusted: [ParsedCertificate?] = []
        var unreadableAnchors: [Int] = []
        // The walk looks anchors up by the canonical form of a served certificate's subject or issuer, so only the
        // anchors whose subject has one of those forms are read whole; the others are left out as if absent.
        // Reading all 137 of the bundled store whole was most of a verdict's time. An anchor whose subject cannot be
        // read on its own is read whole, as every anchor was.
        let wanted = Set(served.compactMap { $0 }.flatMap { [Self.canonical($0.subject), Self.canonical($0.issuer)] })
        for (index, der) in anchors.prefix(Self.maximumAnchors).enumerated() {
            if let subject = Self.subjectName(der), !wanted.contains(Self.canonical(subject)) {
                trusted.append(nil)
                continue
            }
            let parsed = try? ParsedCertificate(der: der, tolerant: true)
            if parsed == nil { unreadableAnchors.append(index) }
            trusted.append(parsed)
        }
        self.unreadableAnchors = unreadableAnchors

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
        if let index = walk.anchor, !walk.anchorServed, let anchorParsed = trusted[index] {
            anchorCertificate =
                (try? CertificateFacts(anchorParsed, position: nil, tolerant: true))
                ?? CertificateFacts(unreadable: anchorParsed.der, position: nil, reason: "unreadable trust anchor")
        } else {
            anchorCertificate = nil
        }
        chainOrder = walkedPath == Array(0..<walkedPath.count)
        // With the leaf unreadable there is no path to speak of, so nothing is "unrelated" to it either.
        unrelated = served[0] == nil ? [] : facts.indices.filter { !walkedPath.contains($0) }
        hostnameMatch =
            facts[0].unreadable ? .notChecked : HostnameMatcher.match(hostname: hostname, certificate: facts[0])
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

    /// A certificate's subject read from its DER alone (``CertificateNameRanges``); nil when it cannot be.
    static func subjectName(_ der: [UInt8]) -> DistinguishedName? {
        guard let ranges = CertificateNameRanges(der: der) else { return nil }
        return try? DistinguishedName(derEncoded: der[ranges.subject])
    }

    /// The name's text lowercased, each run of spaces made one and none left at either end (written out by hand:
    /// `split` and `joined` are generic, and the runtime looks their types up at first use).
    static func canonical(_ name: DistinguishedName) -> String {
        var text = ""
        var pendingSpace = false
        for character in name.rfc4514.lowercased() {
            if character == " " {
                pendingSpace = !text.isEmpty
                continue
            }
            if pendingSpace { text.append(" ") }
            pendingSpace = false
            text.append(character)
        }
        return text
    }
}

/// The walk from the leaf towards a trust anchor over the served certificates.
private struct PathWalk {
    var path: [Int] = [0]
    var anchor: Int? = nil
    /// The top of the path is itself a trust anchor (same DER, or same name and key).
    var anchorServed = false
    var unchecked: [Int] = []

    init(served: [ParsedCertificate?], facts: [CertificateFacts], anchors: [ParsedCertificate?]) {
        var anchorsByName: [String: [Int]] = [:]
        for (index, anchor) in anchors.enumerated() {
            guard let anchor else { continue }
            anchorsByName[ChainFacts.canonical(anchor.subject), default: []].append(index)
        }
        var current = 0
        // Each step adds a served position not yet on the path, so the loop ends; the bound says so twice.
        while path.count <= served.count {
            guard let certificate = served[current] else { return }
            if let index = Self.anchorIndex(of: certificate, in: anchors, byName: anchorsByName) {
                anchor = index
                anchorServed = true
                return
            }
            if facts[current].selfSigned { return }
            let candidates: [(Int, ParsedCertificate)] = served.indices.compactMap { index in
                guard !path.contains(index), let candidate = served[index],
                    ChainFacts.sameName(
                        candidate.subject,
                        candidate.subjectDER,
                        certificate.issuer,
                        certificate.issuerDER
                    )
                else { return nil }
                return (index, candidate)
            }
            if let (index, check) = Self.issuer(of: certificate, among: candidates) {
                if check == .unsupported { unchecked.append(current) }
                path.append(index)
                current = index
                continue
            }
            let trusted = (anchorsByName[ChainFacts.canonical(certificate.issuer)] ?? []).compactMap { index in
                anchors[index].map { (index, $0) }
            }
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
        in anchors: [ParsedCertificate?],
        byName: [String: [Int]]
    ) -> Int? {
        (byName[ChainFacts.canonical(certificate.subject)] ?? []).first { index in
            guard let anchor = anchors[index] else { return false }
            return anchor.der == certificate.der || anchor.publicKey.spkiDER == certificate.publicKey.spkiDER
        }
    }
}
