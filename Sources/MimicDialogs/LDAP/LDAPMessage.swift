import MimicCore

/// The LDAP messages this dialog sends and reads (RFC 4511 §4).
///
///     LDAPMessage ::= SEQUENCE {
///          messageID       MessageID,
///          protocolOp      CHOICE { ..., extendedResp ExtendedResponse, searchResEntry SearchResultEntry, ... },
///          controls       [0] Controls OPTIONAL }
struct LDAPMessage: Sendable, Hashable {
    var messageID: Int
    var operation: Operation
    var size: Int

    enum Operation: Sendable, Hashable {
        case extendedResponse(LDAPResult, name: String?, value: [UInt8]?)
        case searchResultEntry(dn: String, attributes: [Attribute])
        case searchResultReference
        case searchResultDone(LDAPResult)
        /// Any other protocolOp, by its tag.
        case other(tag: UInt8)
    }

    struct Attribute: Sendable, Hashable {
        var type: String
        var values: [String]
    }

    static let startTLSOID = "1.3.6.1.4.1.1466.20037"
    static let noticeOfDisconnectionOID = "1.3.6.1.4.1.1466.20036"

    /// The BER tags of LDAP, both sides': the probe's requests and the responses it reads, and the requests the
    /// mock reads (`LDAPRequest`) and its answers.
    enum Tag {
        static let sequence: UInt8 = 0x30
        static let set: UInt8 = 0x31
        static let integer: UInt8 = 0x02
        static let enumerated: UInt8 = 0x0A
        static let octetString: UInt8 = 0x04
        static let boolean: UInt8 = 0x01
        static let bindRequest: UInt8 = 0x60
        static let bindResponse: UInt8 = 0x61
        static let unbindRequest: UInt8 = 0x42
        static let searchRequest: UInt8 = 0x63
        static let searchResultEntry: UInt8 = 0x64
        static let searchResultDone: UInt8 = 0x65
        static let searchResultReference: UInt8 = 0x73
        static let abandonRequest: UInt8 = 0x50
        static let extendedRequest: UInt8 = 0x77
        static let extendedResponse: UInt8 = 0x78
        static let referral: UInt8 = 0xA3
        static let requestName: UInt8 = 0x80
        static let responseName: UInt8 = 0x8A
        static let responseValue: UInt8 = 0x8B
        static let presentFilter: UInt8 = 0x87
        /// BindRequest's authentication choices: simple [0], sasl [3].
        static let simple: UInt8 = 0x80
        static let sasl: UInt8 = 0xA3
    }

    /// Notice of Disconnection (RFC 4511 §4.4.1): unsolicited, messageID 0, responseName …20036.
    var isNoticeOfDisconnection: Bool {
        guard messageID == 0, case .extendedResponse(_, let name, _) = operation else { return false }
        return name == Self.noticeOfDisconnectionOID
    }

    // MARK: Decoding

    /// The envelope of one whole message, either side's (as framed by `LDAPFramer`): a single SEQUENCE, every
    /// element bounded and nesting checked, holding the messageID and the protocolOp.
    static func envelope(_ bytes: [UInt8], maxDepth: Int) throws(BERError) -> (messageID: Int, op: BERElement) {
        var outer = BERReader(bytes[...])
        let message = try outer.read(Tag.sequence)
        guard outer.isAtEnd else { throw .trailingBytes }
        try BER.validate(message, maxDepth: maxDepth)
        var reader = BERReader(message.content)
        let messageID = try reader.read(Tag.integer).integer()
        guard let op = try reader.next() else { throw .truncated }
        return (messageID, op)
    }

