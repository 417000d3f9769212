import Foundation
import MimicCore
import Testing

@testable import MimicDialogs

/// What the server dialogs observe of their clients: verbs and booleans, never arguments.
@Suite("Server dialogs: what the client did")
struct ServerObservationTests {
    enum Step {
        case line(String)
        case bytes([UInt8])
        case tls
    }

    /// Runs the steps through a started dialog and returns its observation; `.tls` is the caller's handshake.
    func observe(_ dialog: any ServerDialog, _ steps: [Step]) -> DialogObservation {
        var dialog = dialog
        _ = dialog.start()
        for step in steps {
            switch step {
            case .line(let text): _ = dialog.received(Array((text + "\r\n").utf8))
            case .bytes(let bytes): _ = dialog.received(bytes)
            case .tls: _ = dialog.tlsEstablished()
            }
        }
        return dialog.observation
    }

    @Test("SMTP: EHLO, STARTTLS refused, then AUTH and mail in plaintext")
    func smtpRefusedThenPlaintext() {
        let observation = observe(
            SMTPServerDialog(configuration: config { $0.startTLS.reply = "454 4.7.0 TLS not available" }),
            [
                .line("EHLO client"), .line("STARTTLS"), .line("AUTH PLAIN AHVzZXIAc2VjcmV0"),
                .line("MAIL FROM:<a@example.test>"), .line("RCPT TO:<b@example.test>"), .line("DATA"),
                .line("Subject: secret"), .line(""), .line("body"), .line("."), .line("QUIT"),
            ]
        )
        #expect(observation.upgradeOffered)
        #expect(observation.readCapabilitiesBeforeUpgrade)
        #expect(observation.requestedUpgrade)
        #expect(observation.upgradeRefused)
        #expect(observation.continuedInPlaintext)
        #expect(observation.plaintextCommandsAfterRefusal == ["AUTH", "MAIL", "RCPT", "DATA", "QUIT"])
        #expect(observation.credentialsInClear)
        #expect(observation.mailInClear)
        #expect(observation.commandsAfterTLS.isEmpty)
        #expect(observation.saidGoodbye)
    }

    @Test("SMTP: the well-behaved client upgrades first; its commands over TLS are listed")
    func smtpGoodClient() {
        let observation = observe(
            SMTPServerDialog(),
            [
                .line("EHLO client"), .line("STARTTLS"), .tls, .line("EHLO client"), .line("AUTH PLAIN AGEAYg=="),
                .line("MAIL FROM:<a@example.test>"), .line("QUIT"),
            ]
        )
        #expect(observation.readCapabilitiesBeforeUpgrade && observation.requestedUpgrade)
        #expect(!observation.upgradeRefused && !observation.continuedInPlaintext)
        #expect(!observation.credentialsInClear && !observation.mailInClear)
        #expect(observation.commandsAfterTLS == ["EHLO", "AUTH", "MAIL", "QUIT"])
        #expect(observation.saidGoodbye)
    }

    @Test("SMTP: STARTTLS without EHLO first; not offered (stripped) and the client goes on; no goodbye")
    func smtpOtherShapes() {
        let blind = observe(SMTPServerDialog(), [.line("STARTTLS"), .tls, .line("EHLO x")])
        #expect(!blind.readCapabilitiesBeforeUpgrade && blind.requestedUpgrade)
        #expect(!blind.saidGoodbye)
        let stripped = observe(
            SMTPServerDialog(configuration: config { $0.startTLS.advertise = .stripped }),
            [.line("EHLO x"), .line("MAIL FROM:<a@b>"), .line("RSET")]
        )
        #expect(!stripped.upgradeOffered && !stripped.requestedUpgrade && !stripped.upgradeRefused)
        #expect(stripped.continuedInPlaintext)
        #expect(stripped.plaintextCommandsAfterRefusal == ["MAIL", "RSET"])
        #expect(stripped.mailInClear)
    }

