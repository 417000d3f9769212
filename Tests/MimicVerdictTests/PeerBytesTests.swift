import MimicCore
import Testing

import MimicVerdict

@Suite("What came where TLS was due")
struct PeerBytesTests {
    static let serverHello: [UInt8] = [0x16, 0x03, 0x03, 0x00, 0x7A, 0x02]

    @Test("TLS records, text lines, binary and nothing are told apart")
    func classify() {
        #expect(PeerBytes.classify(Self.serverHello) == .tlsRecord)
        #expect(PeerBytes.classify([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]) == .tlsRecord)
        #expect(PeerBytes.classify(Array("220 mail ESMTP\r\n".utf8)) == .text(line: "220 mail ESMTP"))
        // An LDAP ExtendedResponse is BER: binary, shown as hex.
        let ldap: [UInt8] = [0x30, 0x0C, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0A, 0x01, 0x34, 0x04, 0x00, 0x04, 0x00]
        #expect(PeerBytes.classify(ldap) == .binary(hex: "30 0c 02 01 01 78 07 0a 01 34 04 00 04 00"))
        #expect(PeerBytes.classify([UInt8]()) == .nothing)
        #expect(!PeerBytes.tlsRecord.isPlaintext && PeerBytes.text(line: "x").isPlaintext)
    }

    @Test("plaintext lines followed by a TLS record read as injection; plaintext alone does not")
    func textThenTLS() {
        #expect(PeerBytes.isTextThenTLS(Array("250 injected\r\n".utf8) + Self.serverHello))
        #expect(PeerBytes.isTextThenTLS(Array("250-a\r\n250 b\r\n".utf8) + Self.serverHello))
        #expect(!PeerBytes.isTextThenTLS(Array("502 5.5.2 Error: command not recognized\r\n".utf8)))
        #expect(!PeerBytes.isTextThenTLS(Array("* OK inj".utf8)))
        #expect(!PeerBytes.isTextThenTLS(Self.serverHello))
    }

    @Test("the finding plaintext earns depends on the mode and on what followed it")
    func findings() {
        let greeting = Array("220 mail.example.test ESMTP\r\n".utf8)
        #expect(HandshakeVerdict.plaintextWhereTLSWasDue(greeting, mode: .implicit)?.code == .modeMismatch)
        #expect(HandshakeVerdict.plaintextWhereTLSWasDue(greeting, mode: .startTLS)?.code == .noTLSAfterGoAhead)
        #expect(
            HandshakeVerdict.plaintextWhereTLSWasDue(greeting + Self.serverHello, mode: .startTLS)?.code
                == .plaintextInjection)
        #expect(HandshakeVerdict.plaintextWhereTLSWasDue(Self.serverHello, mode: .startTLS) == nil)
        #expect(HandshakeVerdict.plaintextWhereTLSWasDue([], mode: .implicit) == nil)
        let evidence = HandshakeVerdict.plaintextWhereTLSWasDue(greeting, mode: .startTLS)?.evidence ?? ""
        #expect(evidence.contains("220 mail.example.test ESMTP"), "the server's own words: \(evidence)")
    }
}
