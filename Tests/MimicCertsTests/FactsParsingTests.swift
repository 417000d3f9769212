import Foundation
import Testing

@testable import MimicCerts

/// What a server can send that is not a readable certificate: the facts never give up on it (only an empty chain
/// throws); what cannot be read is marked with the reason, what can is still described.
@Suite("Chain facts: bytes that are not certificates")
struct FactsParsingTests {
    let now = Date()

    @Test func randomBytesAreMarkedUnreadableAtTheirPosition() throws {
        let pki = try FactsTestPKI.chain(now: now)
        var generator = SystemRandomNumberGenerator()
        let garbage = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let facts = try ChainFacts(chain: [pki.leaf.der, garbage], anchors: pki.anchors, hostname: nil, at: now)
        #expect(facts.malformedPositions == [1])
        #expect(facts.certificates[1].unreadable)
        #expect(facts.certificates[1].malformed?.first?.isEmpty == false)
        #expect(!facts.certificates[0].isMalformed)
        #expect(facts.findings().contains { $0.code == .malformedCertificate && $0.depth == 1 })
    }

    @Test func truncatedLeafIsMarkedAndTheRestStillDescribed() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let truncated = Array(pki.leaf.der.prefix(pki.leaf.der.count / 2))
        let facts = try ChainFacts(
            chain: [truncated, pki.intermediate.der],
            anchors: pki.anchors,
            hostname: "mail.example.test",
            at: now
        )
        #expect(facts.malformedPositions == [0])
        #expect(!facts.certificates[1].isMalformed && facts.certificates[1].isCA)
        #expect(facts.hostnameMatch == .notChecked)
        // No trust or identity noise about a leaf nobody could read: the one finding says what happened.
        #expect(facts.findings().map(\.code) == [.malformedCertificate])
    }

    @Test func everyTruncationIsMarkedAndNoneTraps() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let der = pki.leaf.der
        for length in 1..<der.count {
            let facts = try ChainFacts(
                chain: [Array(der.prefix(length))],
                anchors: [],
                hostname: "mail.example.test",
                at: now
            )
            #expect(facts.malformedPositions == [0], "truncated to \(length) bytes")
            _ = facts.findings()
        }
    }

    @Test func flippedBytesNeverTrap() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let der = pki.leaf.der
        var generator = SystemRandomNumberGenerator()
        var marked = 0
        for index in der.indices {
            var mutated = der
            mutated[index] ^= UInt8.random(in: 1...255, using: &generator)
            let facts = try ChainFacts(
                chain: [mutated, pki.intermediate.der],
                anchors: pki.anchors,
                hostname: "mail.example.test",
                at: now
            )
            _ = facts.findings()
            if facts.certificates[0].isMalformed { marked += 1 }
            #expect(!facts.certificates[1].isMalformed)
        }
        #expect(marked > 0)
    }

    @Test func trailingBytesAfterTheCertificateAreMarked() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let facts = try ChainFacts(chain: [pki.leaf.der + [0x00]], anchors: [], hostname: nil, at: now)
        #expect(facts.malformedPositions == [0])
    }

    @Test func emptyInputs() throws {
        #expect(throws: ChainFactsError.emptyChain) {
            try ChainFacts(chain: [], anchors: [], hostname: nil, at: now)
        }
        let facts = try ChainFacts(chain: [[]], anchors: [], hostname: nil, at: now)
        #expect(facts.malformedPositions == [0])
        #expect(facts.certificates[0].malformed == ["empty certificate"])
    }

    @Test func longChainsAreCountedAndTheirHeadExamined() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let chain =
            [pki.leaf.der, pki.intermediate.der]
            + Array(repeating: pki.leaf.der, count: ChainFacts.maximumChainLength - 1)
        let facts = try ChainFacts(chain: chain, anchors: pki.anchors, hostname: nil, at: now)
        #expect(facts.servedCount == 33)
        #expect(facts.tooLong)
        #expect(facts.certificates.count == ChainFacts.maximumChainLength)
        #expect(facts.complete)
        let tooLong = try #require(facts.findings().first { $0.code == .chainTooLong })
        #expect(tooLong.count == 33)
        #expect(tooLong.severity == .critical)
        #expect(tooLong.evidence.contains("33"))
        // At the bound nothing is too long, and the duplicates are on no path.
        let atBound = try ChainFacts(chain: Array(chain.dropLast()), anchors: pki.anchors, hostname: nil, at: now)
        #expect(!atBound.tooLong)
        #expect(atBound.unrelated.count == 30)
        #expect(!atBound.findings().contains { $0.code == .chainTooLong })
    }

    @Test func unparseableAnchorIsLeftOutAndNamed() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let facts = try ChainFacts(
            chain: pki.served,
            anchors: [pki.root.der, [0x30, 0x03, 0x02, 0x01]],
            hostname: nil,
            at: now
        )
        #expect(facts.unreadableAnchors == [1])
        #expect(facts.complete)
    }
}
