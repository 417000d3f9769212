import SwiftASN1

/// What a certificate's `SubjectPublicKeyInfo` says about its key, read without needing to use the key.
///
/// ```
/// SubjectPublicKeyInfo  ::=  SEQUENCE  {
///      algorithm            AlgorithmIdentifier,
///      subjectPublicKey     BIT STRING  }
/// ```
struct PublicKeyInfo: Sendable {
    enum Kind: Sendable, Equatable {
        case rsa
        case rsaPSS
        case dsa
        case ec(curve: ASN1ObjectIdentifier?)
        case ed25519
        case ed448
        case other(ASN1ObjectIdentifier)
        /// The SubjectPublicKeyInfo could not be read (truncated, bad DER): nothing is known of the key.
        case unreadable
    }

    /// A key that could not be read; its SPKI bytes are kept as served.
    init(unreadable spki: ArraySlice<UInt8>) {
        kind = .unreadable
        spkiDER = spki
        keyBytes = []
        bits = nil
    }

    let kind: Kind
    /// The whole SubjectPublicKeyInfo, as the crypto libraries take it.
    let spkiDER: ArraySlice<UInt8>
    /// The subjectPublicKey BIT STRING's bytes (an EC point, a PKCS#1 RSAPublicKey, a raw EdDSA key).
    let keyBytes: ArraySlice<UInt8>
    /// RSA modulus bits, DSA prime bits, EC curve bits, EdDSA key bits; nil when unknown.
    let bits: Int?

    init(node: ASN1Node) throws {
        spkiDER = node.encodedBytes
        let (algorithm, key) = try DER.sequence(node, identifier: .sequence) { nodes in
            guard let algorithmNode = nodes.next() else { throw ParseError("subjectPublicKeyInfo: no algorithm") }
            return (try AlgorithmIdentifierInfo(node: algorithmNode), try ASN1BitString(derEncoded: &nodes))
        }
        keyBytes = key.bytes
        switch algorithm.oid {
        case OID.rsaEncryption, OID.rsaPSS:
            kind = algorithm.oid == OID.rsaEncryption ? .rsa : .rsaPSS
            // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 §A.1.1)
            bits = try DER.sequence(try DER.parse(key.bytes), identifier: .sequence) { nodes in
                let modulus = try ArraySlice<UInt8>(derEncoded: &nodes)
                _ = try ArraySlice<UInt8>(derEncoded: &nodes)
                return Self.bitLength(modulus)
            }
        case OID.dsa:
            kind = .dsa
            // Dss-Parms ::= SEQUENCE { p INTEGER, q INTEGER, g INTEGER } (RFC 3279 §2.3.2); may be inherited.
            if let parameters = algorithm.parameters, parameters.identifier == .sequence {
                bits = try DER.sequence(parameters, identifier: .sequence) { nodes in
                    let prime = try ArraySlice<UInt8>(derEncoded: &nodes)
                    while nodes.next() != nil {}
                    return Self.bitLength(prime)
                }
            } else {
                bits = nil
            }
        case OID.ecPublicKey:
            // ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER, implicitCurve NULL, specifiedCurve … }
            if let parameters = algorithm.parameters, parameters.identifier == .objectIdentifier {
                let curve = try ASN1ObjectIdentifier(derEncoded: parameters)
                kind = .ec(curve: curve)
                bits = Self.curves[curve]?.bits
                // SEC 1 §2.3.3: 04 || X || Y, or 02/03 || X, each coordinate the field's size in bytes.
                if let bits {
                    let size = (bits + 7) / 8
                    let expected = key.bytes.first == 0x04 ? 1 + 2 * size : 1 + size
                    guard key.bytes.count == expected else {
                        throw ParseError("EC point of \(key.bytes.count) bytes does not fit a \(bits)-bit curve")
                    }
                }
            } else {
                kind = .ec(curve: nil)
                // An uncompressed point is 04 || X || Y: its length still tells the field size.
                bits = key.bytes.first == 0x04 && key.bytes.count > 1 ? (key.bytes.count - 1) / 2 * 8 : nil
            }
        case OID.ed25519:
            kind = .ed25519
            bits = 256
        case OID.ed448:
            kind = .ed448
            bits = 456
        default:
            kind = .other(algorithm.oid)
            bits = nil
        }
    }

