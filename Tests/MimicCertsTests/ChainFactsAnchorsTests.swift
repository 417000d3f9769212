import Foundation
import MimicCore
import SwiftASN1
import Testing
import X509

@testable import MimicCerts

/// Chain facts read whole only the trust anchors whose subject could name a step of the path: among the bundled
/// store's hundred roots, wherever the right anchor sits, the facts are those the right anchor alone gives.
@Suite("Chain facts: anchors read by subject first")
struct ChainFactsAnchorsTests {
    let now = Date()

    static func bundled() throws -> [[UInt8]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../certs/trust/mozilla-roots.pem").standardized
        return try PEM.decodeCertificates(String(contentsOf: url, encoding: .utf8))
    }

    struct Walk: Equatable {
        var path: [Int]
        var complete: Bool
        var anchorSubject: String?
        var unrelated: [Int]
    }

    func walk(_ served: [[UInt8]], _ anchors: [[UInt8]]) throws -> Walk {
        let facts = try ChainFacts(chain: served, anchors: anchors, hostname: "mail.example.test", at: now)
        let subject = facts.anchor.map { anchors[$0] }.flatMap { try? Certificate(derEncoded: $0).subject.description }
        return Walk(path: facts.path, complete: facts.complete, anchorSubject: subject, unrelated: facts.unrelated)
    }

    @Test("the right anchor is found wherever it sits among a hundred others")
    func placements() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let bundled = try Self.bundled()
        #expect(bundled.count > 100)
        let alone = try walk(pki.served, pki.anchors)
        #expect(alone.complete)
        for position in [0, bundled.count / 2, bundled.count] {
            var anchors = bundled
            anchors.insert(pki.root.der, at: position)
            let facts = try ChainFacts(chain: pki.served, anchors: anchors, hostname: nil, at: now)
            #expect(facts.anchor == position)
            #expect(try walk(pki.served, anchors) == alone)
            #expect(facts.unreadableAnchors.isEmpty)
        }
        #expect(try walk(pki.served, bundled).complete == false)
        // The root served too: the path ends on it, found among the anchors by its subject.
        let servedRoot = pki.served + [pki.root.der]
        #expect(try walk(servedRoot, bundled + [pki.root.der]) == (try walk(servedRoot, [pki.root.der])))
    }

    @Test("an issuer that names the anchor in other case is still found by its canonical form")
    func canonicalName() throws {
        let root = try FactsTestPKI.root("Facts Case Root", now: now)
        let other = try DistinguishedName {
            OrganizationName("MIMIC FACTS TESTS")
            CommonName("facts  case root")
        }
        let leaf = try FactsTestPKI.make(
            "mail.example.test", issuer: root, issuerName: other, now: now,
            subjectAlternativeNames: [.dnsName("mail.example.test")])
        let alone = try walk([leaf.der], [root.der])
        #expect(alone.complete)
        #expect(try walk([leaf.der], try Self.bundled() + [root.der]) == alone)
    }

    @Test("an anchor whose subject cannot be read alone is read whole, and named when unreadable")
    func unreadable() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let junk: [[UInt8]] = [[0x30, 0x03, 0x02, 0x01], Array(pki.root.der.prefix(40))]
        let facts = try ChainFacts(chain: pki.served, anchors: junk + pki.anchors, hostname: nil, at: now)
        #expect(facts.unreadableAnchors == [0, 1])
        #expect(facts.anchor == 2)
    }
}
