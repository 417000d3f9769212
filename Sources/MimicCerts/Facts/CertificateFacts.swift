import Crypto
import Foundation
import MimicCore
import SwiftASN1
import X509

/// What one certificate says about itself, read from its DER with no TLS library involved.
///
/// Names follow OpenSSL's spelling where one exists (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`), so that
/// reports read the same whichever backend served the chain.
public struct CertificateFacts: Sendable, Hashable, Codable {
    /// Position in the chain as served (0 = leaf); nil for a trust anchor that the server did not send.
    public var position: Int?
    /// X.509 version (1, 2 or 3).
    public var version: Int
    /// RFC 4514 string, most specific RDN first (`CN=mail.example.test,O=Mimic`).
    public var subject: String
    /// RFC 4514 string of the issuer's name as this certificate states it.
    public var issuer: String
    /// The subject's common names, in order (usually one, often none in modern leaves).
    public var commonNames: [String]
    /// Serial number, upper-case hex without separators.
    public var serial: String
    /// True when the certificate has a subjectAltName extension, even one with no DNS or IP entry; RFC 6125
    /// falls back to the CN only when it is absent.
    public var hasSubjectAlternativeNames: Bool
    /// `DNS:mail.example.test`, `IP:127.0.0.1`, `IP:2001:db8::1`, `email:…`, `URI:…`, `DirName:…`, `othername:…`.
    public var subjectAlternativeNames: [String]
    public var notBefore: Date
    public var notAfter: Date
    /// `RSA`, `RSA-PSS`, `DSA`, `EC`, `Ed25519`, `Ed448`, or the key algorithm's dotted OID.
    public var keyType: String
    /// RSA modulus bits, DSA prime bits, EC curve bits; nil when unknown.
    public var keySize: Int?
    /// `P-256`, `P-384`, `P-521`, `secp256k1`, `brainpoolP256r1`, `Ed25519`…; nil for RSA and DSA.
    public var curve: String?
    /// The signature algorithm, OpenSSL's name (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`, `rsassaPss`).
    public var signatureAlgorithm: String
    /// The signature's digest (`SHA-256`, `SHA-1`, `MD5`); nil for EdDSA and unknown algorithms.
    public var signatureHash: String?
    /// SHA-256 of the DER, upper-case hex, colon-separated (`AB:CD:…`), as `openssl x509 -fingerprint` shows.
    public var sha256Fingerprint: String
    /// basicConstraints cA.
    public var isCA: Bool
    /// basicConstraints pathLenConstraint.
    public var pathLength: Int?
    /// keyUsage bits by RFC 5280 name (`digitalSignature`, `keyEncipherment`, `keyCertSign`…); nil without the
    /// extension.
    public var keyUsage: [String]?
    /// extendedKeyUsage purposes (`serverAuth`, `clientAuth`, `anyExtendedKeyUsage`, or a dotted OID); nil
    /// without the extension.
    public var extendedKeyUsage: [String]?
    /// The subject equals the issuer.
    public var selfIssued: Bool
    /// Self-issued, and its signature verifies with its own key. When the algorithm is one that cannot be
    /// checked here (MD5, DSA, RSA-PSS) a self-issued certificate counts as self-signed.
    public var selfSigned: Bool
    /// RSA/DSA under 2048 bits, EC under 224 bits.
    public var hasWeakKey: Bool
    /// Signed over MD2, MD4, MD5 or SHA-1.
    public var hasWeakSignature: Bool
    /// Why Mimic could not read this certificate in full (a negative serial, a malformed subjectAltName, a
    /// repeated extension, …), one reason a part; nil when it was read in full. The fields above hold what could
    /// be read; an unreadable field holds a neutral value (an empty name, no extension).
    public var malformed: [String]?
    /// Nothing but the size and fingerprint could be read: the bytes are not an X.509 structure at all.
    public var unreadable: Bool
    /// How the extensions strict verifiers look at are written; nil for an unreadable certificate.
    public var extensionShape: ExtensionShape?

    /// Presence and criticality of the extensions OpenSSL's X509_STRICT checks (RFC 5280 §4.2.1.1, .2, .6, .9).
    public struct ExtensionShape: Sendable, Hashable, Codable {
        public var authorityKeyIdentifier: Bool
        public var subjectKeyIdentifier: Bool
        /// `critical`, `non-critical`, or nil when the certificate has no basicConstraints.
        public var basicConstraints: String?
        /// Whether the subjectAltName is marked critical; nil without one.
        public var subjectAlternativeNameCritical: Bool?
    }

    /// Read only in part (see ``malformed``).
    public var isMalformed: Bool { malformed != nil }

