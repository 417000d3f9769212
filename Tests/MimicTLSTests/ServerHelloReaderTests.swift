import MimicCore
import Testing

@testable import MimicTLS

/// The ServerHello read before the engine sees it says what the finished handshake reports: version, suite and
/// group, for both libraries' servers at TLS 1.3 and 1.2, and a HelloRetryRequest is told apart. Cut or mutated,
/// it is never read past its end.
@Suite("ServerHello reader")
struct ServerHelloReaderTests {
    static let pki = Result { try TestPKI(rsaLeaf: true) }

    /// The server's first flight for a client of `client` and a server of `server`, and both finished reports.
    static func flight(
        client: TLSBackend, server: TLSBackend, version: MimicTLSVersion, clientGroups: [String]? = nil,
        serverGroups: [String]? = nil
    ) throws -> (flight: [UInt8], client: HandshakeReport) {
        let pki = try pki.get()
        var clientConfiguration = pki.clientConfiguration(minimumVersion: version, maximumVersion: version)
        clientConfiguration.groups = clientGroups
        var serverConfiguration = pki.serverConfiguration(minimumVersion: version, maximumVersion: version)
        serverConfiguration.groups = serverGroups
        let clientEngine = try TLSBackends.makeContext(client, configuration: clientConfiguration).makeEngine()
        let serverEngine = try TLSBackends.makeContext(server, configuration: serverConfiguration).makeEngine()
        _ = clientEngine.handshake()
        serverEngine.receivedFromNetwork(clientEngine.takeNetworkOutput())
        _ = serverEngine.handshake()
        let flight = serverEngine.takeNetworkOutput()
        clientEngine.receivedFromNetwork(flight)
        let outcome = TLSPump().handshake(client: clientEngine, server: serverEngine)
        #expect(outcome.client.isComplete, "\(String(describing: outcome.client.failure))")
        return (flight, clientEngine.report)
    }

    @Test("the hello says what the handshake reports", arguments: TLSBackend.allCases, TLSBackend.allCases)
    func agrees(client: TLSBackend, server: TLSBackend) throws {
        for version in [MimicTLSVersion.tls1_3, .tls1_2] {
            for group in version == .tls1_3 ? ["x25519", "secp384r1", "ffdhe2048"] : [nil] {
                let (flight, report) = try Self.flight(
                    client: client, server: server, version: version, clientGroups: group.map { [$0] })
                var reader = ServerHelloReader()
                guard case .hello(let hello) = reader.append(flight) else {
                    Issue.record("\(client)→\(server) \(version): no hello")
                    continue
                }
                #expect(hello.version == report.negotiatedVersion)
                #expect(hello.isHelloRetryRequest == false)
                if version == .tls1_3 {
                    #expect(ServerHelloReader.tls13SuiteName(hello.cipherSuite) == report.cipherSuite)
                    #expect(hello.group.map(TLSGroups.name(wireValue:)) == report.keyExchangeGroup)
                    #expect(report.keyExchangeGroup == group)
                } else {
                    #expect(hello.group == nil, "a TLS 1.2 hello names no group")
                }
                // One byte at a time: the same answer, once the hello is whole.
                var slow = ServerHelloReader()
                var outcome = ServerHelloReader.Outcome.needMoreBytes
                for byte in flight where outcome == .needMoreBytes { outcome = slow.append([byte]) }
                #expect(outcome == .hello(hello))
            }
        }
    }

    @Test("a HelloRetryRequest is told apart, with the group it asks for")
    func helloRetry() throws {
        // OpenSSL's client shares a key for its first group only; a server that takes only the second asks again.
        let (flight, report) = try Self.flight(
            client: .openssl, server: .openssl, version: .tls1_3, clientGroups: ["x25519", "secp256r1"],
            serverGroups: ["secp256r1"])
        var reader = ServerHelloReader()
        guard case .hello(let hello) = reader.append(flight) else {
            Issue.record("no hello")
            return
        }
        #expect(hello.isHelloRetryRequest)
        #expect(hello.group == 0x0017)
        #expect(report.keyExchangeGroup == "secp256r1")
    }

    @Test("what is not a ServerHello is left to the engine")
    func unread() {
        let alert: [UInt8] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]
        let clientHello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00]
        let overlong: [UInt8] = [0x16, 0x03, 0x03, 0x40, 0x01]
        for bytes in [alert, clientHello, overlong] {
            var reader = ServerHelloReader()
            guard case .unread = reader.append(bytes) else {
                Issue.record("\(bytes) read as a hello")
                continue
            }
        }
        var reader = ServerHelloReader()
        #expect(reader.append([0x16, 0x03]) == .needMoreBytes)
    }

    @Test("every cut and ten thousand mutations of a real hello are read without a trap")
    func hostile() throws {
        let (flight, _) = try Self.flight(client: .openssl, server: .gnutls, version: .tls1_3)
        // The hello is the first record: no cut of it is read as one, and the whole record is.
        let helloEnd = 5 + (Int(flight[3]) << 8 | Int(flight[4]))
        for length in 0..<helloEnd {
            var reader = ServerHelloReader()
            let outcome = reader.append(Array(flight.prefix(length)))
            if case .hello = outcome { Issue.record("a hello read from \(length) of \(helloEnd) bytes") }
        }
        var whole = ServerHelloReader()
        guard case .hello = whole.append(Array(flight.prefix(helloEnd))) else {
            Issue.record("the first record is not read as the hello")
            return
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            var bytes = Array(flight.prefix(300))
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            var reader = ServerHelloReader()
            _ = reader.append(bytes)
        }
    }
}
