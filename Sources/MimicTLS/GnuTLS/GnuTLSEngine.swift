private import CGnuTLS
import MimicCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A sans-I/O GnuTLS session: network bytes are buffered in memory and handed to GnuTLS by the pull callback;
/// what GnuTLS writes lands in an outbound buffer the caller drains. GnuTLS never blocks: an empty inbound
/// buffer reads as `EAGAIN`, and the session is non-blocking with handshake timeouts off (deadlines belong to
/// the caller, who owns the clock).
final class GnuTLSEngine: TLSEngine {
    /// More unread network bytes than this is a peer (or caller) that never lets the engine catch up.
    static let maximumInbound = 16 * 1024 * 1024
    /// Bound on plaintext returned by one `readPlaintext()`; the caller reads again for the rest.
    static let maximumReadChunk = 256 * 1024

    let backend = TLSBackend.gnutls
    let role: TLSRole
    private(set) var report: HandshakeReport

    private let context: GnuTLSContext
    private let session: OpaquePointer

    private enum State {
        case handshaking
        case established
        case failed(TLSFailure)
    }
    private var state = State.handshaking
    private var peerClosed = false
    /// The caller reported the transport's end of stream.
    private var endOfStream = false
    /// Server: the credential the retrieve function handed over.
    private var servedCredential: String?
    /// Server: the post-client-hello hook stopped the handshake (to abort with an alert or to cut).
    private var stoppedAtClientHello = false
    /// After a configured cut, only what `outbound` held at the cut (truncated) ever leaves; later bytes are
    /// dropped.
    private var silenced = false

    fileprivate var inbound: [UInt8] = []
    fileprivate var inboundOffset = 0
    fileprivate var outbound: [UInt8] = []
    private var inboundOverflow = false

    init(context: GnuTLSContext) throws(TLSFailure) {
        let configuration = context.configuration
        self.context = context
        self.role = configuration.role
        self.report = HandshakeReport(backend: .gnutls, libraryVersion: GnuTLSLibrary.version, role: configuration.role)

        var session: OpaquePointer?
        let server: gnutls_init_flags_t = GNUTLS_SERVER
        let client: gnutls_init_flags_t = GNUTLS_CLIENT
        let nonblocking: gnutls_init_flags_t = GNUTLS_NONBLOCK
        let end = configuration.role == .server ? server : client
        let rc = gnutls_init(&session, end.rawValue | nonblocking.rawValue)
        guard rc >= 0, let session else { throw GnuTLSLibrary.failure("gnutls_init", rc) }
        self.session = session

        // From here on `deinit` frees the session if a step throws.
        try context.configure(session: session)
        // The retrieve function and the client hello hook find the engine (and through it the context) here.
        gnutls_session_set_ptr(session, Unmanaged.passUnretained(self).toOpaque())
        if configuration.role == .server
            && (configuration.abortWithAlert != nil || configuration.closeMidHandshake == .afterClientHello)
        {
            gnutls_handshake_set_post_client_hello_function(session, gnutlsPostClientHello)
        }
        gnutls_transport_set_ptr(session, Unmanaged.passUnretained(self).toOpaque())
        gnutls_transport_set_pull_function(session, gnutlsPull)
        gnutls_transport_set_pull_timeout_function(session, gnutlsPullTimeout)
        gnutls_transport_set_push_function(session, gnutlsPush)
        // 0: no handshake deadline inside GnuTLS, whose clock keeps running while a sans-I/O engine waits.
        gnutls_handshake_set_timeout(session, 0)

        if configuration.role == .client {
            if let name = configuration.serverName, !name.isEmpty {
                let utf8 = Array(name.utf8)
                let rc = gnutls_server_name_set(session, GNUTLS_NAME_DNS, utf8, utf8.count)
                if rc < 0 { throw GnuTLSLibrary.failure("gnutls_server_name_set", rc) }
                report.serverName = name
            }
            if let resume = configuration.resumeSession, resume.backend == .gnutls, !resume.bytes.isEmpty {
                // A session GnuTLS cannot parse is not offered; the handshake then runs in full.
                _ = resume.bytes.withUnsafeBytes { gnutls_session_set_data(session, $0.baseAddress, $0.count) }
            }
        }
        try setALPN(configuration.alpn)
    }

    deinit {
        gnutls_deinit(session)
    }

