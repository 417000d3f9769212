private import COpenSSL
import MimicCore

/// A sans-I/O OpenSSL connection: an `SSL` between two memory BIOs. Bytes from the peer go into the read BIO,
/// bytes for the peer come out of the write BIO; nothing here touches a socket or a clock.
final class OpenSSLEngine: TLSEngine {
    let backend = TLSBackend.openssl
    var role: TLSRole { configuration.role }

    /// Keeps the `SSL_CTX` (and the ALPN buffer its callback points into) alive as long as this engine.
    private let context: OpenSSLContext
    private var configuration: MimicTLSConfiguration { context.configuration }
    private let ssl: OpaquePointer
    private let readBIO: OpaquePointer
    private let writeBIO: OpaquePointer

    fileprivate enum State {
        case handshaking
        case established
        case failed(TLSFailure)
    }
    private var state = State.handshaking
    private var facts: HandshakeReport
    private var alertSent: TLSAlert?
    private var alertReceived: TLSAlert?

    /// Server: the credential the servername callback put on the connection.
    private var servedCredential: String?
    /// Server: the client hello callback refused the ClientHello with the configured alert.
    private var abortedAtClientHello = false
    /// Client: a CertificateRequest arrived (seen by the message callback).
    private var certificateRequested = false
    /// The caller reported the transport's end of stream.
    private var endOfStream = false
    /// After a configured cut, only `cutOutput` ever leaves the engine; later bytes are dropped.
    private var silenced = false
    private var cutOutput: [UInt8] = []

    /// Bytes buffered from the peer and not yet consumed. A peer (or a caller) that floods the engine beyond
    /// this gets a failure instead of unbounded memory.
    static let maximumBufferedInput = 4 * 1024 * 1024
    /// Plaintext returned by one `readPlaintext()` call at most.
    static let maximumReadChunk = 64 * 1024
    private static let recordPlaintextLimit = 16 * 1024

