import ArgumentParser
import Foundation
import MimicCore
import MimicNet
import MimicScenarios
import MimicTLS

extension TLSMode: ExpressibleByArgument {}
extension ProbeFormat: ExpressibleByArgument {}

struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract:
            "Probe mail, FTP, LDAP and HTTPS services up to and through TLS, with OpenSSL and GnuTLS side by side.",
        discussion: """
            Targets are SCHEME://HOST[:PORT] with SCHEME one of \(ProbeURL.supportedSchemes.joined(separator: ", ")). \
            The TLS mode follows the port (465 993 995 990 636 443 implicit; 25 587 143 110 21 389 STARTTLS); any other \
            port needs --mode, or a scheme ending in 's' for implicit TLS.

            Trust comes from --ca-file, else from the bundled Mozilla roots in certs/trust/ — never the OS store.

            Exit codes (Nagios): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN or usage error.
            """
    )

    @Argument(help: "Targets, e.g. submission://mail.example.test imaps://mail.example.test:993")
    var targets: [String]

    @Option(help: "TLS mode for every target: implicit or starttls (default: by port).")
    var mode: TLSMode?

    @Option(help: "TLS library: openssl, gnutls or both.")
    var backend: TLSBackendChoice = .both

    @Option(help: "Name sent as SNI and checked against the certificate (default: the host).")
    var servername: String?

    @Option(name: .customLong("ca-file"), help: "PEM bundle of trust anchors (default: certs/trust/mozilla-roots.pem).")
    var caFile: String?

    @OptionGroup var expiry: ExpiryDays

    @Option(
        help:
            "Seconds allowed for each phase (connect, each reply, the handshake); the whole probe gets three times it.")
    var timeout: Double = 10

    @Option(help: "SMTP EHLO name (a FQDN: servers reject bare words).")
    var ehlo: String = "probe.mimic.test"

    @Option(help: "Chain verification policy: default (each library's ordinary client) or strict (X509_STRICT).")
    var policy: VerificationPolicy = .default

    @Flag(name: .customLong("starttls-anyway"), help: "Send the upgrade even when the server does not advertise it.")
    var startTLSAnyway = false

    @Option(help: "Output: text, json or nagios.")
    var format: ProbeFormat = .text

    @Option(help: "Targets probed at once.")
    var concurrency: Int = 8

    @Flag(
        help: ArgumentHelp(
            "Also enumerate what each target accepts: TLS versions 1.0-1.3, the suites at each, groups, server order.",
            discussion:
                "Each offer is one short connection through the same protocol dialog, per backend (OpenSSL at "
                + "@SECLEVEL=0, GnuTLS with %COMPAT). Adds legacyVersion, weakCipher and noForwardSecrecy findings."))
    var enumerate = false

    @Option(
        name: .customLong("enumerate-concurrency"),
        help:
            "Enumeration connections at once per target, over both backends (its own bound: --concurrency counts targets).")
    var enumerateConcurrency: Int = 4

    func validate() throws {
        guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout must be between 0 and 600 seconds") }
        guard expiry.warnDays >= expiry.critDays, expiry.critDays >= 0 else {
            throw ValidationError("need --warn-days >= --crit-days >= 0")
        }
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 256") }
        guard (1...64).contains(enumerateConcurrency) else {
            throw ValidationError("--enumerate-concurrency must be 1 to 64")
        }
        for target in targets {
            do { _ = try ProbeURL.parse(target, mode: mode, serverName: servername) } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    func run() async throws {
        let parsed = try targets.map { try ProbeURL.parse($0, mode: mode, serverName: servername) }
        let anchors = try trustAnchors(caFile: caFile)
        var options = ProbeOptions(
            backends: backend.backends,
            trustAnchors: anchors,
            deadlines: ProbeDeadlines(timeout: timeout),
            warnDays: expiry.warnDays,
            critDays: expiry.critDays,
            ehloName: ehlo,
            tryStartTLSAnyway: startTLSAnyway
        )
        options.client.verificationPolicy = policy
        let reports = await Prober().probe(parsed, options: options, concurrency: concurrency)
        var enumerations: [EnumerationResult?] = Array(repeating: nil, count: parsed.count)
        if enumerate {
            // One target at a time: the bound is on connections to one server.
            let enumerator = Enumerator(concurrency: enumerateConcurrency)
            for (index, target) in parsed.enumerated() {
                enumerations[index] = await enumerator.enumerate(target, options: options)
            }
        }
        let results = parsed.indices.map {
            ProbeResult(target: parsed[$0], reports: reports[$0], enumeration: enumerations[$0])
        }
        print(
            ProbeRendering.render(results, format: format, warnDays: expiry.warnDays, critDays: expiry.critDays))
        let code = ProbeRendering.exitCode(results)
        if code != 0 { throw ExitCode(code) }
    }
}

/// The trust anchors of `--ca-file`, else of the bundled Mozilla roots; a bad file is exit 3 with its reason.
func trustAnchors(caFile: String?) throws -> [[UInt8]] {
    try reportingInputErrors {
        try PEMFile.certificates(
            at: caFile ?? TrustStore.defaultPath(),
            role: caFile == nil
                ? "the bundled trust store (run from the Mimic folder, set MIMIC_CERTS, or pass --ca-file)"
                : "--ca-file")
    }
}
