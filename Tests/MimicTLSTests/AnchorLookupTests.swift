import Crypto
import Foundation
import MimicCerts
import MimicCore
import SwiftASN1
import Testing
import X509

@testable import MimicTLS

/// Both libraries' offline verification takes only the trust anchors its path building can ask for by subject
/// name (the bundled store's hundred roots are not all parsed): OpenSSL compares names in canonical form, GnuTLS
/// their DER. Whatever else the anchors hold, and wherever the right one sits among them, the verdict is the one
/// the right anchors alone give.
@Suite("Verification: anchors looked up by name")
struct AnchorLookupTests {
    static func bundled() throws -> [[UInt8]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../certs/trust/mozilla-roots.pem").standardized
        return try PEM.decodeCertificates(String(contentsOf: url, encoding: .utf8))
    }

    struct Outcome: Equatable {
        var accepted: Bool
        var codes: [String]
    }

    static func verify(_ chain: [[UInt8]], _ anchors: [[UInt8]], _ backend: TLSBackend) -> Outcome {
        let result = TLSBackends.verify(backend, chain: chain, anchors: anchors, hostname: "mail.example.test")
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

    @Test(
        "root, intermediate, both or neither as anchors: the same verdict among a hundred decoys",
        arguments: TLSBackend.allCases)
    func placements(backend: TLSBackend) throws {
        let pki = try TestPKI()
        let decoys = try Self.bundled()
        #expect(decoys.count > 100)
        for anchors in [[pki.root], [pki.intermediate], [pki.intermediate, pki.root], [pki.root, pki.leaf], []] {
            let alone = Self.verify(pki.servedChain, anchors, backend)
            for placement in Self.among(anchors, decoys) {
                #expect(Self.verify(pki.servedChain, placement, backend) == alone)
            }
        }
        #expect(Self.verify(pki.servedChain, [pki.root], backend).accepted)
        // An intermediate alone: GnuTLS trusts it; OpenSSL wants a self-signed root (no X509_V_FLAG_PARTIAL_CHAIN).
        #expect(Self.verify(pki.servedChain, [pki.intermediate], backend).accepted == (backend == .gnutls))
        #expect(Self.verify(pki.servedChain, decoys, backend).accepted == false)
    }

    @Test(
        "an issuer name that differs from the anchor's subject only in case: OpenSSL finds it, GnuTLS does not",
        arguments: TLSBackend.allCases)
    func canonicalNames(backend: TLSBackend) throws {
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
        let alone = Self.verify([leafDER], [rootDER], backend)
        // OpenSSL compares names in canonical form (case and inner white space folded): the root is the issuer.
        // GnuTLS compares their DER: the root is not.
        #expect(alone.accepted == (backend == .openssl), "\(alone.codes)")
        for placement in Self.among([rootDER], try Self.bundled()) {
            #expect(Self.verify([leafDER], placement, backend) == alone)
        }
    }

    @Test(
        "anchors with bytes flipped, cut or grown are read without a trap, beside the real root",
        arguments: TLSBackend.allCases)
    func mutatedAnchors(backend: TLSBackend) throws {
        let pki = try TestPKI()
        var generator = SystemRandomNumberGenerator()
        var mutants: [[UInt8]] = []
        for round in 0..<2000 {
            var bytes = round.isMultiple(of: 2) ? pki.root : pki.intermediate
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= UInt8.random(
                    in: 1...255, using: &generator)
            case 1: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
            case 2: bytes[Int.random(in: 0..<min(bytes.count, 40), using: &generator)] = 0xFF
            default:
                bytes += (0..<Int.random(in: 1...8, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
            }
            mutants.append(bytes)
        }
        for batch in stride(from: 0, to: mutants.count, by: 200) {
            let anchors = Array(mutants[batch..<batch + 200]) + [pki.root]
            let result = TLSBackends.verify(
                backend, chain: pki.servedChain, anchors: anchors, hostname: "mail.example.test")
            #expect(result.backend == backend)
        }
    }

    @Test("anchors that are not certificates trust nothing and break nothing", arguments: TLSBackend.allCases)
    func unreadableAnchors(backend: TLSBackend) throws {
        let pki = try TestPKI()
        let junk: [[UInt8]] = [
            [], [0x30], [0x30, 0x03, 0x02, 0x01, 0x00], Array(pki.root.dropLast(10)), [0xFF, 0xFF],
        ]
        #expect(
            Self.verify(pki.servedChain, junk + [pki.root] + junk, backend)
                == Self.verify(pki.servedChain, [pki.root], backend))
        #expect(Self.verify(pki.servedChain, junk, backend) == Self.verify(pki.servedChain, [], backend))
    }

    @Test("GnuTLS keeps the anchors named by the chain, every anchor for a chain it cannot walk")
    func gnuTLSKeeps() throws {
        let pki = try TestPKI()
        let bundled = try Self.bundled()
        let anchors = Self.among([pki.root, pki.intermediate], bundled)[3]
        #expect(GnuTLSVerifier.anchorsLookedUp(anchors, for: pki.servedChain) == [pki.root, pki.intermediate])
        #expect(GnuTLSVerifier.anchorsLookedUp(anchors, for: [pki.leaf]) == [pki.intermediate])
        #expect(GnuTLSVerifier.anchorsLookedUp(bundled, for: pki.servedChain).isEmpty)
        #expect(GnuTLSVerifier.anchorsLookedUp(anchors, for: [pki.leaf, [0x30, 0x80]]) == anchors)
        #expect(GnuTLSVerifier.anchorsLookedUp([[0x30], pki.root], for: [pki.leaf]) == [[0x30]])
    }

    @Test("a certificate's names found by their headers are the names the certificate holds")
    func nameRanges() throws {
        let pki = try TestPKI()
        for der in try Self.bundled() + [pki.root, pki.intermediate, pki.leaf] {
            let ranges = try #require(CertificateNameRanges(der: der))
            let certificate = try Certificate(derEncoded: der)
            var issuer = DER.Serializer()
            try issuer.serialize(certificate.issuer)
            var subject = DER.Serializer()
            try subject.serialize(certificate.subject)
            #expect(Array(der[ranges.issuer]) == issuer.serializedBytes)
            #expect(Array(der[ranges.subject]) == subject.serializedBytes)
        }
        // Every cut of a certificate: nil, or names that lie inside what is left.
        for length in 0..<pki.leaf.count {
            let cut = Array(pki.leaf.prefix(length))
            if let ranges = CertificateNameRanges(der: cut) {
                #expect(ranges.subject.upperBound <= cut.count && ranges.issuer.upperBound <= ranges.subject.lowerBound)
            }
        }
        // Indefinite lengths, multi-byte tags and five-byte lengths are not walked.
        #expect(CertificateNameRanges(der: [0x30, 0x80, 0x30, 0x80, 0x00, 0x00, 0x00, 0x00]) == nil)
        #expect(CertificateNameRanges(der: [0x1F, 0x81, 0x01, 0x00]) == nil)
        #expect(CertificateNameRanges(der: [0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00]) == nil)
    }
}
