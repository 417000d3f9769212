import ArgumentParser
import MimicScenarios

@main
struct Mimic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mimic",
        abstract: "A test bench for TLS monitors: misbehaving mail, FTP, LDAP and HTTPS servers and a two-library probe."
    )
}
