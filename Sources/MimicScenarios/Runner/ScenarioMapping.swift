import MimicCerts
import MimicCore
import MimicDialogs
import MimicNet
import MimicTLS

/// A scenario and its minted chains → the mock server's configuration. The dialog and the faults are decoded
/// straight into the mock's own types; what is left is assembling them with the TLS settings, the chains and the
/// limits. No I/O, no minting: the chains come in already minted.
public enum ScenarioMapping {
    /// The `tls:` section and the served chain → the server-role TLS configuration.
    public static func tls(_ spec: TLSSpec, chain: [[UInt8]], key: TLSPrivateKey) -> MimicTLSConfiguration {
        var configuration = MimicTLSConfiguration(
            role: .server,
            minimumVersion: spec.versions?.min(),
            maximumVersion: spec.versions?.max(),
            cipherList: spec.ciphers,
            priority: spec.priority,
            certificateChain: chain,
            privateKey: key,
            abortWithAlert: spec.abortWithAlert,
            // The scenario format has one kind of cut: nothing answers the ClientHello.
            closeMidHandshake: spec.closeMidHandshake ? .afterClientHello : nil
        )
        configuration.serverPreference = spec.serverOrder
        return configuration
    }

    /// The certificates `serve` names, in its order, from a minted chain; nil names what the chain lacks.
    public static func served(_ names: [String], from chain: MintedChain) -> (chain: [[UInt8]], missing: [String]) {
        var served: [[UInt8]] = []
        var missing: [String] = []
        for name in names {
            if let der = chain.certificates[name] {
                served.append(der)
            } else if name == CertificateSpec.localCA, let ca = chain.anchors.first {
                served.append(ca)
            } else {
                missing.append(name)
            }
        }
        return (served, missing)
    }

    /// The whole mock configuration from a scenario and its minted chains.
    ///
    /// - Parameters:
    ///   - chain: the default chain; `serve` (when given) has already been applied to `servedChain`.
    ///   - sniChains: per SNI name, the chain served for it.
    ///   - dataChannelChain: FTP `other-certificate`: the data channel's chain.
    public static func configuration(
        _ scenario: Scenario,
        servedChain: [[UInt8]],
        key: TLSPrivateKey,
        hostname: String,
        sniChains: [String: MintedChain] = [:],
        dataChannelChain: MintedChain? = nil
    ) -> MockServerConfiguration {
        var tls = tls(scenario.tls, chain: servedChain, key: key)
        for (name, chain) in sniChains {
            tls.serverNameChains[name] = TLSServerCredential(
                certificateChain: chain.served, privateKey: .pem(chain.leafKeyPEM))
        }
        var dataChannelTLS: MimicTLSConfiguration?
        if let dataChannelChain {
            dataChannelTLS = Self.tls(
                scenario.tls, chain: dataChannelChain.served, key: .pem(dataChannelChain.leafKeyPEM))
        }
        var dialog = scenario.dialog
        dialog.mode = scenario.server.mode
        dialog.hostname = hostname
        return MockServerConfiguration(
            serviceProtocol: scenario.server.serviceProtocol,
            mode: scenario.server.mode,
            host: scenario.server.address,
            port: scenario.server.port,
            backend: scenario.server.backend,
            tls: tls,
            dialog: dialog,
            faults: scenario.network,
            dataChannelTLS: dataChannelTLS,
            limits: scenario.server.limits
        )
    }
}
