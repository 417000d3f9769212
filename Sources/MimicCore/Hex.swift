/// Hexadecimal text of bytes: fingerprints, serials, wire dumps. Written out by hand rather than through
/// Foundation's `String(format: "%02X")`, which costs a probe a few hundred NSString formats per chain.
public enum Hex {
    /// Two digits a byte, joined by `separator`: `Hex.string([0xAB, 0x01], separator: ":")` is `AB:01`.
    ///
    /// Inlined into the caller, which hands the bytes on as an array: called generically across modules, the
    /// Swift runtime instantiated the sequence's types at first use, a tenth of a millisecond of a probe.
    @inlinable
    public static func string(_ bytes: some Sequence<UInt8>, uppercase: Bool = true, separator: String = "") -> String {
        string(bytes: Array(bytes), uppercase: uppercase, separator: separator)
    }

    @usableFromInline
    static func string(bytes: [UInt8], uppercase: Bool, separator: String) -> String {
        let digits = uppercase ? upperDigits : lowerDigits
        var text = ""
        for (index, byte) in bytes.enumerated() {
            if index > 0 { text += separator }
            text.unicodeScalars.append(digits[Int(byte >> 4)])
            text.unicodeScalars.append(digits[Int(byte & 0x0F)])
        }
        return text
    }

    /// A single byte's two digits.
    public static func byte(_ byte: UInt8, uppercase: Bool = false) -> String {
        string(CollectionOfOne(byte), uppercase: uppercase)
    }

    /// A 16-bit value's four digits, high byte first.
    public static func word(_ value: UInt16, uppercase: Bool = false) -> String {
        string([UInt8(value >> 8), UInt8(value & 0xFF)], uppercase: uppercase)
    }

    private static let upperDigits = Array("0123456789ABCDEF".unicodeScalars)
    private static let lowerDigits = Array("0123456789abcdef".unicodeScalars)
}
