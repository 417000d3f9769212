import Foundation
import MimicCore
import Testing

@testable import MimicCerts

/// `PEM.decodeCertificates` reads lines as bytes; it must give what reading them as Characters gave (the reference
/// below is the previous implementation): the same certificates, or the same error at the same line.
@Suite("PEM: the byte-level reader agrees with the Character-level one")
struct PEMLineTests {
    /// The previous reader, kept as the reference.
    static func reference(_ text: String) throws -> [[UInt8]] {
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
                        throw PEM.DecodingError(message: "'\(line)' does not close BEGIN \(current)", line: lineNumber)
                    }
                    if current == "CERTIFICATE" {
                        guard let der = Data(base64Encoded: body), !der.isEmpty else {
                            throw PEM.DecodingError(message: "bad base64 in CERTIFICATE block", line: blockLine)
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
        if let label { throw PEM.DecodingError(message: "BEGIN \(label) without END", line: blockLine) }
        guard !certificates.isEmpty else { throw PEM.DecodingError(message: "no CERTIFICATE block found") }
        return certificates
    }

    static func outcome(_ body: () throws -> [[UInt8]]) -> String {
        do { return "ok \(try body())" } catch { return "error \(error)" }
    }

    static let block = PEM.encode(der: Array(0..<200).map { UInt8($0) }, label: "CERTIFICATE")

    static var texts: [String] {
        let breaks = ["\n", "\r\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}", "\n\r"]
        var texts: [String] = []
        for lineBreak in breaks {
            texts.append(block.replacingOccurrences(of: "\n", with: lineBreak))
            texts.append("junk\(lineBreak)" + block.replacingOccurrences(of: "\n", with: lineBreak) + "tail")
        }
        texts += [
            "", "\n", "no blocks", block, block + block,
            " \t" + block.replacingOccurrences(of: "\n", with: " \u{00A0}\n\u{2003}"),
            block.replacingOccurrences(of: "-----BEGIN CERTIFICATE-----", with: "-----BEGIN \u{301}CERTIFICATE-----"),
            block.replacingOccurrences(of: "-----END CERTIFICATE-----", with: "-----END CERTIFICATE-----\u{301}"),
            block.replacingOccurrences(of: "-----END CERTIFICATE-----", with: "-----END CERTIFICATE\u{301}-----"),
            "-----BEGIN É-----\nAAAA\n-----END E\u{301}-----\n" + block,
            "-----BEGIN -----\n" + block, "-----BEGIN X-----\n" + block, "-----BEGIN CERTIFICATE-----\nAAAA\n",
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\nAA AA\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\nA\u{00E9}AA\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" + block,
            block.replacingOccurrences(of: "-----END CERTIFICATE-----", with: "-----END RSA KEY-----"),
        ]
        return texts
    }

    @Test("same certificates or the same error, line for line", arguments: texts)
    func agrees(text: String) {
        #expect(Self.outcome { try PEM.decodeCertificates(text) } == Self.outcome { try Self.reference(text) })
    }

    @Test("the bundled trust store reads the same")
    func bundledStore() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../certs/trust/mozilla-roots.pem").standardized
        let text = try String(contentsOf: url, encoding: .utf8)
        let certificates = try PEM.decodeCertificates(text)
        #expect(certificates.count > 100)
        #expect(certificates == (try Self.reference(text)))
    }

    @Test("random mixes of breaks, white space and PEM pieces agree")
    func randomMixes() {
        let pieces = [
            "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----", "-----BEGIN X-----", "-----END X-----", "MIIB",
            "AAAA", "AA==", "=", " ", "\t", "\u{00A0}", "\n", "\r", "\r\n", "\u{85}", "\u{2028}", "\u{301}", "é", "-----",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 1...14, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
                .joined()
            #expect(Self.outcome { try PEM.decodeCertificates(text) } == Self.outcome { try Self.reference(text) }, "\(text.debugDescription)")
        }
    }
}
