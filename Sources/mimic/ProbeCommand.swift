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
    var backend: TLSBackendChoice = ProbeInvocation.defaults.backend

    @Option(help: "Name sent as SNI and checked against the certificate (default: the host).")
    var servername: String?

    @Option(name: .customLong("ca-file"), help: "PEM bundle of trust anchors (default: certs/trust/mozilla-roots.pem).")
    var caFile: String?

    @OptionGroup var expiry: ExpiryDays

    @Option(
        help:
            "Seconds allowed for each phase (connect, each reply, the handshake); the whole probe gets three times it.")
    var timeout: Double = ProbeInvocation.defaults.timeout

    @Option(help: "SMTP EHLO name (a FQDN: servers reject bare words).")
    var ehlo: String = ProbeInvocation.defaults.ehlo

    @Option(help: "Chain verification policy: default (each library's ordinary client) or strict (X509_STRICT).")
    var policy: VerificationPolicy = ProbeInvocation.defaults.policy

    @Flag(name: .customLong("starttls-anyway"), help: "Send the upgrade even when the server does not advertise it.")
    var startTLSAnyway = ProbeInvocation.defaults.startTLSAnyway

    @Option(help: "Output: text, json or nagios.")
    var format: ProbeFormat = ProbeInvocation.defaults.format

    @Option(help: "Targets probed at once.")
    var concurrency: Int = ProbeInvocation.defaults.concurrency

    @Flag(
        help: ArgumentHelp(
            "Also enumerate what each target accepts: TLS versions 1.0-1.3, the suites at each, groups, server order.",
            discussion:
                "Each offer is one short connection through the same protocol dialog, per backend (OpenSSL at "
                + "@SECLEVEL=0, GnuTLS with %COMPAT). Adds legacyVersion, weakCipher and noForwardSecrecy findings."))
    var enumerate = ProbeInvocation.defaults.enumerate

    @Option(
        name: .customLong("enumerate-concurrency"),
        help:
            "Enumeration connections at once per target, over both backends (its own bound: --concurrency counts targets).")
    var enumerateConcurrency: Int = ProbeInvocation.defaults.enumerateConcurrency

    /// The values parsed, as the probe runs them.
    var invocation: ProbeInvocation {
        ProbeInvocation(
            targets: targets, mode: mode, backend: backend, servername: servername, caFile: caFile,
            warnDays: expiry.warnDays, critDays: expiry.critDays, timeout: timeout, ehlo: ehlo, policy: policy,
            startTLSAnyway: startTLSAnyway, format: format, concurrency: concurrency, enumerate: enumerate,
            enumerateConcurrency: enumerateConcurrency)
    }

    func validate() throws { try invocation.validate() }

    func run() async throws {
        let code = try await invocation.run()
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
