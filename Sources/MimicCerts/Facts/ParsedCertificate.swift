import Crypto
import Foundation
import SwiftASN1
import X509

/// One certificate read field by field from its DER, without asking swift-certificates to understand its key or
/// signature algorithm.
///
/// `Certificate(derEncoded:)` refuses what a test bench must describe: RSA keys under 2048 bits, DSA keys,
/// MD5 signatures, RSA-PSS, unnamed curves. So the outer structure is read here with SwiftASN1, and
/// swift-certificates is used only for the parts it reads without judging: names and extensions.
struct ParsedCertificate: Sendable {
    /// Upper bound on one certificate's DER; real certificates are a few KiB.
    static let maximumSize = 64 * 1024

    let der: [UInt8]
    let version: Int
    let serial: [UInt8]
    let issuer: DistinguishedName
    let subject: DistinguishedName
    let issuerDER: ArraySlice<UInt8>
    let subjectDER: ArraySlice<UInt8>
    let notBefore: Date
    let notAfter: Date
    let publicKey: PublicKeyInfo
    let signature: SignatureInfo
    let extensions: Certificate.Extensions
    /// The DER of `tbsCertificate`, which the issuer signed.
    let tbsBytes: ArraySlice<UInt8>
    /// The signature value's bytes (the BIT STRING's content).
    let signatureBytes: ArraySlice<UInt8>

    /// RFC 5280 §4.1:
    /// ```
    /// Certificate  ::=  SEQUENCE  {
    ///      tbsCertificate       TBSCertificate,
    ///      signatureAlgorithm   AlgorithmIdentifier,
    ///      signatureValue       BIT STRING  }
    ///
    /// TBSCertificate  ::=  SEQUENCE  {
    ///      version         [0]  EXPLICIT Version DEFAULT v1,
    ///      serialNumber         CertificateSerialNumber,
    ///      signature            AlgorithmIdentifier,
    ///      issuer               Name,
    ///      validity             Validity,
    ///      subject              Name,
    ///      subjectPublicKeyInfo SubjectPublicKeyInfo,
    ///      issuerUniqueID  [1]  IMPLICIT UniqueIdentifier OPTIONAL,
    ///      subjectUniqueID [2]  IMPLICIT UniqueIdentifier OPTIONAL,
    ///      extensions      [3]  EXPLICIT Extensions OPTIONAL }
    /// ```
    init(der: [UInt8]) throws(ParseError) {
        try self.init(der: der, tolerant: false)
    }

    /// What was wrong with the certificate and read around (empty for a well-formed one). A tolerant read records
    /// each problem here and goes on with what it can; a strict read (``init(der:)``) throws the first.
    private(set) var problems: [String] = []

