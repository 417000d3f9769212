/// Peer bytes rendered for people: printable ASCII as is, everything else (NUL, CR, bytes ≥ 0x7F) as `\xNN`,
/// so an embedded NUL (sslscan #167) or a stray CR is visible instead of cutting or corrupting the text.
func escaped<Bytes: Sequence>(_ bytes: Bytes, limit: Int = 512) -> String where Bytes.Element == UInt8 {
    var text = ""
    var count = 0
    for byte in bytes {
        if count == limit {
            text += "…"
            break
        }
        count += 1
        if byte >= 0x20 && byte < 0x7F {
            text.unicodeScalars.append(Unicode.Scalar(byte))
        } else if byte == 0x09 {
            text += "\\t"
        } else {
            let hex = String(byte, radix: 16, uppercase: true)
            text += "\\x" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return text
}

extension Array where Element == UInt8 {
    init(ascii text: String) { self = Array(text.utf8) }
}

/// Case-insensitive ASCII comparison of a token, as the text protocols' keywords are.
func equalsIgnoringCase(_ lhs: Substring, _ rhs: String) -> Bool {
    lhs.uppercased() == rhs.uppercased()
}
