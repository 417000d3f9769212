import Dispatch
import Foundation
import MimicCerts
import MimicCore
import MimicNet
import MimicTLS
import MimicTestSupport
import Testing

/// The mocks against clients that are not Mimic's: `openssl s_client`, `gnutls-cli`, curl and Python's
/// smtplib/imaplib/poplib/ftplib/http.client. Every protocol and mode, served by both TLS libraries: the good
/// chain must satisfy each client, an expired leaf and a wrong host must fail each one's verification.
@Suite("Real clients against the mocks", .timeLimit(.minutes(5)))
struct RealClientTests {
    /// What a client must say for each profile: success, or a verification failure in its own words.
    static let profiles: [(name: String, openssl: String, gnutls: String, curl: [String], python: String)] = [
        ("good", "", "", [], ""),
        ("expired-leaf", "certificate has expired", "expired", ["certificate has expired"], "certificate has expired"),
        (
            "wrong-host", "hostname mismatch", "does not match",
            ["no alternative certificate subject name matches", "does not match"], "Hostname mismatch"
        ),
    ]

    @Test("every client, protocol, mode and server backend", arguments: 0..<profiles.count)
    func clients(profileIndex: Int) async throws {
        let profile = Self.profiles[profileIndex]
        let chain = try MockSupport.chain(profile.name)
        let directory = Scratch.folder("mimic-mock-clients-\(profile.name)-")
        try chain.write(to: directory)
        try Self.pythonClient.write(
            to: directory.appendingPathComponent("client.py"),
            atomically: true,
            encoding: .utf8
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        let caFile = directory.appendingPathComponent("ca.pem").path
        let good = profile.name == "good"

        for backend in TLSBackend.allCases {
            for (serviceProtocol, mode) in MockSupport.protocolModes {
                let server = try await MockSupport.start(serviceProtocol, mode, backend: backend, profile: profile.name)
                let port = server.port
                let where_ = "\(serviceProtocol)/\(mode) served by \(backend) with \(profile.name)"
                let runs = try await Self.offPool {
                    try Self.runClients(serviceProtocol, mode, port: port, caFile: caFile, directory: directory)
                }
                await server.stop()
                #expect(runs.count == (serviceProtocol == .ldap ? (mode == .implicit ? 3 : 2) : 4), "\(where_)")
                for run in runs {
                    let said =
                        "\(where_), \(run.client): status \(run.result.status)\n\(run.result.stdout)\(run.result.stderr)"
                    #expect(!run.result.timedOut, "\(said)")
                    let output = run.result.stdout + run.result.stderr
                    if good {
                        #expect(run.result.status == 0, "\(said)")
                        continue
                    }
                    #expect(run.result.status != 0, "\(said)")
                    switch run.client {
                    case "openssl": #expect(output.contains(profile.openssl), "\(said)")
                    case "gnutls-cli": #expect(output.contains(profile.gnutls), "\(said)")
                    case "curl":
                        #expect(run.result.status == 60, "\(said)")
                        #expect(profile.curl.contains(where: output.contains), "\(said)")
                    default:
                        #expect(run.result.status == 3 && output.contains(profile.python), "\(said)")
                    }
                }
            }
        }
    }

    struct Run: Sendable {
        var client: String
        var result: Subprocess.Result
    }

    /// Every client that speaks this protocol in this mode, one after the other.
    static func runClients(
        _ serviceProtocol: ServiceProtocol,
        _ mode: TLSMode,
        port: Int,
        caFile: String,
        directory: URL
    ) throws -> [Run] {
        let host = "mail.example.test"
        let starttls = mode == .startTLS
        var runs: [Run] = []

        var openssl = [
            "s_client", "-connect", "127.0.0.1:\(port)", "-servername", host, "-verify_hostname", host,
            "-verify_return_error", "-CAfile", caFile, "-brief",
        ]
        if starttls { openssl += ["-starttls", serviceProtocol.rawValue] }
        runs.append(Run(client: "openssl", result: try Subprocess.run("/usr/bin/openssl", openssl, timeout: 20)))

        var gnutls = [
            "--x509cafile", caFile, "--port", "\(port)", "--sni-hostname", host, "--verify-hostname", host,
        ]
        if starttls { gnutls.append("--starttls-proto=\(serviceProtocol.rawValue)") }
        gnutls.append("127.0.0.1")
        runs.append(Run(client: "gnutls-cli", result: try Subprocess.run("/usr/bin/gnutls-cli", gnutls, timeout: 20)))

        // curl's ldap:// with --ssl-reqd asks libldap for TLS from the first byte, not for StartTLS: no client.
        if let url = curlURL(serviceProtocol, mode, port: port) {
            var curl = [
                "-sS", "--max-time", "10", "--cacert", caFile, "--resolve", "\(host):\(port):127.0.0.1", url,
            ]
            if starttls { curl.append("--ssl-reqd") }
            // Without recipients curl sends HELP, which the mock (like Postfix) answers 502.
            if serviceProtocol == .smtp { curl += ["-X", "NOOP"] }
            runs.append(Run(client: "curl", result: try Subprocess.run("/usr/bin/curl", curl, timeout: 20)))
        }

        if serviceProtocol != .ldap {
            let script = directory.appendingPathComponent("client.py").path
            let python = try Subprocess.run(
                "/usr/bin/env",
                ["python3", script, serviceProtocol.rawValue, mode.rawValue, "\(port)", caFile],
                timeout: 30
            )
            runs.append(Run(client: "python", result: python))
        }
        return runs
    }

    static func curlURL(_ serviceProtocol: ServiceProtocol, _ mode: TLSMode, port: Int) -> String? {
        let scheme: String
        switch (serviceProtocol, mode) {
        case (.ldap, .startTLS): return nil
        case (.https, _): scheme = "https"
        case (_, .implicit): scheme = serviceProtocol.rawValue + "s"
        default: scheme = serviceProtocol.rawValue
        }
        return "\(scheme)://mail.example.test:\(port)/"
    }

    /// Runs blocking work on a dispatch thread, off the Swift concurrency pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Python's own clients, each through its standard library module; `mail.example.test` is sent to
    /// 127.0.0.1 so that the certificate is checked against the name. Exit 3 on a verification failure.
    static let pythonClient = #"""
        import socket, ssl, sys
        proto, mode, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
        HOST = "mail.example.test"
        _connect = socket.create_connection
        def _to_loopback(address, *args, **kwargs):
            host, p = address[0], address[1]
            return _connect(("127.0.0.1" if host == HOST else host, p), *args, **kwargs)
        socket.create_connection = _to_loopback
        ctx = ssl.create_default_context(cafile=cafile)
        try:
            if proto == "smtp":
                import smtplib
                if mode == "implicit":
                    s = smtplib.SMTP_SSL(HOST, port, context=ctx, timeout=10)
                else:
                    s = smtplib.SMTP(HOST, port, timeout=10)
                    s.starttls(context=ctx)
                code, _ = s.ehlo()
                assert code == 250, code
                s.noop()
                s.quit()
            elif proto == "imap":
                import imaplib
                if mode == "implicit":
                    s = imaplib.IMAP4_SSL(HOST, port, ssl_context=ctx, timeout=10)
                else:
                    s = imaplib.IMAP4(HOST, port, timeout=10)
                    s.starttls(ssl_context=ctx)
                typ, _ = s.capability()
                assert typ == "OK", typ
                s.logout()
            elif proto == "pop3":
                import poplib
                if mode == "implicit":
                    s = poplib.POP3_SSL(HOST, port, context=ctx, timeout=10)
                else:
                    s = poplib.POP3(HOST, port, timeout=10)
                    s.stls(context=ctx)
                s.capa()
                s.quit()
            elif proto == "ftp":
                import ftplib
                class ImplicitFTP_TLS(ftplib.FTP_TLS):
                    # ftplib speaks AUTH TLS only; implicit FTPS wraps the control socket at once.
                    def connect(self, host, port, timeout):
                        self.host, self.port, self.timeout = host, port, timeout
                        raw = socket.create_connection((host, port), timeout)
                        self.sock = self.context.wrap_socket(raw, server_hostname=host)
                        self.af = self.sock.family
                        self.file = self.sock.makefile("r", encoding=self.encoding)
                        self.welcome = self.getresp()
                        return self.welcome
                s = (ImplicitFTP_TLS if mode == "implicit" else ftplib.FTP_TLS)(context=ctx, timeout=10)
                s.connect(HOST, port, 10)
                if mode != "implicit":
                    s.auth()
                s.login()
                s.prot_p()
                lines = []
                s.retrlines("LIST", lines.append)
                assert any("README" in line for line in lines), lines
                s.quit()
            elif proto == "https":
                import http.client
                c = http.client.HTTPSConnection(HOST, port, context=ctx, timeout=10)
                c.request("GET", "/")
                r = c.getresponse()
                assert r.status == 200, r.status
                r.read()
            print("OK")
        except ssl.SSLCertVerificationError as e:
            print("VERIFY-FAILED:", e.verify_message)
            sys.exit(3)
        """#
}