    /// `RSA`, `RSA-PSS`, `DSA`, `EC`, `Ed25519`, `Ed448`, or the algorithm's dotted OID.
    var typeName: String {
        switch kind {
        case .rsa: "RSA"
        case .rsaPSS: "RSA-PSS"
        case .dsa: "DSA"
        case .ec: "EC"
        case .ed25519: "Ed25519"
        case .ed448: "Ed448"
        case .other(let oid): oid.description
        case .unreadable: "unreadable"
        }
    }

    /// The curve's common name (`P-256`), its dotted OID when unnamed here, nil for keys without a curve.
    var curveName: String? {
        switch kind {
        case .ec(let curve?): Self.curves[curve]?.name ?? curve.description
        case .ec(nil): "explicit"
        case .ed25519: "Ed25519"
        case .ed448: "Ed448"
        default: nil
        }
    }

    /// Below what today's CA/Browser Forum baseline and every maintained library accept.
    var isWeak: Bool {
        guard let bits else { return false }
        switch kind {
        case .rsa, .rsaPSS, .dsa: return bits < 2048
        case .ec: return bits < 224
        default: return false
        }
    }

    private static func bitLength(_ integer: ArraySlice<UInt8>) -> Int {
        guard let first = integer.firstIndex(where: { $0 != 0 }) else { return 0 }
        let leading = integer[first].leadingZeroBitCount
        return (integer.endIndex - first) * 8 - leading
    }

    private static let curves: [ASN1ObjectIdentifier: (name: String, bits: Int)] = [
        [1, 2, 840, 10045, 3, 1, 1]: ("P-192", 192),
        [1, 3, 132, 0, 33]: ("P-224", 224),
        [1, 2, 840, 10045, 3, 1, 7]: ("P-256", 256),
        [1, 3, 132, 0, 34]: ("P-384", 384),
        [1, 3, 132, 0, 35]: ("P-521", 521),
        [1, 3, 132, 0, 10]: ("secp256k1", 256),
        [1, 3, 132, 0, 6]: ("secp112r1", 112),
        [1, 3, 132, 0, 8]: ("secp160r1", 160),
        [1, 3, 36, 3, 3, 2, 8, 1, 1, 7]: ("brainpoolP256r1", 256),
        [1, 3, 36, 3, 3, 2, 8, 1, 1, 11]: ("brainpoolP384r1", 384),
        [1, 3, 36, 3, 3, 2, 8, 1, 1, 13]: ("brainpoolP512r1", 512),
    ]
}

/// The object identifiers the facts name.
enum OID {
    static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]
    static let rsaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 10]
    static let dsa: ASN1ObjectIdentifier = [1, 2, 840, 10040, 4, 1]
    static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
    static let ed25519: ASN1ObjectIdentifier = [1, 3, 101, 112]
    static let ed448: ASN1ObjectIdentifier = [1, 3, 101, 113]
    static let subjectAlternativeName: ASN1ObjectIdentifier = [2, 5, 29, 17]
    static let subjectKeyIdentifier: ASN1ObjectIdentifier = [2, 5, 29, 14]
    static let authorityKeyIdentifier: ASN1ObjectIdentifier = [2, 5, 29, 35]
    static let extendedKeyUsage: ASN1ObjectIdentifier = [2, 5, 29, 37]
    static let keyUsage: ASN1ObjectIdentifier = [2, 5, 29, 15]
    static let basicConstraints: ASN1ObjectIdentifier = [2, 5, 29, 19]
    static let sha1: ASN1ObjectIdentifier = [1, 3, 14, 3, 2, 26]
    static let sha224: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 4]
    static let sha256: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 1]
    static let sha384: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 2]
    static let sha512: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 3]
    static let md5: ASN1ObjectIdentifier = [1, 2, 840, 113549, 2, 5]
}