    private func setALPN(_ protocols: [String]) throws(TLSFailure) {
        guard !protocols.isEmpty else { return }
        // GnuTLS copies the names; the copies made here live until the call returns.
        let names = protocols.map { name -> UnsafeMutableBufferPointer<UInt8> in
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(name.utf8.count, 1))
            _ = buffer.initialize(from: name.utf8)
            return buffer
        }
        defer { names.forEach { $0.deallocate() } }
        let datums = zip(names, protocols).map { buffer, name in
            gnutls_datum_t(data: buffer.baseAddress, size: UInt32(truncatingIfNeeded: name.utf8.count))
        }
        let flags = role == .server ? UInt32(GNUTLS_ALPN_SERVER_PRECEDENCE.rawValue) : 0
        let rc = gnutls_alpn_set_protocols(session, datums, UInt32(datums.count), flags)
        if rc < 0 { throw GnuTLSLibrary.failure("gnutls_alpn_set_protocols", rc) }
    }

    // MARK: - TLSEngine

    func receivedFromNetwork(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, !inboundOverflow else { return }
        if inbound.count - inboundOffset + bytes.count > Self.maximumInbound {
            inboundOverflow = true
            return
        }
        inbound += bytes
    }

    func handshake() -> TLSStep {
        switch state {
        case .established: return .complete
        case .failed(let failure): return .failed(failure)
        case .handshaking: break
        }
        if let failure = overflowFailure() { return .failed(fail(failure)) }
        let step = driveHandshake()
        guard case .incomplete = step, case .handshaking = state else { return step }
        // A server's first output is its whole first flight (it writes nothing before the ClientHello).
        if role == .server, case .afterServerHello(let limit)? = context.configuration.closeMidHandshake,
            context.configuration.abortWithAlert == nil, !outbound.isEmpty
        {
            return .failed(cut(keeping: limit ?? .max))
        }
        if endOfStream {
            fillReport(completed: false)
            return .failed(
                fail(.peerClosed(alertSent: report.alertSent, alertReceived: report.alertReceived))
            )
        }
        return .incomplete
    }

    func receivedEndOfStream() {
        endOfStream = true
        if case .handshaking = state { _ = handshake() }
    }

    private func driveHandshake() -> TLSStep {
        // Warning alerts and other non-fatal codes let the handshake go on; the bound keeps a peer that sends
        // nothing else from spinning us.
        for _ in 0..<16 {
            let rc = gnutls_handshake(session)
            if rc == GNUTLS_E_SUCCESS {
                state = .established
                fillReport(completed: true)
                return .complete
            }
            if rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED { return .incomplete }
            if rc == GNUTLS_E_WARNING_ALERT_RECEIVED {
                report.alertReceived = TLSAlert(
                    code: UInt8(truncatingIfNeeded: gnutls_alert_get(session).rawValue),
                    fatal: false
                )
                continue
            }
            if stoppedAtClientHello { return .failed(stopAtClientHello()) }
            if gnutls_error_is_fatal(rc) == 0 { continue }
            return .failed(failHandshake(rc))
        }
        return .failed(failHandshake(GNUTLS_E_INTERNAL_ERROR))
    }

    // MARK: - Server misbehaviour

    /// Called by the post-client-hello hook: whether to stop there (the handshake then fails with
    /// `GNUTLS_E_USER_ERROR`, before anything is sent).
    fileprivate func clientHelloArrived() -> Bool {
        let configuration = context.configuration
        stoppedAtClientHello =
            configuration.abortWithAlert != nil || configuration.closeMidHandshake == .afterClientHello
        return stoppedAtClientHello
    }

    /// The handshake stopped in the hook: send the configured alert (GnuTLS sends none by itself), or nothing.
    private func stopAtClientHello() -> TLSFailure {
        fillReport(completed: false)
        guard let alert = context.configuration.abortWithAlert else { return cut(keeping: 0) }
        let description = gnutls_alert_description_t(rawValue: UInt32(alert.code))
        let rc = gnutls_alert_send(session, GNUTLS_AL_FATAL, description)
        var failure = TLSFailure(
            .abortedWithAlert(alert),
            reason: "the server aborted the handshake at the ClientHello with \(alert), as configured",
            libraryError: TLSFailure.Kind.abortedWithAlert(alert).mimicCode,
            alertReceived: report.alertReceived
        )
        if rc >= 0 {
            failure.alertSent = alert
        } else {
            failure.reason += "; gnutls_alert_send: \(GnuTLSLibrary.errorText(rc))"
        }
        return fail(failure)
    }

    /// The configured silent cut: the first `limit` bytes written so far go out, nothing else ever does.
    private func cut(keeping limit: Int) -> TLSFailure {
        let written = outbound.count
        outbound = Array(outbound.prefix(max(0, limit)))
        silenced = true
        fillReport(completed: false)
        return fail(.cutMidHandshake(limit: limit, kept: outbound.count, written: written))
    }

    /// The chain the retrieve function hands over: server, the one for the client's SNI name; client, its own
    /// certificate (if any) when the server asks for one.
    func chainToServe() -> GnuTLSContext.LoadedChain? {
        guard role == .server else { return context.servedChain }
        let key = context.configuration.serverNameChainKey(for: sniName())
        if let key, let chain = context.serverNameChains[key] {
            servedCredential = key
            return chain
        }
        servedCredential = HandshakeReport.defaultCredential
        return context.servedChain
    }

    /// Server: the DNS name the client sent, if any.
    private func sniName() -> String? {
        var name = [UInt8](repeating: 0, count: 256)
        var size = name.count
        var type: UInt32 = 0
        guard gnutls_server_name_get(session, &name, &size, &type, 0) >= 0, type == GNUTLS_NAME_DNS.rawValue
        else { return nil }
        return String(decoding: name.prefix(min(size, name.count)).prefix { $0 != 0 }, as: UTF8.self)
    }

    func write(plaintext: [UInt8]) throws(TLSFailure) {
        switch state {
        case .established: break
        case .failed(let failure): throw failure
        case .handshaking: throw TLSFailure(.local, reason: "write before the handshake completed")
        }
        var offset = 0
        var retries = 0
        while offset < plaintext.count {
            let rc = plaintext.withUnsafeBytes { raw in
                gnutls_record_send(session, raw.baseAddress! + offset, raw.count - offset)
            }
            if rc > 0 {
                offset += rc
                retries = 0
                continue
            }
            // The push callback never refuses, so AGAIN is not expected; retry a few times, never forever.
            if (rc == Int(GNUTLS_E_AGAIN) || rc == Int(GNUTLS_E_INTERRUPTED)) && retries < 4 {
                retries += 1
                continue
            }
            let failure = GnuTLSLibrary.failure("gnutls_record_send", Int32(truncatingIfNeeded: rc))
            if gnutls_error_is_fatal(Int32(truncatingIfNeeded: rc)) != 0 { _ = fail(failure) }
            throw failure
        }
    }

    func readPlaintext() -> TLSRead {
        switch state {
        case .established: break
        case .failed(let failure): return .failed(failure)
        case .handshaking: return .wouldBlock
        }
        if peerClosed { return .closed }
        if endOfStream && inbound.count == inboundOffset && gnutls_record_check_pending(session) == 0 {
            return .closed
        }
        if let failure = overflowFailure() { return .failed(fail(failure)) }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024 + 256)
        var failure: TLSFailure?
        reading: for _ in 0..<64 where received.count < Self.maximumReadChunk {
            let rc = buffer.withUnsafeMutableBytes { gnutls_record_recv(session, $0.baseAddress, $0.count) }
            if rc > 0 {
                received += buffer[0..<min(rc, buffer.count)]
                continue
            }
            if rc == 0 {
                peerClosed = true
                report.alertReceived = .closeNotify
                break
            }
            let code = Int32(truncatingIfNeeded: rc)
            switch code {
            case GNUTLS_E_AGAIN, GNUTLS_E_INTERRUPTED:
                // A post-handshake message (a TLS 1.3 ticket, a key update) also ends in AGAIN even when more
                // records are buffered behind it: go on while there are bytes GnuTLS has not looked at.
                if inbound.count > inboundOffset || gnutls_record_check_pending(session) > 0 { continue }
                break reading
            case GNUTLS_E_REHANDSHAKE:
                // Renegotiation is refused politely; the peer decides whether to go on without it.
                _ = gnutls_alert_send(session, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION)
                report.alertSent = TLSAlert(code: UInt8(GNUTLS_A_NO_RENEGOTIATION.rawValue), fatal: false)
            case GNUTLS_E_WARNING_ALERT_RECEIVED:
                report.alertReceived = TLSAlert(
                    code: UInt8(truncatingIfNeeded: gnutls_alert_get(session).rawValue),
                    fatal: false
                )
            default:
                if gnutls_error_is_fatal(code) == 0 { continue }
                failure = fail(failureSendingAlert(code, call: "gnutls_record_recv"))
                break reading
            }
        }
        // Data decrypted before a failure or close is delivered first; the next read reports the rest.
        if !received.isEmpty { return .data(received) }
        if let failure { return .failed(failure) }
        return peerClosed ? .closed : .wouldBlock
    }

    func takeNetworkOutput() -> [UInt8] {
        defer { outbound = [] }
        return outbound
    }

    /// Whether the push callback drops what GnuTLS writes (after a configured cut).
    fileprivate var dropsOutput: Bool { silenced }

    func close() {
        guard case .established = state else { return }
        _ = gnutls_bye(session, GNUTLS_SHUT_WR)
    }

    func sessionForResumption() -> TLSSession? {
        guard role == .client, case .established = state else { return nil }
        // TLS 1.3 tickets arrive after the handshake; until one did, GnuTLS returns placeholder data that
        // cannot resume anything.
        if gnutls_protocol_get_version(session) == GNUTLS_TLS1_3
            && gnutls_session_get_flags(session) & GNUTLS_SFLAGS_SESSION_TICKET.rawValue == 0
        {
            return nil
        }
        var datum = gnutls_datum_t(data: nil, size: 0)
        guard gnutls_session_get_data2(session, &datum) >= 0 else { return nil }
        defer { mimic_gnutls_free(datum.data) }
        let data = bytes(of: datum)
        return data.isEmpty ? nil : TLSSession(backend: .gnutls, bytes: data)
    }

    // MARK: - Failures

    private func overflowFailure() -> TLSFailure? {
        guard inboundOverflow else { return nil }
        return TLSFailure(
            .local,
            reason: "more than \(Self.maximumInbound) bytes received and not yet consumed",
            alertSent: nil
        )
    }

    /// Enters the failed state and records the failure in the report.
    @discardableResult
    private func fail(_ failure: TLSFailure) -> TLSFailure {
        state = .failed(failure)
        report.failure = failure
        if let alert = failure.alertSent { report.alertSent = alert }
        if let alert = failure.alertReceived { report.alertReceived = alert }
        return failure
    }

    private func failHandshake(_ code: Int32) -> TLSFailure {
        let failure = failureSendingAlert(code, call: "gnutls_handshake")
        fillReport(completed: false)
        return fail(failure)
    }

    /// GnuTLS does not send an alert by itself when a call fails; `gnutls_alert_send_appropriate` does, so the
    /// peer can report why. Nothing is sent in answer to a fatal alert received.
    private func failureSendingAlert(_ code: Int32, call: String) -> TLSFailure {
        var failure = GnuTLSLibrary.failure(call, code)
        if code == GNUTLS_E_FATAL_ALERT_RECEIVED || code == GNUTLS_E_WARNING_ALERT_RECEIVED {
            let alert = gnutls_alert_get(session)
            failure.alertReceived = TLSAlert(
                code: UInt8(truncatingIfNeeded: alert.rawValue),
                fatal: code == GNUTLS_E_FATAL_ALERT_RECEIVED
            )
            if let name = gnutls_alert_get_name(alert) { failure.reason += " (\(String(cString: name)))" }
        }
        if code != GNUTLS_E_FATAL_ALERT_RECEIVED && gnutls_error_is_fatal(code) != 0 {
            var level: Int32 = 0
            let alert = gnutls_error_to_alert(code, &level)
            if alert >= 0 && gnutls_alert_send_appropriate(session, code) >= 0 {
                failure.alertSent = TLSAlert(
                    code: UInt8(truncatingIfNeeded: alert),
                    fatal: level == Int32(GNUTLS_AL_FATAL.rawValue)
                )
            }
        }
        failure.kind = failure.kind.refined(alertSent: failure.alertSent, alertReceived: failure.alertReceived)
        return failure
    }

    // MARK: - Report

    /// Collects what the session knows; called on completion and on failure (then some facts may be missing).
    private func fillReport(completed: Bool) {
        report.completed = completed
        report.negotiatedVersion = Self.version(gnutls_protocol_get_version(session))
        if completed || report.negotiatedVersion != nil {
            report.cipherSuite = gnutls_ciphersuite_get(session).map { String(cString: $0) }
            report.keyExchangeGroup = Self.groupName(gnutls_group_get(session))
        }
        if completed { report.sessionResumed = gnutls_session_is_resumed(session) != 0 }
        // GnuTLS reports the original session's group for a resumed TLS 1.2 session, where no key exchange ran.
        if report.sessionResumed && report.negotiatedVersion.map({ $0 < .tls1_3 }) == true {
            report.keyExchangeGroup = nil
        }

        var alpn = gnutls_datum_t(data: nil, size: 0)
        if gnutls_alpn_get_selected_protocol(session, &alpn) >= 0 {
            // The datum points into the session; copied right away.
            report.alpn = String(decoding: bytes(of: alpn), as: UTF8.self)
        }

        if role == .server {
            report.serverName = sniName()
            // A resumed session serves no certificate (and the retrieve function is not called).
            report.servedCredential = report.sessionResumed ? nil : servedCredential
        } else {
            report.certificateRequested = gnutls_certificate_client_get_request_status(session) != 0
        }

        var count: UInt32 = 0
        if let peers = gnutls_certificate_get_peers(session, &count), count > 0 {
            report.peerChain = (0..<Int(count)).map { bytes(of: peers[$0]) }
        }

        let configuration = context.configuration
        if role == .client && configuration.verifyPeer && (completed || !report.peerChain.isEmpty) {
            report.verification = GnuTLSVerifier.verify(
                ChainVerificationRequest(peerChain: report.peerChain, configuration: configuration))
        }
    }

    fileprivate static func version(_ protocol: gnutls_protocol_t) -> MimicTLSVersion? {
        switch `protocol` {
        case GNUTLS_TLS1_0: .tls1_0
        case GNUTLS_TLS1_1: .tls1_1
        case GNUTLS_TLS1_2: .tls1_2
        case GNUTLS_TLS1_3: .tls1_3
        default: nil
        }
    }

    /// GnuTLS names groups `SECP256R1`, `X25519`, `FFDHE2048`; the IANA registry spells them in lower case.
    fileprivate static func groupName(_ group: gnutls_group_t) -> String? {
        guard group != GNUTLS_GROUP_INVALID, let name = gnutls_group_get_name(group) else { return nil }
        return String(cString: name).lowercased()
    }
}

