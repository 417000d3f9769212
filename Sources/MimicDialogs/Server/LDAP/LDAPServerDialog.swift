import MimicCore

/// An LDAP server in slapd's shape (RFC 4511, RFC 4513 §3, RFC 4512 §5.1): StartTLS extended operation, simple
/// bind (anything accepted), the RootDSE on a base-scope search of "", unbind; updates refused as
/// unwillingToPerform; anything unframeable or unknown answered with a Notice of Disconnection (protocolError)
/// and a close (RFC 4511 §4.1.1). No greeting: the client speaks first.
public struct LDAPServerDialog: ServerDialog {
    static let whoAmIOID = "1.3.6.1.4.1.4203.1.11.3"

    private var framer: LDAPFramer
    var core: ServerCore

    public init(configuration: ServerDialogConfiguration = ServerDialogConfiguration()) {
        core = ServerCore(serviceProtocol: .ldap, configuration: configuration)
        framer = LDAPFramer(maxMessageBytes: configuration.limits.maxLDAPMessageBytes)
    }

    public var serviceProtocol: ServiceProtocol { .ldap }
    public var transcript: Transcript { core.transcript }
    public var isClosed: Bool { core.isClosed }
    public var observation: DialogObservation { core.observer.observation }
    private var ldap: ServerDialogConfiguration.LDAP { core.configuration.ldap }
    private var longForm: Bool { ldap.longFormLengths }

    public mutating func start() -> [ServerAction] {
        guard core.stage == .idle else { return [] }
        core.stage = .open
        if let refusal = core.configuration.refuseGreeting {
            return core.enter(.greeting) + notice(code: 52, diagnostic: refusal) + core.close()
        }
        return core.enter(core.tlsActive ? .postTLS : .capabilities) + drain()
    }

    public mutating func received(_ bytes: [UInt8]) -> [ServerAction] {
        switch core.stage {
        case .closed, .awaitingTLS, .greeting:
            return []
        case .idle:
            framer.append(bytes)
            return framer.buffer.count > core.configuration.limits.maxLDAPMessageBytes ? core.close() : []
        case .noTransition(let replied):
            guard !replied, !bytes.isEmpty else { return [] }
            core.stage = .noTransition(replied: true)
            core.note("\(bytes.count) bytes after the go-ahead, answered in plaintext: \(hexDump(bytes, limit: 16))")
            switch core.configuration.startTLS.noTransitionReply {
            case nil:
                return notice(code: 2, diagnostic: "decoding error") + core.close()
            case let text?:
                return text.isEmpty ? [] : [.send(Array(text.utf8))]
            }
        case .open:
            framer.append(bytes)
            return drain()
        }
    }

    public mutating func tlsEstablished() -> [ServerAction] {
        guard core.stage == .awaitingTLS else { return [] }
        core.tlsActive = true
        core.stage = .open
        return core.enter(.postTLS) + drain()
    }

    public mutating func closed() -> [ServerAction] {
        core.stage = .closed
        return []
    }

    private mutating func drain() -> [ServerAction] {
        var actions: [ServerAction] = []
        while core.stage == .open {
            switch framer.next() {
            case .needMoreBytes:
                return actions
            case .invalid(let reason, let evidence):
                core.record(.client, "unframeable bytes (\(reason)): \(evidence)")
                return actions + notice(code: 2, diagnostic: "decoding error") + core.close()
            case .message(let bytes):
                let request: LDAPRequest
                do throws(LDAPRequest.DecodingError) {
                    request = try LDAPRequest(decoding: bytes, maxDepth: core.configuration.limits.maxBERDepth)
                } catch {
                    let reason =
                        switch error {
                        case .ber(let ber): ber.description
                        case .unknownOperation(let tag): "unknown protocolOp \(hex(tag))"
                        }
                    core.record(.client, "undecodable message (\(reason)): \(hexDump(bytes))")
                    return actions + notice(code: 2, diagnostic: "decoding error") + core.close()
                }
                core.record(.client, "\(request.summary) (messageID \(request.messageID))")
                let observed = request.observed
                core.observer.command(observed.verb, observed.kind, overTLS: core.tlsActive)
                actions += handle(request)
            }
        }
        return actions
    }