    /// Whole days from `date` to notAfter as a person counts them: the days left while valid (0 on the last day),
    /// and once expired minus the whole days since (a certificate that expired 3 days and an hour ago: -3). The
    /// chain facts, `mimic verify`'s chain and the Nagios `days_left` all count with this one function.
    public func daysLeft(at date: Date = Date()) -> Int {
        Int((notAfter.timeIntervalSince(date) / 86_400).rounded(.towardZero))
    }

    /// The validity in words, from ``daysLeft(at:)``: `expires in 12 day(s)` or `expired 3 day(s) ago`.
    public func expiryPhrase(at date: Date = Date()) -> String {
        let days = daysLeft(at: date)
        return isExpired(at: date) ? "expired \(-days) day(s) ago" : "expires in \(days) day(s)"
    }

    /// Expired at `date` (RFC 5280: notAfter is the last valid second).
    public func isExpired(at date: Date = Date()) -> Bool { date > notAfter }

    /// Not valid yet at `date`.
    public func isNotYetValid(at date: Date = Date()) -> Bool { date < notBefore }

    /// "subject [position N]" or "subject [trust anchor]", for evidence strings.
    public var label: String {
        if let position { "\(subject) [position \(position)]" } else { "\(subject) [trust anchor]" }
    }

    init(_ certificate: ParsedCertificate, position: Int?) throws(ParseError) {
        try self.init(certificate, position: position, tolerant: false)
    }

    /// A certificate whose bytes are no X.509 structure at all: only the size and fingerprint are known.
    init(unreadable der: [UInt8], position: Int?, reason: String) {
        self.position = position
        version = 0
        subject = "<unreadable certificate, \(der.count) bytes>"
        issuer = ""
        commonNames = []
        serial = ""
        hasSubjectAlternativeNames = false
        subjectAlternativeNames = []
        notBefore = .distantPast
        notAfter = .distantFuture
        keyType = "unreadable"
        keySize = nil
        curve = nil
        signatureAlgorithm = "unreadable"
        signatureHash = nil
        sha256Fingerprint = Hex.string(SHA256.hash(data: der), separator: ":")
        isCA = false
        pathLength = nil
        keyUsage = nil
        extendedKeyUsage = nil
        selfIssued = false
        selfSigned = false
        hasWeakKey = false
        hasWeakSignature = false
        malformed = [reason]
        unreadable = true
        extensionShape = nil
    }

    /// With `tolerant`, an extension that cannot be read is recorded in ``malformed`` instead of thrown, as are
    /// the problems the certificate's reader already recorded.
    init(_ certificate: ParsedCertificate, position: Int?, tolerant: Bool) throws(ParseError) {
        var problems = certificate.problems
        func tolerate(_ error: ParseError) throws(ParseError) {
            guard tolerant else { throw error }
            problems.append(error.description)
        }
        unreadable = false
        self.position = position
        version = certificate.version
        subject = certificate.subject.rfc4514
        issuer = certificate.issuer.rfc4514
        commonNames = certificate.subject.flatMap { $0 }.compactMap { attribute in
            attribute.type == .RDNAttributeType.commonName
                ? String(attribute.value) ?? attribute.value.description : nil
        }
        serial = Hex.string(certificate.serial.drop(while: { $0 == 0 }))
        if serial.isEmpty { serial = "00" }
        notBefore = certificate.notBefore
        notAfter = certificate.notAfter
        keyType = certificate.publicKey.typeName
        keySize = certificate.publicKey.bits
        curve = certificate.publicKey.curveName
        hasWeakKey = certificate.publicKey.isWeak
        signatureAlgorithm = certificate.signature.name
        signatureHash = certificate.signature.hash?.rawValue
        hasWeakSignature = certificate.signature.hash?.isWeak ?? false
        sha256Fingerprint = Hex.string(SHA256.hash(data: certificate.der), separator: ":")

        let extensions = certificate.extensions
        let basic = extensions[oid: OID.basicConstraints]
        extensionShape = ExtensionShape(
            authorityKeyIdentifier: extensions[oid: OID.authorityKeyIdentifier] != nil,
            subjectKeyIdentifier: extensions[oid: OID.subjectKeyIdentifier] != nil,
            basicConstraints: basic.map { $0.critical ? "critical" : "non-critical" },
            subjectAlternativeNameCritical: extensions[oid: OID.subjectAlternativeName]?.critical)
        do {
            switch try extensions.basicConstraints {
            case .isCertificateAuthority(let maxPathLength)?:
                isCA = true
                pathLength = maxPathLength
            case .notCertificateAuthority?, nil:
                isCA = false
                pathLength = nil
            }
        } catch {
            isCA = false
            pathLength = nil
            try tolerate(ParseError("basicConstraints: \(error)"))
        }
        do {
            keyUsage = try extensions.keyUsage.map(Self.names)
        } catch {
            keyUsage = nil
            try tolerate(ParseError("keyUsage: \(error)"))
        }
        do {
            extendedKeyUsage = try extensions[oid: OID.extendedKeyUsage].map(Self.purposes)
        } catch {
            extendedKeyUsage = nil
            try tolerate(ParseError("extendedKeyUsage: \(error)"))
        }
        do {
            let names = try extensions.subjectAlternativeNames
            hasSubjectAlternativeNames = names != nil
            subjectAlternativeNames = names.map { $0.map(Self.string) } ?? []
            if let raw = extensions[oid: OID.subjectAlternativeName], let problem = Self.otherNameProblem(raw.value) {
                try tolerate(ParseError("subjectAltName: \(problem)"))
            }
        } catch let error as ParseError {
            throw error
        } catch {
            // Present but unreadable: RFC 6125's CN fallback must not apply, and no name can match.
            hasSubjectAlternativeNames = extensions[oid: OID.subjectAlternativeName] != nil
            subjectAlternativeNames = []
            try tolerate(ParseError("subjectAltName: \(error)"))
        }
        selfIssued = ChainFacts.sameName(
            certificate.subject,
            certificate.subjectDER,
            certificate.issuer,
            certificate.issuerDER
        )
        selfSigned = selfIssued && SignatureCheck(certificate, signedBy: certificate) != .invalid
        malformed = problems.isEmpty ? nil : problems
    }

