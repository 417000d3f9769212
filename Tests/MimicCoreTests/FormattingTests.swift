import Foundation
import Testing

@testable import MimicCore

/// The text helpers that stand in for Foundation's formatting: the same output as `String(format:)`.
@Suite("Hex, fixed decimals and trimming")
struct FormattingTests {
    @Test("hex digits, case and separator as String(format: \"%02X\") joined would give")
    func hex() {
        let bytes: [UInt8] = [0x00, 0x0F, 0xA0, 0xFF]
        #expect(Hex.string(bytes, separator: ":") == bytes.map { String(format: "%02X", $0) }.joined(separator: ":"))
        #expect(Hex.string(bytes, uppercase: false) == "000fa0ff")
        #expect(Hex.string([UInt8]()) == "")
        #expect(Hex.byte(0x0A) == "0a")
        #expect(Hex.word(0x1301) == "1301")
    }

    @Test("a UTF-8 search finds what Foundation's range(of:) finds")
    func utf8Search() {
        let cases: [(String, String)] = [
            ("smtp://mail.example.test", "://"), ("TLS_RSA_WITH_RC4_128_SHA", "_RC4_"), ("no separator", "://"),
            ("é://x", "://"), ("a://b://c", "://"), ("ab", "abc"), ("abc", "abc"), ("", "x"), ("TLS_AES", "_MD5"),
        ]
        for (text, needle) in cases {
            #expect(text.utf8Range(of: needle) == text.range(of: needle), "\(text) / \(needle)")
        }
        #expect("abc".utf8Range(of: "") == nil)
        let text = "é://x"
        #expect(text.utf8Range(of: "://").map { String(text[$0.upperBound...]) } == "x")
        #expect(Hex.string(ArraySlice<UInt8>([0xAB, 0x01]), separator: ":") == "AB:01", "an array slice, inlined")
    }

    @Test(
        "fixed decimals match printf's %.Nf",
        arguments: [0.0, 0.04, 0.05, 0.25, 1.5, 2.5, 9.96, 12.345, 999.95, 123_456.789, -0.04, -3.25, -7.5, 1e17])
    func fixed(value: Double) {
        for digits in 0...3 {
            #expect(value.fixed(digits) == String(format: "%.\(digits)f", value), "\(value) at \(digits)")
        }
    }

    @Test("ties to even on the exact binary value, subnormals, signed zeros and the 2^63 boundary, as printf")
    func fixedRounding() {
        let values: [Double] = [
            0.125, 0.375, 2.675, 1.005, 0.5, 1.5, 2.5, 3.5, -0.5, -2.5, -0.0, -0.004, 5e-324, 1e-320, 2.2250738585072014e-308,
            0x1p-60, 0x1p62, 0x1p63 - 1024, 0x1p63, -0x1p63, 0x1p64, 9_007_199_254_740_993, 0.1, 0.7, 1e15 + 0.3,
        ]
        for value in values {
            for digits in 0...15 {
                #expect(value.fixed(digits) == String(format: "%.\(digits)f", value), "\(value) at \(digits)")
            }
        }
    }

    @Test("random values of every magnitude below 2^64 at every digit count, as printf")
    func fixedRandom() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let bits = UInt64.random(in: 0...UInt64.max, using: &generator)
            // Exponents from 2^-80 to 2^64 (and a few subnormals), either sign.
            var value = Double(bitPattern: bits & 0x800F_FFFF_FFFF_FFFF | UInt64.random(in: 943...1087) << 52)
            if bits & 0xFF == 0 { value = Double(bitPattern: bits & 0x800F_FFFF_FFFF_FFFF) }
            let digits = Int.random(in: 0...15)
            #expect(value.fixed(digits) == String(format: "%.\(digits)f", value), "\(value) at \(digits)")
        }
    }

    @Test("infinities, NaN and the largest values as printf writes them; digit counts out of range never trap")
    func fixedBounds() {
        #expect(Double.infinity.fixed(1) == String(format: "%.1f", Double.infinity))
        #expect(Double.nan.fixed(1) == String(format: "%.1f", Double.nan))
        #expect(1e300.fixed(2) == String(format: "%.2f", 1e300))
        #expect((-Double.greatestFiniteMagnitude).fixed(15) == String(format: "%.15f", -Double.greatestFiniteMagnitude))
        #expect(1.5.fixed(40) == String(1.5))
        #expect(1.5.fixed(-1) == String(1.5))
    }

    @Test("white space trimmed at both ends only")
    func trimming() {
        #expect(" \t-----BEGIN X-----\u{00A0} ".trimmingWhitespace() == "-----BEGIN X-----")
        #expect("a b".trimmingWhitespace() == "a b")
        #expect("   ".trimmingWhitespace() == "")
        #expect("".trimmingWhitespace() == "")
    }
}
