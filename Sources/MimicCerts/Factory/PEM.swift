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
        var body = ""
        var blockLine = 0
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = String(rawLine.trimmingWhitespace())
            if let current = label {
                if line.hasPrefix("-----END ") {
                    guard line == "-----END \(current)-----" else {
                        throw DecodingError(message: "'\(line)' does not close BEGIN \(current)", line: lineNumber)
                    }
                    if current == "CERTIFICATE" {
                        guard let der = Data(base64Encoded: body), !der.isEmpty else {
                            throw DecodingError(message: "bad base64 in CERTIFICATE block", line: blockLine)
                        }
                        certificates.append(Array(der))
                    }
                    label = nil
                    body = ""
                } else if current == "CERTIFICATE" {
                    body += line
                }
            } else if line.hasPrefix("-----BEGIN "), line.hasSuffix("-----"), line.count > 16 {
                label = String(line.dropFirst(11).dropLast(5))
                blockLine = lineNumber
            }
        }
        if let label {
            throw DecodingError(message: "BEGIN \(label) without END", line: blockLine)
        }
        guard !certificates.isEmpty else {
            throw DecodingError(message: "no CERTIFICATE block found")
        }
        return certificates
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
