import MimicCore
import MimicTestSupport
import Testing

@testable import MimicTLS

/// The ClientHello reader a mock uses to watch its clients: fed whole, byte by byte and split at every offset;
/// real hellos from both libraries; garbage, truncation and over-long input only ever give `.unparsed`.
@Suite("ClientHello parser")
struct ClientHelloParserTests {
    // MARK: Building hellos

    static func vector(_ lengthBytes: Int, _ bytes: [UInt8]) -> [UInt8] {
        (0..<lengthBytes).reversed().map { UInt8(truncatingIfNeeded: bytes.count >> ($0 * 8)) } + bytes
    }

    static func u16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

    static func ext(_ type: UInt16, _ data: [UInt8]) -> [UInt8] { u16(type) + vector(2, data) }

    static func sni(_ name: String) -> [UInt8] {
        ext(0, vector(2, [0] + vector(2, Array(name.utf8))))
    }

    static func alpn(_ names: [String]) -> [UInt8] {
        ext(16, vector(2, names.flatMap { vector(1, Array($0.utf8)) }))
    }

    static func versions(_ versions: [UInt16]) -> [UInt8] { ext(43, vector(1, versions.flatMap(u16))) }

    /// A ClientHello body, then its handshake header, then one record (or `records` fragments).
    static func hello(
        legacy: UInt16 = 0x0303,
        suites: [UInt16] = [0x1301, 0xC02F],
        extensions: [UInt8]? = [],
        records: Int = 1
    ) -> [UInt8] {
        var body = u16(legacy) + [UInt8](repeating: 0xAB, count: 32) + vector(1, [1, 2, 3])
        body += vector(2, suites.flatMap(u16)) + vector(1, [0])
        if let extensions { body += vector(2, extensions) }
        let handshake = [0x01] + Array(vector(3, body))
        let size = (handshake.count + records - 1) / records
        var bytes: [UInt8] = []
        var start = 0
        while start < handshake.count {
            let fragment = Array(handshake[start..<min(start + size, handshake.count)])
            bytes += [0x16, 0x03, 0x01] + vector(2, fragment)
            start += size
        }
        return bytes
    }

    static func parse(_ bytes: [UInt8], segment: Int? = nil) -> ClientHelloParser.Outcome {
        var parser = ClientHelloParser()
        var outcome = ClientHelloParser.Outcome.needMoreBytes
        let size = segment ?? max(bytes.count, 1)
        var start = 0
        while start < bytes.count {
            outcome = parser.append(Array(bytes[start..<min(start + size, bytes.count)]))
            start += size
        }
        return outcome == .needMoreBytes ? parser.finish() : outcome
    }

    /// Whole, byte by byte and split at every offset: one outcome.
    static func stable(
        _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
    )
        -> ClientHelloParser
        .Outcome
    {
        let reference = parse(bytes)
        #expect(parse(bytes, segment: 1) == reference, "byte by byte", sourceLocation: sourceLocation)
        for offset in 1..<max(bytes.count, 1) {
            var parser = ClientHelloParser()
            var outcome = parser.append(Array(bytes[..<offset]))
            if outcome == .needMoreBytes { outcome = parser.append(Array(bytes[offset...])) }
            if outcome == .needMoreBytes { outcome = parser.finish() }
            #expect(outcome == reference, "split at \(offset)", sourceLocation: sourceLocation)
            if outcome != reference { break }
        }
        return reference
    }

    // MARK: Fields

