import ArgumentParser
import Foundation
import Testing

@testable import mimic

/// `mimic probe` reads its ordinary command lines without Argument Parser (`ProbeInvocation.quick`): the two
/// must know the same options, and whatever the quick reader accepts, Argument Parser must parse (and validate)
/// to the same invocation. Everything else is Argument Parser's to read and explain.
@Suite("mimic probe: the quick reader agrees with Argument Parser")
struct QuickProbeParsingTests {
    /// Argument Parser's own account of `ProbeCommand`: long names of options and of flags.
    static func declared() throws -> (options: Set<String>, flags: Set<String>) {
        struct Dump: Decodable {
            struct Command: Decodable { let arguments: [Argument] }
            struct Argument: Decodable {
                struct Name: Decodable { let kind: String, name: String }
                let kind: String
                let names: [Name]?
            }
            let command: Command
        }
        let dump = try JSONDecoder().decode(Dump.self, from: Data(ProbeCommand._dumpHelp().utf8))
        var options: Set<String> = []
        var flags: Set<String> = []
        for argument in dump.command.arguments {
            let longNames = (argument.names ?? []).filter { $0.kind == "long" }.map(\.name)
            switch argument.kind {
            case "option": options.formUnion(longNames)
            case "flag": flags.formUnion(longNames)
            default: continue
            }
        }
        // Argument Parser's own flags are its to handle.
        flags.subtract(["help", "version"])
        return (options, flags)
    }

    @Test("the same option and flag names as ProbeCommand declares")
    func sameNames() throws {
        let declared = try Self.declared()
        #expect(Set(ProbeInvocation.valueOptions.keys) == declared.options)
        #expect(Set(ProbeInvocation.flags.keys) == declared.flags)
    }

    static let target = "submission://127.0.0.1"

    /// Command lines a monitor or the benchmark writes: the quick reader must take every one.
    static var ordinary: [[String]] {
        var lines: [[String]] = [
            [target],
            [target, "imaps://127.0.0.1:993", "ldap://[::1]"],
            [
                "smtp://127.0.0.1:2525", "--mode", "starttls", "--servername", "mail.example.test", "--ca-file",
                "/tmp/ca.pem", "--backend", "both", "--format", "nagios", "--timeout", "10",
            ],
            ["--format=json", target, "--warn-days=40", "--crit-days", "10", "--enumerate"],
            [target, "--starttls-anyway", "--policy", "strict", "--ehlo", "monitor.example.test"],
            [target, "--concurrency", "3", "--enumerate-concurrency=2", "--timeout", "0.5"],
        ]
        let samples: [String: String] = [
            "mode": "implicit", "backend": "gnutls", "servername": "mail.example.test", "ca-file": "ca.pem",
            "warn-days": "45", "crit-days": "0", "timeout": "2.5", "ehlo": "probe.example.test", "policy": "strict",
            "format": "text", "concurrency": "256", "enumerate-concurrency": "64",
        ]
        for name in ProbeInvocation.valueOptions.keys.sorted() {
            let value = samples[name] ?? "x"
            lines.append([target, "--\(name)", value])
            lines.append(["--\(name)=\(value)", target])
        }
        for name in ProbeInvocation.flags.keys.sorted() { lines.append(["--\(name)", target]) }
        return lines.map { ["probe"] + $0 }
    }

    /// Lines the quick reader must leave to Argument Parser: wrong, unusual, or asking for help.
    static var declined: [[String]] {
        [
            [], ["--help"], ["-h"], [target, "--help"], ["--version"], [target, "--mode"], [target, "--mode", "tls"],
            [target, "--timeout", "soon"], [target, "--timeout", "0"], [target, "--timeout", "601"],
            [target, "--warn-days", "-1"], [target, "--warn-days", "5", "--crit-days", "9"],
            [target, "--concurrency", "0"], [target, "--concurrency", "1.5"], [target, "--enumerate-concurrency", "65"],
            [target, "--format", "xml"], [target, "--backend", "boringssl"], [target, "--policy", "lax"],
            [target, "--ehlo="], [target, "--enumerate=yes"], [target, "--enumerate", "--enumerate"],
            [target, "--timeout", "1", "--timeout", "2"], [target, "--unknown"], [target, "-x"], [target, "--"],
            ["--", target], [target, "-"], ["ftp://"], ["gopher://127.0.0.1"], ["smtp://user:pw@127.0.0.1"],
            [target, "--servername", String(repeating: "x", count: 300)],
        ].map { ["probe"] + $0 } + [["run", target], ["verify", target], []]
    }

    @Test("every ordinary command line is read quickly, to what Argument Parser parses", arguments: ordinary)
    func ordinaryLines(line: [String]) throws {
        let quick = try #require(ProbeInvocation.quick(line), "declined: \(line)")
        let parsed = try ProbeCommand.parse(Array(line.dropFirst()))
        #expect(quick == parsed.invocation)
    }

    @Test("what the quick reader declines goes to Argument Parser", arguments: declined)
    func declinedLines(line: [String]) {
        #expect(ProbeInvocation.quick(line) == nil, "\(line)")
    }

    @Test("whatever the quick reader accepts, Argument Parser parses the same: every line of up to three pieces")
    func exhaustiveSmallLines() {
        // Pieces that combine into well-formed, ill-formed and borderline lines.
        let pieces = [
            Self.target, "imaps://127.0.0.1", "--mode", "starttls", "implicit", "--timeout", "3", "-3", "--timeout=0",
            "--enumerate", "--format=json", "--ehlo", "--ca-file", "=", "--warn-days=2", "--crit-days", "-",
        ]
        var lines: [[String]] = [[]]
        for _ in 0..<3 { lines += lines.flatMap { line in pieces.map { line + [$0] } }.filter { $0.count <= 3 } }
        var checked = 0
        for line in Set(lines) {
            guard let quick = ProbeInvocation.quick(["probe"] + line) else { continue }
            checked += 1
            let parsed = try? ProbeCommand.parse(line)
            #expect(parsed?.invocation == quick, "\(line)")
        }
        #expect(checked > 20)
    }
}
