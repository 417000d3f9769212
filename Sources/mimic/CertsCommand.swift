import ArgumentParser
import Foundation
import MimicCerts
import MimicCore
import MimicScenarios

/// Options shared by the commands that use the certificate factory.
struct CertsHome: ParsableArguments {
    @Option(
        name: .customLong("certs-dir"),
        help: """
            Folder with profiles/ and the local CA (default: $MIMIC_CERTS, else ./certs; when neither exists, the \
            built-in profiles and a CA made for this run, nothing written).
            """
    )
    var path: String?

    /// The folder given or found; with none (Mimic run outside a checkout, no `$MIMIC_CERTS`), an in-memory factory
    /// with the built-in profiles, as a test using MimicTesting gets.
    func factory() throws(CertsHomeError) -> CertificateFactory {
        if let path {
            let home = URL(fileURLWithPath: path, isDirectory: true)
            let profiles = home.appendingPathComponent("profiles", isDirectory: true)
            guard FileStatus(path: profiles.path)?.kind == .directory else {
                throw CertsHomeError(description: "--certs-dir \(path): no profiles/ folder in it")
            }
            return CertificateFactory(home: home)
        }
        let home = CertificateFactory.defaultHome()
        let explicit = !(ProcessInfo.processInfo.environment["MIMIC_CERTS"] ?? "").isEmpty
        let profiles = home.appendingPathComponent("profiles", isDirectory: true)
        if FileStatus(path: profiles.path)?.kind == .directory { return CertificateFactory(home: home) }
        if explicit { throw CertsHomeError(description: "MIMIC_CERTS=\(home.path): no profiles/ folder in it") }
        return .inMemory()
    }

    /// ``factory()``, or its error on stderr and exit `code` (the scenario commands' code for bad input).
    func factory(exitingWith code: ExitCode) throws -> CertificateFactory {
        do {
            return try factory()
        } catch {
            printError("mimic: \(error)")
            throw code
        }
    }
}

struct CertsHomeError: Error, CustomStringConvertible {
    let description: String
}

struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Mint certificate chains from profiles and manage the local CA.",
        subcommands: [Mint.self, List.self, CA.self, Matrix.self]
    )

    struct Mint: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mint",
            abstract: "Mint one or more profiles into a folder (chain.pem, leaf.key, ca.pem, one PEM per certificate).",
            discussion: "Each profile goes to OUT/PROFILE/ when several are minted or --all is given."
        )

        @OptionGroup var home: CertsHome

        @Argument(help: "Profile names (see `mimic certs list`).")
        var profiles: [String] = []

        @Flag(help: "Mint every profile.")
        var all = false

        @Option(name: .long, help: "Output folder.")
        var out: String

        func validate() throws {
            if profiles.isEmpty && !all { throw ValidationError("name a profile or give --all") }
        }

        func run() throws {
            try reportingInputErrors {
                let factory = try home.factory()
                let names = all ? try factory.profileNames() : profiles
                let base = URL(fileURLWithPath: out)
                let nested = names.count > 1 || all
                for name in names {
                    let minted = try factory.mint(profile: name)
                    let folder = nested ? base.appendingPathComponent(name) : base
                    try minted.write(to: folder)
                    print("\(name): \(folder.path) (hostname \(minted.hostname), \(minted.served.count) served)")
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the certificate profiles.")

        @OptionGroup var home: CertsHome

        func run() throws {
            try reportingInputErrors {
                let profiles = try home.factory().allProfiles()
                var table = TextTable(header: ["profile", "hostname", "summary"])
                for profile in profiles { table.add([profile.name, profile.hostname, profile.summary]) }
                print(table.render())
            }
        }
    }

    struct CA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ca",
            abstract: "Print the local CA's path and fingerprint (created on first use).",
            discussion:
                "Tell a monitor under test to trust this file once; every profile but the untrusted ones chains to it."
        )

        @OptionGroup var home: CertsHome

        func run() throws {
            try reportingInputErrors {
                let ca = try home.factory().localCA()
                print("path         \(ca.pemPath?.path ?? "(in memory)")")
                print("SHA-256      \(ca.sha256Fingerprint)")
            }
        }
    }

    struct Matrix: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "matrix",
            abstract:
                "Hand-shake every profile in memory, OpenSSL ↔ GnuTLS in both directions, and compare with each profile's expectations.",
            discussion: "Exit 0 when every profile gives the expected verdict through both libraries, 2 otherwise."
        )

        @OptionGroup var home: CertsHome

        @Argument(help: "Profiles to run (default: all).")
        var profiles: [String] = []

        @Option(name: .long, help: "Output: text or json.")
        var format: ReportFormat = .text

        func run() throws {
            let matrix = try reportingInputErrors {
                try ProfileMatrix.run(factory: home.factory(), profiles: profiles.isEmpty ? nil : profiles)
            }
            print(matrix.render(format))
            if !matrix.matches { throw MimicExit.rejected }
        }
    }
}
