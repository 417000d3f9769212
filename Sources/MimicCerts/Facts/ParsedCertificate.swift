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
        guard !der.isEmpty else { throw ParseError("empty certificate") }
        guard der.count <= Self.maximumSize else {
            throw ParseError("certificate of \(der.count) bytes exceeds the \(Self.maximumSize)-byte bound")
        }
        self.der = der
        do {
            let root = try DER.parse(der)
            var fields:
                (
                    tbs: ArraySlice<UInt8>, version: Int, serial: [UInt8], innerAlgorithm: AlgorithmIdentifierInfo,
                    issuer: ASN1Node, notBefore: Date, notAfter: Date, subject: ASN1Node, spki: ASN1Node,
                    extensions: [Certificate.Extension], outerAlgorithm: AlgorithmIdentifierInfo,
                    signature: ArraySlice<UInt8>
                )? = nil
            try DER.sequence(root, identifier: .sequence) { nodes in
                guard let tbsNode = nodes.next(), let algorithmNode = nodes.next(), let signatureNode = nodes.next()
                else { throw ParseError("certificate: fewer than three fields") }
                let outerAlgorithm = try AlgorithmIdentifierInfo(node: algorithmNode)
                let signature = try ASN1BitString(derEncoded: signatureNode)
                try DER.sequence(tbsNode, identifier: .sequence) { tbs in
                    let version =
                        try DER.optionalExplicitlyTagged(&tbs, tagNumber: 0, tagClass: .contextSpecific) { node in
                            try Int(derEncoded: node)
                        } ?? 0
                    guard let serialNode = tbs.next(), let innerAlgorithmNode = tbs.next(),
                        let issuerNode = tbs.next(), let validityNode = tbs.next(), let subjectNode = tbs.next(),
                        let spkiNode = tbs.next()
                    else { throw ParseError("tbsCertificate: missing fields") }
                    let serial = try ArraySlice<UInt8>(derEncoded: serialNode)
                    let innerAlgorithm = try AlgorithmIdentifierInfo(node: innerAlgorithmNode)
                    let (notBefore, notAfter) = try DER.sequence(validityNode, identifier: .sequence) { validity in
                        guard let before = validity.next(), let after = validity.next() else {
                            throw ParseError("validity: missing times")
                        }
                        return (try Self.date(before), try Self.date(after))
                    }
                    var extensions: [Certificate.Extension] = []
                    // The unique identifiers are skipped; extensions are the only other field we read.
                    while let node = tbs.next() {
                        if node.identifier == ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific) {
                            extensions = try DER.explicitlyTagged(node, tagNumber: 3, tagClass: .contextSpecific) {
                                inner in
                                try DER.sequence(of: Certificate.Extension.self, identifier: .sequence, rootNode: inner)
                            }
                        }
                    }
                    fields = (
                        tbsNode.encodedBytes, version, Array(serial), innerAlgorithm, issuerNode, notBefore, notAfter,
                        subjectNode, spkiNode, extensions, outerAlgorithm, signature.bytes
                    )
                }
            }
            guard let fields else { throw ParseError("certificate: no tbsCertificate") }
            // RFC 5280 §4.1.1.2: the two algorithm fields must be equal; a mismatch is a forgery tell.
            guard fields.innerAlgorithm == fields.outerAlgorithm else {
                throw ParseError("signature algorithm differs between tbsCertificate and certificate")
            }
            self.tbsBytes = fields.tbs
            self.version = fields.version + 1
            self.serial = fields.serial
            self.issuerDER = fields.issuer.encodedBytes
            self.subjectDER = fields.subject.encodedBytes
            self.issuer = try DistinguishedName(derEncoded: fields.issuer)
            self.subject = try DistinguishedName(derEncoded: fields.subject)
            self.notBefore = fields.notBefore
            self.notAfter = fields.notAfter
            self.publicKey = try PublicKeyInfo(node: fields.spki)
            self.signature = SignatureInfo(fields.outerAlgorithm)
            self.signatureBytes = fields.signature
            self.extensions = try Certificate.Extensions(fields.extensions)
        } catch let error as ParseError {
            throw error
        } catch {
            throw ParseError(String(describing: error))
        }
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