    private mutating func handle(_ request: LDAPRequest) -> [ServerAction] {
        let id = request.messageID
        switch request.operation {
        case .bind(_, _, let sasl, _):
            let code = sasl ? 7 : 0
            return send(id, LDAPMessage.Tag.bindResponse, result(code), "BindResponse \(LDAPResultCode.name(code))")
        case .unbind:
            return core.close()
        case .abandon:
            return []
        case .search(let base, let scope, let attributes):
            guard base.isEmpty else {
                return send(
                    id,
                    LDAPMessage.Tag.searchResultDone,
                    result(32),
                    "SearchResultDone \(LDAPResultCode.name(32))"
                )
            }
            var actions: [ServerAction] = []
            if scope == 0 {
                actions += send(id, LDAPMessage.Tag.searchResultEntry, rootDSE(attributes), "SearchResultEntry RootDSE")
            }
            return actions
                + send(id, LDAPMessage.Tag.searchResultDone, result(0), "SearchResultDone \(LDAPResultCode.name(0))")
        case .extended(let name) where name == LDAPMessage.startTLSOID:
            return startTLS(id)
        case .extended:
            return send(
                id,
                LDAPMessage.Tag.extendedResponse,
                result(2, diagnostic: "unsupported extended operation"),
                "ExtendedResponse \(LDAPResultCode.name(2))"
            )
        case .update(let tag, _):
            return send(
                id,
                tag,
                result(53, diagnostic: "read-only server"),
                "response \(hex(tag)) \(LDAPResultCode.name(53))"
            )
        }
    }

    private mutating func startTLS(_ id: Int) -> [ServerAction] {
        let name =
            ldap.responseName.oid.map {
                BER.octetString($0, tag: LDAPMessage.Tag.responseName, longForm: longForm)
            } ?? []
        if core.tlsActive {
            return extendedResponse(id, code: 1, diagnostic: "TLS already started", name: name)
        }
        if core.configuration.mode == .none {
            core.observer.upgradeRefused()
            return extendedResponse(id, code: 2, diagnostic: "unsupported extended operation", name: [])
        }
        if ldap.noticeOfDisconnection || ldap.resultCode != 0 { core.observer.upgradeRefused() }
        if ldap.noticeOfDisconnection {
            let code = ldap.resultCode != 0 ? ldap.resultCode : 52
            return notice(code: code, diagnostic: ldap.diagnosticMessage) + core.close()
        }
        guard ldap.resultCode == 0 else {
            return extendedResponse(id, code: ldap.resultCode, diagnostic: ldap.diagnosticMessage, name: name)
        }
        var actions =
            core.enter(.upgrade) + extendedResponse(id, code: 0, diagnostic: ldap.diagnosticMessage, name: name)
        if let injection = core.configuration.startTLS.injectAfterGoAhead, case .send(let bytes) = actions.last {
            core.record(.server, "injected: \(escaped(injection.utf8))")
            actions[actions.count - 1] = .send(bytes + Array(injection.utf8))
        }
        if !framer.buffer.isEmpty, !core.configuration.startTLS.executeInjectedCommands {
            core.note("discarded \(framer.buffer.count) bytes pipelined after StartTLS: \(hexDump(framer.buffer))")
            framer = LDAPFramer(maxMessageBytes: core.configuration.limits.maxLDAPMessageBytes)
        }
        guard core.configuration.startTLS.transition else {
            core.stage = .noTransition(replied: false)
            return actions
        }
        core.stage = .awaitingTLS
        return actions + core.enter(.handshake) + [.startTLS]
    }

    // MARK: Encoding

    /// A value safe for the INTEGER/ENUMERATED encoder: configured codes and IDs clamped to 0…2³¹-1.
    private static func clamp(_ value: Int) -> Int { min(max(value, 0), Int(Int32.max)) }

