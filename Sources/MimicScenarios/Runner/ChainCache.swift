import Foundation
import MimicCerts

/// Mints each chain a run needs once: a profile by name, an inline chain by its text, the default chain by its
/// host name. Scenarios that share a profile share its certificates (and a monitor under test sees one CA).
///
/// Used from one task while a run is prepared, before any server starts; not shared across tasks.
final class ChainCache {
    enum Key: Hashable {
        case profile(String)
        case inline(ChainSpec)
        case standard(hostname: String)
        case dataChannel(hostname: String)
    }

    let factory: CertificateFactory
    private var minted: [Key: MintedChain] = [:]
    private var inlineCount = 0

    /// The profile the runner serves when a scenario has no `pki`, with its leaf renamed to the probe's name.
    static let standardProfile = "good"

    init(factory: CertificateFactory) {
        self.factory = factory
    }

    func profile(_ name: String) throws -> MintedChain {
        try cached(.profile(name)) { try factory.mint(profile: name) }
    }

    /// An inline chain, already read from its scenario.
    func inline(_ spec: ChainSpec, hostname: String?) throws -> MintedChain {
        try cached(.inline(spec)) {
            inlineCount += 1
            let name = "inline-\(inlineCount)"
            return try factory.mint(spec, name: name, hostname: hostname ?? Self.firstDNSName(spec) ?? name)
        }
    }

    /// A valid chain for `hostname`: the standard profile with its leaf's names replaced.
    func standard(hostname: String) throws -> MintedChain {
        try cached(.standard(hostname: hostname)) {
            try mintStandard(hostname: hostname, name: "default-\(hostname)")
        }
    }

    /// A second valid chain for the same name, under another intermediate: what an FTP data channel serves when it
    /// must present "another certificate".
    func dataChannel(hostname: String) throws -> MintedChain {
        try cached(.dataChannel(hostname: hostname)) {
            try mintStandard(hostname: hostname, name: "data-channel-\(hostname)")
        }
    }

    private func mintStandard(hostname: String, name: String) throws -> MintedChain {
        let profile = try factory.profile(named: Self.standardProfile)
        var spec = profile.spec
        if hostname != profile.hostname, let leaf = spec.serve.first,
            let index = spec.certificates.firstIndex(where: { $0.name == leaf })
        {
            let kind = IPAddress.parse(hostname) == nil ? "dns" : "ip"
            spec.certificates[index].sans = SANSpec("\(kind):\(hostname)").map { [$0] } ?? []
        }
        return try factory.mint(spec, name: name, hostname: hostname)
    }

    private func cached(_ key: Key, mint: () throws -> MintedChain) throws -> MintedChain {
        if let chain = minted[key] { return chain }
        let chain = try mint()
        minted[key] = chain
        return chain
    }

    static func firstDNSName(_ spec: ChainSpec) -> String? {
        guard let leafName = spec.serve.first, let leaf = spec.certificate(named: leafName) else { return nil }
        for san in leaf.sans {
            if case .dns(let name) = san { return name }
        }
        return nil
    }
}
