import Foundation
import MimicCore
import MimicDialogs
import MimicNet
import MimicTLS
import Testing

/// Misbehaviours end to end: a mock configured to misbehave, Mimic's own probe through both backends, and the
/// finding the probe must reach.
@Suite("Mock server: misbehaviours the probe classifies", .timeLimit(.minutes(2)))
struct MockMisbehaviourTests {
    /// Probes through both backends and returns the findings of each, checking both agree on the codes.
    private func codes(
        _ server: MockServer,
        deadlines: ProbeDeadlines = ProbeDeadlines(timeout: 5),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (codes: Set<FindingCode>, reports: [ProbeReport]) {
        let reports = try await MockSupport.probe(server, deadlines: deadlines)
        await server.stop()
        #expect(reports.count == 2, sourceLocation: sourceLocation)
        let perBackend = reports.map { Set($0.verdict.codes) }
        #expect(
            perBackend.first == perBackend.last,
            "the backends disagree: \(reports.map(\.findings))",
            sourceLocation: sourceLocation
        )
        return (perBackend.first ?? [], reports)
    }

    @Test(
        "STARTTLS stripped from the capabilities: startTLSNotOffered",
        arguments: [ServiceProtocol.smtp, .imap, .pop3, .ftp]
    )
    func stripped(_ serviceProtocol: ServiceProtocol) async throws {
        let server = try await MockSupport.start(serviceProtocol, .startTLS) {
            $0.dialog.startTLS.advertise = .stripped
        }
        let (codes, reports) = try await codes(server)
        #expect(codes == [.startTLSNotOffered], "\(reports.map(\.findings))")
        #expect(reports.allSatisfy { $0.handshake == nil }, "no TLS without the upgrade")
    }

    @Test("the upgrade refused (454, NO, -ERR, 534, unavailable): startTLSRejected")
    func rejected() async throws {
        let refusals: [(ServiceProtocol, (inout MockServerConfiguration) -> Void)] = [
            (.smtp, { $0.dialog.startTLS.reply = "454 4.7.0 TLS not available due to local problem" }),
            (.imap, { $0.dialog.startTLS.reply = "NO [UNAVAILABLE] TLS not available" }),
            (.pop3, { $0.dialog.startTLS.reply = "-ERR TLS not available" }),
            (.ftp, { $0.dialog.startTLS.reply = "534 Policy requires no TLS" }),
            (.ldap, { $0.dialog.ldap.resultCode = 52 }),
        ]
        for (serviceProtocol, configure) in refusals {
            let server = try await MockSupport.start(serviceProtocol, .startTLS, configure: configure)
            let (codes, reports) = try await codes(server)
            #expect(codes == [.startTLSRejected], "\(serviceProtocol): \(reports.map(\.findings))")
        }
    }

    @Test(
        "plaintext injected after the go-ahead: plaintextInjection",
        arguments: [ServiceProtocol.smtp, .imap, .pop3, .ftp]
    )
    func injection(_ serviceProtocol: ServiceProtocol) async throws {
        let server = try await MockSupport.start(serviceProtocol, .startTLS) {
            $0.dialog.startTLS.injectAfterGoAhead = "250 injected"
        }
        let (codes, reports) = try await codes(server)
        #expect(codes.contains(.plaintextInjection), "\(serviceProtocol): \(reports.map(\.findings))")
        #expect(reports.allSatisfy { $0.severity == .critical })
    }

