private import COpenSSL
import MimicCore
import Synchronization

/// An `SSL_CTX` built once from a `MimicTLSConfiguration`: keys, the served chain, version bounds, ciphers, ALPN and
/// the server's session cache. Immutable after init, so engines may be made from it on any thread.
final class OpenSSLContext: TLSContext, @unchecked Sendable {
    /// `OpenSSL 3.0.19 27 Jan 2026`.
    static var libraryVersion: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }

    /// Makes and frees a context, so that the process's first `SSL_CTX_new` (which loads OpenSSL's configuration
    /// and providers, about 2 ms) is done on the calling thread, ahead of the contexts that will be used.
    static func prepare() {
        if let context = newContext() { SSL_CTX_free(context) }
    }

    /// `SSL_CTX_new`, the process's first one made alone: two made side by side on two threads while OpenSSL
    /// started took the same locks by turns, both threads sleeping and waking every few dozen microseconds, and a
    /// two-millisecond start took six (perf sched events, 2026-12-05). Any other made meanwhile waits for the first,
    /// asleep: one wait. Every context is made here.
    static func newContext() -> OpaquePointer? {
        if started.load(ordering: .acquiring) { return SSL_CTX_new(TLS_method()) }
        return firstContext.withLock { _ in
            let context = SSL_CTX_new(TLS_method())
            started.store(true, ordering: .releasing)
            return context
        }
    }

    private static let firstContext = SleepingMutex(())
    private static let started = Atomic(false)

    let backend = TLSBackend.openssl
    let configuration: MimicTLSConfiguration

    let context: OpaquePointer
    /// The server's ALPN preference list in wire format; the select callback points into it, so it lives as
    /// long as the context.
    private let alpnServerList: ALPNList?
    /// Server: the parsed `serverNameChains`, by key; the servername callback puts one on the connection.
    let serverNameCredentials: [String: OpenSSLCredential]

    init(configuration: MimicTLSConfiguration) throws(TLSFailure) {
        self.configuration = configuration
        OpenSSLErrorQueue.clear()
        // Parsed before the SSL_CTX exists, so that a credential that fails to load leaks nothing.
        var credentials: [String: OpenSSLCredential] = [:]
        if configuration.role == .server {
            for (name, credential) in configuration.serverNameChains {
                credentials[name] = try OpenSSLCredential(credential, name: name)
            }
        }
        serverNameCredentials = credentials
        guard let context = Self.newContext() else {
            throw Self.failure("SSL_CTX_new failed")
        }
        self.context = context
        // From here on `deinit` frees the context if a later step throws.
        alpnServerList =
            configuration.role == .server && !configuration.alpn.isEmpty
            ? ALPNList(try Self.wireFormat(alpn: configuration.alpn)) : nil
        try configureVersionsAndCiphers()
        configureCertificateSecurity()
        switch configuration.role {
        case .client: try configureClient()
        case .server: try configureServer()
        }
    }

    deinit {
        SSL_CTX_free(context)
    }

    func makeEngine() throws(TLSFailure) -> any TLSEngine {
        try OpenSSLEngine(context: self)
    }

    // MARK: - Setup

    private var wantsLegacy: Bool {
        (configuration.effectiveMinimumVersion.map { $0 < .tls1_2 } ?? false)
            || (configuration.maximumVersion.map { $0 < .tls1_2 } ?? false)
    }

    private func configureVersionsAndCiphers() throws(TLSFailure) {
        // A server's default lowest (TLS 1.2) is set here too, not left to the system's openssl.cnf.
        if let minimum = configuration.effectiveMinimumVersion,
            mimic_SSL_CTX_set_min_proto_version(context, Int32(minimum.wireValue)) != 1
        {
            throw Self.failure("cannot set minimum version \(minimum)")
        }
        if let maximum = configuration.maximumVersion,
            mimic_SSL_CTX_set_max_proto_version(context, Int32(maximum.wireValue)) != 1
        {
            throw Self.failure("cannot set maximum version \(maximum)")
        }
        // OpenSSL 3.0 refuses TLS 1.0/1.1 above security level 0 (their handshakes sign with SHA-1 and MD5):
        // a legacy version asked for must really be spoken, or a legacy server could never be reached.
        var cipherList = configuration.cipherList
        if wantsLegacy || configuration.legacyOffers {
            SSL_CTX_set_security_level(context, 0)
            cipherList = (cipherList ?? "DEFAULT") + ":@SECLEVEL=0"
        }
        if configuration.legacyOffers {
            // A server that never heard of RFC 5746 is still a server to enumerate.
            SSL_CTX_set_options(context, mimic_SSL_OP_LEGACY_SERVER_CONNECT())
        }
        if configuration.serverPreference == true {
            SSL_CTX_set_options(context, mimic_SSL_OP_CIPHER_SERVER_PREFERENCE())
        } else if configuration.serverPreference == false {
            SSL_CTX_clear_options(context, mimic_SSL_OP_CIPHER_SERVER_PREFERENCE())
        }
        if let groups = configuration.groups {
            let names = groups.map { TLSGroups.openSSLName($0) }.joined(separator: ":")
            if groups.isEmpty || mimic_SSL_CTX_set1_groups_list(context, names) != 1 {
                throw Self.failure("groups \"\(groups.joined(separator: ":"))\" rejected")
            }
        }
        if let cipherList, SSL_CTX_set_cipher_list(context, cipherList) != 1 {
            throw Self.failure("cipher list \"\(cipherList)\" rejected")
        }
        if let suites = configuration.cipherSuites, SSL_CTX_set_ciphersuites(context, suites) != 1 {
            throw Self.failure("TLS 1.3 ciphersuites \"\(suites)\" rejected")
        }
    }

    /// Certificates are judged by the verifier, never by the handshake: a server serves the chain it is given
    /// (RSA-1024, SHA-1 and all) and a client completes against it so the facts can be collected. Everything
    /// else (versions, ciphers, groups, signature algorithms) keeps the library's own security level: it goes to
    /// the callback the context started with, which rides along as the callback's extra data (OpenSSL copies both
    /// to each connection).
    private func configureCertificateSecurity() {
        let standard = SSL_CTX_get_security_callback(context)
        SSL_CTX_set0_security_ex_data(context, standard.map { unsafeBitCast($0, to: UnsafeMutableRawPointer.self) })
        SSL_CTX_set_security_callback(context, openSSLSecurityCallback)
    }

    private func configureClient() throws(TLSFailure) {
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        // Even unasked, OpenSSL builds and checks the server's chain against the context's (empty) store during the
        // handshake and keeps only the outcome, which nothing here reads: the verifier judges the chain afterwards
        // with the probe's anchors. This callback stands in for that check.
        SSL_CTX_set_cert_verify_callback(context, openSSLLeaveChainToVerifier, nil)
        if !configuration.alpn.isEmpty {
            let wire = try Self.wireFormat(alpn: configuration.alpn)
            // Unlike almost every other OpenSSL call, this one returns 0 on success.
            if SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count)) != 0 {
                throw Self.failure("ALPN list rejected")
            }
        }
    }

    private func configureServer() throws(TLSFailure) {
        guard let first = configuration.certificateChain.first else {
            throw TLSFailure(.local, reason: "server configuration has no certificate chain")
        }
        guard let privateKey = configuration.privateKey else {
            throw TLSFailure(.local, reason: "server configuration has no private key")
        }
        // Serve exactly the configured chain: no completion or reordering from any store.
        _ = mimic_SSL_CTX_set_mode(context, mimic_SSL_MODE_NO_AUTO_CHAIN())

        let leaf = try Self.certificate(first, position: 0)
        defer { X509_free(leaf) }
        if SSL_CTX_use_certificate(context, leaf) != 1 {
            throw Self.failure("end-entity certificate rejected")
        }
        let key = try Self.privateKey(privateKey)
        defer { EVP_PKEY_free(key) }
        if SSL_CTX_use_PrivateKey(context, key) != 1 {
            throw Self.failure("private key rejected")
        }
        if SSL_CTX_check_private_key(context) != 1 {
            throw Self.failure("private key does not match the end-entity certificate")
        }
        for (index, der) in configuration.certificateChain.enumerated().dropFirst() {
            let cert = try Self.certificate(der, position: index)
            defer { X509_free(cert) }
            if mimic_SSL_CTX_add1_chain_cert(context, cert) != 1 {
                throw Self.failure("chain certificate \(index) rejected")
            }
        }

        // Always set, so that every server engine reports which credential it served. It runs after the
        // ClientHello's extensions are parsed and before the certificate is chosen.
        _ = mimic_SSL_CTX_set_tlsext_servername_callback(context, openSSLServerNameCallback)
        if configuration.abortWithAlert != nil || configuration.closeMidHandshake == .afterClientHello {
            // The earliest point after a whole ClientHello has been read, before anything is answered.
            SSL_CTX_set_client_hello_cb(context, openSSLClientHelloCallback, nil)
        }
        if configuration.requestClientCertificate {
            // A request without FAIL_IF_NO_PEER_CERT, and a callback that accepts whatever comes: the point is
            // the request, not the client's certificate.
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, openSSLAcceptAnyPeer)
        }

        if let alpnServerList {
            SSL_CTX_set_alpn_select_cb(
                context,
                openSSLALPNSelectCallback,
                Unmanaged.passUnretained(alpnServerList).toOpaque()
            )
        }

        // Engines of one context share its cache and ticket keys, so they resume each other's sessions.
        let sessionIDContext: [UInt8] = Array("mimic".utf8)
        _ = SSL_CTX_set_session_id_context(context, sessionIDContext, UInt32(sessionIDContext.count))
        if configuration.sessionResumption {
            _ = mimic_SSL_CTX_set_session_cache_mode(context, mimic_SSL_SESS_CACHE_SERVER())
        } else {
            _ = mimic_SSL_CTX_set_session_cache_mode(context, mimic_SSL_SESS_CACHE_OFF())
            SSL_CTX_set_options(context, mimic_SSL_OP_NO_TICKET())
            _ = SSL_CTX_set_num_tickets(context, 0)
        }
    }

    // MARK: - Helpers

    /// A failure carrying what OpenSSL said about it.
    static func failure(_ what: String) -> TLSFailure {
        let drained = OpenSSLErrorQueue.drain()
        let reason = drained.isEmpty ? what : "\(what): \(drained.text)"
        return TLSFailure(.local, reason: reason, libraryError: drained.symbol, libraryCode: drained.code)
    }

    /// A parsed certificate; the caller frees it.
    static func certificate(_ der: [UInt8], position: Int) throws(TLSFailure) -> OpaquePointer {
        if let cached = OpenSSLParsedObjects.certificate(der) { return cached }
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let parsed else { throw failure("certificate \(position) of the chain is not DER X.509") }
        OpenSSLParsedObjects.keep(certificate: parsed, for: der)
        return parsed
    }

    /// A parsed private key; the caller frees it.
    static func privateKey(_ key: TLSPrivateKey) throws(TLSFailure) -> OpaquePointer {
        if let cached = OpenSSLParsedObjects.privateKey(key) { return cached }
        let parsed: OpaquePointer?
        switch key {
        case .pem(let pem):
            let bytes = Array(pem.utf8)
            parsed = bytes.withUnsafeBufferPointer { buffer in
                guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
                defer { BIO_free(bio) }
                return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
            }
            guard parsed != nil else { throw failure("private key PEM unreadable") }
        case .pkcs8DER(let der):
            parsed = der.withUnsafeBufferPointer { buffer in
                var cursor = buffer.baseAddress
                guard let info = d2i_PKCS8_PRIV_KEY_INFO(nil, &cursor, buffer.count) else { return nil }
                defer { PKCS8_PRIV_KEY_INFO_free(info) }
                return EVP_PKCS82PKEY(info)
            }
            guard parsed != nil else { throw failure("private key PKCS#8 DER unreadable") }
        }
        OpenSSLParsedObjects.keep(privateKey: parsed!, for: key)
        return parsed!
    }

    /// RFC 7301 §3.1: each protocol name as one length byte and 1-255 bytes.
    static func wireFormat(alpn: [String]) throws(TLSFailure) -> [UInt8] {
        var wire: [UInt8] = []
        for name in alpn {
            let bytes = Array(name.utf8)
            guard (1...255).contains(bytes.count) else {
                throw TLSFailure(.local, reason: "ALPN protocol name \"\(name)\" must be 1 to 255 bytes")
            }
            wire.append(UInt8(bytes.count))
            wire += bytes
        }
        return wire
    }
}

