import Foundation
import MimicCore

/// IP literals as reference identifiers and as iPAddress SANs: parsed to octets, printed in one canonical form.
public enum IPAddress {
    /// The octets of an IPv4 dotted quad (4 bytes) or an IPv6 literal (16 bytes, brackets allowed); nil for
    /// anything else, which is then a DNS name.
    public static func parse(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") {
            text = text.dropFirst().dropLast()
            return parseV6(text)
        }
        // A Character, and below the standard library's split: with a String, `contains` and `components` are
        // Foundation's, which search through CoreFoundation (its first use costs a probe's start).
        if text.contains(":" as Character) { return parseV6(text) }
        return parseV4(text)
    }

    /// Dotted quad for 4 octets, RFC 5952 text for 16, hex otherwise (a malformed SAN still shows).
    public static func string(_ octets: [UInt8]) -> String {
        switch octets.count {
        case 4:
            return octets.map(String.init).joined(separator: ".")
        case 16:
            var groups: [UInt16] = []
            for index in stride(from: 0, to: 16, by: 2) {
                groups.append(UInt16(octets[index]) << 8 | UInt16(octets[index + 1]))
            }
            // RFC 5952 §4.2: compress the longest run (of two or more) of zero groups, the first one on a tie.
            var best: Range<Int>? = nil
            var start: Int? = nil
            for index in 0...8 {
                if index < 8, groups[index] == 0 {
                    if start == nil { start = index }
                } else if let runStart = start {
                    if index - runStart >= 2, index - runStart > (best?.count ?? 0) { best = runStart..<index }
                    start = nil
                }
            }
            let hex = groups.map { String($0, radix: 16) }
            guard let best else { return hex.joined(separator: ":") }
            let head = hex[..<best.lowerBound].joined(separator: ":")
            let tail = hex[best.upperBound...].joined(separator: ":")
            return head + "::" + tail
        default:
            return Hex.string(octets)
        }
    }

    /// Four decimal octets; a leading zero is refused, since `010` means 8 to inet_aton and 10 to a reader.
    private static func parseV4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                part.count == 1 || part.first != "0", let value = UInt8(part)
            else { return nil }
            octets.append(value)
        }
        return octets
    }

    /// RFC 4291 §2.2 text forms: eight groups, one `::`, an optional dotted-quad tail. Zone ids are refused:
    /// a certificate cannot name one.
    private static func parseV6(_ text: Substring) -> [UInt8]? {
        guard text.count <= 45, !text.contains("%" as Character) else { return nil }
        func groups(_ part: Substring, allowV4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if allowV4Tail, index == pieces.count - 1, piece.contains("." as Character) {
                    guard let v4 = parseV4(piece) else { return nil }
                    result.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    result.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit),
                    let value = UInt16(piece, radix: 16)
                else { return nil }
                result.append(value)
            }
            return result
        }
        let halves = text.split(separator: "::", omittingEmptySubsequences: false)
        var all: [UInt16]
        switch halves.count {
        case 1:
            guard let full = groups(text, allowV4Tail: true), full.count == 8 else { return nil }
            all = full
        case 2:
            guard let head = groups(Substring(halves[0]), allowV4Tail: false),
                let tail = groups(Substring(halves[1]), allowV4Tail: true), head.count + tail.count <= 7
            else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        default:
            return nil
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}
