#if canImport(Glibc)
import Glibc
#endif

/// The fuzzer's bytes, with a few leading bytes spent on choices (a segment size, a split) and the rest as what the
/// peer or the user gave.
public struct FuzzInput {
    public private(set) var bytes: [UInt8]

    public init(_ start: UnsafeRawPointer?, _ count: Int) {
        bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    }

    /// The next byte as a choice, or 0 when the input is used up.
    public mutating func choice() -> UInt8 {
        guard !bytes.isEmpty else { return 0 }
        return bytes.removeFirst()
    }

    /// The remaining bytes as text, decoded leniently (invalid UTF-8 becomes U+FFFD), as a file's reader would
    /// not: the loaders' own UTF-8 check is tested elsewhere, their parsers here.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Splits the remaining bytes into segments of `size` (at least 1), as a peer's writes may arrive.
    public static func segments(_ bytes: [UInt8], size: Int) -> [[UInt8]] {
        let step = max(1, size)
        return stride(from: 0, to: bytes.count, by: step).map { Array(bytes[$0..<min(bytes.count, $0 + step)]) }
    }

    /// A segment size from a choice byte: 0 means everything at once, otherwise 1…64 bytes.
    public static func segmentSize(_ choice: UInt8, total: Int) -> Int {
        choice == 0 ? max(1, total) : Int(choice % 64) + 1
    }
}