    init(context: OpenSSLContext) throws(TLSFailure) {
        self.context = context
        facts = HandshakeReport(
            backend: .openssl,
            libraryVersion: OpenSSLContext.libraryVersion,
            role: context.configuration.role
        )
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.context) else { throw OpenSSLContext.failure("SSL_new failed") }
        guard let readBIO = BIO_new(BIO_s_mem()), let writeBIO = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw OpenSSLContext.failure("BIO_new failed")
        }
        // An empty read BIO means "retry later", not end of file: more bytes may still arrive.
        _ = mimic_BIO_set_mem_eof_return(readBIO, -1)
        _ = mimic_BIO_set_mem_eof_return(writeBIO, -1)
        SSL_set_bio(ssl, readBIO, writeBIO)  // The SSL owns both BIOs from here.
        self.ssl = ssl
        self.readBIO = readBIO
        self.writeBIO = writeBIO

        _ = mimic_SSL_set_app_data(ssl, Unmanaged.passUnretained(self).toOpaque())
        SSL_set_msg_callback(ssl, openSSLMessageCallback)

        switch context.configuration.role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client:
            SSL_set_connect_state(ssl)
            try configureClient()
        }
    }

    deinit {
        SSL_set_msg_callback(ssl, nil)
        _ = mimic_SSL_set_app_data(ssl, nil)
        SSL_free(ssl)  // Frees both BIOs too.
    }

    private func configureClient() throws(TLSFailure) {
        if let name = configuration.serverName, !name.isEmpty, mimic_SSL_set_tlsext_host_name(ssl, name) != 1 {
            throw OpenSSLContext.failure("SNI name \"\(name)\" rejected")
        }
        if let session = configuration.resumeSession {
            guard session.backend == .openssl else {
                throw TLSFailure(.local, reason: "a \(session.backend.displayName) session cannot be resumed by OpenSSL")
            }
            let parsed: OpaquePointer? = session.bytes.withUnsafeBufferPointer { buffer in
                var cursor = buffer.baseAddress
                return d2i_SSL_SESSION(nil, &cursor, buffer.count)
            }
            guard let parsed else { throw OpenSSLContext.failure("session bytes unreadable") }
            defer { SSL_SESSION_free(parsed) }
            if SSL_set_session(ssl, parsed) != 1 { throw OpenSSLContext.failure("session rejected") }
        }
    }

    // MARK: - Network side

    func receivedFromNetwork(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if case .failed = state { return }
        guard mimic_BIO_ctrl_pending(readBIO) + bytes.count <= Self.maximumBufferedInput else {
            state = .failed(fail(reason: "more than \(Self.maximumBufferedInput) bytes received and not consumed"))
            return
        }
        bytes.withUnsafeBytes { raw in
            // A memory BIO takes everything it is given (it grows), so one write suffices.
            _ = BIO_write(readBIO, raw.baseAddress, Int32(raw.count))
        }
    }

    func takeNetworkOutput() -> [UInt8] {
        let drained = drainWriteBIO()
        guard silenced else { return drained }
        defer { cutOutput = [] }
        return cutOutput
    }

    func receivedEndOfStream() {
        endOfStream = true
        if case .handshaking = state { _ = handshake() }
    }

    private func drainWriteBIO() -> [UInt8] {
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while mimic_BIO_ctrl_pending(writeBIO) > 0 {
            let count = buffer.withUnsafeMutableBytes { BIO_read(writeBIO, $0.baseAddress, Int32($0.count)) }
            guard count > 0 else { break }
            output += buffer[0..<Int(count)]
        }
        return output
    }

    // MARK: - Handshake

    func handshake() -> TLSStep {
        switch state {
        case .established: return .complete
        case .failed(let failure): return .failed(failure)
        case .handshaking: break
        }
        OpenSSLErrorQueue.clear()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            state = .established
            collectFacts()
            return .complete
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_CLIENT_HELLO_CB {
            // Only our client hello callback suspends, and only to cut after the ClientHello.
            OpenSSLErrorQueue.clear()
            return cut(keeping: 0)
        }
        if abortedAtClientHello { return abortFailure() }
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE {
            // A server's first output is its whole first flight (it writes nothing before the ClientHello).
            if role == .server, case .afterServerHello(let limit)? = configuration.closeMidHandshake,
                configuration.abortWithAlert == nil, mimic_BIO_ctrl_pending(writeBIO) > 0
            {
                return cut(keeping: limit ?? .max)
            }
            if endOfStream { return finish(failure: peerClosedFailure()) }
            return .incomplete
        }
        return finish(failure: failure(sslError: error))
    }

    private func finish(failure: TLSFailure) -> TLSStep {
        state = .failed(failure)
        collectFacts()
        facts.failure = failure
        return .failed(failure)
    }

    /// The configured silent cut: the first `limit` bytes written so far go out, nothing else ever does.
    private func cut(keeping limit: Int) -> TLSStep {
        let written = drainWriteBIO()
        cutOutput = Array(written.prefix(max(0, limit)))
        silenced = true
        return finish(failure: .cutMidHandshake(limit: limit, kept: cutOutput.count, written: written.count))
    }

    private func abortFailure() -> TLSStep {
        let library = OpenSSLErrorQueue.drain()
        guard let alert = configuration.abortWithAlert else { return finish(failure: failure(sslError: 0)) }
        if alertSent == nil {
            // OpenSSL sends only the alerts its TLS 1.x table knows (tls1_alert_code); any other code is written
            // here as a plaintext fatal alert record, which is what a server answering a ClientHello sends.
            let record: [UInt8] = [21, 0x03, 0x03, 0x00, 0x02, 2, alert.code]
            record.withUnsafeBytes { _ = BIO_write(writeBIO, $0.baseAddress, Int32($0.count)) }
            alertSent = alert
        }
        let detail = library.isEmpty ? "" : " (OpenSSL: \(library.text))"
        return finish(
            failure: TLSFailure(
                .abortedWithAlert(alert),
                reason: "the server aborted the handshake at the ClientHello with \(alert), as configured\(detail)",
                libraryError: TLSFailure.Kind.abortedWithAlert(alert).mimicCode,
                alertSent: alertSent,
                alertReceived: alertReceived
            )
        )
    }

    private func peerClosedFailure() -> TLSFailure {
        .peerClosed(alertSent: alertSent, alertReceived: alertReceived)
    }

    // MARK: - Server callbacks

    /// What the client hello callback should do.
    enum ClientHelloDecision {
        case proceed
        case abort(UInt8)
        case suspend
    }

    func clientHelloArrived() -> ClientHelloDecision {
        if let alert = configuration.abortWithAlert {
            abortedAtClientHello = true
            return .abort(alert.code)
        }
        if configuration.closeMidHandshake == .afterClientHello { return .suspend }
        return .proceed
    }

    /// Puts the credential for the client's SNI name on the connection; false when OpenSSL refused it.
    func selectCredential() -> Bool {
        let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        guard let key = configuration.serverNameChainKey(for: name),
            let credential = context.serverNameCredentials[key]
        else {
            servedCredential = HandshakeReport.defaultCredential
            return true
        }
        // Cleared first: a leaf of another key type would otherwise sit beside the default one, and OpenSSL
        // could pick either. The chain is set explicitly, and NO_AUTO_CHAIN keeps it exactly as configured.
        SSL_certs_clear(ssl)
        guard SSL_use_certificate(ssl, credential.leaf) == 1,
            SSL_use_PrivateKey(ssl, credential.key) == 1,
            mimic_SSL_set1_chain(ssl, credential.chain) == 1
        else { return false }
        servedCredential = key
        return true
    }

    /// Whether the server acknowledges the client's SNI name (only when it serves chains per name).
    var acknowledgesServerName: Bool { !configuration.serverNameChains.isEmpty }

    static func from(_ ssl: OpaquePointer) -> OpenSSLEngine? {
        mimic_SSL_get_app_data(ssl).map { Unmanaged<OpenSSLEngine>.fromOpaque($0).takeUnretainedValue() }
    }

    // MARK: - Application data

    func write(plaintext: [UInt8]) throws(TLSFailure) {
        // SSL_write would drive a pending handshake itself, past the point where the facts are collected.
        switch handshake() {
        case .complete: break
        case .failed(let failure): throw failure
        case .incomplete: throw TLSFailure(.local, reason: "application data written before the handshake completed")
        }
        var offset = 0
        while offset < plaintext.count {
            let end = min(offset + Self.recordPlaintextLimit, plaintext.count)
            OpenSSLErrorQueue.clear()
            let written = plaintext[offset..<end].withUnsafeBytes { raw in
                SSL_write(ssl, raw.baseAddress, Int32(raw.count))
            }
            guard written > 0 else {
                throw failure(sslError: SSL_get_error(ssl, written))
            }
            offset += Int(written)
        }
    }

    func readPlaintext() -> TLSRead {
        switch handshake() {
        case .complete: break
        case .failed(let failure): return .failed(failure)
        case .incomplete: return .wouldBlock
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: Self.recordPlaintextLimit)
        while received.count < Self.maximumReadChunk {
            OpenSSLErrorQueue.clear()
            let count = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                received += buffer[0..<Int(count)]
                continue
            }
            let error = SSL_get_error(ssl, count)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                if !received.isEmpty { return .data(received) }
                return endOfStream ? .closed : .wouldBlock
            case SSL_ERROR_ZERO_RETURN:
                // Data before the close_notify first; the next call reports the close.
                return received.isEmpty ? .closed : .data(received)
            default:
                let failure = failure(sslError: error)
                state = .failed(failure)
                return received.isEmpty ? .failed(failure) : .data(received)
            }
        }
        return .data(received)
    }

    func close() {
        OpenSSLErrorQueue.clear()
        // Before the handshake completes there is nothing to close politely; OpenSSL would only complain.
        if SSL_is_init_finished(ssl) == 1 { _ = SSL_shutdown(ssl) }
        OpenSSLErrorQueue.clear()
    }

    // MARK: - Report and session

    var report: HandshakeReport {
        var report = facts
        report.alertSent = alertSent
        report.alertReceived = alertReceived
        if var failure = report.failure {
            failure.alertSent = failure.alertSent ?? alertSent
            failure.alertReceived = failure.alertReceived ?? alertReceived
            report.failure = failure
        }
        return report
    }

    func sessionForResumption() -> TLSSession? {
        guard case .established = state, let session = SSL_get1_session(ssl) else { return nil }
        defer { SSL_SESSION_free(session) }
        guard SSL_SESSION_is_resumable(session) == 1, let bytes = Self.encoded({ i2d_SSL_SESSION(session, $0) })
        else { return nil }
        return TLSSession(backend: .openssl, bytes: bytes)
    }

    // MARK: - Alerts (from the message callback)

    fileprivate func observedCertificateRequest() {
        if role == .client { certificateRequested = true }
    }

    fileprivate func observed(alert: TLSAlert, sent: Bool) {
        // The first fatal alert explains a failure; a later close_notify must not hide it.
        if sent {
            if alertSent == nil || alertSent?.fatal == false { alertSent = alert }
        } else {
            if alertReceived == nil || alertReceived?.fatal == false { alertReceived = alert }
        }
    }

    // MARK: - Private

    private func fail(reason: String) -> TLSFailure {
        TLSFailure(.local, reason: reason, alertSent: alertSent, alertReceived: alertReceived)
    }

    private func failure(sslError: Int32) -> TLSFailure {
        let drained = OpenSSLErrorQueue.drain()
        var reason = drained.text
        if reason.isEmpty {
            switch sslError {
            case SSL_ERROR_SYSCALL: reason = "the connection ended unexpectedly (SSL_ERROR_SYSCALL)"
            case SSL_ERROR_ZERO_RETURN: reason = "the peer closed the connection (SSL_ERROR_ZERO_RETURN)"
            default: reason = "SSL error \(sslError)"
            }
        }
        return TLSFailure(
            drained.kind.refined(alertSent: alertSent, alertReceived: alertReceived),
            reason: reason,
            libraryError: drained.symbol,
            libraryCode: drained.code,
            alertSent: alertSent,
            alertReceived: alertReceived
        )
    }

    /// Everything the handshake revealed; called on completion and, for as much as is known, on failure.
    private func collectFacts() {
        if let version = MimicTLSVersion(wireValue: UInt16(truncatingIfNeeded: SSL_version(ssl))),
            state.isEstablished || SSL_get_current_cipher(ssl) != nil
        {
            facts.negotiatedVersion = version
        }
        facts.completed = state.isEstablished
        if let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_standard_name(cipher) {
            facts.cipherSuite = String(cString: name)
        }
        facts.keyExchangeGroup = negotiatedGroup()
        var alpnData: UnsafePointer<UInt8>?
        var alpnLength: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &alpnData, &alpnLength)
        if let alpnData, alpnLength > 0 {
            facts.alpn = String(decoding: UnsafeBufferPointer(start: alpnData, count: Int(alpnLength)), as: UTF8.self)
        }
        switch role {
        case .client:
            facts.serverName = configuration.serverName
        case .server:
            facts.serverName = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        }
        facts.certificateRequested = certificateRequested
        // A resumed session serves no certificate.
        facts.servedCredential = SSL_session_reused(ssl) == 1 ? nil : servedCredential
        facts.peerChain = peerChain()
        facts.sessionResumed = SSL_session_reused(ssl) == 1
        if role == .client, configuration.verifyPeer, !facts.peerChain.isEmpty {
            facts.verification = OpenSSLVerifier.verify(
                ChainVerificationRequest(peerChain: facts.peerChain, configuration: configuration),
                certificates: peerCertificates())
        }
    }

    private func negotiatedGroup() -> String? {
        // OpenSSL 3.0 reads the group from the session without a NULL check: a handshake that failed before
        // the ServerHello has none.
        guard SSL_get_session(ssl) != nil else { return nil }
        let nid = mimic_SSL_get_negotiated_group(ssl)
        guard nid > 0 else { return nil }
        if let known = Self.groupNames[nid] { return known }
        // Groups OpenSSL has no NID for come back as TLSEXT_nid_unknown | wire id.
        if nid & TLSEXT_nid_unknown != 0 { return TLSGroups.name(wireValue: UInt16(nid & 0xFFFF)) }
        return SSL_group_to_name(ssl, nid).map { String(cString: $0).lowercased() }
    }

    /// IANA TLS Supported Groups names for the NIDs OpenSSL reports.
    private static let groupNames: [Int32: String] = [
        NID_X9_62_prime256v1: "secp256r1", NID_secp384r1: "secp384r1", NID_secp521r1: "secp521r1",
        NID_X25519: "x25519", NID_X448: "x448", NID_ffdhe2048: "ffdhe2048", NID_ffdhe3072: "ffdhe3072",
        NID_ffdhe4096: "ffdhe4096", NID_ffdhe6144: "ffdhe6144", NID_ffdhe8192: "ffdhe8192",
        NID_brainpoolP256r1: "brainpoolP256r1", NID_brainpoolP384r1: "brainpoolP384r1",
        NID_brainpoolP512r1: "brainpoolP512r1",
    ]

    /// The peer's chain, DER, in the order it was sent. A server's `SSL_get_peer_cert_chain` leaves out the
    /// client's own certificate, so it is put first.
    private func peerChain() -> [[UInt8]] {
        var chain: [[UInt8]] = []
        if role == .server, let leaf = SSL_get0_peer_certificate(ssl), let der = Self.der(leaf) {
            chain.append(der)
        }
        if let stack = SSL_get_peer_cert_chain(ssl) {
            for index in 0..<max(0, mimic_sk_X509_num(stack)) {
                if let cert = mimic_sk_X509_value(stack, index), let der = Self.der(cert) { chain.append(der) }
            }
        }
        return chain
    }

    /// A client's peer chain as the handshake read it, leaf first, the session keeping the references; nil for a
    /// server. Should `peerChain()` have left a certificate out (one it could not encode), the counts differ and the
    /// verifier reads the DER instead.
    private func peerCertificates() -> [OpaquePointer]? {
        guard role == .client, let stack = SSL_get_peer_cert_chain(ssl) else { return nil }
        return (0..<max(0, mimic_sk_X509_num(stack))).compactMap { mimic_sk_X509_value(stack, $0) }
    }

    static func der(_ cert: OpaquePointer) -> [UInt8]? {
        encoded { i2d_X509(cert, $0) }
    }

    /// The bytes an OpenSSL `i2d_*` function writes: called once without a cursor for the length, then once to
    /// write them. Nil when it has nothing to write or writes another length than it said.
    static func encoded(_ i2d: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) -> [UInt8]? {
        let length = i2d(nil)
        guard length > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d(&cursor)
        }
        return written == length ? bytes : nil
    }
}

