import Crypto
import MimicCore
import SwiftASN1
import _CryptoExtras

/// Whether one certificate's signature was made with another's key.
enum SignatureCheck: Sendable, Equatable {
    case valid
    case invalid
    /// The algorithm or key is one swift-crypto cannot check (MD5, DSA, RSA-PSS, RSA under 1024 bits,
    /// curves other than P-256/384/521): the link is neither proven nor disproven.
    case unsupported

    /// Checks `subject`'s signature against `issuer`'s public key.
    init(_ subject: ParsedCertificate, signedBy issuer: ParsedCertificate) {
        let key = RecentChecks.Key(subject: subject.der, issuerKey: Array(issuer.publicKey.spkiDER))
        self = RecentChecks.outcomes.value(for: key) {
            Self.check(
                subject.signature,
                tbs: subject.tbsBytes,
                signature: subject.signatureBytes,
                key: issuer.publicKey
            )
        }
    }

    private static func check(
        _ algorithm: SignatureInfo,
        tbs: ArraySlice<UInt8>,
        signature: ArraySlice<UInt8>,
        key: PublicKeyInfo
    ) -> SignatureCheck {
        switch (algorithm.scheme, key.kind) {
        case (_, .unreadable):
            // A key nobody could read neither proves nor disproves the link.
            return .unsupported
        case (.rsaPKCS1, .rsa):
            // The "unsafe" initialiser is the one that accepts 1024-bit keys: describing weak chains is the point.
            guard let publicKey = try? _RSA.Signing.PublicKey(unsafeDERRepresentation: key.spkiDER) else {
                return .unsupported
            }
            let rsaSignature = _RSA.Signing.RSASignature(rawRepresentation: signature)
            let padding = _RSA.Signing.Padding.insecurePKCS1v1_5
            let ok: Bool
            switch algorithm.hash {
            case .sha1:
                ok = publicKey.isValidSignature(rsaSignature, for: Insecure.SHA1.hash(data: tbs), padding: padding)
            case .sha256: ok = publicKey.isValidSignature(rsaSignature, for: SHA256.hash(data: tbs), padding: padding)
            case .sha384: ok = publicKey.isValidSignature(rsaSignature, for: SHA384.hash(data: tbs), padding: padding)
            case .sha512: ok = publicKey.isValidSignature(rsaSignature, for: SHA512.hash(data: tbs), padding: padding)
            default: return .unsupported
            }
            return ok ? .valid : .invalid
        case (.ecdsa, .ec(let curve?)):
            return ecdsa(algorithm.hash, tbs: tbs, signature: signature, curve: curve, point: key.keyBytes)
        case (.ed25519, .ed25519):
            guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: key.keyBytes) else {
                return .invalid
            }
            return publicKey.isValidSignature(signature, for: tbs) ? .valid : .invalid
        case (.rsaPKCS1, _), (.ecdsa, .rsa), (.ecdsa, .rsaPSS), (.ecdsa, .ed25519), (.ed25519, _):
            // The algorithm is one we check, and the key cannot have made it.
            return .invalid
        default:
            return .unsupported
        }
    }

    private static func ecdsa(
        _ hash: SignatureInfo.Hash?,
        tbs: ArraySlice<UInt8>,
        signature: ArraySlice<UInt8>,
        curve: SwiftASN1.ASN1ObjectIdentifier,
        point: ArraySlice<UInt8>
    ) -> SignatureCheck {
        func digestCheck(_ verify: (any Digest) -> Bool) -> SignatureCheck {
            switch hash {
            case .sha1: verify(Insecure.SHA1.hash(data: tbs)) ? .valid : .invalid
            case .sha256: verify(SHA256.hash(data: tbs)) ? .valid : .invalid
            case .sha384: verify(SHA384.hash(data: tbs)) ? .valid : .invalid
            case .sha512: verify(SHA512.hash(data: tbs)) ? .valid : .invalid
            default: .unsupported
            }
        }
        switch curve {
        case [1, 2, 840, 10045, 3, 1, 7]:
            guard let key = try? P256.Signing.PublicKey(x963Representation: point) else { return .invalid }
            guard let sig = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return .invalid }
            return digestCheck { key.isValidSignature(sig, for: $0) }
        case [1, 3, 132, 0, 34]:
            guard let key = try? P384.Signing.PublicKey(x963Representation: point) else { return .invalid }
            guard let sig = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return .invalid }
            return digestCheck { key.isValidSignature(sig, for: $0) }
        case [1, 3, 132, 0, 35]:
            guard let key = try? P521.Signing.PublicKey(x963Representation: point) else { return .invalid }
            guard let sig = try? P521.Signing.ECDSASignature(derRepresentation: signature) else { return .invalid }
            return digestCheck { key.isValidSignature(sig, for: $0) }
        default:
            return .unsupported
        }
    }
}

/// The outcomes of the last signature checks of this process. The same links come back: a probe's first verdict,
/// on its trust anchor, checks the anchor's own signature, which its verdict on the server's chain checks again;
/// a scenario library signs most of its chains with one CA. An outcome depends on the subject's DER (algorithm,
/// signed bytes, signature) and the issuer's key alone, and both are the key, compared whole.
private enum RecentChecks {
    struct Key: Hashable {
        var subject: [UInt8]
        var issuerKey: [UInt8]

        func hash(into hasher: inout Hasher) {
            hasher.combine(contentsOf: subject)
            hasher.combine(contentsOf: issuerKey)
        }
    }

    static let outcomes = RecentValues<Key, SignatureCheck>(capacity: 64)
}
