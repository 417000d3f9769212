import Foundation
import MimicCerts
import MimicCore
import MimicNet
import MimicTLS
import MimicTestSupport
import Testing

/// The interop tier: the probe against REAL servers from Debian (postfix, dovecot, vsftpd, slapd, nginx) on
/// loopback high ports, each serving a chain from the certificate factory, through both TLS backends.
///
/// `MIMIC_SKIP_INTEROP=1` skips this tier explicitly (and says so); nothing else skips it. When the servers
/// cannot be installed or started, the tests fail with the script's own words.
@Suite("Real servers", .serialized, .enabled(if: RealServers.enabled, "MIMIC_SKIP_INTEROP=1 skips the interop tier"))
struct RealServerTests {
    /// The chains the tier serves, each with the verdict both backends must reach on every service.
    static let chains: [(profile: String, expected: Set<FindingCode>)] = [
        ("good", []),
        ("expired-leaf", [.expired]),
        ("missing-intermediate", [.incompleteChain]),
        ("wrong-host", [.hostnameMismatch]),
    ]

    @Test("every server, both modes, both backends: the verdict the chain deserves", arguments: 0..<chains.count)
    func chain(index: Int) async throws {
        let (profile, expected) = Self.chains[index]
        let servers = try RealServers.start(profile: profile, basePort: 23_000 + index * 100)
        defer { servers.stop() }
        #expect(servers.services.count == 11, "services: \(servers.services)")

        let options = ProbeOptions(trustAnchors: servers.minted.anchors, deadlines: ProbeDeadlines(timeout: 10))
        let targets = servers.services.map { service in
            ProbeTarget(
                host: "127.0.0.1", port: service.port, serviceProtocol: service.serviceProtocol, mode: service.mode,
                serverName: servers.minted.hostname)
        }
        let results = await Prober().probe(targets, options: options, concurrency: 4)
        for (target, reports) in zip(targets, results) {
            #expect(reports.map(\.backend) == [.openssl, .gnutls])
            for report in reports {
                let where_ = "\(profile) \(target) via \(report.backend)"
                let handshake = try #require(report.handshake, "\(where_): no handshake; \(report.findings)")
                #expect(handshake.completed, "\(where_): \(report.findings)")
                #expect(Set(report.verdict.codes) == expected, "\(where_): \(report.findings)")
                #expect(handshake.peerChain.count == servers.minted.served.count, "\(where_): chain as served")
                #expect(report.dialog != nil, "\(where_): the dialog ran to its end")
                if target.serviceProtocol == .ftp {
                    // vsftpd requires the data channel to resume the control channel's session.
                    let data = try #require(report.dataChannel, "\(where_): no data channel")
                    #expect(data.completed && data.sessionResumed, "\(where_): data channel \(data)")
                    #expect(report.dialog?.dataChannelReply?.hasPrefix("226") == true, "\(where_): LIST")
                }
                if target.mode == .startTLS && target.serviceProtocol != .ldap {
                    // LDAP servers do not advertise StartTLS before it is asked for (only in the RootDSE).
                    #expect(report.dialog?.upgradeAdvertised == true, "\(where_)")
                }
            }
        }
    }