    /// Decodes one whole message (as framed by `LDAPFramer`): every element bounded, nesting checked.
    init(decoding bytes: [UInt8], maxDepth: Int) throws(BERError) {
        let op: BERElement
        (messageID, op) = try Self.envelope(bytes, maxDepth: maxDepth)
        size = bytes.count
        var body = BERReader(op.content)
        switch op.tag {
        case Tag.extendedResponse:
            let result = try LDAPResult(&body)
            let name = try body.readIfPresent(Tag.responseName)?.text
            let value = try body.readIfPresent(Tag.responseValue)?.bytes
            operation = .extendedResponse(result, name: name, value: value)
        case Tag.searchResultDone:
            operation = .searchResultDone(try LDAPResult(&body))
        case Tag.searchResultReference:
            operation = .searchResultReference
        case Tag.searchResultEntry:
            let dn = try body.read(Tag.octetString).text
            var attributes: [Attribute] = []
            var list = BERReader(try body.read(Tag.sequence).content)
            while let partial = try list.next() {
                guard partial.tag == Tag.sequence else {
                    throw .unexpectedTag(expected: Tag.sequence, got: partial.tag)
                }
                var fields = BERReader(partial.content)
                let type = try fields.read(Tag.octetString).text
                var values: [String] = []
                var valueSet = BERReader(try fields.read(Tag.set).content)
                while let value = try valueSet.next() {
                    values.append(escaped(value.content))
                }
                attributes.append(Attribute(type: type, values: values))
            }
            operation = .searchResultEntry(dn: dn, attributes: attributes)
        default:
            operation = .other(tag: op.tag)
        }
    }

    // MARK: Encoding

    static func encode(messageID: Int, _ protocolOp: [UInt8]) -> [UInt8] {
        BER.element(Tag.sequence, BER.integer(Tag.integer, messageID) + protocolOp)
    }

    /// ExtendedRequest ::= [APPLICATION 23] SEQUENCE { requestName [0] LDAPOID, requestValue [1] OPTIONAL }
    static func startTLSRequest(messageID: Int) -> [UInt8] {
        encode(
            messageID: messageID,
            BER.element(Tag.extendedRequest, BER.octetString(startTLSOID, tag: Tag.requestName))
        )
    }

    /// An anonymous RootDSE read: base "", scope baseObject, filter (objectClass=*) (RFC 4512 §5.1).
    static func rootDSESearch(messageID: Int, attributes: [String]) -> [UInt8] {
        let request =
            BER.octetString("")
            + BER.integer(Tag.enumerated, 0)  // scope baseObject
            + BER.integer(Tag.enumerated, 0)  // derefAliases neverDerefAliases
            + BER.integer(Tag.integer, 0)  // sizeLimit
            + BER.integer(Tag.integer, 0)  // timeLimit
            + BER.element(Tag.boolean, [0x00])  // typesOnly FALSE
            + BER.octetString("objectClass", tag: Tag.presentFilter)
            + BER.element(Tag.sequence, attributes.flatMap { BER.octetString($0) })
        return encode(messageID: messageID, BER.element(Tag.searchRequest, request))
    }

    /// UnbindRequest ::= [APPLICATION 2] NULL
    static func unbind(messageID: Int) -> [UInt8] {
        encode(messageID: messageID, [Tag.unbindRequest, 0x00])
    }
}

/// LDAPResult (RFC 4511 §4.1.9): resultCode, matchedDN, diagnosticMessage, referral [3] OPTIONAL.
struct LDAPResult: Sendable, Hashable, CustomStringConvertible {
    var code: Int
    var matchedDN: [UInt8]
    var diagnosticMessage: [UInt8]

    init(code: Int, matchedDN: [UInt8] = [], diagnosticMessage: [UInt8] = []) {
        self.code = code
        self.matchedDN = matchedDN
        self.diagnosticMessage = diagnosticMessage
    }

    init(_ reader: inout BERReader) throws(BERError) {
        code = try reader.read(LDAPMessage.Tag.enumerated).integer()
        matchedDN = try reader.read(LDAPMessage.Tag.octetString).bytes
        diagnosticMessage = try reader.read(LDAPMessage.Tag.octetString).bytes
        _ = try reader.readIfPresent(LDAPMessage.Tag.referral)
    }

    /// `unavailable (52)`, `code 127` for codes no RFC names.
    var codeName: String { LDAPResultCode.name(code) }

    /// The result for reports: code name, then the DN and the message escaped (Samba and AD embed NULs).
    var description: String {
        var text = codeName
        if !matchedDN.isEmpty { text += ", matchedDN \"\(escaped(matchedDN))\"" }
        if !diagnosticMessage.isEmpty { text += ": \(escaped(diagnosticMessage))" }
        return text
    }
}