    /// Reads `der`; with `tolerant` every field that fails is recorded in ``problems`` and replaced by a neutral
    /// value (an empty name, no extensions, an unreadable key), so that a served certificate only the libraries
    /// can judge is still described. Only an outer structure that is not a certificate at all (not three fields,
    /// no tbsCertificate of six) or a size beyond the bound throws.
    init(der: [UInt8], tolerant: Bool) throws(ParseError) {
        guard !der.isEmpty else { throw ParseError("empty certificate") }
        guard der.count <= Self.maximumSize else {
            throw ParseError("certificate of \(der.count) bytes exceeds the \(Self.maximumSize)-byte bound")
        }
        self.der = der
        var problems: [String] = []
        do {
            let root = try DER.parse(der)
            var fields:
                (
                    tbs: ArraySlice<UInt8>, version: Int, serial: [UInt8], innerAlgorithm: AlgorithmIdentifierInfo?,
                    issuer: ASN1Node, notBefore: Date?, notAfter: Date?, subject: ASN1Node, spki: ASN1Node,
                    extensions: [Certificate.Extension], outerAlgorithm: AlgorithmIdentifierInfo?,
                    signature: ArraySlice<UInt8>
                )? = nil
            try DER.sequence(root, identifier: .sequence) { nodes in
                guard let tbsNode = nodes.next(), let algorithmNode = nodes.next(), let signatureNode = nodes.next()
                else { throw ParseError("certificate: fewer than three fields") }
                let outerAlgorithm = Self.read("signatureAlgorithm", &problems) {
                    try AlgorithmIdentifierInfo(node: algorithmNode)
                }
                let signature =
                    Self.read("signatureValue", &problems) { try ASN1BitString(derEncoded: signatureNode).bytes } ?? []
                try DER.sequence(tbsNode, identifier: .sequence) { tbs in
                    let version =
                        try DER.optionalExplicitlyTagged(&tbs, tagNumber: 0, tagClass: .contextSpecific) { node in
                            try Int(derEncoded: node)
                        } ?? 0
                    guard let serialNode = tbs.next(), let innerAlgorithmNode = tbs.next(),
                        let issuerNode = tbs.next(), let validityNode = tbs.next(), let subjectNode = tbs.next(),
                        let spkiNode = tbs.next()
                    else { throw ParseError("tbsCertificate: missing fields") }
                    let serial = Self.serial(serialNode, &problems)
                    let innerAlgorithm = Self.read("tbsCertificate signature", &problems) {
                        try AlgorithmIdentifierInfo(node: innerAlgorithmNode)
                    }
                    let validity = Self.read("validity", &problems) {
                        try DER.sequence(validityNode, identifier: .sequence) { validity in
                            guard let before = validity.next(), let after = validity.next() else {
                                throw ParseError("validity: missing times")
                            }
                            return (try Self.date(before), try Self.date(after))
                        }
                    }
                    var extensions: [Certificate.Extension] = []
                    // The unique identifiers are skipped; extensions are the only other field we read.
                    while let node = tbs.next() {
                        if node.identifier == ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific) {
                            extensions =
                                Self.read("extensions", &problems) {
                                    try DER.explicitlyTagged(node, tagNumber: 3, tagClass: .contextSpecific) {
                                        inner in
                                        try DER.sequence(
                                            of: Certificate.Extension.self,
                                            identifier: .sequence,
                                            rootNode: inner
                                        )
                                    }
                                } ?? []
                        }
                    }
                    fields = (
                        tbsNode.encodedBytes, version, serial, innerAlgorithm, issuerNode, validity?.0, validity?.1,
                        subjectNode, spkiNode, extensions, outerAlgorithm, signature
                    )
                }
            }
            guard let fields else { throw ParseError("certificate: no tbsCertificate") }
            // RFC 5280 §4.1.1.2: the two algorithm fields must be equal; a mismatch is a forgery tell.
            if let inner = fields.innerAlgorithm, let outer = fields.outerAlgorithm, inner != outer {
                problems.append("signature algorithm differs between tbsCertificate and certificate")
            }
            self.tbsBytes = fields.tbs
            self.version = fields.version + 1
            self.serial = fields.serial
            self.issuerDER = fields.issuer.encodedBytes
            self.subjectDER = fields.subject.encodedBytes
            self.issuer = Self.read("issuer", &problems) { try DistinguishedName(derEncoded: fields.issuer) } ?? .init()
            self.subject =
                Self.read("subject", &problems) { try DistinguishedName(derEncoded: fields.subject) } ?? .init()
            self.notBefore = fields.notBefore ?? .distantPast
            self.notAfter = fields.notAfter ?? .distantFuture
            self.publicKey =
                Self.read("subjectPublicKeyInfo", &problems) { try PublicKeyInfo(node: fields.spki) }
                ?? PublicKeyInfo(unreadable: fields.spki.encodedBytes)
            self.signature = SignatureInfo(fields.outerAlgorithm ?? fields.innerAlgorithm ?? .unknown)
            self.signatureBytes = fields.signature
            self.extensions = Self.extensions(fields.extensions, &problems)
        } catch let error as ParseError {
            throw error
        } catch {
            throw ParseError(String(describing: error))
        }
        if !tolerant, let first = problems.first { throw ParseError(first) }
        self.problems = problems
    }

    /// One field read on its own: a failure becomes a recorded problem and nil.
    private static func read<T>(_ field: String, _ problems: inout [String], _ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch let error as ParseError {
            problems.append("\(field): \(error.description)")
        } catch {
            problems.append("\(field): \(error)")
        }
        return nil
    }

    /// `CertificateSerialNumber ::= INTEGER` — read as its content bytes, so that a negative or zero serial
    /// (which RFC 5280 §4.1.2.2 forbids and old appliances still send) is described rather than refused.
    private static func serial(_ node: ASN1Node, _ problems: inout [String]) -> [UInt8] {
        guard node.identifier == .integer, case .primitive(let content) = node.content, !content.isEmpty else {
            problems.append("serialNumber: not an INTEGER")
            return []
        }
        if content.first! & 0x80 != 0 {
            problems.append("serialNumber: negative (RFC 5280 §4.1.2.2 requires a positive integer)")
        } else if content.allSatisfy({ $0 == 0 }) {
            problems.append("serialNumber: zero (RFC 5280 §4.1.2.2 requires a positive integer)")
        } else if content.count > 21 {
            problems.append("serialNumber: \(content.count) octets (RFC 5280 §4.1.2.2 allows at most 20)")
        }
        return Array(content)
    }

    /// The extensions as swift-certificates holds them; a repeated OID (RFC 5280 §4.2 forbids it) keeps the
    /// first occurrence and is recorded.
    private static func extensions(
        _ list: [Certificate.Extension],
        _ problems: inout [String]
    ) -> Certificate.Extensions {
        if let extensions = try? Certificate.Extensions(list) { return extensions }
        var seen = Set<ASN1ObjectIdentifier>()
        var unique: [Certificate.Extension] = []
        for item in list {
            if seen.insert(item.oid).inserted {
                unique.append(item)
            } else {
                problems.append("extensions: \(item.oid) appears more than once")
            }
        }
        return Self.read("extensions", &problems) { try Certificate.Extensions(unique) } ?? .init()
    }

    /// `Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }` (RFC 5280 §4.1.2.5).
    private static func date(_ node: ASN1Node) throws -> Date {
        let parts: (year: Int, month: Int, day: Int, hours: Int, minutes: Int, seconds: Int)
        switch node.identifier {
        case UTCTime.defaultIdentifier:
            let time = try UTCTime(derEncoded: node)
            parts = (time.year, time.month, time.day, time.hours, time.minutes, time.seconds)
        case GeneralizedTime.defaultIdentifier:
            let time = try GeneralizedTime(derEncoded: node)
            parts = (time.year, time.month, time.day, time.hours, time.minutes, time.seconds)
        default:
            throw ParseError("validity: time of unexpected type \(node.identifier)")
        }
        // Days from the civil date (Howard Hinnant's algorithm): no Calendar, no locale, no time zone.
        let year = parts.month <= 2 ? parts.year - 1 : parts.year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let monthIndex = (parts.month + 9) % 12
        let dayOfYear = (153 * monthIndex + 2) / 5 + parts.day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + parts.hours * 3_600 + parts.minutes * 60 + parts.seconds
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}