    @Test("go-ahead without TLS: noTLSAfterGoAhead, with the server's plaintext as evidence")
    func noTransition() async throws {
        let server = try await MockSupport.start(.smtp, .startTLS) { $0.dialog.startTLS.transition = false }
        let (codes, reports) = try await codes(server)
        // The ClientHello is answered with `502 5.5.2 Error: command not recognized` where a TLS record was due.
        #expect(codes == [.noTLSAfterGoAhead], "\(reports.map(\.findings))")
        #expect(reports.allSatisfy { $0.handshake?.completed == false && $0.severity == .critical })
        #expect(
            reports.allSatisfy { $0.findings.first?.evidence.contains("502 5.5.2") == true },
            "\(reports.map(\.findings))")
    }

    @Test("abort with an alert: handshakeFailure naming the alert", arguments: TLSBackend.allCases)
    func abortWithAlert(_ backend: TLSBackend) async throws {
        for mode in [TLSMode.implicit, .startTLS] {
            let server = try await MockSupport.start(.smtp, mode, backend: backend) {
                $0.tls.abortWithAlert = .handshakeFailure
            }
            let (codes, reports) = try await codes(server)
            #expect(codes == [.handshakeFailure], "\(mode): \(reports.map(\.findings))")
            for report in reports {
                #expect(
                    report.handshake?.alertReceived?.code == TLSAlert.handshakeFailure.code,
                    "\(mode) \(report.backend)"
                )
                #expect(report.findings.contains { $0.evidence.contains("handshake_failure") }, "\(report.findings)")
            }
        }
    }

    @Test("cut mid-handshake: the handshake fails without an alert", arguments: TLSBackend.allCases)
    func closeMidHandshake(_ backend: TLSBackend) async throws {
        let server = try await MockSupport.start(.imap, .implicit, backend: backend) {
            $0.tls.closeMidHandshake = .afterServerHello(bytes: 60)
        }
        let (codes, reports) = try await codes(server)
        #expect(
            !codes.isEmpty && codes.isSubset(of: [.handshakeFailure, .closed, .reset]),
            "\(reports.map(\.findings))"
        )
        #expect(reports.allSatisfy { $0.handshake?.completed != true && $0.handshake?.alertReceived == nil })
    }

    @Test("a reset instead of the greeting: reset or closed in the greeting")
    func resetInGreeting() async throws {
        for mode in [TLSMode.startTLS, .implicit] {
            let server = try await MockSupport.start(.smtp, mode) {
                $0.faults = [.reset(in: .greeting)]
                // A RST at accept reaches the client inside its connect, which the probe calls `refused`; a
                // greeting sent after a pause (as most servers' are) is reset after the connection is up.
                $0.dialog.greetingDelay = .milliseconds(100)
            }
            let (codes, reports) = try await codes(server)
            #expect(!codes.isEmpty && codes.isSubset(of: [.reset, .closed]), "\(mode): \(reports.map(\.findings))")
            #expect(reports.allSatisfy { $0.severity == .unknown })
        }
    }

    @Test("a stall after the greeting: timeout within a short deadline")
    func stall() async throws {
        let server = try await MockSupport.start(.smtp, .startTLS) { $0.faults = [.stall(in: .capabilities)] }
        let (codes, reports) = try await codes(server, deadlines: ProbeDeadlines(timeout: 1))
        #expect(codes == [.timeout], "\(reports.map(\.findings))")
        #expect(reports.allSatisfy { $0.findings.first?.phase == .capabilities }, "\(reports.map(\.findings))")
    }

    @Test("a stall in the greeting: nothing comes, timeout in the greeting")
    func stallInGreeting() async throws {
        let server = try await MockSupport.start(.pop3, .startTLS) { $0.faults = [.stall(in: .greeting)] }
        let (codes, reports) = try await codes(server, deadlines: ProbeDeadlines(timeout: 1))
        #expect(codes == [.timeout], "\(reports.map(\.findings))")
        #expect(reports.allSatisfy { $0.dialog?.greeting.isEmpty != false && $0.findings.first?.phase == .greeting })
    }

    @Test("a stall in the implicit handshake: timeout")
    func stallInHandshake() async throws {
        let server = try await MockSupport.start(.imap, .implicit) { $0.faults = [.stall(in: .handshake)] }
        let (codes, reports) = try await codes(server, deadlines: ProbeDeadlines(timeout: 1))
        #expect(codes == [.timeout], "\(reports.map(\.findings))")
    }

    @Test(
        "an implicit-TLS port that speaks plaintext: modeMismatch",
        arguments: [ServiceProtocol.smtp, .imap, .pop3, .ftp]
    )
    func implicitSpeaksPlaintext(_ serviceProtocol: ServiceProtocol) async throws {
        let server = try await MockSupport.start(serviceProtocol, .implicit) { $0.dialog.implicitSpeaksPlaintext = true }
        let (codes, reports) = try await codes(server)
        #expect(codes == [.modeMismatch], "\(serviceProtocol): \(reports.map(\.findings))")
    }

    @Test("a STARTTLS port that speaks TLS at once: modeMismatch", arguments: [ServiceProtocol.smtp, .pop3])
    func startTLSSpeaksTLS(_ serviceProtocol: ServiceProtocol) async throws {
        let server = try await MockSupport.start(serviceProtocol, .startTLS) { $0.dialog.startTLSSpeaksTLS = true }
        let (codes, reports) = try await codes(
            server,
            deadlines: ProbeDeadlines(connect: 2, reply: 1, handshake: 2, overall: 10)
        )
        #expect(codes == [.modeMismatch], "\(serviceProtocol): \(reports.map(\.findings))")
        #expect(reports.allSatisfy { $0.findings.first?.evidence.contains("implicit TLS") == true })
    }

    @Test("a refused greeting: greetingRejected")
    func refusedGreeting() async throws {
        let server = try await MockSupport.start(.smtp, .startTLS) {
            $0.dialog.refuseGreeting = ServerDialogConfiguration.defaultRefusal(for: .smtp)
        }
        let (codes, reports) = try await codes(server)
        #expect(codes == [.greetingRejected], "\(reports.map(\.findings))")
    }

    @Test("a greeting delay holds the greeting back, and the dialog then completes")
    func greetingDelay() async throws {
        let server = try await MockSupport.start(.smtp, .startTLS) {
            $0.dialog.greetingDelay = .milliseconds(300)
            $0.dialog.multilineGreeting = true
            $0.dialog.greetingDelayPlacement = .beforeFinalLine
        }
        let started = ContinuousClock.now
        let (codes, reports) = try await codes(server)
        #expect(codes.isEmpty, "\(reports.map(\.findings))")
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(reports.allSatisfy { $0.dialog?.greeting.count == 2 }, "\(reports.map(\.transcript))")
    }

    @Test(
        "faults shape the ciphertext too: a sliced and delayed handshake still completes",
        arguments: TLSBackend.allCases
    )
    func slicedHandshake(_ backend: TLSBackend) async throws {
        let server = try await MockSupport.start(.imap, .startTLS, backend: backend) {
            $0.faults = [.slice(bytes: 7, in: .handshake), .latency(milliseconds: 20, in: .postTLS)]
        }
        let (codes, reports) = try await codes(server)
        #expect(codes.isEmpty, "\(reports.map(\.findings))")
        #expect(reports.allSatisfy { $0.handshake?.completed == true })
    }

    @Test("a post-TLS close-after cuts the dialog after the handshake")
    func closeAfterInPostTLS() async throws {
        let server = try await MockSupport.start(.smtp, .startTLS) { $0.faults = [.closeAfter(bytes: 0, in: .postTLS)] }
        let (codes, reports) = try await codes(server)
        #expect(reports.allSatisfy { $0.handshake?.completed == true }, "\(reports.map(\.findings))")
        #expect(codes.contains(.closed) || codes.contains(.reset), "\(reports.map(\.findings))")
    }
}

