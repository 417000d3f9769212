import Foundation
import Testing

@testable import MimicCerts

@Suite("Chain facts: bytes that are not certificates")
struct FactsParsingTests {
    let now = Date()

    private func position(of error: ChainFactsError) -> Int? {
        if case .unparseable(let position, _) = error { return position }
        return nil
    }

    @Test func randomBytesAreUnparseableAtTheirPosition() throws {
        let pki = try FactsTestPKI.chain(now: now)
        var generator = SystemRandomNumberGenerator()
        let garbage = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(throws: ChainFactsError.self) {
            try ChainFacts(chain: [pki.leaf.der, garbage], anchors: pki.anchors, hostname: nil, at: now)
        }
        do {
            _ = try ChainFacts(chain: [pki.leaf.der, garbage], anchors: pki.anchors, hostname: nil, at: now)
        } catch {
            #expect(position(of: error) == 1)
        }
    }

    @Test func truncatedLeafIsUnparseable() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let truncated = Array(pki.leaf.der.prefix(pki.leaf.der.count / 2))
        do {
            _ = try ChainFacts(chain: [truncated, pki.intermediate.der], anchors: pki.anchors, hostname: nil, at: now)
            Issue.record("a truncated certificate parsed")
        } catch {
            #expect(position(of: error) == 0)
            if case .unparseable(_, let reason) = error { #expect(!reason.isEmpty) }
        }
    }

    @Test func everyTruncationThrowsAndNoneTraps() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let der = pki.leaf.der
        for length in 0..<der.count {
            do {
                _ = try ChainFacts(
                    chain: [Array(der.prefix(length))],
                    anchors: [],
                    hostname: "mail.example.test",
                    at: now
                )
                Issue.record("a certificate truncated to \(length) bytes parsed")
            } catch {
                #expect(position(of: error) == 0)
            }
        }
    }

    @Test func flippedBytesNeverTrap() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let der = pki.leaf.der
        var generator = SystemRandomNumberGenerator()
        var parsed = 0
        var refused = 0
        for index in der.indices {
            var mutated = der
            mutated[index] ^= UInt8.random(in: 1...255, using: &generator)
            do {
                let facts = try ChainFacts(
                    chain: [mutated, pki.intermediate.der],
                    anchors: pki.anchors,
                    hostname: "mail.example.test",
                    at: now
                )
                _ = facts.findings()
                parsed += 1
            } catch {
                #expect(position(of: error) == 0)
                refused += 1
            }
        }
        #expect(parsed + refused == der.count)
        #expect(refused > 0)
    }

    @Test func trailingBytesAfterTheCertificateAreRefused() throws {
        let pki = try FactsTestPKI.chain(now: now)
        #expect(throws: ChainFactsError.self) {
            try ChainFacts(chain: [pki.leaf.der + [0x00]], anchors: [], hostname: nil, at: now)
        }
    }

    @Test func emptyInputs() throws {
        #expect(throws: ChainFactsError.emptyChain) {
            try ChainFacts(chain: [], anchors: [], hostname: nil, at: now)
        }
        do {
            _ = try ChainFacts(chain: [[]], anchors: [], hostname: nil, at: now)
            Issue.record("an empty certificate parsed")
        } catch {
            #expect(position(of: error) == 0)
        }
    }

    @Test func chainLengthIsBounded() throws {
        let pki = try FactsTestPKI.chain(now: now)
        let chain = Array(repeating: pki.leaf.der, count: ChainFacts.maximumChainLength + 1)
        #expect(throws: ChainFactsError.tooManyCertificates(count: 33, limit: 32)) {
            try ChainFacts(chain: chain, anchors: [], hostname: nil, at: now)
        }
        // At the bound it is walked, and the duplicates are on no path.
        let atBound = try ChainFacts(
            chain: Array(chain.dropLast()),
            anchors: pki.anchors,
            hostname: nil,
            at: now
        )
        #expect(atBound.unrelated.count == 31)
    }

    @Test func unparseableAnchorIsNamed() throws {
        let pki = try FactsTestPKI.chain(now: now)
        do {
            _ = try ChainFacts(
                chain: pki.served,
                anchors: [pki.root.der, [0x30, 0x03, 0x02, 0x01]],
                hostname: nil,
                at: now
            )
            Issue.record("a broken anchor parsed")
        } catch {
            guard case .unparseableAnchor(let index, _) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(index == 1)
        }
    }
}
