import MimicCerts
import MimicCore
import MimicNet
import MimicTLS

/// Mints the chains of a set of scenarios (each once) and builds their mock configurations. Every problem is a
/// `ScenarioError` at a position in a scenario file, so that a run with bad input starts nothing.
struct ScenarioPreparation {
    let cache: ChainCache

    init(factory: CertificateFactory) {
        cache = ChainCache(factory: factory)
    }

    func prepare(_ scenarios: [Scenario]) -> (prepared: [PreparedScenario], errors: [ScenarioError]) {
        var prepared: [PreparedScenario] = []
        var errors: [ScenarioError] = []
        for scenario in scenarios {
            do {
                prepared.append(try prepare(scenario))
            } catch {
                errors.append(error)
            }
        }
        return (prepared, errors)
    }

    func prepare(_ scenario: Scenario) throws(ScenarioError) -> PreparedScenario {
        let pki = scenario.pki
        let main: MintedChain
        if let pki {
            main = try mint(pki.chain, field: "pki", scenario: scenario)
        } else {
            let hostname = scenario.probe.servername ?? ChainProfile.defaultHostname
            main = try attempt(scenario.location(of: "pki"), "pki") { try cache.standard(hostname: hostname) }
        }
        let hostname = scenario.probe.servername ?? main.hostname

        var servedChain = main.served
        if let names = pki?.serve {
            let (chain, missing) = ScenarioMapping.served(names, from: main)
            guard missing.isEmpty else {
                let known = ([CertificateSpec.localCA] + main.certificates.keys.sorted()).joined(separator: ", ")
                throw ScenarioError(
                    location: scenario.location(of: "pki.serve"), path: "pki.serve",
                    message:
                        "chain '\(main.name)' has no certificate named \(missing.map { "'\($0)'" }.joined(separator: ", ")) (it has: \(known))"
                )
            }
            servedChain = chain
        }

        var sniChains: [String: MintedChain] = [:]
        for (name, source) in pki?.sni ?? [:] {
            sniChains[name] = try mint(source, field: "pki.sni.\(name)", scenario: scenario)
        }

        var dataChannel: MintedChain?
        if scenario.server.serviceProtocol == .ftp, scenario.dialog.ftp.dataChannel == .otherCertificate {
            dataChannel = try attempt(scenario.location(of: "dialog.ftp.data_channel"), "dialog.ftp.data_channel") {
                try cache.dataChannel(hostname: hostname)
            }
        }

        let configuration = ScenarioMapping.configuration(
            scenario, servedChain: servedChain, key: .pem(main.leafKeyPEM), hostname: hostname,
            sniChains: sniChains, dataChannelChain: dataChannel)

        var anchors: [[UInt8]] = []
        for chain in [main] + sniChains.values.sorted(by: { $0.name < $1.name }) + [dataChannel].compactMap({ $0 }) {
            for anchor in chain.anchors where !anchors.contains(anchor) { anchors.append(anchor) }
        }
        return PreparedScenario(
            scenario: scenario, configuration: configuration, anchors: anchors, serverName: hostname)
    }

    private func mint(_ source: ChainSource, field: String, scenario: Scenario) throws(ScenarioError) -> MintedChain {
        switch source {
        case .profile(let name, let location):
            return try attempt(location, field) { try cache.profile(name) }
        case .inline(let inline):
            return try attempt(inline.location, "\(field).chain") {
                try cache.inline(inline.spec, hostname: scenario.probe.servername)
            }
        }
    }

    private func attempt(
        _ location: SourceLocation, _ field: String, _ body: () throws -> MintedChain
    ) throws(ScenarioError) -> MintedChain {
        do {
            return try body()
        } catch {
            throw ScenarioError(location: location, path: field, message: "cannot mint the chain: \(error)")
        }
    }
}
