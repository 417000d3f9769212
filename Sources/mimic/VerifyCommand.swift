import ArgumentParser
import Foundation
import MimicCerts
import MimicCore
import MimicScenarios
import MimicTLS

extension TLSBackendChoice: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}
extension VerificationPolicy: ExpressibleByArgument {}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Validate a chain offline through OpenSSL and GnuTLS side by side.",
        discussion: """
            The chain file holds PEM certificates in the order a server would send them (leaf first); the CA file \
            holds the trust anchors. The OS trust store is never used. Prints the library-independent chain facts \
            and each backend's verdict with its raw codes.

            Every served certificate goes to each library as untrusted input and the library builds the path \
            itself, as `openssl verify -untrusted` and `certtool --verify` do; the served order is a separate fact. \
            A certificate Mimic cannot read in full (a negative serial, a malformed subjectAltName, duplicate \
            extensions, more than 32 certificates…) is marked in the facts and still judged by both libraries.

            --policy default is what each library's ordinary client does; --policy strict is exactly \
            `openssl verify -x509_strict -partial_chain -auth_level 2 -purpose sslserver` and \
            `certtool --verify --verify-profile=medium --verify-purpose=serverAuth`.

            Exit codes: 0 every backend accepts, 2 any backend rejects, 3 usage or input error (a file with no \
            certificate at all).
            """
    )

    @Option(name: .long, help: "PEM file with the chain as served, leaf first.")
    var chain: String

    @Option(name: .customLong("ca"), help: "PEM file with the trust anchors.")
    var caFile: String

    @Option(name: .long, help: "Hostname (or IP address) the certificate must match.")
    var host: String?

    @Option(
        name: .long,
        help: "Verify at this time: ISO 8601, YYYY-MM-DD, @UNIX-SECONDS, or +30d / -1y from now (write --at=-1y).")
    var at: String?

    @Option(name: .long, help: "TLS library: openssl, gnutls or both.")
    var backend: TLSBackendChoice = .both

    @Option(name: .long, help: "Verification policy: default (each library's ordinary client) or strict.")
    var policy: VerificationPolicy = .default

    @Option(name: .long, help: "Output: text or json.")
    var format: ReportFormat = .text

    @OptionGroup var expiry: ExpiryDays

    func validate() throws {
        guard expiry.warnDays >= 0, expiry.critDays >= 0 else {
            throw ValidationError("--warn-days and --crit-days must be >= 0")
        }
        if let at { do { _ = try TimeSpec.parse(at) } catch { throw ValidationError("--at: \(error)") } }
    }

    func run() throws {
        let verification = try reportingInputErrors {
            let chainCertificates = try PEMFile.certificates(at: chain, role: "--chain")
            let anchors = try PEMFile.certificates(at: caFile, role: "--ca")
            return try ChainVerification(
                chain: chainCertificates,
                anchors: anchors,
                hostname: host,
                at: at.map { try TimeSpec.parse($0) },
                backends: backend.backends,
                warnDays: expiry.warnDays,
                critDays: expiry.critDays,
                policy: policy
            )
        }
        print(verification.render(format))
        if verification.exitCode != 0 { throw ExitCode(verification.exitCode) }
    }
}
