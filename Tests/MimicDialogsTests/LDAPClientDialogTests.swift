import MimicCore
import Testing

@testable import MimicDialogs

/// Test-side BER, independent of the encoder under test: short form below 128, else the given long form.
func tlv(_ tag: UInt8, _ content: [UInt8], longForm: Bool = false) -> [UInt8] {
    if longForm {
        let n = content.count
        return [tag, 0x84, UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
            + content
    }
    if content.count < 128 { return [tag, UInt8(content.count)] + content }
    return [tag, 0x82, UInt8(content.count >> 8), UInt8(content.count & 0xFF)] + content
}

func extendedResponse(
    id: UInt8 = 1,
    code: UInt8,
    diagnostic: [UInt8] = [],
    name: String? = nil,
    longForm: Bool = false
) -> [UInt8] {
    var body = [0x0A, 0x01, code] + tlv(0x04, []) + tlv(0x04, diagnostic, longForm: longForm)
    if let name { body += tlv(0x8A, Array(name.utf8)) }
    return tlv(0x30, [0x02, 0x01, id] + tlv(0x78, body, longForm: longForm), longForm: longForm)
}

@Suite("LDAP client dialog")
struct LDAPClientDialogTests {
    static let startTLSRequest: [UInt8] =
        [0x30, 0x1D, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16] + Array("1.3.6.1.4.1.1466.20037".utf8)
    static let openLDAPSuccess: [UInt8] = [
        0x30, 0x0C, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0A, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00,
    ]
    static let rootDSE = rootDSE(id: 2)

    static func rootDSE(id: UInt8) -> [UInt8] {
        tlv(
            0x30,
            [0x02, 0x01, id]
                + tlv(
                    0x64,
                    tlv(0x04, [])
                        + tlv(
                            0x30,
                            tlv(
                                0x30,
                                tlv(0x04, Array("supportedLDAPVersion".utf8))
                                    + tlv(0x31, tlv(0x04, [0x33]) + tlv(0x04, [0x32]))
                            )
                                + tlv(
                                    0x30,
                                    tlv(0x04, Array("namingContexts".utf8))
                                        + tlv(0x31, tlv(0x04, Array("dc=example,dc=test".utf8)))
                                )
                                + tlv(
                                    0x30,
                                    tlv(0x04, Array("supportedExtension".utf8))
                                        + tlv(0x31, tlv(0x04, Array("1.3.6.1.4.1.1466.20037".utf8)))
                                )
                        )
                )
        )
            + tlv(0x30, [0x02, 0x01, id, 0x65, 0x07, 0x0A, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00])
    }

    static let searchRequest: [UInt8] =
        [
            0x30, 0x5F, 0x02, 0x01, 0x02, 0x63, 0x5A, 0x04, 0x00, 0x0A, 0x01, 0x00, 0x0A, 0x01, 0x00, 0x02, 0x01, 0x00,
            0x02, 0x01, 0x00, 0x01, 0x01, 0x00, 0x87, 0x0B,
        ] + Array("objectClass".utf8) + [0x30, 0x3A, 0x04, 0x14]
        + Array("supportedLDAPVersion".utf8) + [0x04, 0x0E] + Array("namingContexts".utf8) + [0x04, 0x12]
        + Array("supportedExtension".utf8)

    @Test("OpenLDAP short-form success, RootDSE after TLS, unbind: exact bytes sent")
    func openLDAP() throws {
        let actions = runStable(
            LDAPClientDialog(options: options()),
            [.serverBytes(Self.openLDAPSuccess), .tls, .serverBytes(Self.rootDSE)]
        )
        #expect(
            actions.sentBytes == [
                Self.startTLSRequest, Self.searchRequest, [0x30, 0x05, 0x02, 0x01, 0x03, 0x42, 0x00],
            ]
        )
        #expect(actions.startsTLS)
        let summary = try #require(actions.summary)
        #expect(summary.rootDSE["supportedldapversion"] == ["3", "2"])
        #expect(summary.rootDSE["namingcontexts"] == ["dc=example,dc=test"])
        #expect(summary.capabilitiesAfterTLS == ["1.3.6.1.4.1.1466.20037"])
        #expect(summary.upgradeReply == "success (0)")
        // The search is sent only after TLS.
        let tlsIndex = try #require(actions.firstIndex(of: .startTLS(leftover: [])))
        #expect(Array(actions[..<tlsIndex]).sentBytes == [Self.startTLSRequest])
    }

    @Test("the encoder produces the documented bytes")
    func encoder() {
        #expect(LDAPMessage.startTLSRequest(messageID: 1) == Self.startTLSRequest)
        #expect(
            LDAPMessage.rootDSESearch(messageID: 2, attributes: LDAPClientDialog.rootDSEAttributes)
                == Self.searchRequest
        )
        #expect(BER.length(200) == [0x81, 0xC8])
        #expect(BER.length(0x1234) == [0x82, 0x12, 0x34])
        #expect(BER.integer(0x02, 128) == [0x02, 0x02, 0x00, 0x80])
    }

    @Test("Active Directory: 30 84 long-form lengths, unavailable (52), trailing NUL shown escaped")
    func activeDirectory() throws {
        let diagnostic =
            Array("00000000: LdapErr: DSID-0C09117A, comment: Error initializing SSL/TLS, data 0, v4563".utf8) + [0]
        let reply = extendedResponse(code: 52, diagnostic: diagnostic, longForm: true)
        #expect(Array(reply.prefix(2)) == [0x30, 0x84])
        let actions = runStable(LDAPClientDialog(options: options()), [.serverBytes(reply)])
        let failure = try #require(actions.failure)
        #expect(failure.code == .startTLSRejected)
        #expect(failure.phase == .upgrade)
        #expect(failure.serverWords.hasPrefix("unavailable (52): 00000000: LdapErr"))
        #expect(failure.serverWords.hasSuffix("v4563\\x00"))
        #expect(!actions.startsTLS)
    }

    @Test("diagnosticMessage with embedded NULs (Samba) is kept whole, escaped")
    func embeddedNULs() throws {
        let reply = extendedResponse(
            code: 2,
            diagnostic: Array("unsupported".utf8) + [0, 0] + Array("extended op".utf8)
        )
        let failure = try #require(runStable(LDAPClientDialog(options: options()), [.serverBytes(reply)]).failure)
        #expect(failure.serverWords == "protocolError (2): unsupported\\x00\\x00extended op")
    }

    @Test("unknown result code 127 is named by number")
    func code127() throws {
        let failure = try #require(
            run(LDAPClientDialog(options: options()), [.serverBytes(extendedResponse(code: 127))]).failure
        )
        #expect(failure.serverWords == "code 127")
    }

    @Test("ApacheDS echoes the responseName: still success")
    func apacheDS() {
        let actions = runStable(
            LDAPClientDialog(options: options()),
            [.serverBytes(extendedResponse(code: 0, name: "1.3.6.1.4.1.1466.20037"))]
        )
        #expect(actions.startsTLS)
    }

    @Test("wrong messageID is unexpectedReply")
    func wrongMessageID() throws {
        let failure = try #require(
            runStable(LDAPClientDialog(options: options()), [.serverBytes(extendedResponse(id: 2, code: 0))]).failure
        )
        #expect(failure.code == .unexpectedReply)
        #expect(failure.detail == "messageID mismatch: expected 1, got 2")
    }

    @Test("Notice of Disconnection is recognised")
    func noticeOfDisconnection() throws {
        let notice = extendedResponse(
            id: 0,
            code: 52,
            diagnostic: Array("server shutting down".utf8),
            name: "1.3.6.1.4.1.1466.20036"
        )
        let message = try LDAPMessage(decoding: notice, maxDepth: 16)
        #expect(message.isNoticeOfDisconnection)
        let failure = try #require(runStable(LDAPClientDialog(options: options()), [.serverBytes(notice)]).failure)
        #expect(failure.serverWords == "Notice of Disconnection: unavailable (52): server shutting down")
        #expect(failure.code == .startTLSRejected)
    }

    @Test("LDAPS: a Notice of Disconnection before any answer refuses the session (a server over its limit)")
    func noticeRefusesTheSession() throws {
        let notice = extendedResponse(
            id: 0,
            code: 52,
            diagnostic: Array("Too many connections".utf8),
            name: "1.3.6.1.4.1.1466.20036"
        )
        let failure = try #require(
            runStable(LDAPClientDialog(options: options(.implicit)), [.serverBytes(notice)]).failure
        )
        #expect(failure.code == .greetingRejected)
        #expect(failure.serverWords == "Notice of Disconnection: unavailable (52): Too many connections")
    }

    @Test("bytes after the success response: injection, no startTLS")
    func injection() throws {
        let actions = run(LDAPClientDialog(options: options()), [.serverBytes(Self.openLDAPSuccess + [0x30, 0x03])])
        #expect(try #require(actions.failure).code == .plaintextInjection)
        #expect(!actions.startsTLS)
    }

    @Test(
        "garbage, indefinite, oversized, over-deep and inconsistent BER fail cleanly",
        arguments: [
            (Array("220 mail.example.test ESMTP\r\n".utf8), "not an LDAPMessage"),
            ([0x30, 0x80, 0x02, 0x01, 0x01], "indefinite"),
            ([0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x10], "more than four"),
            ([0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF], "exceeds"),
            ([0x30, 0x84, 0x00, 0x01, 0x00, 0x01], "exceeds"),
            ([0x30, 0x06, 0x02, 0x01, 0x01, 0x78, 0x7F, 0x0A], "runs past"),
            ([0x30, 0x07, 0x02, 0x00, 0x78, 0x03, 0x0A, 0x01, 0x00], "integer"),
            ([0x30, 0x03, 0x02, 0x01, 0x01], "runs past"),
            ([0x30, 0x06, 0x02, 0x01, 0x01, 0x1F, 0x01, 0x00], "multi-byte"),
            (tlv(0x30, [0x02, 0x01, 0x01] + (0..<20).reduce([UInt8]()) { inner, _ in tlv(0x30, inner) }), "deeper"),
            (tlv(0x30, [0x02, 0x01, 0x01] + tlv(0x78, [0x0A, 0x01, 0x00, 0x04, 0x00])), "runs past"),
        ] as [([UInt8], String)]
    )
    func malformed(bytes: [UInt8], reason: String) throws {
        let actions = runStable(LDAPClientDialog(options: options()), [.serverBytes(bytes)])
        let failure = try #require(actions.failure)
        #expect(failure.code == .unexpectedReply)
        #expect(failure.detail.contains(reason), "\(failure.detail)")
        #expect(!failure.serverWords.isEmpty)
    }

    @Test("a text greeting on the LDAP port is shown as text")
    func textOnLDAPPort() throws {
        let failure = try #require(
            runStable(LDAPClientDialog(options: options()), [.server("220 mail.example.test ESMTP\r\n")]).failure
        )
        #expect(failure.serverWords == "220 mail.example.test ESMTP\\x0D\\x0A")
        let header = try #require(
            runStable(LDAPClientDialog(options: options()), [.serverBytes([0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, 0x02])])
                .failure
        )
        #expect(header.serverWords == "30 84 7f ff ff ff")
    }

    @Test("truncated replies wait, then fail as closed; random and mutated bytes never trap")
    func fuzz() throws {
        let reply = extendedResponse(code: 52, diagnostic: Array("x".utf8), longForm: true)
        for cut in 1..<reply.count {
            let actions = run(LDAPClientDialog(options: options()), [.serverBytes(Array(reply.prefix(cut)))])
            #expect(actions.failure == nil, "cut at \(cut)")
            #expect(
                run(LDAPClientDialog(options: options()), [.serverBytes(Array(reply.prefix(cut))), .closed]).failure?
                    .code == .closed
            )
        }
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random() -> UInt64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return seed >> 33
        }
        for _ in 0..<3000 {
            var bytes = reply + Self.rootDSE
            for _ in 0..<(1 + Int(random() % 4)) {
                let index = Int(random() % UInt64(bytes.count))
                bytes[index] = UInt8(truncatingIfNeeded: random())
            }
            bytes = Array(bytes.prefix(Int(random() % UInt64(bytes.count + 1))))
            _ = run(
                LDAPClientDialog(options: options()),
                [.serverBytes(bytes), .tls, .serverBytes(Self.rootDSE), .closed]
            )
            let random = (0..<Int(random() % 64)).map { _ in UInt8(truncatingIfNeeded: random()) }
            _ = run(LDAPClientDialog(options: options()), [.serverBytes([0x30] + random), .closed])
        }
    }

    @Test("implicit mode (LDAPS): search with messageID 1, then unbind")
    func implicit() throws {
        let actions = runStable(LDAPClientDialog(options: options(.implicit)), [.serverBytes(Self.rootDSE(id: 1))])
        var expectedSearch = Self.searchRequest
        expectedSearch[4] = 1
        #expect(actions.sentBytes == [expectedSearch, [0x30, 0x05, 0x02, 0x01, 0x02, 0x42, 0x00]])
        #expect(try #require(actions.summary).rootDSE.count == 3)
    }

    @Test("RootDSE read refused after TLS is a warning, the dialog still completes")
    func rootDSERefused() throws {
        let done = tlv(
            0x30,
            [0x02, 0x01, 0x02] + tlv(0x65, [0x0A, 0x01, 0x32] + tlv(0x04, []) + tlv(0x04, Array("no".utf8)))
        )
        let actions = runStable(
            LDAPClientDialog(options: options()),
            [.serverBytes(Self.openLDAPSuccess), .tls, .serverBytes(done)]
        )
        #expect(actions.findings.map(\.severity) == [.warning])
        #expect(actions.summary != nil)
    }
}
