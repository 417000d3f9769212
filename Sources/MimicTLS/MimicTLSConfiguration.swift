import MimicCore

/// Which side of the handshake an engine plays.
public enum TLSRole: String, Sendable, Hashable, Codable {
    case client
    case server
}

/// A private key as bytes, in the forms the factory writes.
public enum TLSPrivateKey: Sendable, Hashable {
    /// PKCS#8 `PrivateKeyInfo`, DER.
    case pkcs8DER([UInt8])
    /// Any PEM the libraries read: `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`.
    case pem(String)
}

/// Everything an engine needs, for either role and either backend. Plain values: no C type crosses it.
public struct MimicTLSConfiguration: Sendable {
    public var role: TLSRole

    /// Lowest and highest protocol version offered or accepted. Legacy versions are reachable when asked for:
    /// setting `minimumVersion` to 1.0 also lowers the library's security level so that it can speak it.
    /// A server given neither accepts TLS 1.2 and 1.3 only (see `effectiveMinimumVersion`).
    public var minimumVersion: MimicTLSVersion?
    public var maximumVersion: MimicTLSVersion?

    /// OpenSSL cipher list for TLS 1.2 and below (`ECDHE-RSA-AES128-GCM-SHA256:…`). Ignored by GnuTLS.
    public var cipherList: String?
    /// OpenSSL TLS 1.3 ciphersuites (`TLS_AES_128_GCM_SHA256:…`). Ignored by GnuTLS.
    public var cipherSuites: String?
    /// GnuTLS priority string (`NORMAL:-VERS-TLS1.3`, …). Ignored by OpenSSL. When set it replaces the
    /// priority built from the version bounds.
    public var priority: String?

    /// Client: the SNI name sent. Server: ignored (the server picks its chain with `serverNameChains`).
    public var serverName: String?
    /// ALPN protocols, in preference order.
    public var alpn: [String]

    /// Client: verify the peer with these anchors (DER), never the OS store. An empty list trusts nothing.
    public var trustAnchors: [[UInt8]]
    /// Client: whether to run the backend's verification after the handshake. The handshake never fails on
    /// verification: facts are collected either way and the verdict is reported in `HandshakeReport`.
    public var verifyPeer: Bool
    /// Client: the name the backend checks the certificate against; defaults to `serverName`.
    public var verifyHostname: String?

    /// Server (and client certificate, if ever): the chain served, DER, exactly as given — order,
    /// omissions and extras preserved.
    public var certificateChain: [[UInt8]]
    public var privateKey: TLSPrivateKey?

    /// Client: a session from an earlier connection to offer for resumption.
    public var resumeSession: TLSSession?
    /// Server: accept resumption (session cache and tickets shared by every engine of one context).
    public var sessionResumption: Bool

    /// Server: chains served per SNI name. Keys match the client's name case-insensitively; a key
    /// `*.example.test` matches exactly one label in its place (`mail.example.test`, not `a.b.example.test`
    /// nor `example.test`), and an exact key wins over a wildcard. `certificateChain`/`privateKey` is served
    /// when the client sends no SNI or a name no key matches. Each chain is served exactly as given.
    public var serverNameChains: [String: TLSServerCredential] = [:]
    /// Server: answer the ClientHello with this fatal alert and fail, instead of handshaking.
    public var abortWithAlert: TLSAlert?
    /// Server: stop the handshake part-way and send nothing more (see `TLSHandshakeCut`). Ignored when
    /// `abortWithAlert` is set.
    public var closeMidHandshake: TLSHandshakeCut?
    /// Key-exchange groups offered (client) or accepted (server), by IANA name in preference order (`x25519`,
    /// `secp256r1`, `ffdhe2048`, …; see `TLSGroups.known`); nil keeps the library's defaults. GnuTLS: ignored when
    /// `priority` is set (name the groups there).
    public var groups: [String]? = nil
    /// Server: true enforces the server's own suite order (`SSL_OP_CIPHER_SERVER_PREFERENCE`,
    /// `%SERVER_PRECEDENCE`), false follows the client's; nil keeps the library's default (both follow the client).
    public var serverPreference: Bool? = nil
    /// Client: offer everything the library can still speak — OpenSSL at `@SECLEVEL=0` with legacy server
    /// connections allowed, GnuTLS with anonymous credentials so that anonymous suites in `priority` are offered.
    /// What enumeration needs to reach a legacy server; never the probe's default.
    public var legacyOffers: Bool = false
    /// Server: send a CertificateRequest (any certificate, or none, is accepted: the request is there to see
    /// how the client answers it, as vsftpd's `require_cert=NO` does).
    public var requestClientCertificate: Bool = false
    /// Client: how strictly the peer's chain is judged after the handshake (``VerificationPolicy``).
    public var verificationPolicy: VerificationPolicy = .default