    @Test("SNI, ALPN, supported_versions and suites, GREASE left out")
    func fields() throws {
        let extensions =
            Self.ext(0x1A1A, []) + Self.sni("mail.example.test") + Self.alpn(["h2", "http/1.1"])
            + Self.versions([0x7A7A, 0x0304, 0x0303]) + Self.ext(10, [0, 2, 0, 29])
        let outcome = Self.stable(Self.hello(suites: [0x2A2A, 0x1301, 0x1302, 0xC02F], extensions: extensions))
        guard case .parsed(let hello) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(hello.serverName == "mail.example.test")
        #expect(hello.alpn == ["h2", "http/1.1"])
        #expect(hello.supportedVersions == [0x0304, 0x0303])
        #expect(hello.offeredVersions == ["1.3", "1.2"])
        #expect(hello.cipherSuites == [0x1301, 0x1302, 0xC02F])
        #expect(hello.offeredCipherSuites == ["0x1301", "0x1302", "0xc02f"])
        #expect(hello.extensions == [0x1A1A, 0, 16, 43, 10])
        #expect(hello.legacyVersion == 0x0303)
    }

    @Test("no SNI is nil; no supported_versions: the legacy version alone; no extensions at all")
    func legacyShapes() {
        guard case .parsed(let tls10) = Self.stable(Self.hello(legacy: 0x0301, suites: [0x002F])) else {
            Issue.record("TLS 1.0 hello")
            return
        }
        #expect(tls10.serverName == nil)
        #expect(tls10.offeredVersions == ["1.0"])
        #expect(tls10.alpn.isEmpty)
        guard case .parsed(let bare) = Self.stable(Self.hello(legacy: 0x0300, extensions: nil)) else {
            Issue.record("a hello without extensions")
            return
        }
        #expect(bare.offeredVersions == ["0x0300"])
        #expect(bare.extensions.isEmpty)
    }

    @Test("a hello in several records is reassembled")
    func fragmented() {
        let bytes = Self.hello(extensions: Self.sni("a.example.test") + Self.alpn(["imap"]), records: 3)
        guard case .parsed(let hello) = Self.stable(bytes) else {
            Issue.record("fragmented hello")
            return
        }
        #expect(hello.serverName == "a.example.test")
        #expect(hello.alpn == ["imap"])
    }

    // MARK: Real hellos

    @Test("each library's real ClientHello", arguments: [TLSBackend.openssl, .gnutls])
    func realHello(backend: TLSBackend) throws {
        var configuration = MimicTLSConfiguration(role: .client, serverName: "mail.example.test", alpn: ["smtp", "h2"])
        configuration.verifyPeer = false
        let engine = try TLSBackends.makeContext(backend, configuration: configuration).makeEngine()
        _ = engine.handshake()
        let bytes = engine.takeNetworkOutput()
        guard case .parsed(let hello) = Self.stable(bytes) else {
            Issue.record("\(backend): \(Self.parse(bytes))")
            return
        }
        #expect(hello.serverName == "mail.example.test")
        #expect(hello.alpn == ["smtp", "h2"])
        #expect(hello.offeredVersions.first == "1.3", "\(hello.offeredVersions)")
        #expect(hello.offeredVersions.contains("1.2"))
        #expect(hello.offeredCipherSuites.contains("0x1301"))
        // Nothing left over: the record held exactly the hello.
        #expect(bytes.count == 5 + (Int(bytes[3]) << 8 | Int(bytes[4])))
    }

    // MARK: Malformed input

