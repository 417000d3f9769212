import Foundation
import MimicTesting
import Testing
import TinyMonitor

/// The monitor against Mimic's mocks: the verdict each mock announces is the one the monitor must give.
struct TinyMonitorTests {
    static func check(_ mock: MockService, starttls: String?) throws -> TinyMonitor.Status {
        let ca = try mock.writeTrustAnchors()
        defer { try? FileManager.default.removeItem(at: ca.deletingLastPathComponent()) }
        return try TinyMonitor.check(
            host: mock.host, port: mock.port, starttls: starttls, servername: mock.serverName, caFile: ca.path)
    }

    @Test(arguments: [ChainProfileName.good, .expiredLeaf, .wrongHost, .missingIntermediate, .selfSigned])
    func submissionPort(chain: ChainProfileName) async throws {
        try await MockServer.with(.smtp, .startTLS, chain: chain, backend: .gnutls) { mock in
            let status = try Self.check(mock, starttls: "smtp")
            #expect(status.isAlert == !mock.expectedVerdict.isOK, "\(chain.rawValue): \(status)")
        }
    }

    @Test func implicitIMAPWithAnExpiredIntermediate() async throws {
        try await MockServer.with(.imap, .implicit, chain: .expiredIntermediate) { mock in
            let status = try Self.check(mock, starttls: nil)
            #expect(status.isAlert, "\(status)")
        }
    }

    /// Library scenarios the monitor must get right: a certificate flaw behind a good STARTTLS dialog.
    @Test(arguments: ["smtp::starttls::expired-leaf", "smtp::starttls::good", "smtp::starttls::missing-intermediate"])
    func libraryScenario(id: String) async throws {
        try await MockServer.with(scenario: id) { mock in
            let status = try Self.check(mock, starttls: "smtp")
            #expect(status.isAlert == !mock.expectedVerdict.isOK, "\(id): \(status)")
        }
    }
}