    /// `OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }` (RFC 5280 §4.2.1.6):
    /// swift-certificates reads an otherName without its value; OpenSSL and GnuTLS do not.
    private static func otherNameProblem(_ value: ArraySlice<UInt8>) -> String? {
        guard let root = try? DER.parse(value), case .constructed(let names) = root.content else { return nil }
        for name in names where name.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            guard case .constructed(let parts) = name.content else { return "otherName is not constructed" }
            let items = Array(parts)
            guard items.count == 2, items[0].identifier == .objectIdentifier,
                items[1].identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific),
                case .constructed(let inner) = items[1].content, Array(inner).count == 1
            else { return "otherName without a type-id and one [0] EXPLICIT value" }
        }
        return nil
    }

    private static func names(_ usage: KeyUsage) -> [String] {
        [
            (usage.digitalSignature, "digitalSignature"), (usage.nonRepudiation, "nonRepudiation"),
            (usage.keyEncipherment, "keyEncipherment"), (usage.dataEncipherment, "dataEncipherment"),
            (usage.keyAgreement, "keyAgreement"), (usage.keyCertSign, "keyCertSign"), (usage.cRLSign, "cRLSign"),
            (usage.encipherOnly, "encipherOnly"), (usage.decipherOnly, "decipherOnly"),
        ].compactMap { $0.0 ? $0.1 : nil }
    }

    /// `ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId` (RFC 5280 §4.2.1.12), read here because
    /// swift-certificates does not expose a purpose's OID.
    private static func purposes(_ ext: Certificate.Extension) throws -> [String] {
        let oids = try DER.sequence(
            of: ASN1ObjectIdentifier.self,
            identifier: .sequence,
            rootNode: try DER.parse(ext.value)
        )
        return oids.map { oid in
            switch oid {
            case [1, 3, 6, 1, 5, 5, 7, 3, 1]: "serverAuth"
            case [1, 3, 6, 1, 5, 5, 7, 3, 2]: "clientAuth"
            case [1, 3, 6, 1, 5, 5, 7, 3, 3]: "codeSigning"
            case [1, 3, 6, 1, 5, 5, 7, 3, 4]: "emailProtection"
            case [1, 3, 6, 1, 5, 5, 7, 3, 8]: "timeStamping"
            case [1, 3, 6, 1, 5, 5, 7, 3, 9]: "OCSPSigning"
            case [2, 5, 29, 37, 0]: "anyExtendedKeyUsage"
            case [1, 3, 6, 1, 4, 1, 311, 10, 3, 3], [2, 16, 840, 1, 113730, 4, 1]: "serverGatedCrypto"
            default: oid.description
            }
        }
    }

    private static func string(_ name: GeneralName) -> String {
        switch name {
        case .dnsName(let dns): "DNS:\(dns)"
        case .ipAddress(let octets): "IP:\(IPAddress.string(Array(octets.bytes)))"
        case .rfc822Name(let email): "email:\(email)"
        case .uniformResourceIdentifier(let uri): "URI:\(uri)"
        case .directoryName(let dn): "DirName:\(dn)"
        case .registeredID(let oid): "RID:\(oid)"
        case .otherName(let other): "othername:\(other.typeID)"
        case .x400Address: "X400Name:<unsupported>"
        case .ediPartyName: "EdiPartyName:<unsupported>"
        }
    }
}
