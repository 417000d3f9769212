import Crypto
import Foundation
import MimicCerts
import MimicCore
import MimicTLS
import SwiftASN1
import Testing
import X509

/// OpenSSL's offline verification puts into its store only the trust anchors its path building can ask for by
/// subject name (the bundled store's hundred roots are not all parsed): whatever else the anchors hold, and
/// wherever the right one sits among them, the verdict is the one the right anchors alone give.
@Suite("OpenSSL verification: anchors looked up by name")
struct OpenSSLAnchorLookupTests {
    static func bundled() throws -> [[UInt8]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../certs/trust/mozilla-roots.pem").standardized
        return try PEM.decodeCertificates(String(contentsOf: url, encoding: .utf8))
    }

    struct Outcome: Equatable {
        var accepted: Bool
        var codes: [String]
    }

    static func verify(_ chain: [[UInt8]], _ anchors: [[UInt8]]) -> Outcome {
        let result = TLSBackends.verify(.openssl, chain: chain, anchors: anchors, hostname: "mail.example.test")
        return Outcome(accepted: result.accepted, codes: result.rawErrors.map(\.code))
    }

    /// `anchors` placed among the bundled roots: first, in the middle and last, and spread apart.
    static func among(_ anchors: [[UInt8]], _ decoys: [[UInt8]]) -> [[[UInt8]]] {
        var placements = [anchors + decoys, decoys + anchors]
        var middle = decoys
        middle.insert(contentsOf: anchors, at: decoys.count / 2)
        placements.append(middle)
        var spread = decoys
        for (offset, anchor) in anchors.enumerated() { spread.insert(anchor, at: min(spread.count, 7 + offset * 60)) }
        placements.append(spread)
        return placements
    }

    @Test("root, intermediate, both or neither as anchors: the same verdict among a hundred decoys")
    func placements() throws {
        let pki = try TestPKI()
        let decoys = try Self.bundled()
        #expect(decoys.count > 100)
        for anchors in [[pki.root], [pki.intermediate], [pki.intermediate, pki.root], [pki.root, pki.leaf], []] {
            let alone = Self.verify(pki.servedChain, anchors)
            for placement in Self.among(anchors, decoys) {
                #expect(Self.verify(pki.servedChain, placement) == alone)
            }
        }
        #expect(Self.verify(pki.servedChain, [pki.root]).accepted)
        #expect(Self.verify(pki.servedChain, decoys).accepted == false)
    }

    @Test("an issuer name that differs from the anchor's subject only in case still finds it (canonical comparison)")
    func canonicalNames() throws {
        let now = Date()
        let rootKey = P256.Signing.PrivateKey()
        let rootName = try DistinguishedName { CommonName("Mimic Case Root") }
        let root = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(rootKey.publicKey),
            notValidBefore: now - 86_400, notValidAfter: now + 86_400 * 30, issuer: rootName, subject: rootName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(rootKey))
        let leafKey = P256.Signing.PrivateKey()
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(leafKey.publicKey),
            notValidBefore: now - 86_400, notValidAfter: now + 86_400 * 30,
            issuer: try DistinguishedName { CommonName("MIMIC  case ROOT") },
            subject: try DistinguishedName { CommonName("mail.example.test") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName("mail.example.test")])
            },
            issuerPrivateKey: .init(rootKey))
        func der(_ certificate: Certificate) throws -> [UInt8] {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        }
        let (rootDER, leafDER) = (try der(root), try der(leaf))
        let alone = Self.verify([leafDER], [rootDER])
        // OpenSSL compares names in canonical form (case and inner white space folded): the root is the issuer.
        #expect(alone.accepted, "\(alone.codes)")
        for placement in Self.among([rootDER], try Self.bundled()) {
            #expect(Self.verify([leafDER], placement) == alone)
        }
    }

    @Test("anchors with bytes flipped, cut or grown are read without a trap, beside the real root")
    func mutatedAnchors() throws {
        let pki = try TestPKI()
        var generator = SystemRandomNumberGenerator()
        var mutants: [[UInt8]] = []
        for round in 0..<2000 {
            var bytes = round.isMultiple(of: 2) ? pki.root : pki.intermediate
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
            case 1: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
            case 2: bytes[Int.random(in: 0..<min(bytes.count, 40), using: &generator)] = 0xFF
            default: bytes += (0..<Int.random(in: 1...8, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            mutants.append(bytes)
        }
        for batch in stride(from: 0, to: mutants.count, by: 200) {
            let anchors = Array(mutants[batch..<batch + 200]) + [pki.root]
            let result = TLSBackends.verify(.openssl, chain: pki.servedChain, anchors: anchors, hostname: "mail.example.test")
            #expect(result.backend == .openssl)
        }
    }

    @Test("anchors that are not certificates trust nothing and break nothing")
    func unreadableAnchors() throws {
        let pki = try TestPKI()
        let junk: [[UInt8]] = [[], [0x30], [0x30, 0x03, 0x02, 0x01, 0x00], Array(pki.root.dropLast(10)), [0xFF, 0xFF]]
        #expect(Self.verify(pki.servedChain, junk + [pki.root] + junk) == Self.verify(pki.servedChain, [pki.root]))
        #expect(Self.verify(pki.servedChain, junk) == Self.verify(pki.servedChain, []))
    }
}