/// The FTP data channel's shapes: another certificate, and vsftpd's session reuse requirement.
@Suite("Mock server: FTPS data channel", .timeLimit(.minutes(1)))
struct MockDataChannelTests {
    @Test(
        "another certificate on the data channel: a full handshake with another chain",
        arguments: TLSBackend.allCases
    )
    func otherCertificate(_ backend: TLSBackend) async throws {
        let other = try MockSupport.chain("wrong-host")
        let server = try await MockSupport.start(.ftp, .startTLS, backend: backend) {
            $0.dialog.ftp.dataChannel = .otherCertificate
            $0.dataChannelTLS = MockSupport.serverTLS(other)
        }
        let reports = try await MockSupport.probe(server)
        await server.stop()
        for report in reports {
            let data = try #require(report.dataChannel, "\(report.backend): \(report.findings)")
            #expect(data.completed && !data.sessionResumed, "\(report.backend): \(data)")
            #expect(data.peerChain == other.served, "\(report.backend)")
            #expect(report.findings.contains { $0.code == .unexpectedReply && $0.phase == .dataChannel })
        }
    }

    @Test("session reuse required and resumed: the listing comes", arguments: TLSBackend.allCases)
    func requireResumption(_ backend: TLSBackend) async throws {
        let server = try await MockSupport.start(.ftp, .implicit, backend: backend) {
            $0.dialog.ftp.dataChannel = .requireResumption
        }
        let reports = try await MockSupport.probe(server)
        await server.stop()
        for report in reports {
            #expect(report.findings.isEmpty, "\(report.backend): \(report.findings)")
            #expect(report.dataChannel?.sessionResumed == true)
            #expect(report.dialog?.dataChannelReply?.hasPrefix("226") == true, "\(report.transcript)")
        }
    }

