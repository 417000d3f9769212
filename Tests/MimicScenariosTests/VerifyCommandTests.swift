import Foundation
import MimicCerts
import MimicCore
import MimicTestSupport
import Testing

/// `mimic verify` as a person runs it: the built executable on minted files, its output and its exit status.
@Suite("mimic verify")
struct VerifyCommandTests {
    static func run(_ arguments: [String]) throws -> Subprocess.Result {
        let result = try Subprocess.run(Fixtures.mimicExecutable.path, arguments, timeout: 30)
        if result.timedOut { Issue.record("mimic \(arguments) did not finish in 30 s") }
        return result
    }

    static let outDirectory = Scratch.folder("mimic-verify-tests-")

    static func minted(_ profile: String) throws -> URL {
        let folder = outDirectory.appendingPathComponent(profile)
        try Fixtures.factory.mint(profile: profile).write(to: folder)
        return folder
    }

    /// GnuTLS's constructor is told to stay idle (`_gnutls_global_init_skip`): a run that never touches GnuTLS does
    /// not initialise it, and one that does initialises it first. With `GNUTLS_DEBUG_LEVEL` set, GnuTLS announces
    /// its initialisation on stderr, which tells the two apart.
    @Test("GnuTLS is initialised by the runs that use it, not by every start")
    func gnutlsInitialisedOnUse() throws {
        let announce = ["GNUTLS_DEBUG_LEVEL": "2"]
        let version = try Subprocess.run(
            Fixtures.mimicExecutable.path, ["--version"], timeout: 30, environment: announce)
        #expect(version.status == 0)
        #expect(!version.stderr.contains("gnutls["), "initialised at start: \(version.stderr)")
        let folder = try Self.minted("rsa2048-good")
        let verify = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            [
                "verify", "--chain", folder.appendingPathComponent("chain.pem").path,
                "--ca", folder.appendingPathComponent("ca.pem").path, "--host", "mail.example.test",
            ], timeout: 30, environment: announce)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stderr.contains("gnutls["), "no initialisation announced: \(verify.stderr)")
    }

    @Test("prints the verdicts the profile expects, for every profile", arguments: ProfileMatrixTests.profileNames)
    func everyProfile(name: String) throws {
        let folder = try Self.minted(name)
        let profile = try ChainProfile.load(named: name, in: Fixtures.profiles)
        let run = try Self.run([
            "verify", "--chain", folder.appendingPathComponent("chain.pem").path,
            "--ca", folder.appendingPathComponent("ca.pem").path, "--host", profile.hostname, "--format", "json",
        ])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let backends = try #require(json["backends"] as? [[String: Any]])
        #expect(backends.count == 2)
        var anyRejected = false
        for backend in backends {
            let name = try #require(backend["backend"] as? String)
            let library = try #require(TLSBackend(rawValue: name))
            let findings = try #require(backend["findings"] as? [[String: Any]])
            let codes = Set(findings.compactMap { $0["code"] as? String })
            #expect(
                codes == Set(profile.expectedFindings(for: library).map(\.rawValue)),
                "\(profile.name) \(library): \(codes)")
            let verification = try #require(backend["verification"] as? [String: Any])
            if verification["accepted"] as? Bool == false { anyRejected = true }
        }
        #expect(run.status == (anyRejected ? 2 : 0), "\(profile.name): exit \(run.status)")
    }

    @Test("text output shows both libraries side by side and the result line")
    func text() throws {
        let folder = try Self.minted("expired-leaf")
        let run = try Self.run([
            "verify", "--chain", folder.appendingPathComponent("chain.pem").path,
            "--ca", folder.appendingPathComponent("ca.pem").path, "--host", "mail.example.test",
        ])
        #expect(run.status == 2)
        #expect(run.stdout.contains("X509_V_ERR_CERT_HAS_EXPIRED@0"))
        #expect(run.stdout.contains("GNUTLS_CERT_EXPIRED"))
        // The leaf expired three days ago (and a few seconds): the chain and the facts count it alike.
        let phrases = run.stdout.components(separatedBy: "expired ").dropFirst().compactMap { rest in
            rest.hasPrefix("3 day(s) ago") || rest.contains("day(s) ago") ? String(rest.prefix(12)) : nil
        }
        #expect(phrases.count >= 2, "\(run.stdout)")
        #expect(Set(phrases) == ["3 day(s) ago"], "\(run.stdout)")
        #expect(run.stdout.contains("Result: CRITICAL"))
    }

    @Test("--at moves the clock: an expired leaf verifies at a time it was valid")
    func at() throws {
        let folder = try Self.minted("expired-leaf")
        let run = try Self.run([
            "verify", "--chain", folder.appendingPathComponent("chain.pem").path,
            "--ca", folder.appendingPathComponent("ca.pem").path, "--host", "mail.example.test", "--at=-5d",
        ])
        #expect(run.status == 0, "\(run.stdout)")
    }

    @Test("--backend gnutls asks one library only")
    func oneBackend() throws {
        let folder = try Self.minted("good")
        let run = try Self.run([
            "verify", "--chain", folder.appendingPathComponent("chain.pem").path,
            "--ca", folder.appendingPathComponent("ca.pem").path, "--backend", "gnutls", "--format", "json",
        ])
        #expect(run.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        #expect((json?["backends"] as? [Any])?.count == 1)
    }

    @Test(
        "bad input: a clear message and exit 3, no trace",
        arguments: [
            (["verify", "--chain", "/nonexistent/chain.pem", "--ca", "/nonexistent/ca.pem"], "no such file"),
            (["verify", "--chain", "/etc/hostname", "--ca", "/etc/hostname"], "no CERTIFICATE block"),
            (["verify", "--chain", "/etc/hostname"], "--ca"),
            // Root may open anything; a device is still no certificate file, and /dev/zero never ends.
            (["verify", "--chain", "/dev/zero", "--ca", "/etc/hostname"], "is a character device, not a regular file"),
            (["verify", "--chain", "/dev/null", "--ca", "/etc/hostname"], "--chain /dev/null: is a character device"),
            (["verify", "--chain", "/tmp", "--ca", "/etc/hostname"], "is a directory, not a regular file"),
            (["verify", "--chain", "a", "--ca", "b", "--backend", "schannel"], "schannel"),
            (["verify", "--chain", "a", "--ca", "b", "--at", "yesterday-ish"], "cannot read 'yesterday-ish'"),
        ])
    func badInput(arguments: [String], message: String) throws {
        let run = try Self.run(arguments)
        #expect(run.status == 3, "exit \(run.status): \(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("Stack dump"))
    }
}
