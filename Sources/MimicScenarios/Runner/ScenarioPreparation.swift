import Foundation
import MimicCerts
import MimicCore
import MimicNet
import MimicTLS
import Yams

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
            main = try attempt(scenario.source, "pki") { try cache.standard(hostname: hostname) }
        }
        let hostname = scenario.probe.servername ?? main.hostname

        var servedChain = main.served
        if let names = pki?.serve {
            let (chain, missing) = ScenarioMapping.served(names, from: main)
            guard missing.isEmpty else {
                let known = ([CertificateSpec.localCA] + main.certificates.keys.sorted()).joined(separator: ", ")
                throw ScenarioError(
                    location: scenario.source, path: "pki.serve",
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
            dataChannel = try attempt(scenario.source, "dialog.ftp.data_channel") {
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
            do {
                return try cache.inline(inline.yaml, hostname: scenario.probe.servername)
            } catch let error as ChainSpecError {
                if let precise = Self.preciseError(inline, field: "\(field).chain") { throw precise }
                // The spec's lines count from the start of the inline mapping.
                let line = error.line.map { inline.location.line + $0 - 1 } ?? inline.location.line
                let column = line == inline.location.line ? inline.location.column : 1
                let path = error.field.isEmpty ? "\(field).chain" : "\(field).chain.\(error.field)"
                throw ScenarioError(
                    location: SourceLocation(file: inline.location.file, line: line, column: column),
                    path: path, message: error.message)
            } catch {
                throw ScenarioError(location: inline.location, path: "\(field).chain", message: "\(error)")
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

    /// The inline chain's error at its exact place: the scenario file composed again and the chain decoded from its
    /// own node, so lines are the file's (the kept text is re-serialised and only approximates them). Nil when
    /// the file cannot be read again or the node is not found; the caller then maps the text's lines.
    static func preciseError(_ inline: InlineChain, field: String) -> ScenarioError? {
        let file = inline.location.file
        guard let data = FileManager.default.contents(atPath: file), data.count <= ScenarioLoader.maximumFileSize,
            let text = String(data: data, encoding: .utf8),
            let root = try? Yams.compose(yaml: text),
            let node = firstNode(
                in: root, depth: 0,
                where: {
                    $0.line == inline.location.line && $0.column == inline.location.column
                })
        else { return nil }
        do {
            _ = try ChainSpec(node: node, file: nil, field: field)
            return nil
        } catch let error as ChainSpecError {
            let line = error.line ?? inline.location.line
            let column = firstNode(in: node, depth: 0, where: { $0.line == line })?.mark?.column ?? 1
            return ScenarioError(
                location: SourceLocation(file: file, line: line, column: column), path: error.field,
                message: error.message)
        } catch {
            return nil
        }
    }

    /// Pre-order search; the loader has already bounded this file's tree, and the depth bound keeps it so.
    private static func firstNode(in node: Node, depth: Int, where matches: (Mark) -> Bool) -> Node? {
        if let mark = node.mark, matches(mark) { return node }
        guard depth < 64 else { return nil }
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                if let found = firstNode(in: key, depth: depth + 1, where: matches) { return found }
                if let found = firstNode(in: value, depth: depth + 1, where: matches) { return found }
            }
        case .sequence(let sequence):
            for element in sequence {
                if let found = firstNode(in: element, depth: depth + 1, where: matches) { return found }
            }
        case .scalar, .alias:
            break
        }
        return nil
    }
}