    @Test("never an argument, and an unknown verb (a credential where a command was due) is only ?")
    func noSecrets() throws {
        let observation = observe(
            SMTPServerDialog(configuration: config { $0.startTLS.reply = "454 no" }),
            [.line("EHLO x"), .line("STARTTLS"), .line("AUTH LOGIN"), .line("c2VjcmV0dXNlcg"), .line("UEFTU1dPUkQ")]
        )
        #expect(observation.plaintextCommandsAfterRefusal == ["AUTH", "?", "?"])
        let json = String(decoding: try JSONEncoder().encode(observation), as: UTF8.self)
        for secret in ["c2VjcmV0dXNlcg", "UEFTU1dPUkQ", "LOGIN"] { #expect(!json.contains(secret), "\(json)") }
        #expect(try JSONDecoder().decode(DialogObservation.self, from: Data(json.utf8)) == observation)
    }

    @Test("SMTP: after a 554 greeting STARTTLS is refused")
    func smtpRefusedSession() {
        let observation = observe(
            SMTPServerDialog(configuration: config { $0.refuseGreeting = "554 5.7.1 No SMTP service here" }),
            [.line("EHLO x"), .line("STARTTLS"), .line("MAIL FROM:<a@b>"), .line("QUIT")]
        )
        #expect(observation.upgradeRefused && observation.requestedUpgrade)
        #expect(observation.plaintextCommandsAfterRefusal == ["MAIL", "QUIT"])
        #expect(observation.mailInClear && observation.saidGoodbye)
    }

    @Test("IMAP: CAPABILITY, STARTTLS mangled away, LOGIN in the clear; PREAUTH offers nothing")
    func imap() {
        let observation = observe(
            IMAPServerDialog(configuration: config { $0.startTLS.advertise = .mangled }),
            [.line("a1 CAPABILITY"), .line("a2 STARTTLS"), .line("a3 LOGIN user secret"), .line("a4 LOGOUT")]
        )
        #expect(!observation.upgradeOffered)
        #expect(observation.readCapabilitiesBeforeUpgrade && observation.requestedUpgrade && observation.upgradeRefused)
        #expect(observation.plaintextCommandsAfterRefusal == ["STARTTLS", "LOGIN", "LOGOUT"])
        #expect(observation.credentialsInClear && observation.saidGoodbye)
        let implicit = observe(
            IMAPServerDialog(configuration: config(.implicit)),
            [.line("a LOGIN u p"), .line("b SELECT INBOX"), .line("c LOGOUT")]
        )
        #expect(!implicit.credentialsInClear)
        #expect(implicit.commandsAfterTLS == ["LOGIN", "SELECT", "LOGOUT"])
        let preauth = observe(IMAPServerDialog(configuration: config { $0.preauth = true }), [.line("a STARTTLS")])
        #expect(!preauth.upgradeOffered && preauth.upgradeRefused)
    }

    @Test("POP3: CAPA, STLS, then USER/PASS over TLS; or USER/PASS/APOP in the clear")
    func pop3() {
        let good = observe(
            POP3ServerDialog(),
            [.line("CAPA"), .line("STLS"), .tls, .line("USER u"), .line("PASS p"), .line("QUIT")]
        )
        #expect(good.readCapabilitiesBeforeUpgrade && good.requestedUpgrade && !good.credentialsInClear)
        #expect(good.commandsAfterTLS == ["USER", "PASS", "QUIT"])
        let clear = observe(POP3ServerDialog(), [.line("USER u"), .line("PASS p")])
        #expect(clear.credentialsInClear && !clear.requestedUpgrade && !clear.readCapabilitiesBeforeUpgrade)
        #expect(!clear.continuedInPlaintext)
    }

    @Test("FTP: FEAT, AUTH TLS refused, USER/PASS in the clear; AUTH SSL counts as the upgrade")
    func ftp() {
        let observation = observe(
            FTPServerDialog(configuration: config { $0.startTLS.reply = "534 Request denied for policy reasons." }),
            [.line("FEAT"), .line("AUTH TLS"), .line("USER anonymous"), .line("PASS x"), .line("QUIT")]
        )
        #expect(observation.readCapabilitiesBeforeUpgrade && observation.requestedUpgrade)
        #expect(observation.upgradeRefused && observation.credentialsInClear && observation.saidGoodbye)
        #expect(observation.plaintextCommandsAfterRefusal == ["USER", "PASS", "QUIT"])
        let ssl = observe(FTPServerDialog(), [.line("AUTH SSL"), .tls, .line("USER u"), .line("PBSZ 0")])
        #expect(ssl.requestedUpgrade && !ssl.credentialsInClear)
        #expect(ssl.commandsAfterTLS == ["USER", "PBSZ"])
    }

    static let anonymousBind: [UInt8] = [
        0x30, 0x0C, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00,
    ]
    static let passwordBind: [UInt8] =
        [0x30, 0x0E, 0x02, 0x01, 0x02, 0x60, 0x09, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x02] + Array("pw".utf8)
    static let unbind: [UInt8] = [0x30, 0x05, 0x02, 0x01, 0x05, 0x42, 0x00]

    @Test("LDAP: RootDSE read, StartTLS refused (52), a simple bind with a password in the clear, unbind")
    func ldap() {
        let observation = observe(
            LDAPServerDialog(configuration: config { $0.ldap.resultCode = 52 }),
            [
                .bytes(LDAPMessage.rootDSESearch(messageID: 3, attributes: ["supportedExtension"])),
                .bytes(ServerDialogTests.startTLSRequest), .bytes(Self.anonymousBind), .bytes(Self.passwordBind),
                .bytes(Self.unbind),
            ]
        )
        #expect(observation.readCapabilitiesBeforeUpgrade && observation.requestedUpgrade)
        #expect(observation.upgradeRefused && observation.credentialsInClear && observation.saidGoodbye)
        #expect(observation.plaintextCommandsAfterRefusal == ["bind", "bind", "unbind"])
        // An anonymous bind is no credential; over TLS nothing is in the clear.
        let anonymous = observe(LDAPServerDialog(), [.bytes(Self.anonymousBind)])
        #expect(!anonymous.credentialsInClear)
        let good = observe(
            LDAPServerDialog(),
            [.bytes(ServerDialogTests.startTLSRequest), .tls, .bytes(Self.passwordBind), .bytes(Self.unbind)]
        )
        #expect(good.requestedUpgrade && !good.upgradeRefused && !good.credentialsInClear)
        #expect(good.commandsAfterTLS == ["bind", "unbind"])
    }

    @Test("HTTPS: the request methods over TLS, headers not")
    func https() {
        let observation = observe(
            HTTPServerDialog(configuration: config(.implicit)),
            [
                .line("GET / HTTP/1.1"), .line("Host: x"), .line(""), .line("HEAD / HTTP/1.1"), .line("Host: x"),
                .line(""),
            ]
        )
        #expect(observation.commandsAfterTLS == ["GET", "HEAD"])
    }

    @Test("the verb lists are bounded")
    func bounded() {
        var dialog = SMTPServerDialog(configuration: config(.implicit))
        _ = dialog.start()
        let many = Array(repeating: "NOOP\r\n", count: DialogObservation.maxCommands + 50).joined()
        for chunk in stride(from: 0, to: many.utf8.count, by: 1000) {
            let bytes = Array(many.utf8)
            _ = dialog.received(Array(bytes[chunk..<min(chunk + 1000, bytes.count)]))
        }
        #expect(dialog.observation.commandsAfterTLS.count == DialogObservation.maxCommands)
    }
}
