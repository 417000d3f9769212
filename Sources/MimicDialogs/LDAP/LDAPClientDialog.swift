import MimicCore

/// LDAP StartTLS and a RootDSE read after it (RFC 4511 §4.14, RFC 4513 §3).
///
/// Steps: ExtendedRequest StartTLS (messageID 1) → ExtendedResponse → [TLS] → anonymous RootDSE search →
/// UnbindRequest; in implicit mode (LDAPS) the search and the unbind only. Every message is read through a
/// bounded BER parser: a garbage, truncated or oversized reply is a failure, never a trap.
public struct LDAPClientDialog: ClientDialog {
    private enum State: Sendable, Hashable {
        case idle
        case extended(messageID: Int)
        case awaitingTLS
        case search(messageID: Int)
        case completed
        case failed
    }

    static let rootDSEAttributes = ["supportedLDAPVersion", "namingContexts", "supportedExtension"]

    private var state: State = .idle
    private var nextMessageID = 1
    private var framer: LDAPFramer
    private var core: DialogCore

    public init(options: DialogOptions = DialogOptions()) {
        core = DialogCore(serviceProtocol: .ldap, options: options)
        framer = LDAPFramer(maxMessageBytes: options.limits.maxLDAPMessageBytes)
    }

    public var serviceProtocol: ServiceProtocol { .ldap }
    public var transcript: Transcript { core.transcript }

    private var currentPhase: Phase {
        switch state {
        case .idle, .extended, .awaitingTLS: core.options.mode == .implicit ? .postTLS : .upgrade
        case .search: .postTLS
        case .completed, .failed: .close
        }
    }

    public mutating func start() -> [DialogAction] {
        guard state == .idle else { return [] }
        switch core.options.mode {
        case .startTLS:
            let id = takeMessageID()
            state = .extended(messageID: id)
            return [
                core.send(LDAPMessage.startTLSRequest(messageID: id), as: "ExtendedRequest StartTLS (messageID \(id))")
            ]
                + drain()
        case .implicit:
            return search() + drain()
        case .none:
            return fail(core.failure(.upgrade, .modeMismatch, words: "", detail: "LDAP dialog needs a TLS mode"))
        }
    }

    public mutating func received(_ bytes: [UInt8]) -> [DialogAction] {
        switch state {
        case .completed, .failed: return []
        case .awaitingTLS: return fail(core.injection(bytes))
        default: break
        }
        framer.append(bytes)
        return drain()
    }

    public mutating func tlsEstablished() -> [DialogAction] {
        guard state == .awaitingTLS else { return [] }
        return search() + drain()
    }

    public mutating func closed() -> [DialogAction] {
        switch state {
        case .completed, .failed: return []
        default:
            return fail(core.closedEarly(currentPhase, buffered: framer.buffer))
        }
    }

    private mutating func takeMessageID() -> Int {
        defer { nextMessageID += 1 }
        return nextMessageID
    }

    private mutating func search() -> [DialogAction] {
        let id = takeMessageID()
        state = .search(messageID: id)
        return [
            core.send(
                LDAPMessage.rootDSESearch(messageID: id, attributes: Self.rootDSEAttributes),
                as: "SearchRequest RootDSE (messageID \(id))"
            )
        ]
    }

    private mutating func fail(_ failure: DialogFailure) -> [DialogAction] {
        state = .failed
        return [.failed(failure)]
    }

    private var isReading: Bool {
        switch state {
        case .extended, .search: true
        default: false
        }
    }

    private mutating func drain() -> [DialogAction] {
        var actions: [DialogAction] = []
        while isReading {
            switch framer.next() {
            case .needMoreBytes:
                return actions
            case .invalid(let reason, let evidence):
                core.summary.transcript.append(.received, "unframeable bytes: \(evidence)")
                return actions + fail(core.failure(currentPhase, .unexpectedReply, words: evidence, detail: reason))
            case .message(let bytes):
                if core.summary.ldapLongFormLengths != true { core.summary.ldapLongFormLengths = Self.longForm(bytes) }
                let message: LDAPMessage
                do throws(BERError) {
                    message = try LDAPMessage(decoding: bytes, maxDepth: core.options.limits.maxBERDepth)
                } catch {
                    core.summary.transcript.append(.received, "undecodable message: \(hexDump(bytes))")
                    return actions
                        + fail(
                            core.failure(
                                currentPhase,
                                .unexpectedReply,
                                words: hexDump(bytes),
                                detail: "malformed LDAPMessage: \(error)"
                            )
                        )
                }
                core.summary.transcript.append(.received, Self.describe(message))
                actions += handle(message)
            }
        }
        return actions
    }

