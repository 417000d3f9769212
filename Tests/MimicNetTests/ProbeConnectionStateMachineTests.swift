import MimicCore
import MimicDialogs
import MimicTLS
import Testing

@testable import MimicNet

/// The probe connection's decisions, with no channel: every event in, the actions out.
@Suite("Probe connection state machine")
struct ProbeConnectionStateMachineTests {
    typealias Machine = ProbeConnectionStateMachine

    static func smtp(_ mode: TLSMode = .startTLS) -> Machine {
        Machine(dialog: SMTPClientDialog(options: DialogOptions(mode: mode)), mode: mode)
    }

    static func lines(_ text: String...) -> [UInt8] { Array(text.map { $0 + "\r\n" }.joined().utf8) }

    static let serverHello: [UInt8] = [0x16, 0x03, 0x03, 0x00, 0x7A, 0x02]

    static func report(completed: Bool) -> HandshakeReport {
        var report = HandshakeReport(backend: .openssl, libraryVersion: "test", role: .client)
        report.completed = completed
        return report
    }

    @Test("STARTTLS: greeting, EHLO, STARTTLS, TLS in front, EHLO again, QUIT, done")
    func startTLS() {
        var machine = Self.smtp()
        #expect(machine.connected(peer: "127.0.0.1") == [.entered(from: .connect, to: .greeting)])
        #expect(
            machine.received(Self.lines("220 mx.example.test ESMTP"))
                == [
                    .restartPhaseTimer, .entered(from: .greeting, to: .capabilities),
                    .write(Array("EHLO probe.mimic.test\r\n".utf8)), .restartPhaseTimer,
                ])
        #expect(
            machine.received(Self.lines("250-mx.example.test", "250 STARTTLS"))
                == [.restartPhaseTimer, .write(Array("STARTTLS\r\n".utf8)), .restartPhaseTimer])
        #expect(
            machine.received(Self.lines("220 2.0.0 Ready"))
                == [.restartPhaseTimer, .entered(from: .capabilities, to: .handshake), .startTLS])
        #expect(machine.isTLS)
        #expect(
            machine.handshakeCompleted(Self.report(completed: true))
                == [
                    .entered(from: .handshake, to: .postTLS), .write(Array("EHLO probe.mimic.test\r\n".utf8)),
                    .restartPhaseTimer,
                ])
        #expect(
            machine.received(Self.lines("250 mx.example.test"))
                == [.restartPhaseTimer, .write(Array("QUIT\r\n".utf8)), .restartPhaseTimer])
        #expect(machine.received(Self.lines("221 bye")).last == .finish)
        #expect(machine.isFinished)
        #expect(machine.outcome.summary?.upgradeAdvertised == true)
        // Nothing is done after the end.
        #expect(machine.received(Self.lines("250 late")).isEmpty)
        #expect(machine.closed().isEmpty)
    }

    @Test("implicit TLS puts the engine in first and starts the dialog over it")
    func implicit() {
        var machine = Self.smtp(.implicit)
        #expect(machine.connected(peer: nil) == [.entered(from: .connect, to: .handshake), .startTLS])
        #expect(machine.handshakeCompleted(Self.report(completed: true)) == [.entered(from: .handshake, to: .postTLS)])
        // TLS records from the engine's side are plaintext to the dialog: no mode mix-up here.
        #expect(machine.received(Self.lines("220 mx.example.test ESMTP")).contains(.restartPhaseTimer))
        #expect(!machine.outcome.tlsWherePlaintextWasDue)
    }

    @Test("TLS where the greeting was due ends the connection as a mode mix-up")
    func tlsFirst() {
        var machine = Self.smtp()
        _ = machine.connected(peer: nil)
        #expect(machine.received(Self.serverHello) == [.finish])
        #expect(machine.outcome.tlsWherePlaintextWasDue)
    }

    @Test("a TLS record after plaintext is the dialog's business, not a mode mix-up")
    func tlsAfterPlaintext() {
        var machine = Self.smtp()
        _ = machine.connected(peer: nil)
        _ = machine.received(Array("220-mx".utf8))
        _ = machine.received(Self.serverHello)
        #expect(!machine.outcome.tlsWherePlaintextWasDue)
    }

    @Test("a failed handshake keeps the bytes that came instead, and nothing more is written")
    func handshakeFailed() {
        var machine = Self.smtp(.implicit)
        _ = machine.connected(peer: nil)
        let greeting = Array("220 plaintext\r\n".utf8)
        #expect(machine.handshakeFailed(Self.report(completed: false), firstBytes: greeting) == [.finish])
        #expect(machine.outcome.handshakeFailed)
        #expect(machine.outcome.bytesWhereTLSWasDue == greeting)
        #expect(machine.handshakeCompleted(Self.report(completed: true)).isEmpty)
    }

    @Test("a close mid-dialog is a network failure in the phase it came in")
    func closedEarly() {
        var machine = Self.smtp()
        _ = machine.connected(peer: nil)
        _ = machine.received(Self.lines("220 mx"))
        #expect(machine.closed().last == .finish)
        #expect(machine.outcome.failure?.code == .closed)
        #expect(machine.outcome.failure?.phase == .capabilities)
    }

    @Test("a deadline in the handshake records the engine's report as a failed handshake")
    func timeout() {
        var machine = Self.smtp(.implicit)
        _ = machine.connected(peer: nil)
        let report = Self.report(completed: false)
        #expect(machine.timedOut("handshake (3 s without an answer)", handshake: report) == [.finish])
        #expect(machine.outcome.networkFailure?.code == .timeout)
        #expect(machine.outcome.networkFailure?.phase == .handshake)
        #expect(machine.outcome.handshakeFailed)
        #expect(machine.timedOut("again", handshake: nil).isEmpty)
    }

    @Test("errors: a reset, another error, a TLS failure")
    func errors() {
        for (error, code) in [
            (Machine.ConnectionError.reset("ECONNRESET"), FindingCode.reset), (.other("EPIPE"), .closed),
        ] {
            var machine = Self.smtp()
            _ = machine.connected(peer: nil)
            #expect(machine.errorCaught(error) == [.finish])
            #expect(machine.outcome.networkFailure?.code == code)
        }
        var machine = Self.smtp()
        _ = machine.connected(peer: nil)
        #expect(machine.errorCaught(.tls(TLSFailure(reason: "bad record"))) == [.finish])
        #expect(machine.outcome.findings.codes == [.handshakeFailure])
    }

    @Test("FTP: the data channel goes to the control peer, never to the address PASV named")
    func dataChannel() {
        var machine = Machine(dialog: FTPClientDialog(options: DialogOptions(mode: .implicit)), mode: .implicit)
        _ = machine.connected(peer: "127.0.0.1")
        _ = machine.handshakeCompleted(Self.report(completed: true))
        for reply in ["220 ftp", "211 no features", "200 PBSZ=0", "200 PROT P", "230 logged in", "500 no EPSV"] {
            _ = machine.received(Self.lines(reply))
        }
        let actions = machine.received(Self.lines("227 Entering Passive Mode (192,0,2,10,4,1)."))
        #expect(actions.contains(.openDataChannel(host: "127.0.0.1", port: 1025)))
        #expect(actions.contains(.write(Array("LIST\r\n".utf8))), "the listing is asked for at once")
        #expect(machine.phase == .dataChannel)
        #expect(machine.outcome.findings.contains { $0.phase == .dataChannel }, "the announced address is a finding")
        let failed = machine.dataChannelEnded(handshake: nil, failure: "connection refused")
        #expect(failed.contains(.write(Array("QUIT\r\n".utf8))))
        #expect(machine.outcome.findings.codes.contains(.refused))
    }
}
