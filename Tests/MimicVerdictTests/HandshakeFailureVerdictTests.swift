import Foundation
import MimicCore
import MimicTLS
import MimicVerdict
import Testing

@Suite("A failed handshake's finding follows its kind")
struct HandshakeFailureVerdictTests {
    static func failed(_ failure: TLSFailure?) -> HandshakeReport {
        var report = HandshakeReport(backend: .gnutls, libraryVersion: "test", role: .client)
        report.failure = failure
        return report
    }

    @Test("no shared cipher, and everything else a handshake failure, whatever the words")
    func kinds() {
        let cases: [(TLSFailure.Kind, FindingCode)] = [
            (.noSharedCipher, .noSharedCipher),
            (.noSharedVersion, .handshakeFailure),
            (.alertReceived(.handshakeFailure), .handshakeFailure),
            (.peerClosed, .handshakeFailure),
            (.certificateRejected, .handshakeFailure),
            (.library, .handshakeFailure),
        ]
        for (kind, expected) in cases {
            // The text says the opposite of the kind: only the kind counts.
            let words = expected == .noSharedCipher ? "all fine" : "no shared cipher"
            let finding = HandshakeVerdict.failure(
                Self.failed(TLSFailure(kind, reason: words, libraryError: "RAW_CODE")))
            #expect(finding.code == expected, "\(kind)")
            #expect(finding.rawCode == "RAW_CODE")
            #expect(finding.evidence == "\(words) [RAW_CODE]")
        }
        #expect(HandshakeVerdict.failure(Self.failed(nil)).code == .handshakeFailure)
    }

    @Test("an insufficient_security alert either way means nothing offered was good enough")
    func insufficientSecurity() {
        #expect(
            TLSFailure.Kind.library.refined(alertSent: nil, alertReceived: .insufficientSecurity) == .noSharedCipher)
        #expect(
            TLSFailure.Kind.alertReceived(.handshakeFailure).refined(
                alertSent: .insufficientSecurity, alertReceived: nil) == .noSharedCipher)
        #expect(
            TLSFailure.Kind.library.refined(alertSent: nil, alertReceived: .badCertificate)
                == .alertReceived(.badCertificate))
        #expect(TLSFailure.Kind.peerClosed.refined(alertSent: nil, alertReceived: .badCertificate) == .peerClosed)
    }

    @Test("the report's JSON has no kind; decoding gets it back from Mimic's raw codes and the alerts")
    func coding() throws {
        let closed = TLSFailure.peerClosed()
        let data = try JSONEncoder().encode(closed)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["reason", "libraryError"])
        #expect(try JSONDecoder().decode(TLSFailure.self, from: data).kind == .peerClosed)
        let alerted = TLSFailure(.alertReceived(.protocolVersion), reason: "x", alertReceived: .protocolVersion)
        let decoded = try JSONDecoder().decode(TLSFailure.self, from: try JSONEncoder().encode(alerted))
        #expect(decoded == alerted)
    }
}
