/// The client requests an LDAP server reads (RFC 4511 §4): decoded through the bounded BER reader, so any
/// malformed request is a thrown `BERError`, never a trap.
///
///     LDAPMessage ::= SEQUENCE { messageID MessageID, protocolOp CHOICE { … }, controls [0] Controls OPTIONAL }
struct LDAPRequest: Sendable, Hashable {
    var messageID: Int
    var operation: Operation

    enum Operation: Sendable, Hashable {
        /// BindRequest ::= [APPLICATION 0] SEQUENCE { version INTEGER, name LDAPDN,
        ///                 authentication CHOICE { simple [0] OCTET STRING, sasl [3] SaslCredentials } }
        /// `credentials`: SASL, or a simple bind with a non-empty password (an empty one is anonymous or
        /// unauthenticated, RFC 4513 §5.1). The password itself is never kept.
        case bind(version: Int, name: String, sasl: Bool, credentials: Bool)
        /// UnbindRequest ::= [APPLICATION 2] NULL
        case unbind
        /// SearchRequest ::= [APPLICATION 3] SEQUENCE { baseObject, scope, derefAliases, sizeLimit, timeLimit,
        ///                   typesOnly, filter, attributes }; the filter is skipped.
        case search(base: String, scope: Int, attributes: [String])
        /// AbandonRequest ::= [APPLICATION 16] MessageID
        case abandon
        /// ExtendedRequest ::= [APPLICATION 23] SEQUENCE { requestName [0] LDAPOID, requestValue [1] OPTIONAL }
        case extended(name: String)
        /// Modify, Add, Delete, ModifyDN, Compare: answered with their response tag.
        case update(responseTag: UInt8, name: String)
    }

    typealias Tag = LDAPMessage.Tag

    /// Request tag → response tag for the update operations.
    static let updates: [UInt8: (UInt8, String)] = [
        0x66: (0x67, "ModifyRequest"), 0x68: (0x69, "AddRequest"), 0x4A: (0x6B, "DelRequest"),
        0x6C: (0x6D, "ModifyDNRequest"), 0x6E: (0x6F, "CompareRequest"),
    ]

    enum DecodingError: Error, Sendable, Hashable {
        case ber(BERError)
        case unknownOperation(UInt8)
    }

    init(decoding bytes: [UInt8], maxDepth: Int) throws(DecodingError) {
        let parsed: (id: Int, operation: Operation?, tag: UInt8)
        do throws(BERError) {
            parsed = try Self.parse(bytes, maxDepth: maxDepth)
        } catch {
            throw .ber(error)
        }
        guard let operation = parsed.operation else { throw .unknownOperation(parsed.tag) }
        self.messageID = parsed.id
        self.operation = operation
    }

    /// The messageID, the operation (nil when the protocolOp is not a request known here) and its tag.
    private static func parse(_ bytes: [UInt8], maxDepth: Int) throws(BERError) -> (Int, Operation?, UInt8) {
        let (messageID, op) = try LDAPMessage.envelope(bytes, maxDepth: maxDepth)
        var body = BERReader(op.content)
        let operation: Operation?
        switch op.tag {
        case Tag.bindRequest:
            let version = try body.read(Tag.integer).integer()
            let name = try body.read(Tag.octetString).text
            guard let authentication = try body.next() else { throw .truncated }
            guard authentication.tag == Tag.simple || authentication.tag == Tag.sasl else {
                throw .unexpectedTag(expected: Tag.simple, got: authentication.tag)
            }
            let sasl = authentication.tag == Tag.sasl
            operation = .bind(
                version: version, name: name, sasl: sasl, credentials: sasl || !authentication.content.isEmpty)
        case Tag.unbindRequest:
            operation = .unbind
        case Tag.searchRequest:
            let base = try body.read(Tag.octetString).text
            let scope = try body.read(Tag.enumerated).integer()
            _ = try body.read(Tag.enumerated)
            _ = try body.read(Tag.integer)
            _ = try body.read(Tag.integer)
            _ = try body.read(Tag.boolean)
            guard try body.next() != nil else { throw .truncated }  // the filter, not evaluated
            var attributes: [String] = []
            if let list = try body.readIfPresent(Tag.sequence) {
                var names = BERReader(list.content)
                while let name = try names.next() {
                    guard name.tag == Tag.octetString else {
                        throw .unexpectedTag(expected: Tag.octetString, got: name.tag)
                    }
                    attributes.append(name.text)
                }
            }
            operation = .search(base: base, scope: scope, attributes: attributes)
        case Tag.abandonRequest:
            operation = .abandon
        case Tag.extendedRequest:
            operation = .extended(name: try body.read(Tag.requestName).text)
        default:
            operation = Self.updates[op.tag].map { .update(responseTag: $0.0, name: $0.1) }
        }
        return (messageID, operation, op.tag)
    }

    /// The operation's name in an observation, and what it means there.
    var observed: (verb: String, kind: ClientCommandKind) {
        switch operation {
        case .bind(_, _, _, let credentials): ("bind", credentials ? .credentials : .other)
        case .unbind: ("unbind", .goodbye)
        // The RootDSE read is LDAP's capability request (RFC 4512 §5.1: supportedExtension).
        case .search(let base, let scope, _): ("search", base.isEmpty && scope == 0 ? .capabilities : .other)
        case .abandon: ("abandon", .other)
        case .extended(let name): name == LDAPMessage.startTLSOID ? ("startTLS", .upgrade) : ("extended", .other)
        case .update(_, let name): (String(name.dropLast("Request".count)).lowercased(), .other)
        }
    }

    var summary: String {
        switch operation {
        case .bind(let version, let name, let sasl, _):
            "BindRequest v\(version) \"\(escaped(name.utf8, limit: 80))\" \(sasl ? "SASL" : "simple")"
        case .unbind: "UnbindRequest"
        case .search(let base, let scope, let attributes):
            "SearchRequest base \"\(escaped(base.utf8, limit: 80))\" scope \(scope) attributes "
                + escaped(attributes.joined(separator: ",").utf8, limit: 120)
        case .abandon: "AbandonRequest"
        case .extended(let name): "ExtendedRequest \(escaped(name.utf8, limit: 80))"
        case .update(_, let name): name
        }
    }
}