/// One `serverNameChains` entry, parsed once: leaf, key and the rest of the chain exactly as configured.
final class OpenSSLCredential {
    let leaf: OpaquePointer
    let key: OpaquePointer
    /// `STACK_OF(X509)` of everything after the leaf, in order.
    let chain: OpaquePointer

    init(_ credential: TLSServerCredential, name: String) throws(TLSFailure) {
        guard let first = credential.certificateChain.first else {
            throw TLSFailure(.local, reason: "serverNameChains[\"\(name)\"] has no certificate chain")
        }
        guard let chain = mimic_sk_X509_new_null() else { throw OpenSSLContext.failure("sk_X509_new_null failed") }
        let leaf: OpaquePointer
        do throws(TLSFailure) {
            leaf = try OpenSSLContext.certificate(first, position: 0)
        } catch {
            mimic_sk_X509_pop_free(chain)
            throw error
        }
        let key: OpaquePointer
        do throws(TLSFailure) {
            key = try OpenSSLContext.privateKey(credential.privateKey)
        } catch {
            X509_free(leaf)
            mimic_sk_X509_pop_free(chain)
            throw error
        }
        self.leaf = leaf
        self.key = key
        self.chain = chain
        // From here on `deinit` frees all three.
        if X509_check_private_key(leaf, key) != 1 {
            throw OpenSSLContext.failure("serverNameChains[\"\(name)\"]: private key does not match the leaf")
        }
        for (index, der) in credential.certificateChain.enumerated().dropFirst() {
            let cert = try OpenSSLContext.certificate(der, position: index)
            // The stack takes ownership; pop_free releases it.
            if mimic_sk_X509_push(chain, cert) <= 0 {
                X509_free(cert)
                throw OpenSSLContext.failure("serverNameChains[\"\(name)\"]: chain certificate \(index) rejected")
            }
        }
    }

