import Foundation
import MimicCore
import MimicDialogs
import MimicTLS
import MimicTestSupport
import Synchronization
import Testing

@testable import MimicNet

/// The mock watches its clients: real clients (openssl s_client, Python's smtplib) against a mock with an
/// observer, and the observation each connection produced when it closed.
@Suite("Mock server: what the client did", .timeLimit(.minutes(3)))
struct MockObservationTests {
    /// Collects observations from the event loops; waits for them with a deadline.
    final class ObservationLog: Sendable {
        private struct State {
            var items: [ClientObservation] = []
            /// Who waits for how many observations.
            var waiters: [UInt64: (count: Int, continuation: CheckedContinuation<Void, Never>)] = [:]
            var nextWaiter: UInt64 = 0
            /// Waits whose deadline passed, even before they were registered.
            var expired: Set<UInt64> = []
        }

        private let state = Mutex(State())

        var observer: @Sendable (ClientObservation) -> Void {
            { observation in
                let due = self.state.withLock { state in
                    state.items.append(observation)
                    let due = state.waiters.filter { $0.value.count <= state.items.count }
                    for key in due.keys { state.waiters[key] = nil }
                    return due.values.map(\.continuation)
                }
                for continuation in due { continuation.resume() }
            }
        }

        var all: [ClientObservation] { state.withLock { $0.items } }

