import Foundation
import MimicCerts
import MimicCore
import MimicNet
import MimicTLS
import MimicTestSupport
import Testing

/// The interop tier for `--enumerate`: a private nginx from Debian configured with legacy versions and a NULL suite
/// after AES, server order on — what a config change left behind. Both backends must find what it accepts.
@Suite(
    "Enumeration against a real nginx", .serialized,
    .enabled(if: RealServers.enabled, "MIMIC_SKIP_INTEROP=1 skips the interop tier"), .timeLimit(.minutes(5)))
struct EnumerationRealServerTests {
    @Test("nginx with TLS 1.0-1.2, AES then NULL, server order: legacyVersion and weakCipher through both backends")
    func legacyNginx() async throws {
        let nginx = "/usr/sbin/nginx"
        guard FileManager.default.isExecutableFile(atPath: nginx) else {
            Issue.record("nginx is not installed: Tests/Interop/install.sh installs it")
            return
        }
        let directory = try Self.privateDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let minted = try RealServers.factory.mint(profile: "rsa2048-good")
        let certificates = directory.appendingPathComponent("certs")
        try minted.write(to: certificates)
        // nginx reads its certificate and key as root (the master) when it loads the configuration: the folder
        // stays private.
        _ = chmod(directory.path, 0o700)
        let port = 24_650 + Int(getpid() % 200)
        let config = directory.appendingPathComponent("nginx.conf")
        try """
        daemon on;
        worker_processes 1;
        pid \(directory.path)/nginx.pid;
        error_log \(directory.path)/error.log info;
        events { worker_connections 64; }
        http {
            access_log \(directory.path)/access.log;
            client_body_temp_path \(directory.path)/body;
            proxy_temp_path \(directory.path)/proxy;
            fastcgi_temp_path \(directory.path)/fastcgi;
            uwsgi_temp_path \(directory.path)/uwsgi;
            scgi_temp_path \(directory.path)/scgi;
            server {
                listen 127.0.0.1:\(port) ssl;
                server_name mail.example.test;
                ssl_certificate \(certificates.path)/chain.pem;
                ssl_certificate_key \(certificates.path)/leaf.key;
                ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
                ssl_ciphers "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:NULL-SHA:@SECLEVEL=0";
                ssl_prefer_server_ciphers on;
                return 200 "mimic enumeration\\n";
            }
        }
        """.write(to: config, atomically: true, encoding: .utf8)
        // Through Python's subprocess, which closes every descriptor but 0-2 in the child: a daemon spawned straight
        // from the test process would keep the other tests' listening sockets open (and their ports taken).
        let start = try Subprocess.run(
            "/usr/bin/python3",
            [
                "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:], close_fds=True))", nginx, "-p",
                directory.path + "/", "-e", directory.path + "/error.log", "-c", config.path,
            ], timeout: 30)
        #expect(start.status == 0, "nginx did not start: \(start.stderr)")
        guard start.status == 0 else { return }
        defer { Self.stop(pidFile: directory.path + "/nginx.pid") }
        let anchors = minted.anchors
        let target = ProbeTarget(
            host: "127.0.0.1", port: port, serviceProtocol: .https, mode: .implicit, serverName: "mail.example.test")
        // With `daemon on`, nginx binds its listeners before the command returns: the port answers now.
        let enumeration = await Enumerator(concurrency: 4).enumerate(
            target, options: ProbeOptions(trustAnchors: anchors, deadlines: ProbeDeadlines(timeout: 10)))
        #expect(enumeration.complete, "\(enumeration.notes)")
        for backend in TLSBackend.allCases {
            let report = try #require(enumeration.report(for: backend))
            #expect(report.acceptedVersions == [.tls1_0, .tls1_1, .tls1_2], "\(backend)")
            #expect(
                Set(report.findings.map(\.code)) == [.legacyVersion, .weakCipher], "\(backend): \(report.findings)")
            #expect(report.serverOrder == true, "\(backend)")
            let tls12 = report.versions.first { $0.version == .tls1_2 }
            #expect(
                Set(tls12?.acceptedSuites.map(\.code) ?? []) == ["0xC02F", "0xC013", "0x0002"],
                "\(backend): \(tls12?.acceptedSuites.map(\.name) ?? [])")
        }
    }

    @Test("postfix left with TLS 1.0 and 1.1 on: every offer speaks SMTP first, and both backends find legacyVersion")
    func legacyPostfix() async throws {
        try InteropServers.install()
        let directory = try Self.privateDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The servers' own unprivileged users must reach the files.
        _ = chmod(directory.path, 0o755)
        let certificates = directory.appendingPathComponent("certs")
        let minted = try RealServers.factory.mint(profile: "rsa2048-good")
        try minted.write(to: certificates)
        _ = chmod(certificates.path, 0o755)
        let servers = try InteropServers.start(
            certificates: certificates, run: directory.appendingPathComponent("run"), basePort: 27_500,
            environment: [
                "MIMIC_POSTFIX_EXTRA": """
                smtpd_tls_protocols = >=TLSv1
                smtpd_tls_ciphers = medium
                tls_medium_cipherlist = ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:AES128-SHA:@SECLEVEL=0
                tls_preempt_cipherlist = yes
                """
            ])
        defer {
            if let failure = servers.stop() { Issue.record(Comment(rawValue: failure)) }
        }
        let service = try #require(servers.services.first { $0.serviceProtocol == "smtp" && $0.mode == "starttls" })
        let target = ProbeTarget(
            host: "127.0.0.1", port: service.port, serviceProtocol: .smtp, mode: .startTLS,
            serverName: "mail.example.test")
        let enumeration = await Enumerator(concurrency: 4).enumerate(
            target, options: ProbeOptions(trustAnchors: minted.anchors, deadlines: ProbeDeadlines(timeout: 10)))
        #expect(enumeration.complete, "\(enumeration.notes)")
        for backend in TLSBackend.allCases {
            let report = try #require(enumeration.report(for: backend))
            #expect(report.acceptedVersions.contains(.tls1_0) && report.acceptedVersions.contains(.tls1_1), "\(backend)")
            #expect(report.findings.map(\.code).contains(.legacyVersion), "\(backend): \(report.findings)")
            // AES128-SHA: static RSA key exchange, accepted beside the ECDHE suites.
            let accepted = Set(report.acceptedSuites.map(\.code))
            #expect(accepted.isSuperset(of: ["0xC02F", "0xC013", "0x002F"]), "\(backend): \(accepted.sorted())")
            #expect(report.serverOrder == true, "\(backend)")
        }
    }

    /// Stops only the nginx this test started, by its pid file, and waits (at most 10 s) for it to be gone, so that
    /// its folder is removed after it.
    static func stop(pidFile: String) {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1
        else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(20_000) }
    }

    static func privateDirectory() throws -> URL {
        var template = Array((NSTemporaryDirectory() + "mimic-enum-nginx-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw InteropServers.Failure("mkdtemp failed") }
        return URL(fileURLWithPath: String(cString: made))
    }
}
