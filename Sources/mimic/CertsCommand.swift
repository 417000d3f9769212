import ArgumentParser
import Foundation
import MimicCerts
import MimicScenarios

/// Options shared by the commands that use the certificate factory.
struct CertsHome: ParsableArguments {
    @Option(
        name: .customLong("certs-dir"),
        help: "Folder with profiles/ and the local CA (default: $MIMIC_CERTS, else ./certs)."
    )
    var path: String?

    func factory() -> CertificateFactory {
        CertificateFactory(home: path.map { URL(fileURLWithPath: $0) } ?? CertificateFactory.defaultHome())
    }
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
                let factory = home.factory()
                let names = all ? try ChainProfile.all(in: factory.profilesDirectory).map(\.name) : profiles
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
                let profiles = try ChainProfile.all(in: home.factory().profilesDirectory)
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
