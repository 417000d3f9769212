import SwiftASN1

/// A certificate's signature algorithm, named the way OpenSSL names it, with its scheme and digest.
struct SignatureInfo: Sendable {
    enum Scheme: Sendable, Equatable {
        case rsaPKCS1
        case rsaPSS
        case ecdsa
        case dsa
        case ed25519
        case ed448
        case unknown
    }

    enum Hash: String, Sendable, Equatable {
        case md2 = "MD2"
        case md4 = "MD4"
        case md5 = "MD5"
        case sha1 = "SHA-1"
        case sha224 = "SHA-224"
        case sha256 = "SHA-256"
        case sha384 = "SHA-384"
        case sha512 = "SHA-512"

        /// Collisions are practical (MD2, MD4, MD5, SHA-1): a CA signature over them proves nothing.
        var isWeak: Bool {
            switch self {
            case .md2, .md4, .md5, .sha1: true
            default: false
            }
        }
    }

    let name: String
    let scheme: Scheme
    /// Nil for pure EdDSA and for algorithms unknown here.
    let hash: Hash?

    init(_ algorithm: AlgorithmIdentifierInfo) {
        if let known = Self.table[algorithm.oid] {
            (name, scheme, hash) = known
        } else if algorithm.oid == OID.rsaPSS {
            name = "rsassaPss"
            scheme = .rsaPSS
            hash = Self.pssHash(algorithm.parameters)
        } else {
            name = algorithm.oid.description
            scheme = .unknown
            hash = nil
        }
    }

    /// `RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] HashAlgorithm DEFAULT sha1, … }` (RFC 4055 §3.1).
    private static func pssHash(_ parameters: ASN1Node?) -> Hash? {
        guard let parameters else { return nil }
        let oid: ASN1ObjectIdentifier? = try? DER.sequence(parameters, identifier: .sequence) { nodes in
            let hash = try DER.optionalExplicitlyTagged(&nodes, tagNumber: 0, tagClass: .contextSpecific) { node in
                try AlgorithmIdentifierInfo(node: node).oid
            }
            while nodes.next() != nil {}
            return hash ?? OID.sha1
        }
        switch oid {
        case OID.sha1: return .sha1
        case OID.sha224: return .sha224
        case OID.sha256: return .sha256
        case OID.sha384: return .sha384
        case OID.sha512: return .sha512
        case OID.md5: return .md5
        default: return nil
        }
    }

    private static let table: [ASN1ObjectIdentifier: (String, Scheme, Hash?)] = [
        [1, 2, 840, 113549, 1, 1, 2]: ("md2WithRSAEncryption", .rsaPKCS1, .md2),
        [1, 2, 840, 113549, 1, 1, 3]: ("md4WithRSAEncryption", .rsaPKCS1, .md4),
        [1, 2, 840, 113549, 1, 1, 4]: ("md5WithRSAEncryption", .rsaPKCS1, .md5),
        [1, 2, 840, 113549, 1, 1, 5]: ("sha1WithRSAEncryption", .rsaPKCS1, .sha1),
        [1, 3, 14, 3, 2, 29]: ("sha1WithRSA", .rsaPKCS1, .sha1),
        [1, 2, 840, 113549, 1, 1, 14]: ("sha224WithRSAEncryption", .rsaPKCS1, .sha224),
        [1, 2, 840, 113549, 1, 1, 11]: ("sha256WithRSAEncryption", .rsaPKCS1, .sha256),
        [1, 2, 840, 113549, 1, 1, 12]: ("sha384WithRSAEncryption", .rsaPKCS1, .sha384),
        [1, 2, 840, 113549, 1, 1, 13]: ("sha512WithRSAEncryption", .rsaPKCS1, .sha512),
        [1, 2, 840, 10045, 4, 1]: ("ecdsa-with-SHA1", .ecdsa, .sha1),
        [1, 2, 840, 10045, 4, 3, 1]: ("ecdsa-with-SHA224", .ecdsa, .sha224),
        [1, 2, 840, 10045, 4, 3, 2]: ("ecdsa-with-SHA256", .ecdsa, .sha256),
        [1, 2, 840, 10045, 4, 3, 3]: ("ecdsa-with-SHA384", .ecdsa, .sha384),
        [1, 2, 840, 10045, 4, 3, 4]: ("ecdsa-with-SHA512", .ecdsa, .sha512),
        [1, 2, 840, 10040, 4, 3]: ("dsaWithSHA1", .dsa, .sha1),
        [2, 16, 840, 1, 101, 3, 4, 3, 1]: ("dsa_with_SHA224", .dsa, .sha224),
        [2, 16, 840, 1, 101, 3, 4, 3, 2]: ("dsa_with_SHA256", .dsa, .sha256),
        [1, 3, 101, 112]: ("ED25519", .ed25519, nil),
        [1, 3, 101, 113]: ("ED448", .ed448, nil),
    ]
}