    @Test(
        "session reuse required but impossible (another context): 522, as vsftpd answers",
        arguments: TLSBackend.allCases
    )
    func requireResumptionRefused(_ backend: TLSBackend) async throws {
        let server = try await MockSupport.start(.ftp, .startTLS, backend: backend) {
            $0.dialog.ftp.dataChannel = .requireResumption
            // Its own context: the control channel's session cannot resume there.
            $0.dataChannelTLS = $0.tls
        }
        let reports = try await MockSupport.probe(server)
        await server.stop()
        for report in reports {
            #expect(
                report.dialog?.dataChannelReply?.hasPrefix("522") == true,
                "\(report.backend): \(report.transcript)"
            )
        }
    }

    /// A PASV reply naming another host must not move the probe: the data channel goes to the control peer.
    /// The "other host" here is 127.0.0.2, a loopback address nothing listens on (the mock's data listener is on
    /// 127.0.0.1 only): had the probe trusted the reply, its data connection would have been refused there, so a
    /// completed data-channel handshake and a 226 prove where it went — without ever leaving loopback.
    @Test(
        "PASV names another address: pasvAddressMismatch, data channel to the control peer",
        arguments: [(TLSMode.startTLS, TLSBackend.openssl), (.implicit, .gnutls)]
    )
    func pasvAddressMismatch(_ mode: TLSMode, _ backend: TLSBackend) async throws {
        let server = try await MockSupport.start(.ftp, mode, backend: backend) {
            $0.dialog.ftp.extendedPassive = false
            $0.dialog.ftp.passiveHost = "127.0.0.2"
        }
        let reports = try await MockSupport.probe(server)
        await server.stop()
        for report in reports {
            #expect(report.findings.map(\.code) == [.pasvAddressMismatch], "\(report.backend): \(report.findings)")
            let finding = try #require(report.findings.first)
            #expect(finding.severity == .warning && finding.phase == .dataChannel)
            #expect(finding.evidence.contains("127.0.0.2") && finding.evidence.contains("127.0.0.1"), "\(finding)")
            #expect(report.transcript.contains { $0.contains("PASV") }, "\(report.transcript)")
            #expect(report.dataChannel?.completed == true, "\(report.backend): \(report.transcript)")
            #expect(report.dialog?.dataChannelReply?.hasPrefix("226") == true, "\(report.transcript)")
        }
    }

    @Test("EPSV refused and PASV naming the control peer: no finding", arguments: TLSBackend.allCases)
    func pasvSameAddress(_ backend: TLSBackend) async throws {
        let server = try await MockSupport.start(.ftp, .startTLS, backend: backend) {
            $0.dialog.ftp.extendedPassive = false
        }
        let reports = try await MockSupport.probe(server)
        await server.stop()
        for report in reports {
            #expect(report.findings.isEmpty, "\(report.backend): \(report.findings)")
            #expect(report.transcript.contains { $0.contains("PASV") }, "\(report.transcript)")
            #expect(report.dataChannel?.completed == true)
        }
    }
}
