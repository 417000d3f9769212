import Foundation
import MimicCore

/// PEM encoding and bounded certificate decoding, for minted chains and for files the CLI reads.
public enum PEM {
    /// Input larger than this is refused: no certificate bundle worth reading comes near it.
    public static let maximumInputBytes = 4 << 20

    public struct DecodingError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
        public var message: String
        /// 1-based line of the block at fault, when there is one.
        public var line: Int?

        public var description: String { line.map { "line \($0): \(message)" } ?? message }
        public var errorDescription: String? { description }
    }

    /// `-----BEGIN label-----`, the base64 body in 64-column lines, `-----END label-----`, and a final newline.
    public static func encode(der: [UInt8], label: String) -> String {
        let base64 = Data(der).base64EncodedString()
        var text = "-----BEGIN \(label)-----\n"
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            text += base64[index..<end]
            text += "\n"
            index = end
        }
        text += "-----END \(label)-----\n"
        return text
    }

    /// The DER of every `CERTIFICATE` block in `text`, in order. Other blocks (keys, parameters) and text
    /// between blocks are skipped; a block without its END line, bad base64 or no certificate at all is an error.
    public static func decodeCertificates(_ text: String) throws -> [[UInt8]] {
        guard text.utf8.count <= maximumInputBytes else {
            throw DecodingError(message: "input larger than \(maximumInputBytes) bytes")
        }
        var certificates: [[UInt8]] = []
        var label: String?
        var body: [UInt8] = []
        var blockLine = 0
        var lineNumber = 0
        var failure: DecodingError?
        // Lines as `Character.isNewline` splits them (CR LF is one break), read as bytes: a bundle of a few
        // hundred roots is 200 KB, and walking it by Character cost a probe 5 ms. A line that is not all ASCII is
        // compared as a String, as before (canonical equivalence, grapheme boundaries).
        Self.forEachLine(of: text) { bytes, isASCII in
            lineNumber += 1
            let line = isASCII ? nil : String(decoding: bytes, as: UTF8.self)
            func hasPrefix(_ prefix: String) -> Bool { line?.hasPrefix(prefix) ?? bytes.starts(with: prefix.utf8) }
            func hasSuffix(_ suffix: String) -> Bool {
                line?.hasSuffix(suffix) ?? bytes.reversed().starts(with: suffix.utf8.reversed())
            }
            if let current = label {
                if hasPrefix("-----END ") {
                    let closing = "-----END \(current)-----"
                    guard line.map({ $0 == closing }) ?? bytes.elementsEqual(closing.utf8) else {
                        failure = DecodingError(
                            message: "'\(line ?? String(decoding: bytes, as: UTF8.self))' does not close BEGIN \(current)",
                            line: lineNumber)
                        return false
                    }
                    if current == "CERTIFICATE" {
                        guard let der = Data(base64Encoded: Data(body)), !der.isEmpty else {
                            failure = DecodingError(message: "bad base64 in CERTIFICATE block", line: blockLine)
                            return false
                        }
                        certificates.append(Array(der))
                    }
                    label = nil
                    body.removeAll(keepingCapacity: true)
                } else if current == "CERTIFICATE" {
                    body.append(contentsOf: bytes)
                }
            } else if hasPrefix("-----BEGIN "), hasSuffix("-----"), (line?.count ?? bytes.count) > 16 {
                label = line.map { String($0.dropFirst(11).dropLast(5)) }
                    ?? String(decoding: bytes.dropFirst(11).dropLast(5), as: UTF8.self)
                blockLine = lineNumber
            }
            return true
        }
        if let failure { throw failure }
        if let label {
            throw DecodingError(message: "BEGIN \(label) without END", line: blockLine)
        }
        guard !certificates.isEmpty else {
            throw DecodingError(message: "no CERTIFICATE block found")
        }
        return certificates
    }

    /// Calls `body` with each line of `text` trimmed of white space at both ends, and whether it is all ASCII,
    /// until it returns false. Lines end where `Character.isNewline` says (LF, VT, FF, CR, CR LF, NEL, LS, PS); a
    /// line that is not all ASCII is trimmed by Character, as `trimmingWhitespace()` does.
    static func forEachLine(of text: String, _ body: (ArraySlice<UInt8>, Bool) -> Bool) {
        let bytes = Array(text.utf8)
        var start = 0
        var index = 0
        func emit(_ end: Int) -> Bool {
            var slice = bytes[start..<end]
            if slice.contains(where: { $0 >= 0x80 }) {
                let trimmed = String(decoding: slice, as: UTF8.self).trimmingWhitespace()
                slice = ArraySlice(Array(trimmed.utf8))
                return body(slice, !slice.contains(where: { $0 >= 0x80 }))
            }
            // ASCII white space that is not a line break: space and tab.
            while let last = slice.last, last == 0x20 || last == 0x09 { slice.removeLast() }
            while let first = slice.first, first == 0x20 || first == 0x09 { slice.removeFirst() }
            return body(slice, true)
        }
        while index < bytes.count {
            var breakLength = 0
            switch bytes[index] {
            case 0x0A, 0x0B, 0x0C: breakLength = 1
            case 0x0D: breakLength = index + 1 < bytes.count && bytes[index + 1] == 0x0A ? 2 : 1
            case 0xC2 where index + 1 < bytes.count && bytes[index + 1] == 0x85: breakLength = 2
            case 0xE2
            where index + 2 < bytes.count && bytes[index + 1] == 0x80 && (bytes[index + 2] | 1) == 0xA9:
                breakLength = 3
            default: break
            }
            guard breakLength > 0 else {
                index += 1
                continue
            }
            guard emit(index) else { return }
            index += breakLength
            start = index
        }
        _ = emit(bytes.count)
    }

    /// Certificates from file contents that are either PEM (any number of blocks) or a single DER certificate.
    public static func decodeCertificates(data: Data) throws -> [[UInt8]] {
        guard data.count <= maximumInputBytes else {
            throw DecodingError(message: "input larger than \(maximumInputBytes) bytes")
        }
        // DER certificates start with a SEQUENCE tag; PEM is text.
        if data.first == 0x30 {
            return [Array(data)]
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DecodingError(message: "neither PEM text nor a DER certificate")
        }
        return try decodeCertificates(text)
    }
}
