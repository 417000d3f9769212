private import CGnuTLS
import MimicCore

/// Long-lived GnuTLS state for one configuration: credentials, the served chain and key, the priority cache and
/// the server's session ticket key. Immutable after `init`, so it is shared freely across threads; engines made
/// from it hold a strong reference, so it outlives every session that points at it.
final class GnuTLSContext: TLSContext, @unchecked Sendable {
    /// `GnuTLS 3.7.9`.
    static var libraryVersion: String { GnuTLSLibrary.version }

    let backend = TLSBackend.gnutls
    let configuration: MimicTLSConfiguration
    /// The priority string in force, as built from the configuration (kept for reports and errors).
    let priorityString: String

    let credentials: OpaquePointer
    /// Client with `legacyOffers`: anonymous credentials, without which GnuTLS leaves anonymous suites out of the
    /// ClientHello.
    let anonymous: OpaquePointer?
    let priority: OpaquePointer
    /// The served chain as GnuTLS's pre-parsed certificates, exactly in the configured order.
    fileprivate let served: UnsafeMutablePointer<gnutls_pcert_st>?
    fileprivate let servedCount: Int
    fileprivate let privateKey: OpaquePointer?
    /// `serverNameChains`, loaded the same way, by key.
    let serverNameChains: [String: LoadedChain]
    /// One ticket key per context: every server engine of this context can decrypt every other's tickets.
    fileprivate let ticketKey: UnsafeMutablePointer<gnutls_datum_t>

    init(configuration: MimicTLSConfiguration) throws(TLSFailure) {
        try GnuTLSLibrary.ensureInitialized()
        self.configuration = configuration
        self.priorityString = Self.priorityString(for: configuration)

        // Everything is built into locals first and released by `cleanup` if a later step throws.
        var credentials: OpaquePointer?
        var anonymous: OpaquePointer?
        var priority: OpaquePointer?
        var served: UnsafeMutablePointer<gnutls_pcert_st>?
        var servedCount = 0
        var privateKey: OpaquePointer?
        var serverNameChains: [String: LoadedChain] = [:]
        let ticketKey = UnsafeMutablePointer<gnutls_datum_t>.allocate(capacity: 1)
        ticketKey.initialize(to: gnutls_datum_t(data: nil, size: 0))
        func cleanup() {
            if let credentials { gnutls_certificate_free_credentials(credentials) }
            if let anonymous { gnutls_anon_free_client_credentials(anonymous) }
            if let priority { gnutls_priority_deinit(priority) }
            Self.release(served: served, count: servedCount, privateKey: privateKey, ticketKey: ticketKey)
            for chain in serverNameChains.values { chain.release() }
        }

        do throws(TLSFailure) {
            var rc = gnutls_certificate_allocate_credentials(&credentials)
            guard rc >= 0, let allocated = credentials else {
                throw GnuTLSLibrary.failure("gnutls_certificate_allocate_credentials", rc)
            }

            if configuration.role == .client && configuration.legacyOffers {
                rc = gnutls_anon_allocate_client_credentials(&anonymous)
                if rc < 0 { throw GnuTLSLibrary.failure("gnutls_anon_allocate_client_credentials", rc) }
            }

            var errorPosition: UnsafePointer<CChar>?
            rc = gnutls_priority_init(&priority, priorityString, &errorPosition)
            if rc < 0 {
                let at = errorPosition.map { " at \"\(String(cString: $0))\"" } ?? ""
                var failure = GnuTLSLibrary.failure("gnutls_priority_init(\"\(priorityString)\")", rc)
                failure.reason += at
                throw failure
            }

            if !configuration.certificateChain.isEmpty || configuration.privateKey != nil {
                (served, servedCount, privateKey) = try Self.loadChain(
                    configuration.certificateChain,
                    key: configuration.privateKey,
                    label: "certificateChain"
                )
                // The retrieve function hands GnuTLS the chain as given. gnutls_certificate_set_x509_key and
                // friends may reorder a chain; a scenario that serves a misordered chain must send it misordered.
                gnutls_certificate_set_retrieve_function2(allocated, gnutlsRetrieveServedChain)
            }

            if configuration.role == .server {
                for (name, credential) in configuration.serverNameChains {
                    let (pcerts, count, key) = try Self.loadChain(
                        credential.certificateChain,
                        key: credential.privateKey,
                        label: "serverNameChains[\"\(name)\"]"
                    )
                    serverNameChains[name] = LoadedChain(pcerts: pcerts, count: UInt32(count), key: key)
                }
            }

            if configuration.role == .server && configuration.sessionResumption {
                rc = gnutls_session_ticket_key_generate(ticketKey)
                if rc < 0 { throw GnuTLSLibrary.failure("gnutls_session_ticket_key_generate", rc) }
            }
        } catch {
            cleanup()
            throw error
        }

        // Non-nil: the do block above throws otherwise.
        self.credentials = credentials!
        self.anonymous = anonymous
        self.priority = priority!
        self.served = served
        self.servedCount = servedCount
        self.privateKey = privateKey
        self.serverNameChains = serverNameChains
        self.ticketKey = ticketKey
    }