    public init(
        role: TLSRole,
        minimumVersion: MimicTLSVersion? = nil,
        maximumVersion: MimicTLSVersion? = nil,
        cipherList: String? = nil,
        cipherSuites: String? = nil,
        priority: String? = nil,
        serverName: String? = nil,
        alpn: [String] = [],
        trustAnchors: [[UInt8]] = [],
        verifyPeer: Bool? = nil,
        verifyHostname: String? = nil,
        certificateChain: [[UInt8]] = [],
        privateKey: TLSPrivateKey? = nil,
        resumeSession: TLSSession? = nil,
        sessionResumption: Bool = true,
        serverNameChains: [String: TLSServerCredential] = [:],
        abortWithAlert: TLSAlert? = nil,
        closeMidHandshake: TLSHandshakeCut? = nil,
        requestClientCertificate: Bool = false,
        verificationPolicy: VerificationPolicy = .default
    ) {
        self.role = role
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.cipherList = cipherList
        self.cipherSuites = cipherSuites
        self.priority = priority
        self.serverName = serverName
        self.alpn = alpn
        self.trustAnchors = trustAnchors
        self.verifyPeer = verifyPeer ?? (role == .client)
        self.verifyHostname = verifyHostname
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.resumeSession = resumeSession
        self.sessionResumption = sessionResumption
        self.serverNameChains = serverNameChains
        self.abortWithAlert = abortWithAlert
        self.closeMidHandshake = closeMidHandshake
        self.requestClientCertificate = requestClientCertificate
        self.verificationPolicy = verificationPolicy
    }

    /// The lowest version the engine is set to: `minimumVersion` when given. A server without it accepts nothing
    /// below TLS 1.2 (RFC 8996), whichever library serves: GnuTLS 3.7's NORMAL still accepts 1.0 and 1.1, and a
    /// mock that does so by default is one a monitor can tell from a current server. Only a `maximumVersion`
    /// below 1.2 lowers it to that version. A client keeps its library's default (nil), so the probe reaches
    /// legacy servers. GnuTLS's `priority`, when set, replaces all of this.
    public var effectiveMinimumVersion: MimicTLSVersion? {
        if let minimumVersion { return minimumVersion }
        guard role == .server else { return nil }
        return min(.tls1_2, maximumVersion ?? .tls1_3)
    }

    /// The name verification checks: `verifyHostname`, else `serverName`.
    public var effectiveVerifyHostname: String? { verifyHostname ?? serverName }

    /// The `serverNameChains` key a server serves for the SNI name `name`; nil means the default chain.
    /// Both backends choose through this one function, so they serve alike.
    public func serverNameChainKey(for name: String?) -> String? {
        guard let name, !serverNameChains.isEmpty else { return nil }
        var wanted = name.lowercased()
        // A fully qualified name's trailing dot names the same host.
        if wanted.hasSuffix(".") { wanted.removeLast() }
        guard !wanted.isEmpty else { return nil }
        // Sorted, so that keys differing only in case pick the same one every time.
        let keys = serverNameChains.keys.sorted()
        if let exact = keys.first(where: { $0.lowercased() == wanted }) { return exact }
        guard let dot = wanted.firstIndex(of: "."), dot != wanted.startIndex else { return nil }
        let parent = wanted[dot...]  // ".example.test"
        return keys.first { key in
            let lowered = key.lowercased()
            return lowered.hasPrefix("*.") && lowered.dropFirst() == parent
        }
    }
}

/// A chain and its key, served for one SNI name (`MimicTLSConfiguration.serverNameChains`).
public struct TLSServerCredential: Sendable, Hashable {
    /// DER, served exactly as given: order, omissions and extras preserved.
    public var certificateChain: [[UInt8]]
    public var privateKey: TLSPrivateKey

    public init(certificateChain: [[UInt8]], privateKey: TLSPrivateKey) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}

/// Where a misbehaving server stops its handshake, sending nothing more.
///
/// The engine cannot close a socket: it reports `.failed` with `TLSFailure.closeMidHandshakeError` as its
/// `libraryError`, and the caller closes the connection without an alert (the point is a silent cut).
public enum TLSHandshakeCut: Sendable, Hashable {
    /// The ClientHello is read and nothing is sent back.
    case afterClientHello
    /// The server answers the ClientHello, but only the first `bytes` of its first flight go out
    /// (ServerHello and, in the same flight, what follows it); nil sends the whole first flight.
    case afterServerHello(bytes: Int?)
}

/// A session to resume on a later connection (the FTPS data channel resumes the control channel's).
/// Opaque bytes in the backend's own serialisation; only the backend that made it can use it.
public struct TLSSession: Sendable, Hashable {
    public let backend: TLSBackend
    public let bytes: [UInt8]

    public init(backend: TLSBackend, bytes: [UInt8]) {
        self.backend = backend
        self.bytes = bytes
    }
}
