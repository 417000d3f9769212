import MimicCore
import MimicDialogs
import MimicNet
import Testing

/// The LDAP StartTLS ExtendedResponse naming another OID than StartTLS's: it goes out as configured, and a client
/// that ignores the name (as libldap and the probe do) upgrades as usual, so the verdict stays clean.
@Suite("Mock server: LDAP responseName", .timeLimit(.minutes(1)))
struct MockLDAPResponseNameTests {
    @Test(
        "another responseName OID: sent as configured, the upgrade goes on, no finding",
        arguments: TLSBackend.allCases
    )
    func otherOID(_ backend: TLSBackend) async throws {
        let oid = "1.3.6.1.4.1.4203.1.11.3"
        let server = try await MockSupport.start(.ldap, .startTLS, backend: backend) {
            $0.dialog.ldap.responseName = .oid(oid)
        }
        let reports = try await MockSupport.probe(server)
        await server.stop()
        #expect(reports.count == 2)
        for report in reports {
            let where_ = "served by \(backend), probed via \(report.backend)"
            #expect(report.handshake?.completed == true, "\(where_): \(report.findings)")
            #expect(report.findings.isEmpty, "\(where_): \(report.findings)")
            #expect(report.severity == .ok, "\(where_)")
            #expect(
                report.transcript.contains { $0.hasPrefix("S: ") && $0.contains("responseName \(oid)") },
                "\(where_): the other OID is on the wire: \(report.transcript)"
            )
        }
    }
}