    @Test(
        "the probe's verdict on a mock equals its verdict on the real server, chain for chain",
        arguments: 0..<chains.count)
    func mockAgreesWithRealServer(index: Int) async throws {
        let (profile, _) = Self.chains[index]
        let servers = try RealServers.start(profile: profile, basePort: 23_600 + index * 100)
        defer { servers.stop() }
        let options = ProbeOptions(trustAnchors: servers.minted.anchors, deadlines: ProbeDeadlines(timeout: 10))
        let serverTLS = MimicTLSConfiguration(
            role: .server, certificateChain: servers.minted.served, privateKey: .pem(servers.minted.leafKeyPEM))
        for service in servers.services {
            let real = ProbeTarget(
                host: "127.0.0.1", port: service.port, serviceProtocol: service.serviceProtocol, mode: service.mode,
                serverName: servers.minted.hostname)
            let mock = try await MockServer.start(
                MockServerConfiguration(serviceProtocol: service.serviceProtocol, mode: service.mode, tls: serverTLS))
            var imitation = real
            imitation.port = mock.port
            let realReports = await Prober().probe(real, options: options)
            let mockReports = await Prober().probe(imitation, options: options)
            await mock.stop()
            for (fromReal, fromMock) in zip(realReports, mockReports) {
                let realCodes = Set(fromReal.verdict.codes)
                let mockCodes = Set(fromMock.verdict.codes)
                #expect(
                    realCodes == mockCodes,
                    "\(profile) \(service.serviceProtocol) \(service.mode) via \(fromReal.backend): real \(fromReal.findings), mock \(fromMock.findings)"
                )
            }
        }
    }

    @Test("mimic probe prints what the tests assert, in text, json and nagios")
    func commandLine() async throws {
        let servers = try RealServers.start(profile: "expired-leaf", basePort: 23_500)
        defer { servers.stop() }
        let caFile = servers.certificates.appendingPathComponent("ca.pem").path
        let urls = servers.services.map { service -> String in
            "\(service.serviceProtocol)://127.0.0.1:\(service.port)"
        }
        for (url, service) in zip(urls, servers.services) {
            let common = [
                "probe", url, "--mode", service.mode.rawValue, "--servername", "mail.example.test", "--ca-file", caFile,
            ]
            let nagios = try Command.run(common + ["--format", "nagios"])
            #expect(nagios.status == 2, "\(url): \(nagios.stdout)\(nagios.stderr)")
            #expect(nagios.stdout.hasPrefix("MIMIC CRITICAL - "), "\(url): \(nagios.stdout)")
            #expect(nagios.stdout.contains("expired [openssl,gnutls]"), "\(url): \(nagios.stdout)")
            #expect(nagios.stdout.contains("days_left=-"), "\(url): \(nagios.stdout)")

            let json = try Command.run(common + ["--format", "json"])
            #expect(json.status == 2)
            let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
            let reports = try #require(decoded?.first?["reports"] as? [[String: Any]], "\(url): \(json.stdout)")
            #expect(reports.count == 2)
            for report in reports {
                let findings = report["findings"] as? [[String: Any]] ?? []
                #expect(Set(findings.compactMap { $0["code"] as? String }) == ["expired"], "\(url): \(findings)")
                let handshake = report["handshake"] as? [String: Any]
                #expect(handshake?["completed"] as? Bool == true)
            }

            let text = try Command.run(common)
            #expect(text.status == 2)
            #expect(text.stdout.contains("X509_V_ERR_CERT_HAS_EXPIRED@0"), "\(url)")
            #expect(text.stdout.contains("GNUTLS_CERT_EXPIRED"), "\(url)")
            #expect(text.stdout.contains("Result: CRITICAL"), "\(url)")
        }
    }
}

/// The interop tier's servers serving a chain profile minted by the factory.
struct RealServers {
    struct Service: Sendable {
        var serviceProtocol: ServiceProtocol
        var port: Int
        var mode: TLSMode
    }

    static var enabled: Bool { InteropServers.enabled }
    static let repository = InteropServers.repository
    static let factory = CertificateFactory(
        home: Scratch.cache("mimic-interop-tests-home"),
        profiles: repository.appendingPathComponent("certs/profiles"))

    let minted: MintedChain
    let certificates: URL
    let servers: InteropServers
    let services: [Service]

    static func start(profile: String, basePort: Int) throws -> RealServers {
        try InteropServers.install()
        // A new folder (mkdtemp: never a path planted beforehand), opened up afterwards: the servers' own
        // unprivileged users must reach the files.
        let base = Scratch.folder("mimic-interop-\(profile)-")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: base.path)
        let certificates = base.appendingPathComponent("certs")
        let minted = try factory.mint(profile: profile)
        try minted.write(to: certificates)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: certificates.path)
        let servers = try InteropServers.start(
            certificates: certificates, run: base.appendingPathComponent("run"), basePort: basePort)
        let services = servers.services.compactMap { service -> Service? in
            guard let serviceProtocol = ServiceProtocol(rawValue: service.serviceProtocol),
                let mode = TLSMode(rawValue: service.mode)
            else { return nil }
            return Service(serviceProtocol: serviceProtocol, port: service.port, mode: mode)
        }
        return RealServers(minted: minted, certificates: certificates, servers: servers, services: services)
    }

    /// Stops the servers and removes their folder (certificates, configuration, logs).
    func stop() {
        if let failure = servers.stop() { Issue.record(Comment(rawValue: failure)) }
        try? FileManager.default.removeItem(at: certificates.deletingLastPathComponent())
    }
}

/// Runs `mimic` and the interop scripts with deadlines.
enum Command {
    /// The `mimic` executable built beside the tests.
    static var mimic: URL {
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("mimic")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return InteropServers.repository.appendingPathComponent(".build/debug/mimic")
    }

    static func run(_ arguments: [String], timeout: Double = 60) throws -> Subprocess.Result {
        try Subprocess.run(mimic.path, arguments, timeout: timeout)
    }

    static func shell(_ program: String, _ arguments: [String], timeout: Double) throws -> Subprocess.Result {
        try Subprocess.run(program, arguments, timeout: timeout)
    }
}