    deinit {
        X509_free(leaf)
        EVP_PKEY_free(key)
        mimic_sk_X509_pop_free(chain)
    }
}

/// Server: puts the chain for the client's SNI name on the connection (see `OpenSSLEngine.selectCredential`).
private func openSSLServerNameCallback(
    ssl: OpaquePointer?,
    alert: UnsafeMutablePointer<Int32>?,
    argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let ssl, let engine = OpenSSLEngine.from(ssl) else { return SSL_TLSEXT_ERR_NOACK }
    // NOACK is what OpenSSL does without a callback (no empty server_name extension in the answer): a server
    // with one chain keeps saying exactly that; a server with per-name chains acknowledges, as SNI hosts do.
    if engine.selectCredential() { return engine.acknowledgesServerName ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK }
    alert?.pointee = SSL_AD_INTERNAL_ERROR
    return SSL_TLSEXT_ERR_ALERT_FATAL
}

/// Server: the whole ClientHello has been read; abort or cut there when configured to.
private func openSSLClientHelloCallback(
    ssl: OpaquePointer?,
    alert: UnsafeMutablePointer<Int32>?,
    argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let ssl, let engine = OpenSSLEngine.from(ssl) else { return SSL_CLIENT_HELLO_SUCCESS }
    switch engine.clientHelloArrived() {
    case .proceed:
        return SSL_CLIENT_HELLO_SUCCESS
    case .abort(let code):
        // OpenSSL sends this alert (for the codes it knows; the engine writes any other itself).
        alert?.pointee = Int32(code)
        return SSL_CLIENT_HELLO_ERROR
    case .suspend:
        // Suspends the handshake with nothing written: SSL_do_handshake returns WANT_CLIENT_HELLO_CB.
        return mimic_SSL_CLIENT_HELLO_RETRY()
    }
}

