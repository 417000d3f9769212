import Foundation
import FuzzSupport
import MimicCerts

// The certificate facts parser (each DER read field by field, then the chain's facts) fed arbitrary DER. Input: a
// split byte, then the bytes: split at that many percent into a served certificate and an anchor, or one
// certificate served twice when the byte is 0.
let at = Date(timeIntervalSince1970: 1_800_000_000)
fuzzMain { input in
    let split = Int(input.choice() % 101)
    let bytes = input.bytes
    if split == 0 {
        _ = try? ChainFacts(chain: [bytes, bytes], anchors: [], hostname: "mail.example.test", at: at)
    } else {
        let cut = bytes.count * split / 100
        _ = try? ChainFacts(
            chain: [Array(bytes[..<cut])], anchors: [Array(bytes[cut...])], hostname: "192.0.2.1", at: at)
    }
}
