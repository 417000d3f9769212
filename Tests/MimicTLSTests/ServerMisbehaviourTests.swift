import Foundation
import MimicCore
import MimicTLS
import Testing

/// A client library and a server library: every pairing, same-library and across.
struct BackendPair: Sendable, CustomTestStringConvertible {
    let client: TLSBackend
    let server: TLSBackend

    static let all: [BackendPair] = [
        .init(client: .openssl, server: .openssl), .init(client: .openssl, server: .gnutls),
        .init(client: .gnutls, server: .openssl), .init(client: .gnutls, server: .gnutls),
    ]

    var testDescription: String { "\(client.displayName) client → \(server.displayName) server" }

    func engines(
        client clientConfiguration: MimicTLSConfiguration, server serverConfiguration: MimicTLSConfiguration
    ) throws
        -> (client: any TLSEngine, server: any TLSEngine)
    {
        let clientEngine = try TLSBackends.makeContext(client, configuration: clientConfiguration).makeEngine()
        let serverEngine = try TLSBackends.makeContext(server, configuration: serverConfiguration).makeEngine()
        return (clientEngine, serverEngine)
    }
}

/// A server that misbehaves on purpose: aborts with a chosen alert, cuts the connection silently part-way,
/// asks for a client certificate. What matters is what each client library then reports.
@Suite("Server misbehaviour")
struct ServerMisbehaviourTests {
    static let pki = Result { try TestPKI(rsaLeaf: true) }

    static let alerts: [TLSAlert] = [
        .handshakeFailure, .protocolVersion, .internalError, .unrecognizedName, TLSAlert(code: 49),
    ]

    // MARK: - Abort with an alert

    @Test("abort at the ClientHello: the client reports the chosen alert", arguments: BackendPair.all, alerts)
    func abortWithAlert(pair: BackendPair, alert: TLSAlert) throws {
        let pki = try Self.pki.get()
        var serverConfiguration = pki.serverConfiguration()
        serverConfiguration.abortWithAlert = alert
        let (client, server) = try pair.engines(client: pki.clientConfiguration(), server: serverConfiguration)
        let outcome = TLSPump().handshake(client: client, server: server)

        let serverFailure = try #require(outcome.server.failure)
        #expect(serverFailure.kind == .abortedWithAlert(alert), "\(serverFailure)")
        #expect(serverFailure.libraryError == "MIMIC_ABORT_WITH_ALERT", "\(serverFailure)")
        #expect(serverFailure.alertSent == alert, "\(serverFailure)")
        #expect(server.report.alertSent == alert)
        #expect(server.report.servedCredential == nil, "no certificate is chosen before the abort")

        let clientFailure = try #require(outcome.client.failure)
        #expect(clientFailure.alertReceived?.code == alert.code, "\(clientFailure)")
        #expect(clientFailure.alertReceived?.fatal == true)
        #expect(client.report.alertReceived?.code == alert.code)
        #expect(client.report.completed == false)
        #expect(client.report.peerChain.isEmpty)
    }

    /// OpenSSL only sends the alerts its TLS table knows (no_certificate, SSL 3's 41, is not one of them); the
    /// engine writes the record itself then, so both server libraries send any code.
    @Test("abort with an alert OpenSSL would not send itself", arguments: BackendPair.all)
    func abortWithAlertOpenSSLDoesNotKnow(pair: BackendPair) throws {
        let pki = try Self.pki.get()
        let alert = TLSAlert(code: 41)
        var serverConfiguration = pki.serverConfiguration()
        serverConfiguration.abortWithAlert = alert
        let (client, server) = try pair.engines(client: pki.clientConfiguration(), server: serverConfiguration)
        let outcome = TLSPump().handshake(client: client, server: server)
        #expect(outcome.server.failure?.alertSent == alert)
        #expect(outcome.client.failure != nil)
        #expect(client.report.alertReceived?.code == 41, "\(String(describing: client.report.failure))")
    }

    @Test("abort wins over a cut configured at the same time", arguments: [TLSBackend.openssl, .gnutls])
    func abortWinsOverCut(server backend: TLSBackend) throws {
        let pki = try Self.pki.get()
        var serverConfiguration = pki.serverConfiguration()
        serverConfiguration.abortWithAlert = .handshakeFailure
        serverConfiguration.closeMidHandshake = .afterServerHello(bytes: 10)
        let pair = BackendPair(client: .openssl, server: backend)
        let (client, server) = try pair.engines(client: pki.clientConfiguration(), server: serverConfiguration)
        let outcome = TLSPump().handshake(client: client, server: server)
        #expect(outcome.server.failure?.libraryError == "MIMIC_ABORT_WITH_ALERT")
        #expect(client.report.alertReceived == .handshakeFailure)
    }

    // MARK: - Silent cuts