// MARK: - Transport callbacks

/// GnuTLS reads: hand over buffered network bytes, or EAGAIN when there are none.
private func gnutlsPull(transport: UnsafeMutableRawPointer?, buffer: UnsafeMutableRawPointer?, size: Int) -> Int {
    guard let transport, let buffer else { return -1 }
    let engine = Unmanaged<GnuTLSEngine>.fromOpaque(transport).takeUnretainedValue()
    let available = engine.inbound.count - engine.inboundOffset
    guard available > 0 else {
        engine.setTransportErrno(EAGAIN)
        return -1
    }
    let count = min(available, size)
    engine.inbound.withUnsafeBytes { raw in
        buffer.copyMemory(from: raw.baseAddress! + engine.inboundOffset, byteCount: count)
    }
    engine.inboundOffset += count
    // Compact once the consumed prefix dominates, so the buffer does not grow with the connection.
    if engine.inboundOffset == engine.inbound.count {
        engine.inbound.removeAll(keepingCapacity: true)
        engine.inboundOffset = 0
    } else if engine.inboundOffset > 64 * 1024 && engine.inboundOffset * 2 > engine.inbound.count {
        engine.inbound.removeFirst(engine.inboundOffset)
        engine.inboundOffset = 0
    }
    return count
}

/// GnuTLS asks whether bytes are ready: yes when buffered, otherwise EAGAIN (never a blocking wait).
private func gnutlsPullTimeout(transport: UnsafeMutableRawPointer?, milliseconds: UInt32) -> Int32 {
    guard let transport else { return -1 }
    let engine = Unmanaged<GnuTLSEngine>.fromOpaque(transport).takeUnretainedValue()
    if engine.inbound.count > engine.inboundOffset { return 1 }
    engine.setTransportErrno(EAGAIN)
    return -1
}