    @Test("not TLS, or not a ClientHello: unparsed, and whether it looked like TLS")
    func notAHello() {
        #expect(
            Self.parse(Array("EHLO client\r\n".utf8))
                == .unparsed(reason: "not a TLS handshake record", looksLikeTLS: false))
        #expect(Self.parse([]) == .unparsed(reason: "no bytes", looksLikeTLS: false))
        // An SSLv2-compatible hello is not read.
        if case .unparsed(_, let tls) = Self.parse([0x80, 0x2E, 0x01, 0x03, 0x01]) { #expect(!tls) }
        // A ServerHello (type 2) in a handshake record: seen as TLS, not a ClientHello.
        var serverHello = Self.hello()
        serverHello[5] = 0x02
        if case .unparsed(_, let tls) = Self.stable(serverHello) { #expect(tls) } else { Issue.record("type 2") }
        // An alert record first.
        if case .unparsed(_, let tls) = Self.parse([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]) { #expect(!tls) }
    }

    @Test("every truncation of a hello is unparsed (seen as TLS), never a trap")
    func truncated() {
        let bytes = Self.hello(extensions: Self.sni("mail.example.test") + Self.versions([0x0304]))
        for length in 1..<bytes.count {
            let outcome = Self.parse(Array(bytes.prefix(length)))
            guard case .unparsed(_, let looksLikeTLS) = outcome else {
                Issue.record("prefix \(length): \(outcome)")
                continue
            }
            #expect(looksLikeTLS)
        }
    }

    @Test("inner lengths that lie: unparsed")
    func lyingLengths() {
        var body = Self.hello(extensions: Self.sni("x.test"))
        // The handshake length claims more than the record holds and the client sends nothing more.
        body[8] &+= 1
        if case .parsed = Self.parse(body) { Issue.record("overlong handshake length parsed") }
        // An SNI entry longer than its list.
        let badSNI = Self.ext(0, Self.vector(2, [0, 0x00, 0x40] + Array("x.test".utf8)))
        if case .parsed = Self.parse(Self.hello(extensions: badSNI)) { Issue.record("bad SNI parsed") }
        // An odd cipher_suites length.
        var odd = Self.hello()
        odd[5 + 4 + 2 + 32 + 4 + 1] = 3
        if case .parsed = Self.parse(odd) { Issue.record("odd suites parsed") }
        // The same extension twice.
        if case .parsed = Self.parse(Self.hello(extensions: Self.sni("a.test") + Self.sni("b.test"))) {
            Issue.record("duplicate extension parsed")
        }
        // A record length of zero and one over 2^14.
        #expect(Self.parse([0x16, 0x03, 0x01, 0x00, 0x00]) != .needMoreBytes)
        if case .parsed = Self.parse([0x16, 0x03, 0x01, 0x40, 0x01]) { Issue.record("record over 2^14") }
    }

    @Test("bounded: a hello claiming more than 16 KiB, or endless records, stops at the bound")
    func bounded() {
        // A handshake header announcing 2^20 bytes.
        let huge: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x10, 0x00, 0x00]
        if case .unparsed(_, let tls) = Self.parse(huge) { #expect(tls) } else { Issue.record("huge") }
        // A hello that fits the bound, sent in 100-byte records: with their headers they overrun it first.
        var parser = ClientHelloParser()
        let handshake: [UInt8] = [0x01, 0x00, 0x3E, 0x7C] + [UInt8](repeating: 0, count: 15_996)
        var outcome = ClientHelloParser.Outcome.needMoreBytes
        var start = 0
        while outcome == .needMoreBytes, start < handshake.count {
            let fragment = Array(handshake[start..<min(start + 100, handshake.count)])
            outcome = parser.append([0x16, 0x03, 0x01, 0x00, UInt8(fragment.count)] + fragment)
            start += 100
        }
        guard case .unparsed(let reason, _) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(reason.contains("over"), "\(reason)")
        // Once decided, the same answer for ever.
        #expect(parser.append([0x16]) == outcome)
        #expect(parser.finish() == outcome)
    }

    @Test("random bytes never trap", arguments: 0..<4)
    func garbage(seed: Int) {
        var generator = SplitMix(seed: UInt64(seed))
        for _ in 0..<300 {
            let length = Int(generator.next() % 600)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            // Half of them start like a handshake record, so the inner parsing gets exercised.
            if seed % 2 == 0, bytes.count > 5 {
                bytes[0] = 0x16
                bytes[1] = 0x03
                bytes[5] = 0x01
            }
            _ = Self.parse(bytes)
            _ = Self.parse(bytes, segment: 7)
        }
        // Mutations of a valid hello.
        let valid = Self.hello(extensions: Self.sni("m.test") + Self.alpn(["h2"]) + Self.versions([0x0304]))
        for _ in 0..<500 {
            var bytes = valid
            let index = Int(generator.next() % UInt64(bytes.count))
            bytes[index] = UInt8(truncatingIfNeeded: generator.next())
            _ = Self.parse(bytes)
        }
    }
}