/// Why a certificate could not be read.
struct ParseError: Error, Sendable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }`.
struct AlgorithmIdentifierInfo: Sendable, Hashable {
    let oid: ASN1ObjectIdentifier
    /// The parameters' DER, when present (an absent field and an explicit NULL stay distinguishable).
    let parameters: ASN1Node?

    /// An algorithm field that could not be read.
    static let unknown = AlgorithmIdentifierInfo(oid: [0, 0], parameters: nil)

    private init(oid: ASN1ObjectIdentifier, parameters: ASN1Node?) {
        self.oid = oid
        self.parameters = parameters
    }

    init(node: ASN1Node) throws {
        (oid, parameters) = try DER.sequence(node, identifier: .sequence) { nodes in
            let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
            let parameters = nodes.next()
            return (oid, parameters)
        }
    }

    /// Two identifiers are the same algorithm when their OIDs are; RFC 5754 lets the RSA NULL be absent or
    /// present, and real certificates disagree with themselves on it.
    static func == (lhs: Self, rhs: Self) -> Bool {
        guard lhs.oid == rhs.oid else { return false }
        return lhs.parameters?.encodedBytes ?? [0x05, 0x00] == rhs.parameters?.encodedBytes ?? [0x05, 0x00]
    }

    func hash(into hasher: inout Hasher) { hasher.combine(oid) }
}
