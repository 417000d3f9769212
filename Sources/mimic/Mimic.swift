import ArgumentParser
import Foundation
import MimicScenarios

@main
struct Mimic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mimic",
        abstract:
            "A test bench for TLS monitors: misbehaving mail, FTP, LDAP and HTTPS servers and a two-library probe.",
        discussion: """
            Mimic validates through OpenSSL and GnuTLS side by side and never consults the OS trust store. \
            Certificates come from the profiles in certs/profiles (or $MIMIC_CERTS/profiles), signed by a local CA \
            created on first use under certs/local/.

            Each command's help gives its exit codes; a usage error is 3 everywhere.
            """,
        version: MimicVersion.string,
        subcommands: [
            RunCommand.self, ServeCommand.self, GradeCommand.self, ProbeCommand.self, CaptureCommand.self, VerifyCommand.self,
            CertsCommand.self, SchemaCommand.self,
        ]
    )

    /// Argument Parser exits 64 on a usage error; Mimic's convention (the monitoring one) is 3.
    static func main() async {
        HotData.populate()
        do {
            // The common `mimic probe` command lines are read without Argument Parser's reflection (the reason is
            // on `ProbeInvocation`); whatever `quick` declines is parsed, and explained, as every other command.
            if let probe = ProbeInvocation.quick(Array(CommandLine.arguments.dropFirst())) {
                let warmUp = probe.warmUp()
                let code: Int32
                if let waited = try probe.runWaiting(warmUp: warmUp) {
                    code = waited
                } else {
                    code = try await probe.run(warmUp: warmUp)
                }
                // Nothing is left to do but what exit(3) would add: the TLS libraries' clean-up of their global
                // state, which the kernel is about to drop anyway.
                fflush(nil)
                _exit(code)
            }
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(MimicExit.usage.rawValue)
            }
            exit(withError: error)
        }
    }
}
