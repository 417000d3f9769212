import Foundation
import MimicScenarios
import MimicTestSupport
import Testing

/// `mimic probe` refuses what is not a probe target before anything is looked up or connected to: the built
/// executable, its message and exit 3 (Nagios UNKNOWN, the probe's usage error).
@Suite("mimic probe: bad targets")
struct ProbeCommandTests {
    @Test(
        "bad targets: a clear message and exit 3, without a lookup",
        arguments: [
            (["smtp://user:secret@mail.example.test"], "user information"),
            (["imaps://mail.example.test/INBOX"], "a path ('/INBOX') is not allowed"),
            (["https://mail.example.test?x=1"], "a query"),
            (["https://mail.example.test#top"], "a fragment"),
            (["smtp://%00"], "'%' is not allowed"),
            (["smtp://999.999.999.999"], "not a valid IPv4 address"),
            (["smtp://a..b"], "empty label"),
            (["smtp://a b"], "space is not allowed"),
            (["smtp://127.0.0.1", "--servername", String(repeating: "x", count: 300)], "at most 253"),
        ])
    func badTarget(arguments: [String], message: String) throws {
        let run = try Subprocess.run(Fixtures.mimicExecutable.path, ["probe"] + arguments, timeout: 30)
        #expect(!run.timedOut)
        #expect(run.status == 3, "exit \(run.status): \(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(!run.stderr.contains("secret"), "the password is not repeated")
        #expect(!run.stdout.contains("refused"), "no probe ran: \(run.stdout)")
    }

    @Test(
        "a CA file that cannot be used: its message and exit 3, every time (the OpenSSL warm-up thread is joined first)",
        arguments: [
            ("/dev/zero", "is a character device"), ("/nonexistent/ca.pem", "no such file"), ("/tmp", "is a directory"),
        ])
    func badCAFile(path: String, message: String) throws {
        // exit(3) while another thread was still inside OpenSSL's initialisation crashed in OpenSSL's clean-up,
        // about one run in three: each case runs ten times.
        for _ in 0..<10 {
            let run = try Subprocess.run(
                Fixtures.mimicExecutable.path,
                ["probe", "smtp://127.0.0.1:1", "--mode", "starttls", "--ca-file", path], timeout: 30)
            #expect(!run.timedOut)
            #expect(run.status == 3, "exit \(run.status): \(run.stderr)")
            #expect(run.stderr.contains("--ca-file \(path): \(message)"), "\(run.stderr)")
        }
    }

    @Test("a certificate file that is a device says so (library API)")
    func deviceIsNoCertificateFile() {
        for (path, what) in [("/dev/zero", "a character device"), ("/tmp", "a directory")] {
            do {
                _ = try PEMFile.certificates(at: path, role: "--chain")
                Issue.record("\(path) read as certificates")
            } catch {
                #expect(
                    error.description
                        == "--chain \(path): is \(what), not a regular file; give a PEM file of certificates")
            }
        }
    }
}
