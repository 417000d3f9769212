import Foundation
import MimicCore
import MimicNet
import Testing

/// The probe reaches IPv6 as well as IPv4: a mock bound to ::1 probed by address, and a mock probed by name and by
/// address literal (which the probe connects to without a resolver).
@Suite("Probe over IPv6")
struct ProbeIPv6Tests {
    @Test("a mock on [::1] is probed through both backends, implicit and STARTTLS")
    func loopbackIPv6() async throws {
        for mode in [TLSMode.implicit, .startTLS] {
            let server = try await MockSupport.start(.imap, mode) { $0.host = "::1" }
            defer { Task { await server.stop() } }
            let reports = try await MockSupport.probe(server)
            #expect(server.host == "::1")
            #expect(reports.count == 2)
            for report in reports {
                #expect(report.handshake?.completed == true, "\(mode) \(report.backend): \(report.findings)")
                #expect(report.findings.isEmpty, "\(mode) \(report.backend): \(report.findings)")
            }
        }
    }

    @Test("a target named by a host name is resolved, and one named by an address literal is reached directly")
    func nameAndLiteral() async throws {
        // An address literal skips NIO's resolver (connected to as it is); a name still goes through it. Both must
        // reach the same mock and judge it alike.
        let server = try await MockSupport.start(.smtp, .startTLS)
        defer { Task { await server.stop() } }
        let chain = try MockSupport.chain("good")
        for host in ["localhost", "127.0.0.1"] {
            let target = ProbeTarget(
                host: host, port: server.port, serviceProtocol: .smtp, mode: .startTLS, serverName: chain.hostname)
            let options = ProbeOptions(trustAnchors: chain.anchors, deadlines: ProbeDeadlines(timeout: 5))
            for report in await Prober().probe(target, options: options) {
                #expect(report.handshake?.completed == true, "\(host) \(report.backend): \(report.findings)")
                #expect(report.findings.isEmpty, "\(host) \(report.backend): \(report.findings)")
            }
        }
    }

    @Test("a probe of an address nothing listens on is refused, fast, with the address in the evidence")
    func refused() async throws {
        // A socket bound but not listening holds the port for this test (a freed port could be taken by another
        // test's server meanwhile), and the kernel refuses connections to it.
        let descriptor = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        #expect(bound == 0)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin6_port))
        let target = ProbeTarget(host: "::1", port: port, serviceProtocol: .smtp, mode: .implicit)
        let reports = await Prober().probe(target, options: ProbeOptions(deadlines: ProbeDeadlines(timeout: 3)))
        for report in reports {
            #expect(report.findings.map(\.code) == [.refused], "\(report.findings)")
            #expect(report.severity == .unknown)
            #expect(report.findings.first?.evidence.contains("::1") == true)
        }
    }
}