/// The result codes' names (RFC 4511 Appendix A; 118-123 from RFC 3909, 4528, 4370).
enum LDAPResultCode {
    static let names: [Int: String] = [
        0: "success", 1: "operationsError", 2: "protocolError", 3: "timeLimitExceeded", 4: "sizeLimitExceeded",
        5: "compareFalse", 6: "compareTrue", 7: "authMethodNotSupported", 8: "strongerAuthRequired", 10: "referral",
        11: "adminLimitExceeded", 12: "unavailableCriticalExtension", 13: "confidentialityRequired",
        14: "saslBindInProgress", 16: "noSuchAttribute", 17: "undefinedAttributeType", 18: "inappropriateMatching",
        19: "constraintViolation", 20: "attributeOrValueExists", 21: "invalidAttributeSyntax", 32: "noSuchObject",
        33: "aliasProblem", 34: "invalidDNSyntax", 36: "aliasDereferencingProblem", 48: "inappropriateAuthentication",
        49: "invalidCredentials", 50: "insufficientAccessRights", 51: "busy", 52: "unavailable",
        53: "unwillingToPerform", 54: "loopDetect", 64: "namingViolation", 65: "objectClassViolation",
        66: "notAllowedOnNonLeaf", 67: "notAllowedOnRDN", 68: "entryAlreadyExists", 69: "objectClassModsProhibited",
        71: "affectsMultipleDSAs", 80: "other", 118: "canceled", 119: "noSuchOperation", 120: "tooLate",
        121: "cannotCancel", 122: "assertionFailed", 123: "authorizationDenied",
    ]

    static func name(_ code: Int) -> String {
        names[code].map { "\($0) (\(code))" } ?? "code \(code)"
    }
}

/// Splits a byte stream into whole LDAPMessages without trusting the peer's lengths: the tag must be SEQUENCE,
/// the length definite and under the limit. Restartable at any offset, and deterministic: a verdict and its
/// evidence depend only on the bytes examined to reach it, never on how they were segmented.
struct LDAPFramer: Sendable {
    enum Next: Sendable, Hashable {
        case message([UInt8])
        case needMoreBytes
        case invalid(reason: String, evidence: String)
    }

    /// How much of a non-LDAP reply (a text greeting on the wrong port) is kept as evidence.
    static let foreignEvidenceBytes = 64

    let maxMessageBytes: Int
    private(set) var buffer: [UInt8] = []

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    mutating func append(_ bytes: [UInt8]) { buffer.append(contentsOf: bytes) }

    mutating func next() -> Next {
        guard let tag = buffer.first else { return .needMoreBytes }
        guard tag == LDAPMessage.Tag.sequence else {
            // Wait for a line or a few bytes so the evidence says what answered (`220 … ESMTP`).
            let end = buffer.firstIndex(of: 0x0A).map { $0 + 1 } ?? buffer.count
            guard end <= buffer.count, buffer.contains(0x0A) || buffer.count >= Self.foreignEvidenceBytes else {
                return .needMoreBytes
            }
            let evidence = escaped(buffer.prefix(min(end, Self.foreignEvidenceBytes)))
            return .invalid(reason: "not an LDAPMessage (first byte \(hex(tag)))", evidence: evidence)
        }
        do throws(BERError) {
            guard let (_, headerLength, contentLength) = try BER.header(buffer[...], limit: maxMessageBytes) else {
                return .needMoreBytes
            }
            let total = headerLength + contentLength
            guard total <= maxMessageBytes else {
                return .invalid(
                    reason: BERError.tooLarge(total, limit: maxMessageBytes).description,
                    evidence: hexDump(buffer.prefix(headerLength))
                )
            }
            guard buffer.count >= total else { return .needMoreBytes }
            let message = Array(buffer[..<total])
            buffer.removeFirst(total)
            return .message(message)
        } catch {
            // A length over the limit is decided on all its octets; the other header errors on the first one.
            var examined = 2
            if case .tooLarge = error, buffer.count > 1 { examined += Int(buffer[1] & 0x7F) }
            return .invalid(reason: error.description, evidence: hexDump(buffer.prefix(examined)))
        }
    }
}

/// `30 84 00 00 00 0c`: binary evidence as people read it in packet dumps.
func hexDump(_ bytes: some Sequence<UInt8>, limit: Int = 64) -> String {
    var parts: [String] = []
    for byte in bytes {
        if parts.count == limit {
            parts.append("…")
            break
        }
        parts.append(Hex.byte(byte))
    }
    return parts.joined(separator: " ")
}