extension OpenSSLEngine.State {
    fileprivate var isEstablished: Bool { if case .established = self { true } else { false } }
}

/// Sees every TLS record OpenSSL reads or writes; alerts (content type 21) are `[level, description]`, handshake
/// messages (22, decrypted in TLS 1.3) start with their type.
private func openSSLMessageCallback(
    writeP: Int32,
    version: Int32,
    contentType: Int32,
    buffer: UnsafeRawPointer?,
    length: Int,
    ssl: OpaquePointer?,
    argument: UnsafeMutableRawPointer?
) {
    guard let buffer, let ssl, let engine = mimic_SSL_get_app_data(ssl) else { return }
    if contentType == SSL3_RT_HANDSHAKE, writeP == 0, length >= 1,
        buffer.load(fromByteOffset: 0, as: UInt8.self) == UInt8(SSL3_MT_CERTIFICATE_REQUEST)
    {
        Unmanaged<OpenSSLEngine>.fromOpaque(engine).takeUnretainedValue().observedCertificateRequest()
        return
    }
    guard contentType == SSL3_RT_ALERT, length == 2 else { return }
    let level = buffer.load(fromByteOffset: 0, as: UInt8.self)
    let description = buffer.load(fromByteOffset: 1, as: UInt8.self)
    let alert = TLSAlert(code: description, fatal: level == 2)
    Unmanaged<OpenSSLEngine>.fromOpaque(engine).takeUnretainedValue().observed(alert: alert, sent: writeP == 1)
}
