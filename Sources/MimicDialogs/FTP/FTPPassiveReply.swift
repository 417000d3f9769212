/// Strict, bounded parsers for the passive-mode replies: a hostile reply must yield nil, never a trap or an
/// out-of-range port.
enum FTPPassiveReply {
    /// The port in an EPSV reply (RFC 2428 §3):
    ///
    ///     229 Entering Extended Passive Mode (<d><d><d><tcp-port><d>)
    ///
    /// where `<d>` is one printable ASCII character (33-126, normally `|`) used four times, and the port is
    /// 1-65535 in at most five digits.
    static func epsvPort(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard let open = bytes.firstIndex(of: UInt8(ascii: "(")) else { return nil }
        var index = open + 1
        guard index + 3 < bytes.count else { return nil }
        let delimiter = bytes[index]
        guard delimiter >= 33 && delimiter <= 126, !isDigit(delimiter) else { return nil }
        guard bytes[index + 1] == delimiter, bytes[index + 2] == delimiter else { return nil }
        index += 3
        guard let (port, end) = number(bytes, from: index, maxDigits: 5) else { return nil }
        index = end
        guard index + 1 < bytes.count, bytes[index] == delimiter, bytes[index + 1] == UInt8(ascii: ")") else {
            return nil
        }
        return (1...65535).contains(port) ? port : nil
    }

    /// The address and port in a PASV reply (RFC 959 §4.1.2; RFC 1123 §4.1.2.6 tells clients to scan for the
    /// first digit, since the text around the numbers varies):
    ///
    ///     227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)
    ///
    /// Each number is 0-255 in at most three digits; the port p1·256+p2 must be 1-65535.
    static func pasvEndpoint(_ text: String) -> (host: String, port: Int)? {
        let bytes = Array(text.utf8)
        guard var index = bytes.firstIndex(where: isDigit) else { return nil }
        var numbers: [Int] = []
        while numbers.count < 6 {
            if !numbers.isEmpty {
                guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { return nil }
                index += 1
            }
            guard let (value, end) = number(bytes, from: index, maxDigits: 3), value <= 255 else { return nil }
            numbers.append(value)
            index = end
        }
        if index < bytes.count, isDigit(bytes[index]) || bytes[index] == UInt8(ascii: ",") { return nil }
        let port = numbers[4] * 256 + numbers[5]
        guard (1...65535).contains(port) else { return nil }
        return (numbers[0..<4].map(String.init).joined(separator: "."), port)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// A run of 1…maxDigits digits at `from`; nil when there is none or it is longer.
    private static func number(_ bytes: [UInt8], from start: Int, maxDigits: Int) -> (Int, Int)? {
        var index = start
        var value = 0
        while index < bytes.count, isDigit(bytes[index]) {
            guard index - start < maxDigits else { return nil }
            value = value * 10 + Int(bytes[index] - 0x30)
            index += 1
        }
        return index > start ? (value, index) : nil
    }
}