    /// Drives one ClientHello into the server by hand, so the bytes the server lets out can be counted.
    private func firstFlight(
        pair: BackendPair,
        cut: TLSHandshakeCut,
        version: MimicTLSVersion
    ) throws -> (client: any TLSEngine, server: any TLSEngine, sent: [UInt8]) {
        let pki = try Self.pki.get()
        var serverConfiguration = pki.serverConfiguration(maximumVersion: version)
        serverConfiguration.closeMidHandshake = cut
        let (client, server) = try pair.engines(
            client: pki.clientConfiguration(maximumVersion: version),
            server: serverConfiguration
        )
        #expect(client.handshake() == .incomplete)
        let hello = client.takeNetworkOutput()
        #expect(!hello.isEmpty)
        server.receivedFromNetwork(hello)
        let step = server.handshake()
        let failure = try #require(step.failure, "the server cuts as soon as the ClientHello is in")
        #expect(failure.isCloseMidHandshake, "\(failure)")
        #expect(failure.alertSent == nil)
        let sent = server.takeNetworkOutput()
        // Nothing more ever leaves a server that cut, whatever it is asked.
        server.close()
        #expect(server.handshake().failure?.isCloseMidHandshake == true)
        #expect(server.takeNetworkOutput().isEmpty)
        #expect(server.report.failure?.isCloseMidHandshake == true)
        #expect(server.report.alertSent == nil)
        return (client, server, sent)
    }