    deinit {
        gnutls_certificate_free_credentials(credentials)
        if let anonymous { gnutls_anon_free_client_credentials(anonymous) }
        gnutls_priority_deinit(priority)
        Self.release(served: served, count: servedCount, privateKey: privateKey, ticketKey: ticketKey)
        for chain in serverNameChains.values { chain.release() }
    }

    func makeEngine() throws(TLSFailure) -> any TLSEngine {
        try GnuTLSEngine(context: self)
    }

    /// Configures a fresh session with what the context holds (called by the engine, which sets the session
    /// pointer to itself: the retrieve and client hello callbacks find the engine, and the context through it).
    func configure(session: OpaquePointer) throws(TLSFailure) {
        var rc = gnutls_priority_set(session, priority)
        if rc < 0 { throw GnuTLSLibrary.failure("gnutls_priority_set", rc) }
        rc = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, UnsafeMutableRawPointer(credentials))
        if rc < 0 { throw GnuTLSLibrary.failure("gnutls_credentials_set", rc) }
        if let anonymous {
            rc = gnutls_credentials_set(session, GNUTLS_CRD_ANON, UnsafeMutableRawPointer(anonymous))
            if rc < 0 { throw GnuTLSLibrary.failure("gnutls_credentials_set(ANON)", rc) }
        }
        if configuration.role == .server && configuration.requestClientCertificate {
            // REQUEST, not REQUIRE: a client without a certificate answers with an empty list and goes on.
            gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST)
        }
        if configuration.role == .server && configuration.sessionResumption {
            rc = gnutls_session_ticket_enable_server(session, ticketKey)
            if rc < 0 { throw GnuTLSLibrary.failure("gnutls_session_ticket_enable_server", rc) }
        }
    }

    // MARK: - Priority

    /// `configuration.priority` when set; otherwise NORMAL restricted to the version bounds (a server's default
    /// lowest is TLS 1.2), with what legacy versions need to really handshake when the bounds reach below TLS 1.2.
    static func priorityString(for configuration: MimicTLSConfiguration) -> String {
        var priority = basePriorityString(for: configuration)
        if configuration.priority == nil, let groups = configuration.groups {
            priority += ":-GROUP-ALL" + groups.map { ":+" + TLSGroups.gnuTLSKeyword($0) }.joined()
        }
        if configuration.role == .server, configuration.serverPreference == true,
            !priority.contains("%SERVER_PRECEDENCE")
        {
            priority += ":%SERVER_PRECEDENCE"
        }
        return priority
    }

    private static func basePriorityString(for configuration: MimicTLSConfiguration) -> String {
        if let priority = configuration.priority { return priority }
        guard
            let lowest = configuration.effectiveMinimumVersion ?? configuration.maximumVersion.map({ min(.tls1_2, $0) })
        else { return "NORMAL" }
        let highest = configuration.maximumVersion ?? .tls1_3
        let versions = MimicTLSVersion.allCases.filter { $0 >= lowest && $0 <= highest }
        var parts = ["NORMAL", "-VERS-ALL"]
        // An empty range (minimum above maximum) enables no version: GnuTLS then refuses to handshake, which is
        // what was asked for.
        parts += versions.map { "+VERS-TLS\($0.rawValue)" }
        if lowest.isLegacy {
            // TLS 1.0/1.1 have no AEAD suites: they need CBC ciphers with SHA-1 MACs. GnuTLS 3.7's NORMAL has
            // them (and Debian ships no /etc/gnutls/config to remove them), but a system policy may trim NORMAL;
            // naming them keeps a legacy handshake possible. Handshake signatures of TLS 1.0/1.1 are not
            // negotiated, and certificates are verified outside the handshake, so nothing else is needed.
            parts += ["+AES-128-CBC", "+AES-256-CBC", "+SHA1"]
        }
        return parts.joined(separator: ":")
    }

    // MARK: - Served chain

    private static func loadChain(
        _ certificateChain: [[UInt8]],
        key keyBytes: TLSPrivateKey?,
        label: String
    ) throws(TLSFailure) -> (UnsafeMutablePointer<gnutls_pcert_st>, Int, OpaquePointer) {
        guard let keyBytes else {
            throw TLSFailure(.local, reason: "\(label): a certificate chain was configured without its private key")
        }
        guard !certificateChain.isEmpty else {
            throw TLSFailure(.local, reason: "\(label): a private key was configured without a certificate chain")
        }

        var key: OpaquePointer?
        var rc = gnutls_privkey_init(&key)
        guard rc >= 0, let key else { throw GnuTLSLibrary.failure("gnutls_privkey_init", rc) }
        let format: gnutls_x509_crt_fmt_t
        let raw: [UInt8]
        switch keyBytes {
        case .pem(let text):
            format = GNUTLS_X509_FMT_PEM
            raw = Array(text.utf8)
        case .pkcs8DER(let der):
            format = GNUTLS_X509_FMT_DER
            raw = der
        }
        do throws(TLSFailure) {
            rc = try withDatum(raw) { (datum) throws(TLSFailure) -> Int32 in
                gnutls_privkey_import_x509_raw(key, &datum, format, nil, 0)
            }
            if rc < 0 { throw GnuTLSLibrary.failure("private key: gnutls_privkey_import_x509_raw", rc) }
        } catch {
            gnutls_privkey_deinit(key)
            throw error
        }

        let count = certificateChain.count
        let pcerts = UnsafeMutablePointer<gnutls_pcert_st>.allocate(capacity: count)
        var imported = 0
        do throws(TLSFailure) {
            for (index, der) in certificateChain.enumerated() {
                rc = try withDatum(der) { (datum) throws(TLSFailure) -> Int32 in
                    gnutls_pcert_import_x509_raw(pcerts + index, &datum, GNUTLS_X509_FMT_DER, 0)
                }
                if rc < 0 {
                    throw GnuTLSLibrary.failure(
                        "\(label): certificate \(index) of the chain: gnutls_pcert_import_x509_raw",
                        rc
                    )
                }
                imported += 1
            }
            try checkKeyMatches(key: key, leaf: pcerts, label: label)
        } catch {
            release(served: pcerts, count: imported, privateKey: key, ticketKey: nil)
            throw error
        }
        // An RSA key signs (and decrypts) through libcrypto, five times as fast as nettle (``GnuTLSLibcryptoKey`` says
        // which keys); the rest is GnuTLS's.
        if let fast = GnuTLSLibcryptoKey.replacing(key, bytes: keyBytes) {
            gnutls_privkey_deinit(key)
            return (pcerts, count, fast)
        }
        return (pcerts, count, key)
    }

    /// GnuTLS does not pair a key with a certificate handed over by the retrieve function; a mismatch would only
    /// surface as a failed handshake signature on the client. Comparing the public keys says it at load time.
    private static func checkKeyMatches(
        key: OpaquePointer,
        leaf: UnsafeMutablePointer<gnutls_pcert_st>,
        label: String
    ) throws(TLSFailure) {
        var fromKey: OpaquePointer?
        guard gnutls_pubkey_init(&fromKey) >= 0, let fromKey else { return }
        defer { gnutls_pubkey_deinit(fromKey) }
        guard gnutls_pubkey_import_privkey(fromKey, key, 0, 0) >= 0 else { return }
        var keyDER = gnutls_datum_t(data: nil, size: 0)
        var leafDER = gnutls_datum_t(data: nil, size: 0)
        defer {
            mimic_gnutls_free(keyDER.data)
            mimic_gnutls_free(leafDER.data)
        }
        guard gnutls_pubkey_export2(fromKey, GNUTLS_X509_FMT_DER, &keyDER) >= 0,
            gnutls_pubkey_export2(leaf.pointee.pubkey, GNUTLS_X509_FMT_DER, &leafDER) >= 0
        else { return }
        if bytes(of: keyDER) != bytes(of: leafDER) {
            throw TLSFailure(
                .local,
                reason: "\(label): the private key does not match the public key of its first certificate",
                libraryError: "GNUTLS_E_CERTIFICATE_KEY_MISMATCH"
            )
        }
    }

    private static func release(
        served: UnsafeMutablePointer<gnutls_pcert_st>?,
        count: Int,
        privateKey: OpaquePointer?,
        ticketKey: UnsafeMutablePointer<gnutls_datum_t>?
    ) {
        if let served {
            for index in 0..<count { gnutls_pcert_deinit(served + index) }
            served.deallocate()
        }
        if let privateKey { gnutls_privkey_deinit(privateKey) }
        if let ticketKey {
            if let data = ticketKey.pointee.data {
                gnutls_memset(data, 0, Int(ticketKey.pointee.size))
                mimic_gnutls_free(data)
            }
            ticketKey.deallocate()
        }
    }

    /// Whether the configured key's operations run in libcrypto (``GnuTLSLibcryptoKey``): an RSA key's of 130 bytes
    /// or more do.
    var keyOperationsInLibcrypto: Bool {
        guard let privateKey else { return false }
        return gnutls_privkey_get_type(privateKey) == GNUTLS_PRIVKEY_EXT
    }

    /// The default chain and key for a session of this context (nil when none is configured).
    var servedChain: LoadedChain? {
        guard let served, let privateKey, servedCount > 0 else { return nil }
        return LoadedChain(pcerts: served, count: UInt32(servedCount), key: privateKey)
    }

    /// A chain and key as the retrieve function hands them over; owned by the context.
    /// Typed pointers stay in this file: C types may not appear in declarations other files see.
    struct LoadedChain {
        private let raw: UnsafeMutableRawPointer
        let count: UInt32
        let key: OpaquePointer

        fileprivate init(pcerts: UnsafeMutablePointer<gnutls_pcert_st>, count: UInt32, key: OpaquePointer) {
            raw = UnsafeMutableRawPointer(pcerts)
            self.count = count
            self.key = key
        }

        fileprivate var pcerts: UnsafeMutablePointer<gnutls_pcert_st> {
            raw.assumingMemoryBound(to: gnutls_pcert_st.self)
        }

        fileprivate func release() {
            GnuTLSContext.release(served: pcerts, count: Int(count), privateKey: key, ticketKey: nil)
        }
    }
}