    private mutating func handle(_ message: LDAPMessage) -> [DialogAction] {
        if message.isNoticeOfDisconnection, case .extendedResponse(let result, _, _) = message.operation {
            return noticeOfDisconnection(result)
        }
        let expected: Int
        switch state {
        case .extended(let id), .search(let id): expected = id
        default: return []
        }
        guard message.messageID == expected else {
            return fail(
                core.failure(
                    currentPhase,
                    .unexpectedReply,
                    words: Self.describe(message),
                    detail: "messageID mismatch: expected \(expected), got \(message.messageID)"
                )
            )
        }
        switch (state, message.operation) {
        case (.extended, .extendedResponse(let result, _, _)):
            return startTLSResponse(result)
        case (.search, .searchResultEntry(_, let attributes)):
            for attribute in attributes {
                core.summary.rootDSE[attribute.type.lowercased(), default: []] += attribute.values
            }
            core.summary.capabilitiesAfterTLS = core.summary.rootDSE["supportedextension"] ?? []
            return []
        case (.search, .searchResultReference):
            return []
        case (.search, .searchResultDone(let result)):
            return searchDone(result)
        default:
            return fail(
                core.failure(
                    currentPhase, .unexpectedReply, words: Self.describe(message), detail: "unexpected protocolOp"))
        }
    }

    /// The server is closing the connection. The answer to the StartTLS request refuses the upgrade. On LDAPS the
    /// search is the session's first request (messageID 1): a notice before any answer to it is the server
    /// refusing the session, LDAP's greeting refusal (slapd and AD send one when they will not serve another
    /// connection).
    private mutating func noticeOfDisconnection(_ result: LDAPResult) -> [DialogAction] {
        let code: FindingCode =
            switch state {
            case .extended: .startTLSRejected
            case .search(messageID: 1): .greetingRejected
            default: .unexpectedReply
            }
        return fail(
            core.failure(
                currentPhase, code, words: "Notice of Disconnection: \(result)",
                detail: "the server is closing the connection"))
    }

    private mutating func startTLSResponse(_ result: LDAPResult) -> [DialogAction] {
        guard result.code == 0 else {
            return fail(core.failure(.upgrade, .startTLSRejected, words: result.description, detail: "StartTLS refused"))
        }
        core.summary.upgradeReply = result.description
        state = .awaitingTLS
        if !framer.buffer.isEmpty {
            return fail(core.injection(framer.buffer))
        }
        return [.startTLS(leftover: [])]
    }

    private mutating func searchDone(_ result: LDAPResult) -> [DialogAction] {
        var actions: [DialogAction] = []
        if result.code != 0 {
            actions.append(
                core.finding(
                    Finding(
                        .unexpectedReply, severity: .warning, phase: .postTLS,
                        evidence: "anonymous RootDSE read refused: \(result)", source: "dialog")))
        }
        let id = takeMessageID()
        actions.append(core.send(LDAPMessage.unbind(messageID: id), as: "UnbindRequest (messageID \(id))"))
        state = .completed
        actions.append(.completed(core.summary))
        return actions
    }

    /// Whether a framed message's outer length is in the long form although the short form would do.
    static func longForm(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 2, bytes[1] & 0x80 != 0 else { return false }
        let lengthOctets = Int(bytes[1] & 0x7F)
        return bytes.count - 2 - lengthOctets < 128
    }

    static func describe(_ message: LDAPMessage) -> String {
        let body: String
        switch message.operation {
        case .extendedResponse(let result, let name, let value):
            var text = "ExtendedResponse \(result)"
            if let name { text += ", responseName \(name)" }
            if let value { text += ", responseValue \(escaped(value, limit: 64))" }
            body = text
        case .searchResultEntry(let dn, let attributes):
            body = "SearchResultEntry \"\(dn)\" (\(attributes.count) attributes)"
        case .searchResultReference:
            body = "SearchResultReference"
        case .searchResultDone(let result):
            body = "SearchResultDone \(result)"
        case .other(let tag):
            body = "protocolOp \(hex(tag))"
        }
        return "\(body) (messageID \(message.messageID), \(message.size) bytes)"
    }
}