    /// The client of a cut connection: incomplete until told of the end of stream, then failed without an alert.
    private func expectClientFailsSilently(_ client: any TLSEngine, received: [UInt8]) {
        client.receivedFromNetwork(received)
        #expect(client.handshake() == .incomplete)
        #expect(client.report.failure == nil)
        client.receivedEndOfStream()
        let failure = client.handshake().failure
        #expect(failure?.kind == .peerClosed, "\(String(describing: failure))")
        #expect(failure?.libraryError == "MIMIC_PEER_CLOSED", "the raw code a report shows")
        #expect(failure?.alertReceived == nil)
        #expect(client.report.alertReceived == nil)
        #expect(client.report.completed == false)
        #expect(client.report.failure?.kind == .peerClosed)
        // The failure sticks.
        #expect(client.handshake().failure?.kind == .peerClosed)
        if let failure { #expect(client.readPlaintext() == .failed(failure)) }
    }

    @Test("cut after the ClientHello: nothing sent, the client fails on end of stream", arguments: BackendPair.all)
    func cutAfterClientHello(pair: BackendPair) throws {
        let (client, server, sent) = try firstFlight(pair: pair, cut: .afterClientHello, version: .tls1_3)
        #expect(sent.isEmpty)
        #expect(server.report.servedCredential == nil)
        expectClientFailsSilently(client, received: sent)
    }

    struct FlightCut: Sendable, CustomTestStringConvertible {
        let version: MimicTLSVersion
        let bytes: Int?
        var testDescription: String { "TLS \(version.rawValue), \(bytes.map { "\($0) bytes" } ?? "whole flight")" }
    }

    @Test(
        "cut after N bytes of the first flight",
        arguments: BackendPair.all,
        [
            FlightCut(version: .tls1_2, bytes: 5), FlightCut(version: .tls1_2, bytes: 60),
            FlightCut(version: .tls1_2, bytes: nil), FlightCut(version: .tls1_3, bytes: 5),
            FlightCut(version: .tls1_3, bytes: 100),
        ]
    )
    func cutAfterServerHelloBytes(pair: BackendPair, cut: FlightCut) throws {
        let (client, server, sent) = try firstFlight(
            pair: pair,
            cut: .afterServerHello(bytes: cut.bytes),
            version: cut.version
        )
        if let bytes = cut.bytes {
            #expect(sent.count == bytes)
        } else {
            // The whole TLS 1.2 flight: ServerHello, Certificate, ServerKeyExchange, ServerHelloDone.
            #expect(sent.count > 1000, "\(sent.count) bytes")
        }
        #expect(sent.first == 22, "a handshake record")
        #expect(server.report.servedCredential == HandshakeReport.defaultCredential)
        expectClientFailsSilently(client, received: sent)
    }

    /// TLS 1.3 puts the server's whole handshake in its first flight: a client given all of it finishes, and the
    /// cut only shows as an end of stream after the handshake.
    @Test(
        "a whole TLS 1.3 first flight lets the client finish; the end of stream then reads as closed",
        arguments: BackendPair.all
    )
    func cutAfterWholeTLS13Flight(pair: BackendPair) throws {
        let (client, _, sent) = try firstFlight(pair: pair, cut: .afterServerHello(bytes: nil), version: .tls1_3)
        client.receivedFromNetwork(sent)
        #expect(client.handshake() == .complete)
        #expect(client.readPlaintext() == .wouldBlock)
        client.receivedEndOfStream()
        #expect(client.handshake() == .complete)
        #expect(client.readPlaintext() == .closed)
        #expect(client.report.alertReceived == nil, "no close_notify came")
    }

    @Test(
        "the pump, byte by byte: a cut leaves the client incomplete until the end of stream",
        arguments: BackendPair.all
    )
    func cutThroughThePump(pair: BackendPair) throws {
        let pki = try Self.pki.get()
        var serverConfiguration = pki.serverConfiguration(maximumVersion: .tls1_2)
        serverConfiguration.closeMidHandshake = .afterServerHello(bytes: 300)
        let (client, server) = try pair.engines(
            client: pki.clientConfiguration(maximumVersion: .tls1_2),
            server: serverConfiguration
        )
        let outcome = TLSPump(chunk: 1).handshake(client: client, server: server)
        #expect(outcome.server.failure?.isCloseMidHandshake == true)
        #expect(outcome.client == .incomplete)
        #expect(client.report.alertReceived == nil)
        client.receivedEndOfStream()
        #expect(client.report.failure?.kind == .peerClosed)
        #expect(client.report.alertReceived == nil && client.report.alertSent == nil)
    }

    // MARK: - End of stream after the handshake

    @Test("end of stream after the handshake: data first, then closed", arguments: BackendPair.all)
    func endOfStreamAfterHandshake(pair: BackendPair) throws {
        let pki = try Self.pki.get()
        let (client, server) = try pair.engines(client: pki.clientConfiguration(), server: pki.serverConfiguration())
        let pump = TLSPump()
        let outcome = pump.handshake(client: client, server: server)
        #expect(outcome.client.isComplete && outcome.server.isComplete)
        let message = Array("220 ready\r\n".utf8)
        try server.write(plaintext: message)
        client.receivedFromNetwork(server.takeNetworkOutput())
        client.receivedEndOfStream()
        var read: [UInt8] = []
        var last = TLSRead.wouldBlock
        for _ in 0..<8 {
            last = client.readPlaintext()
            guard case .data(let data) = last else { break }
            read += data
        }
        #expect(read == message)
        #expect(last == .closed)
        #expect(client.report.completed)
        #expect(client.report.failure == nil)
    }

    @Test(
        "end of stream before anything was received fails the client's handshake",
        arguments: [
            TLSBackend.openssl, .gnutls,
        ]
    )
    func endOfStreamBeforeAnything(backend: TLSBackend) throws {
        let pki = try Self.pki.get()
        let client = try TLSBackends.makeContext(backend, configuration: pki.clientConfiguration()).makeEngine()
        #expect(client.handshake() == .incomplete)
        _ = client.takeNetworkOutput()
        client.receivedEndOfStream()
        #expect(client.report.failure?.kind == .peerClosed)
        #expect(client.takeNetworkOutput().isEmpty, "nothing is said to a closed peer")
    }

    // MARK: - Client certificate request

    @Test(
        "a server asking for a client certificate: each client answers with none and completes",
        arguments: BackendPair.all,
        [MimicTLSVersion.tls1_2, .tls1_3]
    )
    func clientCertificateRequest(pair: BackendPair, version: MimicTLSVersion) throws {
        let pki = try Self.pki.get()
        var serverConfiguration = pki.serverConfiguration(maximumVersion: version)
        serverConfiguration.requestClientCertificate = true
        let (client, server) = try pair.engines(
            client: pki.clientConfiguration(maximumVersion: version),
            server: serverConfiguration
        )
        let pump = TLSPump()
        let outcome = pump.handshake(client: client, server: server)
        #expect(outcome.client.isComplete, "\(String(describing: outcome.client.failure))")
        #expect(outcome.server.isComplete, "\(String(describing: outcome.server.failure))")
        #expect(client.report.certificateRequested)
        #expect(client.report.negotiatedVersion == version)
        #expect(server.report.peerChain.isEmpty, "an empty certificate list")
        #expect(client.report.verification?.accepted == true)
        let message = Array("USER anonymous\r\n".utf8)
        #expect(try pump.transfer(message, from: client, to: server) == message)
    }

    @Test("no request, no flag", arguments: BackendPair.all)
    func noClientCertificateRequest(pair: BackendPair) throws {
        let pki = try Self.pki.get()
        let (client, server) = try pair.engines(client: pki.clientConfiguration(), server: pki.serverConfiguration())
        let outcome = TLSPump().handshake(client: client, server: server)
        #expect(outcome.client.isComplete)
        #expect(client.report.certificateRequested == false)
        #expect(server.report.certificateRequested == false)
    }

    // MARK: - Report

    @Test func reportCodingKeepsTheNewFacts() throws {
        var report = HandshakeReport(backend: .openssl, libraryVersion: "OpenSSL", role: .server)
        report.servedCredential = "*.example.test"
        report.certificateRequested = true
        let decoded = try JSONDecoder().decode(HandshakeReport.self, from: JSONEncoder().encode(report))
        #expect(decoded == report)

        let plain = HandshakeReport(backend: .gnutls, libraryVersion: "GnuTLS", role: .client)
        let text = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
        #expect(!text.contains("certificateRequested") && !text.contains("servedCredential"))
        #expect(try JSONDecoder().decode(HandshakeReport.self, from: Data(text.utf8)) == plain)
    }
}