/// GnuTLS writes: everything is accepted into the outbound buffer the caller drains.
private func gnutlsPush(transport: UnsafeMutableRawPointer?, data: UnsafeRawPointer?, size: Int) -> Int {
    guard let transport else { return -1 }
    let engine = Unmanaged<GnuTLSEngine>.fromOpaque(transport).takeUnretainedValue()
    if let data, size > 0, !engine.dropsOutput {
        engine.outbound.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size))
    }
    return size
}

/// Server: a whole ClientHello has been read. A negative return stops the handshake with that error.
private func gnutlsPostClientHello(session: OpaquePointer?) -> Int32 {
    guard let session, let pointer = gnutls_session_get_ptr(session) else { return 0 }
    let engine = Unmanaged<GnuTLSEngine>.fromOpaque(pointer).takeUnretainedValue()
    return engine.clientHelloArrived() ? GNUTLS_E_USER_ERROR : 0
}

extension GnuTLSEngine {
    fileprivate func setTransportErrno(_ value: Int32) {
        gnutls_transport_set_errno(session, value)
    }
}

/// Copies a GnuTLS-owned datum into Swift bytes.
private func bytes(of datum: gnutls_datum_t) -> [UInt8] {
    guard let data = datum.data, datum.size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: Int(datum.size)))
}
