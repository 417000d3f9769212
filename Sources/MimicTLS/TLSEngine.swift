import MimicCore

/// The result of driving a handshake one step.
public enum TLSStep: Sendable, Hashable {
    /// The engine needs more bytes from the peer (after sending what `takeNetworkOutput()` returns).
    case incomplete
    case complete
    case failed(TLSFailure)
}

/// What reading decrypted application data gave.
public enum TLSRead: Sendable, Hashable {
    case data([UInt8])
    /// Nothing to read until more network bytes arrive.
    case wouldBlock
    /// The peer closed the TLS session (close_notify).
    case closed
    case failed(TLSFailure)
}

/// A sans-I/O TLS engine: bytes from the network in, bytes for the network out, plaintext in and out.
///
/// No sockets, no threads, no clocks: the caller moves bytes. That is what lets the same engine run inside a
/// SwiftNIO pipeline, against another engine in memory, or fed one byte at a time in a test.
/// Engines are confined to one thread (non-Sendable classes).
public protocol TLSEngine: AnyObject {
    var backend: TLSBackend { get }
    var role: TLSRole { get }

    /// Bytes received from the peer, in order. Any amount, including one byte.
    func receivedFromNetwork(_ bytes: [UInt8])

    /// The transport reached end of stream: the peer closed (or the caller gave up on) the connection.
    ///
    /// The engine first uses what was already received. A handshake still incomplete then fails with
    /// `TLSFailure.peerClosedError` and no alert (nothing can be sent to a closed peer); `handshake()` keeps
    /// returning that failure. After the handshake, `readPlaintext()` returns what is still decryptable, then
    /// `.closed` instead of `.wouldBlock` (whether a close_notify came first shows in `report.alertReceived`).
    func receivedEndOfStream()

    /// Advances the handshake as far as the bytes received so far allow.
    func handshake() -> TLSStep

    /// Encrypts application data; the records appear in `takeNetworkOutput()`.
    func write(plaintext: [UInt8]) throws(TLSFailure)

    /// Decrypted application data available now.
    func readPlaintext() -> TLSRead

    /// Bytes the engine wants sent to the peer; empties the engine's outbound buffer.
    func takeNetworkOutput() -> [UInt8]

    /// Sends close_notify (its bytes appear in `takeNetworkOutput()`).
    func close()

    /// Everything known about the handshake so far, including the verification when it completed.
    var report: HandshakeReport { get }

    /// Client: the session to offer on a later connection, once the handshake completed.
    func sessionForResumption() -> TLSSession?
}

/// Long-lived, per-configuration state: loaded keys and chains, trust anchors, the server's session cache and
/// ticket keys. One context makes many engines; engines of one server context resume each other's sessions.
public protocol TLSContext: AnyObject, Sendable {
    var backend: TLSBackend { get }
    var configuration: MimicTLSConfiguration { get }
    func makeEngine() throws(TLSFailure) -> any TLSEngine
}

/// What one offline verification judges: a chain, what it is checked against, and how strictly.
struct ChainVerificationRequest: Sendable, Hashable {
    /// DER, leaf first, as a server would send it.
    var chain: [[UInt8]]
    /// DER; the only certificates trusted.
    var anchors: [[UInt8]]
    /// Checked when given.
    var hostname: String?
    /// Seconds since 1970; now when nil.
    var time: Double?
    var policy: VerificationPolicy = .default
}

extension ChainVerificationRequest {
    /// What a client engine judges after its handshake: the chain the server sent, now, as configured.
    init(peerChain: [[UInt8]], configuration: MimicTLSConfiguration) {
        self.init(
            chain: peerChain, anchors: configuration.trustAnchors, hostname: configuration.effectiveVerifyHostname,
            time: nil, policy: configuration.verificationPolicy)
    }
}

/// Offline chain verification by a backend: the same library code the client engine uses after a handshake.
protocol TLSChainVerifier {
    static var backend: TLSBackend { get }
    static func verify(_ request: ChainVerificationRequest) -> VerificationResult
}

extension TLSChainVerifier {
    /// Verifies under the default policy.
    static func verify(chain: [[UInt8]], anchors: [[UInt8]], hostname: String?, at time: Double?) -> VerificationResult
    {
        verify(ChainVerificationRequest(chain: chain, anchors: anchors, hostname: hostname, time: time))
    }
}

/// Entry points that pick a backend by value.
public enum TLSBackends {
    public static func makeContext(
        _ backend: TLSBackend, configuration: MimicTLSConfiguration
    ) throws(TLSFailure)
        -> any TLSContext
    {
        switch backend {
        case .openssl: try OpenSSLContext(configuration: configuration)
        case .gnutls: try GnuTLSContext(configuration: configuration)
        }
    }

    /// Does once what a process's first context of `backend` costs beyond the later ones, so that a caller can
    /// have it done on another thread while it gets on with something else: OpenSSL 3 reads its configuration file
    /// and loads its providers on the first `SSL_CTX_new` (about 2 ms here); GnuTLS builds its ASN.1 trees and
    /// reads its priority file in `gnutls_global_init` (0.3 ms).
    /// A context made meanwhile waits for what is still in progress and does not repeat it.
    public static func prepare(_ backend: TLSBackend) {
        switch backend {
        case .openssl: OpenSSLContext.prepare()
        case .gnutls: try? GnuTLSLibrary.ensureInitialized()
        }
    }

    /// Verifies a chain offline with a backend. `time` is seconds since 1970 (`Date().timeIntervalSince1970`).
    public static func verify(
        _ backend: TLSBackend,
        chain: [[UInt8]],
        anchors: [[UInt8]],
        hostname: String?,
        at time: Double? = nil,
        policy: VerificationPolicy = .default
    ) -> VerificationResult {
        let request = ChainVerificationRequest(
            chain: chain, anchors: anchors, hostname: hostname, time: time, policy: policy)
        return switch backend {
        case .openssl: OpenSSLVerifier.verify(request)
        case .gnutls: GnuTLSVerifier.verify(request)
        }
    }

    /// `OpenSSL 3.0.19 27 Jan 2026`, `GnuTLS 3.7.9`.
    public static func libraryVersion(_ backend: TLSBackend) -> String {
        switch backend {
        case .openssl: OpenSSLContext.libraryVersion
        case .gnutls: GnuTLSContext.libraryVersion
        }
    }
}
