import ArgumentParser
import Foundation
import MimicCore
import MimicNet
import MimicScenarios
import MimicTLS

struct CaptureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Probe a server and write a scenario whose mock reproduces what it did.",
        discussion: """
            The server is probed through OpenSSL and GnuTLS as `mimic probe` does; the scenario file then holds its \
            greeting and capabilities, its upgrade reply, the TLS version it agreed to, the shape of its chain (key \
            types and sizes, signatures, names, constraints, usages, validity as offsets from now — re-minted under \
            the local CA; private keys are never captured) and, as the expectation, the verdict each backend \
            reached. `mimic run FILE` then reproduces it locally.

            Names are rewritten to reserved *.example.test names unless --keep-names. What no scenario knob can \
            express is written into the file as a comment and printed as a warning.

            Exit codes: 0 written, 1 the server could not be captured (the phase that failed is named; nothing is \
            written unless --partial), 3 usage or input error (an existing --out without --force).
            """
    )

    @Argument(help: "The server, e.g. submission://mail.example.test or ldaps://127.0.0.1:10636")
    var url: String

    @Option(help: "TLS mode: implicit or starttls (default: by port).")
    var mode: TLSMode?

    @Option(help: "Name sent as SNI and checked against the certificate (default: the host).")
    var servername: String?

    @Option(name: .customLong("ca-file"), help: "PEM bundle of trust anchors (default: certs/trust/mozilla-roots.pem).")
    var caFile: String?

    @Option(help: "TLS library: openssl, gnutls or both.")
    var backend: TLSBackendChoice = .both

    @Option(help: "Chain verification policy: default or strict (written into the scenario as probe.policy).")
    var policy: VerificationPolicy = .default

    @Option(help: "Seconds allowed for each phase of the probe.")
    var timeout: Double = 10

    @Option(help: "SMTP EHLO name.")
    var ehlo: String = "probe.mimic.test"

    @Option(help: "Write the scenario here (default: standard output).")
    var out: String?

    @Flag(help: "Overwrite --out if it exists.")
    var force = false

    @Flag(name: .customLong("keep-names"), help: "Keep the server's names instead of rewriting them to *.example.test.")
    var keepNames = false

    @Flag(name: .customLong("absolute-dates"), help: "Write validity as dates instead of offsets from now.")
    var absoluteDates = false

    @Flag(help: "Also enumerate the versions, suites and order the server accepts, and give the mock the same.")
    var enumerate = false

    @Flag(help: "When the dialog fails (timeout, reset, close), write a scenario that fails the same way.")
    var partial = false

    func validate() throws {
        guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout must be between 0 and 600 seconds") }
        do { _ = try ProbeURL.parse(url, mode: mode, serverName: servername) } catch {
            throw ValidationError("\(error)")
        }
        if let out, !force, FileManager.default.fileExists(atPath: out) {
            throw ValidationError("\(out) exists; pass --force to overwrite it")
        }
    }

    func run() async throws {
        let target = try ProbeURL.parse(url, mode: mode, serverName: servername)
        let anchors = try trustAnchors(caFile: caFile)
        var probeOptions = ProbeOptions(
            backends: backend.backends, trustAnchors: anchors, deadlines: ProbeDeadlines(timeout: timeout),
            ehloName: ehlo)
        probeOptions.client.verificationPolicy = policy
        var options = ScenarioCapture.Options(
            keepNames: keepNames, absoluteDates: absoluteDates, partial: partial, url: url, timeout: timeout)
        options.policy = policy
        options.enumerate = enumerate
        let result: ScenarioCapture.Result
        do {
            result = try await ScenarioCapture.capture(target, probeOptions: probeOptions, options: options)
        } catch {
            printError("mimic capture: \(error); nothing written"
                + (partial ? "" : " (--partial writes a scenario that fails the same way, where a fault can)"))
            throw ExitCode(1)
        }
        for warning in result.warnings { printError("warning: cannot reproduce: \(warning)") }
        guard let out else {
            print(result.yaml, terminator: "")
            return
        }
        try reportingInputErrors {
            let flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL)
            let descriptor = open(out, flags, 0o644)
            guard descriptor >= 0 else {
                throw InputError("cannot write \(out): \(String(cString: strerror(errno)))")
            }
            defer { close(descriptor) }
            let bytes = Array(result.yaml.utf8)
            var written = 0
            while written < bytes.count {
                let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                guard count > 0 else { throw InputError("cannot write \(out): \(String(cString: strerror(errno)))") }
                written += count
            }
        }
        printError("wrote \(out) (\(result.id)); run it with: mimic run \(out)")
    }
}
