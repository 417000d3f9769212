import Foundation
import MimicDialogs
import Testing

/// The fuzz targets' seeds (`Fuzz/corpus/<target>/`) and every input a fuzzer ever crashed on (`Fuzz/regressions/
/// <target>/`, kept once the crash is fixed), replayed through the same entry points the libFuzzer targets call, in
/// the ordinary build: a parser must neither trap on them nor break the invariant the fuzzer checks.
@Suite("Fuzz corpora replayed: the dialog parsers")
struct FuzzCorpusReplayTests {
    static let fuzz = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    /// Every seed and regression input of a target, by name.
    static func inputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        try ["corpus", "regressions"].flatMap { folder -> [(name: String, bytes: [UInt8])] in
            let directory = fuzz.appendingPathComponent(folder).appendingPathComponent(target)
            guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
            return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
                .filter { !$0.hasPrefix(".") && $0 != "README.md" }
                .map { name in
                    ("\(folder)/\(target)/\(name)", Array(try Data(contentsOf: directory.appendingPathComponent(name))))
                }
        }
    }

    static let targets: [(String, @Sendable ([UInt8]) -> Bool)] = [
        ("FuzzClientDialog", ParserEntryPoints.clientDialog(input:)),
        ("FuzzServerDialog", ParserEntryPoints.serverDialog(input:)),
        ("FuzzHTTP", ParserEntryPoints.http(input:)),
        ("FuzzLineReader", ParserEntryPoints.lineReader(input:)),
        ("FuzzBER", ParserEntryPoints.ber(input:)),
        ("FuzzLDAPMessage", ParserEntryPoints.ldap(input:)),
        ("FuzzFTPPassive", ParserEntryPoints.ftpPassive(input:)),
    ]

    @Test("every seed and regression input passes", arguments: targets.map(\.0))
    func replay(_ target: String) throws {
        let entry = try #require(Self.targets.first { $0.0 == target }?.1)
        let inputs = try Self.inputs(target)
        #expect(inputs.count >= 3, "the seed corpus of \(target) is missing: run Fuzz/make-corpus.py")
        for input in inputs {
            #expect(entry(input.bytes), "\(input.name)")
        }
    }

    @Test("the entry points answer as the parsers behind them do")
    func invariantsAreChecked() {
        #expect(ParserEntryPoints.lineReader(input: [8, 1] + Array("220 a\r\n250 b\n".utf8)))
        #expect(ParserEntryPoints.lineReader(Array("220 a\r\n250 b\n".utf8), maxLineLength: 8, segment: 1) == 2)
        #expect(ParserEntryPoints.lineReader(Array("220 far too long\r\n".utf8), maxLineLength: 8, segment: 3) == -1)
        // The FTP dialog hands the parsers the reply's text after its code.
        #expect(ParserEntryPoints.ftpPassive(input: Array("Entering Passive Mode (10,0,0,1,255,255)".utf8)))
        #expect(ParserEntryPoints.ftpPassive("Extended (|||99999|)").epsvPort == nil)
        #expect(ParserEntryPoints.ftpPassive("Extended (|||6446|)").epsvPort == 6446)
        let pasv = ParserEntryPoints.ftpPassive("Entering Passive Mode (10,0,0,1,4,1).")
        #expect(pasv.pasvHost == "10.0.0.1" && pasv.pasvPort == 1025)
    }
}
