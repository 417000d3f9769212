#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Double {
    /// This value with `digits` decimals (`12.34.fixed(1)` is `12.3`), exactly as `printf("%.*f")` writes it,
    /// without the NSString bridging of Foundation's `String(format:)`. Digits outside 0...15 give the plain
    /// description.
    ///
    /// Values below 2^63 in magnitude (every timing and day count Mimic prints) are rounded in integers: a C
    /// variadic call costs a process its first dynamic casts of `Int` and `Double` to the `CVarArg` protocols, each
    /// a scan of every protocol conformance in the executable. The rest (NaN, infinities, huge values) goes to the
    /// C library.
    public func fixed(_ digits: Int) -> String {
        guard (0...15).contains(digits) else { return String(self) }
        if let text = roundedInIntegers(digits) { return text }
        // Room for the longest finite Double in full: 309 integer digits, the point, 15 decimals, the sign.
        var buffer = [CChar](repeating: 0, count: 336)
        let written = withVaList([digits, self]) { arguments in
            buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, "%.*f", arguments) }
        }
        guard written >= 0, Int(written) < buffer.count else { return String(self) }
        return String(cString: buffer)
    }

    /// printf's rounding — the exact binary value to the nearest multiple of 10^-digits, ties to even — for a
    /// finite value below 2^63 in magnitude; nil for any other.
    private func roundedInIntegers(_ digits: Int) -> String? {
        guard isFinite, magnitude < 0x1p63 else { return nil }
        // magnitude = mantissa × 2^exponent exactly, the mantissa an integer below 2^53.
        let mantissa: UInt64
        let exponent: Int
        if exponentBitPattern == 0 {
            mantissa = significandBitPattern
            exponent = -1074
        } else {
            mantissa = significandBitPattern | (1 << 52)
            exponent = Int(exponentBitPattern) - 1075
        }
        var power: UInt64 = 1
        for _ in 0..<digits { power *= 10 }
        // The value × 10^digits, as an integer numerator over 2^-exponent: below 2^53 × 10^15 < 2^103.
        let scaled = UInt128(mantissa) * UInt128(power)
        var units: UInt128
        if exponent >= 0 {
            units = scaled << exponent  // exponent <= 10 below 2^63
        } else if -exponent >= 128 {
            units = 0  // below 2^103 / 2^128: far under one half
        } else {
            let shift = -exponent
            units = scaled >> shift
            let remainder = scaled & ((UInt128(1) << shift) - 1)
            let half = UInt128(1) << (shift - 1)
            if remainder > half || (remainder == half && units & 1 == 1) { units += 1 }
        }
        let whole = UInt64(units / UInt128(power))
        let fraction = UInt64(units % UInt128(power))
        var text = sign == .minus ? "-" : ""
        text += String(whole)
        if digits > 0 {
            let decimals = String(fraction)
            text += "." + String(repeating: "0", count: digits - decimals.count) + decimals
        }
        return text
    }
}