    /// LDAPResult components: resultCode, matchedDN "", diagnosticMessage.
    private func result(_ code: Int, diagnostic: String = "") -> [UInt8] {
        BER.integer(LDAPMessage.Tag.enumerated, Self.clamp(code), longForm: longForm)
            + BER.octetString("", longForm: longForm)
            + BER.octetString(diagnostic, longForm: longForm)
    }

    private mutating func extendedResponse(_ id: Int, code: Int, diagnostic: String, name: [UInt8]) -> [ServerAction] {
        send(
            id,
            LDAPMessage.Tag.extendedResponse,
            result(code, diagnostic: diagnostic) + name,
            "ExtendedResponse \(LDAPResultCode.name(code))"
                + (name.isEmpty ? "" : " with responseName \(responseNameText)")
        )
    }

    /// The configured responseName for the transcript (only called when one is sent).
    private var responseNameText: String { ldap.responseName.oid ?? "" }

    /// One response message under the request's messageID (or the configured wrong one).
    private mutating func send(_ id: Int, _ tag: UInt8, _ content: [UInt8], _ summary: String) -> [ServerAction] {
        let messageID = Self.clamp(ldap.messageIDOverride ?? id)
        core.record(.server, "\(summary) (messageID \(messageID))")
        return [.send(message(messageID, BER.element(tag, content, longForm: longForm)))]
    }

    private func message(_ messageID: Int, _ protocolOp: [UInt8]) -> [UInt8] {
        BER.element(
            LDAPMessage.Tag.sequence,
            BER.integer(LDAPMessage.Tag.integer, messageID, longForm: longForm) + protocolOp,
            longForm: longForm
        )
    }

    /// Notice of Disconnection (RFC 4511 §4.4.1): messageID 0, responseName 1.3.6.1.4.1.1466.20036.
    private mutating func notice(code: Int, diagnostic: String) -> [ServerAction] {
        core.record(.server, "Notice of Disconnection \(LDAPResultCode.name(code)) (messageID 0)")
        let op = BER.element(
            LDAPMessage.Tag.extendedResponse,
            result(code, diagnostic: diagnostic)
                + BER.octetString(LDAPMessage.noticeOfDisconnectionOID, tag: 0x8A, longForm: longForm),
            longForm: longForm
        )
        return [.send(message(0, op))]
    }

    /// The RootDSE entry: objectName "" and the requested attributes (all when none, `*` or `+` is asked).
    private func rootDSE(_ requested: [String]) -> [UInt8] {
        var extensions = core.capabilities(
            defaultsBeforeTLS: [LDAPMessage.startTLSOID, Self.whoAmIOID],
            defaultsAfterTLS: [LDAPMessage.startTLSOID, Self.whoAmIOID],
            keyword: LDAPMessage.startTLSOID
        )
        if core.configuration.mode == .none { extensions.removeAll { $0 == LDAPMessage.startTLSOID } }
        let attributes: [(String, [String])] = [
            ("objectClass", ["top", "OpenLDAProotDSE"]),
            ("namingContexts", ["dc=example,dc=test"]),
            ("supportedExtension", extensions),
            ("supportedLDAPVersion", ["3"]),
        ]
        let everything = requested.isEmpty || requested.contains("*") || requested.contains("+")
        let wanted = Set(requested.map { $0.lowercased() })
        let list = attributes.filter { everything || wanted.contains($0.0.lowercased()) }.flatMap { name, values in
            BER.element(
                LDAPMessage.Tag.sequence,
                BER.octetString(name, longForm: longForm)
                    + BER.element(
                        LDAPMessage.Tag.set,
                        values.flatMap { BER.octetString($0, longForm: longForm) },
                        longForm: longForm
                    ),
                longForm: longForm
            )
        }
        return BER.octetString("", longForm: longForm) + BER.element(LDAPMessage.Tag.sequence, list, longForm: longForm)
    }
}
