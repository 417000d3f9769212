import SwiftASN1
import X509

/// A way to break a minted certificate that swift-certificates will not produce itself, applied to the DER of
/// its tbsCertificate before the issuer signs it again. Every one is something a field server has sent (old
/// appliances especially) and both TLS libraries still judge; Mimic's own reader marks it `malformedCertificate`.
public enum Malformation: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// serialNumber -1 (RFC 5280 §4.1.2.2 requires a positive integer).
    case negativeSerial = "negative-serial"
    /// serialNumber 0.
    case zeroSerial = "zero-serial"
    /// The subjectKeyIdentifier extension twice (RFC 5280 §4.2: an extension appears at most once).
    case duplicateExtension = "duplicate-extension"
    /// The outer signatureAlgorithm names another digest than the tbsCertificate's (RFC 5280 §4.1.1.2).
    case algorithmMismatch = "algorithm-mismatch"
    /// A subjectAltName with an otherName that has a type but no value.
    case malformedOtherName = "malformed-othername-san"
    /// A subjectAltName dNSName with bytes outside IA5String (a UTF-8 `é`).
    case nonIA5SAN = "non-ia5-san"
    /// The subjectPublicKey cut to half its length: the key (and every signature it made) cannot be read.
    case truncatedKey = "truncated-key"
    /// A private non-critical extension of 70 000 bytes: the certificate exceeds 64 KiB.
    case oversized = "oversized"

    public var description: String { rawValue }

    /// The certificate's DER with `malformations` applied to its tbsCertificate, signed again by `issuerKey`.
    static func apply(
        _ malformations: [Malformation],
        to certificate: Certificate,
        sans: [SANSpec],
        signature: SignatureKind,
        issuerKey: Certificate.PrivateKey
    ) throws -> [UInt8] {
        let tbs = try DER.parse(certificate.tbsCertificateBytes)
        var fields: [[UInt8]] = []
        guard case .constructed(let nodes) = tbs.content else { return try certificate.derBytes() }
        for node in nodes { fields.append(Array(node.encodedBytes)) }
        // version [0], serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, extensions [3]
        let serialIndex = fields.first?.first == 0xA0 ? 1 : 0
        let spkiIndex = serialIndex + 5
        let extensionsIndex = fields.firstIndex { $0.first == 0xA3 }
        var extensions: [[UInt8]] = []
        if let extensionsIndex, case .constructed(let outer) = try DER.parse(fields[extensionsIndex]).content,
            let list = outer.first(where: { _ in true }), case .constructed(let items) = list.content
        {
            extensions = items.map { Array($0.encodedBytes) }
        }
        var outerAlgorithm = Self.algorithmDER(signature)

        for malformation in malformations {
            switch malformation {
            case .negativeSerial: fields[serialIndex] = [0x02, 0x01, 0xFF]
            case .zeroSerial: fields[serialIndex] = [0x02, 0x01, 0x00]
            case .duplicateExtension:
                if let ski = extensions.first(where: { Self.extensionOID($0) == [2, 5, 29, 14] }) ?? extensions.first {
                    extensions.append(ski)
                }
            case .algorithmMismatch:
                outerAlgorithm = Self.algorithmDER(Self.otherDigest(signature))
            case .malformedOtherName, .nonIA5SAN:
                var names: [[UInt8]] = sans.map { san in
                    switch san {
                    case .dns(let name): Self.tlv(0x82, Array(name.utf8))
                    case .ip(let address): Self.tlv(0x87, IPAddress.parse(address) ?? [])
                    }
                }
                if malformation == .malformedOtherName {
                    // otherName [0] { type-id 1.3.6.1.4.1.55555.2 } with its [0] EXPLICIT value missing.
                    names.append(Self.tlv(0xA0, [0x06, 0x09, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x83, 0xB2, 0x03, 0x02]))
                } else {
                    names.append(Self.tlv(0x82, Array("caf".utf8) + [0xC3, 0xA9] + Array(".example.test".utf8)))
                }
                let value = Self.tlv(0x30, names.flatMap { $0 })
                let san = Self.tlv(0x30, [0x06, 0x03, 0x55, 0x1D, 0x11] + Self.tlv(0x04, value))
                if let index = extensions.firstIndex(where: { Self.extensionOID($0) == [2, 5, 29, 17] }) {
                    extensions[index] = san
                } else {
                    extensions.append(san)
                }
            case .truncatedKey:
                fields[spkiIndex] = try Self.truncatedKey(fields[spkiIndex])
            case .oversized:
                let value = Self.tlv(0x04, [UInt8](repeating: 0x4D, count: 70_000))
                extensions.append(
                    Self.tlv(0x30, [0x06, 0x09, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x83, 0xB2, 0x03, 0x01] + value)
                )
            }
        }
        if !extensions.isEmpty {
            let encoded = Self.tlv(0xA3, Self.tlv(0x30, extensions.flatMap { $0 }))
            if let extensionsIndex { fields[extensionsIndex] = encoded } else { fields.append(encoded) }
        }
        let tbsBytes = Self.tlv(0x30, fields.flatMap { $0 })
        let signed = try issuerKey.sign(bytes: tbsBytes, signatureAlgorithm: signature.algorithm)
        let signatureValue = Self.tlv(0x03, [0x00] + signed.rawRepresentation)
        return Self.tlv(0x30, tbsBytes + outerAlgorithm + signatureValue)
    }

    /// DER tag-length-value with a definite length.
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        let count = content.count
        var length: [UInt8]
        if count < 0x80 {
            length = [UInt8(count)]
        } else {
            var bytes: [UInt8] = []
            var remaining = count
            while remaining > 0 {
                bytes.insert(UInt8(remaining & 0xFF), at: 0)
                remaining >>= 8
            }
            length = [0x80 | UInt8(bytes.count)] + bytes
        }
        return [tag] + length + content
    }

    private static func extensionOID(_ der: [UInt8]) -> ASN1ObjectIdentifier? {
        guard let node = try? DER.parse(der), case .constructed(let items) = node.content,
            let first = items.first(where: { _ in true })
        else { return nil }
        return try? ASN1ObjectIdentifier(derEncoded: first)
    }

    /// SubjectPublicKeyInfo with its BIT STRING's key bytes cut to half.
    private static func truncatedKey(_ spki: [UInt8]) throws -> [UInt8] {
        let node = try DER.parse(spki)
        guard case .constructed(let items) = node.content else { return spki }
        let parts = Array(items)
        guard parts.count == 2, case .primitive(let bits) = parts[1].content, bits.count > 2 else { return spki }
        let kept = Array(bits.prefix(1 + (bits.count - 1) / 2))
        return tlv(0x30, Array(parts[0].encodedBytes) + tlv(0x03, kept))
    }

    private static func otherDigest(_ signature: SignatureKind) -> SignatureKind {
        switch signature {
        case .ecdsaSHA256: .ecdsaSHA384
        case .ecdsaSHA384: .ecdsaSHA256
        case .rsaSHA256: .rsaSHA384
        case .rsaSHA384, .rsaSHA1: .rsaSHA256
        }
    }

    /// The AlgorithmIdentifier DER of each signature kind (RFC 5758 §3.2, RFC 4055 §5: RSA with a NULL parameter).
    private static func algorithmDER(_ signature: SignatureKind) -> [UInt8] {
        switch signature {
        case .ecdsaSHA256: [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]
        case .ecdsaSHA384: [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03]
        case .rsaSHA256:
            [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B, 0x05, 0x00]
        case .rsaSHA384:
            [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0C, 0x05, 0x00]
        case .rsaSHA1:
            [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x05, 0x05, 0x00]
        }
    }
}

/// How a certificate carries basicConstraints.
public enum BasicConstraintsMode: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case critical
    case nonCritical = "non-critical"
    case absent

    public var description: String { rawValue }
}
