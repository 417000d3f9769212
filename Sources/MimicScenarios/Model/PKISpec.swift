import MimicCerts

/// The certificates the mock serves: a named profile or an inline chain, optionally per SNI name.
public struct PKISpec: Sendable, Hashable {
    /// The chain served when no SNI entry matches (from `profile`, `chain` or `sni.default`).
    public var chain: ChainSource
    /// Which certificates of the chain go on the wire, in this order (`[leaf, intermediate]`); nil serves the
    /// profile's own selection. Names are the chain's certificate names, checked by the factory.
    public var serve: [String]?
    /// A different chain for a given SNI name.
    public var sni: [String: ChainSource]

    public init(chain: ChainSource, serve: [String]? = nil, sni: [String: ChainSource] = [:]) {
        self.chain = chain
        self.serve = serve
        self.sni = sni
    }

    /// Every profile name the spec refers to.
    public var profileNames: [String] {
        ([chain] + sni.values).compactMap {
            if case .profile(let name, _) = $0 { name } else { nil }
        }
    }
}

/// Where a chain comes from.
public enum ChainSource: Sendable, Hashable {
    /// A profile from `certs/profiles/<name>.yaml`, and where the scenario named it.
    case profile(String, SourceLocation)
    /// A chain spelled out in the scenario.
    case inline(InlineChain)
}

/// A chain spec written inside a scenario, decoded by the factory's own chain-spec reader when the scenario is
/// loaded (so its errors point at their own line in the scenario file), and where its mapping starts. Only the
/// loader makes one.
public struct InlineChain: Sendable, Hashable {
    public var spec: ChainSpec
    public var location: SourceLocation
}