/// GnuTLS asks for the certificate when it needs one (server: always; client: on a certificate request).
/// The chain and key stay owned by the context: with the `function2` interface GnuTLS does not free them.
private func gnutlsRetrieveServedChain(
    session: OpaquePointer?,
    requestedCAs: UnsafePointer<gnutls_datum_t>?,
    requestedCount: Int32,
    algorithms: UnsafePointer<gnutls_pk_algorithm_t>?,
    algorithmCount: Int32,
    pcerts: UnsafeMutablePointer<UnsafeMutablePointer<gnutls_pcert_st>?>?,
    pcertCount: UnsafeMutablePointer<UInt32>?,
    privateKey: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guard let session, let pcerts, let pcertCount, let privateKey,
        let pointer = gnutls_session_get_ptr(session)
    else { return -1 }
    let engine = Unmanaged<GnuTLSEngine>.fromOpaque(pointer).takeUnretainedValue()
    guard let chain = engine.chainToServe() else {
        // No certificate: an empty list, which a client may send and a server's handshake fails on.
        pcertCount.pointee = 0
        pcerts.pointee = nil
        privateKey.pointee = nil
        return 0
    }
    pcerts.pointee = chain.pcerts
    pcertCount.pointee = chain.count
    privateKey.pointee = chain.key
    return 0
}

/// Runs `body` with a datum pointing at `bytes` (valid only inside `body`; GnuTLS copies what it keeps).
private func withDatum<R>(
    _ bytes: [UInt8],
    _ body: (inout gnutls_datum_t) throws(TLSFailure) -> R
) throws(TLSFailure) -> R {
    var copy = bytes
    let count = copy.count
    return try copy.withUnsafeMutableBufferPointer {
        (buffer: inout UnsafeMutableBufferPointer<UInt8>) throws(TLSFailure) -> R in
        // An empty array has no base address; GnuTLS rejects a NULL datum with its own error.
        var datum = gnutls_datum_t(data: buffer.baseAddress, size: UInt32(truncatingIfNeeded: count))
        return try body(&datum)
    }
}

/// Copies a GnuTLS-owned datum into Swift bytes.
private func bytes(of datum: gnutls_datum_t) -> [UInt8] {
    guard let data = datum.data, datum.size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: Int(datum.size)))
}