        /// The observations once there are `count` (woken by the observation that makes them so), or what there is
        /// when `limit` has passed.
        func wait(for count: Int, within limit: Duration = .seconds(10)) async throws -> [ClientObservation] {
            let id = state.withLock { state in
                state.nextWaiter += 1
                return state.nextWaiter
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let ready = self.state.withLock { state in
                            let ready = state.items.count >= count || state.expired.contains(id)
                            if !ready { state.waiters[id] = (count, continuation) }
                            return ready
                        }
                        if ready { continuation.resume() }
                    }
                }
                group.addTask {
                    // The deadline: then whoever still waits is let go.
                    try? await Task.sleep(for: limit)
                    let waiter = self.state.withLock { state in
                        state.expired.insert(id)
                        return state.waiters.removeValue(forKey: id)
                    }
                    waiter?.continuation.resume()
                }
                await group.next()
                group.cancelAll()
            }
            return all
        }
    }

    static func start(
        _ serviceProtocol: ServiceProtocol,
        _ mode: TLSMode,
        backend: TLSBackend = .openssl,
        log: ObservationLog,
        configure: (inout MockServerConfiguration) -> Void = { _ in }
    ) async throws -> MockServer {
        try await MockSupport.start(serviceProtocol, mode, backend: backend) {
            $0.observer = log.observer
            configure(&$0)
        }
    }

    static func openssl(_ arguments: [String]) async throws -> Subprocess.Result {
        try await RealClientTests.offPool { try Subprocess.run("/usr/bin/openssl", arguments, timeout: 20) }
    }

    @Test(
        "openssl s_client on implicit TLS: SNI, versions, suites and ALPN offered, handshake, the client closes",
        arguments: TLSBackend.allCases
    )
    func implicitWithSNI(backend: TLSBackend) async throws {
        let log = ObservationLog()
        let server = try await Self.start(.smtp, .implicit, backend: backend, log: log)
        let result = try await Self.openssl([
            "s_client", "-connect", "127.0.0.1:\(server.port)", "-servername", "mail.example.test",
            "-alpn", "smtp,h2", "-brief",
        ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let observations = try await log.wait(for: 1)
        await server.stop()
        #expect(log.all.count == 1, "one observation per connection, stop() adds none")
        let observation = try #require(observations.first)
        #expect(observation.sequence == 1)
        #expect(observation.serviceProtocol == .smtp && observation.mode == .implicit)
        #expect(observation.peerAddress?.hasPrefix("127.0.0.1:") == true, "\(observation.peerAddress ?? "nil")")
        #expect(observation.started <= observation.ended)
        #expect(observation.clientHelloSeen)
        #expect(observation.serverName == "mail.example.test")
        // s_client offers every version its library has, newest first; the mock accepts only the first two.
        #expect(observation.offeredVersions.prefix(2) == ["1.3", "1.2"], "\(observation.offeredVersions)")
        #expect(observation.offeredCipherSuites.contains("0x1301"))
        #expect(observation.offeredCipherSuites.contains("0xc02f"), "\(observation.offeredCipherSuites)")
        #expect(observation.offeredALPN == ["smtp", "h2"])
        #expect(observation.handshakeCompleted)
        #expect(observation.negotiatedVersion == .tls1_3)
        // s_client reads the greeting and, its input at end, closes without QUIT.
        #expect(!observation.dialog.saidGoodbye)
        #expect(observation.closedBy == .client)
    }

    @Test("openssl s_client without a server name: no SNI; a second connection gets the next sequence number")
    func implicitWithoutSNI() async throws {
        let log = ObservationLog()
        let server = try await Self.start(.imap, .implicit, log: log)
        for _ in 0..<2 {
            let result = try await Self.openssl([
                "s_client", "-connect", "127.0.0.1:\(server.port)", "-noservername", "-brief",
            ])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        }
        let observations = try await log.wait(for: 2)
        await server.stop()
        #expect(observations.map(\.sequence).sorted() == [1, 2])
        for observation in observations {
            #expect(observation.clientHelloSeen && observation.clientHello != nil)
            #expect(observation.serverName == nil)
            #expect(observation.handshakeCompleted)
        }
    }

    @Test(
        "openssl s_client -tls1: TLS 1.0 offered alone, refused by the mock, which closes",
        arguments: TLSBackend.allCases)
    func legacyClient(backend: TLSBackend) async throws {
        let log = ObservationLog()
        let server = try await Self.start(.pop3, .implicit, backend: backend, log: log)
        // OpenSSL 3.0 sends a TLS 1.0 hello only at security level 0.
        let result = try await Self.openssl([
            "s_client", "-connect", "127.0.0.1:\(server.port)", "-servername", "mail.example.test", "-tls1",
            "-cipher", "DEFAULT@SECLEVEL=0", "-brief",
        ])
        #expect(result.status != 0, "\(result.stdout)\(result.stderr)")
        let observations = try await log.wait(for: 1)
        await server.stop()
        let observation = try #require(observations.first)
        #expect(observation.clientHelloSeen)
        #expect(observation.offeredVersions == ["1.0"])
        #expect(observation.serverName == "mail.example.test")
        #expect(!observation.handshakeCompleted && observation.negotiatedVersion == nil)
        #expect(observation.closedBy == .server)
    }

    @Test("openssl s_client -starttls smtp: capabilities read, upgrade asked, handshake over STARTTLS")
    func startTLS() async throws {
        let log = ObservationLog()
        let server = try await Self.start(.smtp, .startTLS, backend: .gnutls, log: log)
        let result = try await Self.openssl([
            "s_client", "-connect", "127.0.0.1:\(server.port)", "-starttls", "smtp", "-servername",
            "mail.example.test", "-brief",
        ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let observations = try await log.wait(for: 1)
        await server.stop()
        let observation = try #require(observations.first)
        #expect(observation.mode == .startTLS)
        #expect(observation.dialog.upgradeOffered)
        #expect(observation.dialog.readCapabilitiesBeforeUpgrade)
        #expect(observation.dialog.requestedUpgrade && !observation.dialog.upgradeRefused)
        #expect(!observation.dialog.credentialsInClear && !observation.dialog.mailInClear)
        #expect(observation.clientHelloSeen && observation.serverName == "mail.example.test")
        #expect(observation.handshakeCompleted && observation.negotiatedVersion == .tls1_3)
        #expect(observation.closedBy == .client)
    }

    /// smtplib, STARTTLS refused, then AUTH and a message in plaintext, then QUIT. The password and the message
    /// are in the script; neither may appear in the observation.
    static let smtplibScript = #"""
        import smtplib, sys
        s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
        s.ehlo("client.example.test")
        try:
            s.starttls()
            sys.exit("STARTTLS was accepted")
        except smtplib.SMTPResponseException as error:
            print("STARTTLS refused:", error.smtp_code)
        try:
            s.login("alice", "Sup3rSecretPassw0rd")
        except smtplib.SMTPException as error:
            print("AUTH:", error)
        s.sendmail("alice@example.test", ["bob@example.test"], "Subject: TopSecretSubject\r\n\r\nhello\r\n")
        s.quit()
        """#

    @Test("Python smtplib sends AUTH and mail in plaintext after a refused STARTTLS; nothing secret is kept")
    func plaintextAfterRefusal() async throws {
        let log = ObservationLog()
        let server = try await Self.start(.smtp, .startTLS, log: log) {
            $0.dialog.startTLS.reply = "454 4.7.0 TLS not available due to local problem"
            // smtplib logs in only when AUTH is advertised.
            $0.dialog.capabilitiesBeforeTLS = ["PIPELINING", "AUTH PLAIN LOGIN", "8BITMIME"]
        }
        let port = server.port
        let script = Self.smtplibScript
        let result = try await RealClientTests.offPool {
            try Subprocess.run("/usr/bin/env", ["python3", "-c", script, "\(port)"], timeout: 30)
        }
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let observations = try await log.wait(for: 1)
        await server.stop()
        let observation = try #require(observations.first)
        let dialog = observation.dialog
        #expect(dialog.readCapabilitiesBeforeUpgrade && dialog.requestedUpgrade && dialog.upgradeRefused)
        #expect(dialog.continuedInPlaintext)
        #expect(dialog.plaintextCommandsAfterRefusal == ["AUTH", "MAIL", "RCPT", "DATA", "QUIT"], "\(dialog)")
        #expect(dialog.credentialsInClear && dialog.mailInClear && dialog.saidGoodbye)
        #expect(dialog.commandsAfterTLS.isEmpty)
        #expect(!observation.clientHelloSeen && !observation.handshakeCompleted)
        #expect(observation.closedBy == .server)
        let json = String(decoding: try JSONEncoder().encode(observation), as: UTF8.self)
        for secret in ["alice", "Sup3rSecretPassw0rd", "TopSecretSubject", "bob@", "hello"] {
            #expect(!json.contains(secret), "\(secret) in \(json)")
        }
        #expect(try JSONDecoder().decode(ClientObservation.self, from: Data(json.utf8)) == observation)
    }

    @Test("a connection still open when the mock stops is observed, closed by the stop")
    func observedOnStop() async throws {
        let log = ObservationLog()
        let server = try await Self.start(.smtp, .startTLS, log: log)
        let port = server.port
        let signal = StopSignal()
        let end = try await withClient(
            port: port,
            { client in
                _ = client.read(for: .seconds(5)) { $0.hasSuffix("\r\n") }
                client.send("EHLO client\r\n")
                _ = client.read(for: .seconds(5)) { $0.contains("250 ") }
                signal.ready()
                // Open until the mock closes it.
                return client.read(for: .seconds(10)).end
            },
            stopping: {
                await signal.waitUntilReady()
                #expect(log.all.isEmpty)
                await server.stop()
            }
        )
        #expect(end == .eof || end == .reset, "\(end)")
        // stop() returns after every observation was handed over: no wait needed.
        let observation = try #require(log.all.first)
        #expect(log.all.count == 1)
        #expect(observation.closedBy == .serverStopped)
        #expect(observation.dialog.readCapabilitiesBeforeUpgrade && !observation.dialog.requestedUpgrade)
        #expect(!observation.clientHelloSeen)
    }

    @Test("plaintext where TLS was due: no ClientHello seen")
    func noClientHello() async throws {
        let log = ObservationLog()
        let server = try await Self.start(.smtp, .implicit, log: log)
        let end = try await withClient(port: server.port) { client in
            client.send("EHLO client\r\n")
            return client.read(for: .seconds(5)).end
        }
        #expect(end == .eof || end == .reset, "\(end)")
        let observations = try await log.wait(for: 1)
        await server.stop()
        let observation = try #require(observations.first)
        #expect(!observation.clientHelloSeen && observation.clientHello == nil)
        #expect(!observation.handshakeCompleted)
    }
}
