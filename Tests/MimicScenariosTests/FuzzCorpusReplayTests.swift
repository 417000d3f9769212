import Foundation
import MimicCerts
import MimicScenarios
import MimicTLS
import Testing

/// The fuzz targets' seeds (`Fuzz/corpus/<target>/`) and kept crash inputs (`Fuzz/regressions/<target>/`) for the
/// parsers of user bytes and of the TLS hellos, replayed in the ordinary build the way each target in
/// `Fuzz/Sources/<target>/main.swift` reads its input: none may trap, and the hello readers must answer the same
/// however the bytes were segmented. (The dialog parsers' replay is in MimicDialogsTests.)
@Suite("Fuzz corpora replayed: loaders, certificates, ClientHello")
struct FuzzCorpusReplayTests {
    static let fuzz = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

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

    /// FuzzClientHello: a segment-size byte (0: all at once, else 1…64), then the bytes.
    static func clientHello(_ input: [UInt8]) -> Bool {
        let choice = input.first ?? 0
        let bytes = Array(input.dropFirst())
        let step = choice == 0 ? max(1, bytes.count) : Int(choice % 64) + 1
        var parser = ClientHelloParser()
        for start in stride(from: 0, to: bytes.count, by: step) {
            if parser.append(Array(bytes[start..<min(bytes.count, start + step)])) != .needMoreBytes { break }
        }
        var whole = ClientHelloParser()
        _ = whole.append(bytes)
        return parser.finish() == whole.finish()
    }

    /// FuzzServerHello: a segment-size byte (0: all at once, else 1…64), then the bytes.
    static func serverHello(_ input: [UInt8]) -> Bool {
        let choice = input.first ?? 0
        let bytes = Array(input.dropFirst())
        let step = choice == 0 ? max(1, bytes.count) : Int(choice % 64) + 1
        var reader = ServerHelloReader()
        var outcome = ServerHelloReader.Outcome.needMoreBytes
        for start in stride(from: 0, to: bytes.count, by: step) {
            outcome = reader.append(Array(bytes[start..<min(bytes.count, start + step)]))
            if outcome != .needMoreBytes { break }
        }
        var whole = ServerHelloReader()
        return whole.append(bytes) == outcome
    }

    /// FuzzCertificateFacts: a split byte (0: the bytes served twice; else the percentage at which they split into a
    /// served certificate and an anchor), then the bytes.
    static func certificateFacts(_ input: [UInt8]) -> Bool {
        let split = Int((input.first ?? 0) % 101)
        let bytes = Array(input.dropFirst())
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        if split == 0 {
            _ = try? ChainFacts(chain: [bytes, bytes], anchors: [], hostname: "mail.example.test", at: at)
        } else {
            let cut = bytes.count * split / 100
            _ = try? ChainFacts(
                chain: [Array(bytes[..<cut])], anchors: [Array(bytes[cut...])], hostname: "192.0.2.1", at: at)
        }
        return true
    }

    static let targets: [(String, @Sendable ([UInt8]) -> Bool)] = [
        ("FuzzClientHello", clientHello),
        ("FuzzServerHello", serverHello),
        ("FuzzScenarioLoader", { input in
            _ = try? ScenarioLoader().load(yaml: String(decoding: input, as: UTF8.self), file: "fuzz.yaml")
            return true
        }),
        ("FuzzChainSpec", { input in
            let text = String(decoding: input, as: UTF8.self)
            _ = try? ChainSpec.parse(yaml: text, file: "fuzz.yaml")
            _ = try? ChainProfile.parse(yaml: text, name: "fuzz", file: "fuzz.yaml")
            return true
        }),
        ("FuzzPEM", { input in
            _ = try? PEM.decodeCertificates(data: Data(input))
            return true
        }),
        ("FuzzCertificateFacts", certificateFacts),
    ]

    @Test("every seed and regression input passes", arguments: targets.map(\.0))
    func replay(_ target: String) throws {
        let entry = try #require(Self.targets.first { $0.0 == target }?.1)
        let inputs = try Self.inputs(target)
        #expect(inputs.count >= 2, "the seed corpus of \(target) is missing: run Fuzz/make-corpus.py")
        for input in inputs {
            #expect(entry(input.bytes), "\(input.name)")
        }
    }

    @Test("the ServerHello seeds read as what they are")
    func serverHelloSeeds() throws {
        var outcomes: [String: ServerHelloReader.Outcome] = [:]
        for input in try Self.inputs("FuzzServerHello") {
            var reader = ServerHelloReader()
            outcomes[String(input.name.split(separator: "/").last ?? "")] = reader.append(Array(input.bytes.dropFirst()))
        }
        #expect(
            outcomes["tls13-x25519"]
                == .hello(.init(version: .tls1_3, cipherSuite: 0x1301, group: 0x001D, isHelloRetryRequest: false)))
        #expect(
            outcomes["hello-retry"]
                == .hello(.init(version: .tls1_3, cipherSuite: 0x1302, group: 0x0100, isHelloRetryRequest: true)))
        #expect(
            outcomes["tls12"]
                == .hello(.init(version: .tls1_2, cipherSuite: 0xC02F, group: nil, isHelloRetryRequest: false)))
        #expect(
            outcomes["tls10-no-extensions"]
                == .hello(.init(version: .tls1_0, cipherSuite: 0x002F, group: nil, isHelloRetryRequest: false)))
        guard case .unread = outcomes["alert"] else {
            Issue.record("the alert seed read as \(String(describing: outcomes["alert"]))")
            return
        }
    }

    @Test("the seeds are what the parsers accept: the profiles parse, the roots decode, the ClientHello reads")
    func seedsAreValid() throws {
        let specs = try Self.inputs("FuzzChainSpec")
        #expect(specs.count(where: { $0.name.contains("/spec-") }) >= 10)
        for input in specs {
            let text = String(decoding: input.bytes, as: UTF8.self)
            let file = input.name.split(separator: "/").last.map(String.init) ?? ""
            if file.hasPrefix("spec-") {
                #expect(throws: Never.self, "\(input.name)") { try ChainSpec.parse(yaml: text) }
            } else if file.hasPrefix("profile-") {
                let name = String(file.dropFirst("profile-".count).dropLast(".yaml".count))
                #expect(throws: Never.self, "\(input.name)") { try ChainProfile.parse(yaml: text, name: name) }
            }
        }
        let pem = try #require(try Self.inputs("FuzzPEM").first { $0.name.hasSuffix("roots.pem") })
        #expect(try PEM.decodeCertificates(data: Data(pem.bytes)).count == 4)
        let hello = try #require(try Self.inputs("FuzzClientHello").first { $0.name.hasSuffix("python-openssl") })
        var parser = ClientHelloParser()
        guard case .parsed = parser.append(Array(hello.bytes.dropFirst())) else {
            Issue.record("the ClientHello seed does not parse: \(parser.finish())")
            return
        }
    }
}
