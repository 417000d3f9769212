#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Double {
    /// This value with `digits` decimals (`12.34.fixed(1)` is `12.3`), exactly as `printf("%.*f")` writes it (the
    /// C library formats it), without the NSString bridging of Foundation's `String(format:)`. Digits outside
    /// 0...15 give the plain description.
    public func fixed(_ digits: Int) -> String {
        guard (0...15).contains(digits) else { return String(self) }
        // Room for the longest finite Double in full: 309 integer digits, the point, 15 decimals, the sign.
        var buffer = [CChar](repeating: 0, count: 336)
        let written = withVaList([digits, self]) { arguments in
            buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, "%.*f", arguments) }
        }
        guard written >= 0, Int(written) < buffer.count else { return String(self) }
        return String(cString: buffer)
    }
}