/// Server with `requestClientCertificate`: any client certificate, or none, is accepted.
private func openSSLAcceptAnyPeer(preverified: Int32, store: OpaquePointer?) -> Int32 { 1 }

private func openSSLLeaveChainToVerifier(store: OpaquePointer?, argument: UnsafeMutableRawPointer?) -> Int32 { 1 }

/// A stable buffer holding an ALPN list in wire format, for OpenSSL to point into.
final class ALPNList {
    let bytes: UnsafeMutableBufferPointer<UInt8>

    init(_ wire: [UInt8]) {
        bytes = .allocate(capacity: wire.count)
        _ = bytes.initialize(from: wire)
    }

    deinit { bytes.deallocate() }
}

/// Server ALPN: the first of the server's protocols the client also offers (the server's preference wins).
/// No overlap: no ALPN at all rather than a fatal alert, as most servers do.
private func openSSLALPNSelectCallback(
    ssl: OpaquePointer?,
    out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
    outLength: UnsafeMutablePointer<UInt8>?,
    clientList: UnsafePointer<UInt8>?,
    clientLength: UInt32,
    argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let argument, let out, let outLength, let clientList else { return SSL_TLSEXT_ERR_NOACK }
    let server = Unmanaged<ALPNList>.fromOpaque(argument).takeUnretainedValue()
    var selected: UnsafeMutablePointer<UInt8>?
    let result = SSL_select_next_proto(
        &selected,
        outLength,
        server.bytes.baseAddress,
        UInt32(server.bytes.count),
        clientList,
        clientLength
    )
    guard result == OPENSSL_NPN_NEGOTIATED, let selected else { return SSL_TLSEXT_ERR_NOACK }
    out.pointee = UnsafePointer(selected)
    return SSL_TLSEXT_ERR_OK
}

private typealias OpenSSLSecurityCallback =
    @convention(c) (
        OpaquePointer?, OpaquePointer?, Int32, Int32, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?
    ) -> Int32

private func openSSLSecurityCallback(
    ssl: OpaquePointer?,
    context: OpaquePointer?,
    operation: Int32,
    bits: Int32,
    nid: Int32,
    other: UnsafeMutableRawPointer?,
    extra: UnsafeMutableRawPointer?
) -> Int32 {
    if mimic_secop_is_certificate(operation) != 0 { return 1 }
    guard let extra else { return 1 }
    let standard = unsafeBitCast(extra, to: OpenSSLSecurityCallback.self)
    return standard(ssl, context, operation, bits, nid, other, nil)
}
