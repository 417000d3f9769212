import Testing

@testable import MimicCore

/// The table behind the chain facts' and the signature checks' reuse: a value made once per key, a failure never
/// kept, and a bound that starts the table over.
@Suite("Recent values")
struct RecentValuesTests {
    struct Failed: Error {}

    @Test("made once per key, kept; a failure is not kept; past the bound the table starts over")
    func table() throws {
        let recent = RecentValues<Int, String>(capacity: 2)
        var made = 0
        func make(_ text: String) -> () -> String {
            {
                made += 1
                return text
            }
        }

        #expect(recent.value(for: 1, make("one")) == "one")
        #expect(recent.value(for: 1, make("other")) == "one")
        #expect(made == 1)

        #expect(throws: Failed.self) { try recent.value(for: 2) { () throws(Failed) -> String in throw Failed() } }
        #expect(recent.value(for: 2, make("two")) == "two")
        #expect(made == 2)

        // Two entries held: the third starts the table over, so the first is made again.
        #expect(recent.value(for: 3, make("three")) == "three")
        #expect(recent.value(for: 1, make("one again")) == "one again")
        #expect(made == 4)
    }

    /// The keys' bulk hashing: equal bytes hash alike, and where one array ends is part of the hash (without the
    /// count, [1, 2] then [3] and [1] then [2, 3] would feed the hasher the same bytes).
    @Test("bytes hashed in bulk, with their count")
    func bulkHash() {
        func hash(_ parts: [[UInt8]]) -> Int {
            var hasher = Hasher()
            for part in parts { hasher.combine(contentsOf: part) }
            return hasher.finalize()
        }
        #expect(hash([[1, 2], [3]]) == hash([[1, 2], [3]]))
        #expect(hash([[1, 2], [3]]) != hash([[1], [2, 3]]))
        #expect(hash([[]]) != hash([]))
    }
}
