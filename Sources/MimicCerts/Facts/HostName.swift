/// Whether a text can name a host at all, checked before anything is looked up or connected to.
///
/// A host is an IP literal (a valid IPv4 dotted quad, or an IPv6 address) or a DNS name made of RFC 1123 §2.1
/// labels: letters, digits and hyphens, 1-63 characters each, not starting or ending with a hyphen, 253
/// characters in all (one trailing dot allowed). Anything else — `999.999.999.999`, `a..b`, a space, a NUL, an
/// underscore, a U-label — is no host, so handing it to the resolver only turns a typo into a network finding.
public enum HostName {
    /// The longest DNS name in text form, without its trailing dot (RFC 1035 §2.3.4: 255 octets on the wire).
    public static let maximumLength = 253

    /// What is wrong with `text` as a host; nil when it is a valid DNS name or IP literal.
    ///
    /// - Parameter allowIPv6: whether a bare IPv6 literal (`::1`) counts; URL authorities pass it without the
    ///   brackets they stripped.
    public static func problem(_ text: String, allowIPv6: Bool = true) -> String? {
        if text.isEmpty { return "the host is empty" }
        if text.contains(":" as Character) {
            guard allowIPv6 else { return "'\(printable(text))' is not a host name (IPv6 addresses go in brackets)" }
            guard let octets = IPAddress.parse(text), octets.count == 16 else {
                return "'\(printable(text))' is not a valid IPv6 address"
            }
            return nil
        }
        var name = Substring(text)
        if name.hasSuffix(".") { name = name.dropLast() }
        if name.utf8.count > maximumLength {
            return "the host name is \(name.utf8.count) characters long; at most \(maximumLength) are allowed"
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        // All-numeric dotted labels are an IPv4 literal or nothing: a top-level label is never all digits
        // (RFC 1123 §2.1, RFC 3696 §2), so `999.999.999.999` is a bad address, not a name to look up.
        if labels.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(isDigit) }) {
            guard let octets = IPAddress.parse(text), octets.count == 4 else {
                return "'\(printable(text))' is not a valid IPv4 address (four numbers from 0 to 255, no leading zeros)"
            }
            return nil
        }
        for label in labels {
            if label.isEmpty { return "'\(printable(text))' has an empty label (two dots in a row, or a leading dot)" }
            if label.utf8.count > 63 {
                return "the label '\(printable(String(label.prefix(20))))…' is \(label.utf8.count) characters long; "
                    + "at most 63 are allowed"
            }
            if let bad = label.unicodeScalars.first(where: { !isLDH($0) }) {
                let what =
                    bad.isASCII
                    ? "the character \(describe(bad))"
                    : "the non-ASCII character \(describe(bad)) (write an internationalised name as xn--…)"
                return "'\(printable(text))' is not a valid host name: \(what) is not allowed"
            }
            if label.hasPrefix("-") || label.hasSuffix("-") {
                return "'\(printable(text))' is not a valid host name: a label cannot start or end with '-'"
            }
        }
        if let last = labels.last, last.utf8.allSatisfy(isDigit) {
            return "'\(printable(text))' is not a valid host name: the last label cannot be all digits"
        }
        return nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func isLDH(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-": true
        default: false
        }
    }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        if scalar == " " { return "space" }
        if scalar.value < 0x20 || scalar.value == 0x7F {
            return "U+" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4)
        }
        return "'\(scalar)'"
    }

    /// The text with control characters escaped, so an error message never carries a NUL or an escape sequence.
    static func printable(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars.prefix(300) {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return text.unicodeScalars.count > 300 ? result + "…" : result
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
