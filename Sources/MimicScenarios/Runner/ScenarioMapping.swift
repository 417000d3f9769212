import MimicCerts
import MimicCore
import MimicDialogs
import MimicNet
import MimicTLS

/// Scenario sections → the mock server's configuration, one knob family per function. No I/O, no minting: the
/// chains come in already minted, so each mapping is tested on its own.
public enum ScenarioMapping {
    /// The `dialog:` section → the server dialog's knobs. `unsupported` collects knobs the dialog cannot express.
    public static func dialog(
        _ scenario: Scenario, hostname: String, unsupported: inout [String]
    ) -> ServerDialogConfiguration {
        let spec = scenario.dialog
        let serviceProtocol = scenario.server.serviceProtocol
        var dialog = ServerDialogConfiguration(mode: scenario.server.mode, hostname: hostname)
        dialog.greeting = spec.greeting
        dialog.greetingDelay = spec.greetingDelay
        dialog.refuseGreeting = spec.refuseGreeting.map { expandCode($0, text: "Service not available") }
        dialog.capabilitiesBeforeTLS = spec.capabilities.beforeTLS
        dialog.capabilitiesAfterTLS = spec.capabilities.afterTLS
        dialog.preauth = spec.preauth
        dialog.lineEnding = spec.lineEndings == .lf ? .lf : .crlf
        dialog.implicitSpeaksPlaintext = spec.implicitSpeaksPlaintext

        if let startTLS = spec.startTLS {
            dialog.startTLS.advertise =
                switch startTLS.advertise {
                case .advertised: .advertised
                case .omitted: .stripped
                case .mangled: .mangled
                }
            dialog.startTLS.reply = startTLS.reply.map { expandCode($0, text: "TLS not available") }
            dialog.startTLS.transition = startTLS.transition
            dialog.startTLS.injectAfterGoAhead = startTLS.injectAfterGoAhead
            if let result = startTLS.ldapResult { dialog.ldap.resultCode = result }
            if let diagnostic = startTLS.ldapDiagnostic { dialog.ldap.diagnosticMessage = diagnostic }
        }
        if let ldap = spec.ldap {
            dialog.ldap.longFormLengths = ldap.longFormLengths
            dialog.ldap.messageIDOverride = ldap.messageID
            dialog.ldap.noticeOfDisconnection = ldap.noticeOfDisconnection
            dialog.ldap.responseName =
                switch ldap.responseName {
                case .startTLS: .startTLS
                case .omitted: .omitted
                case .custom(let oid): .oid(oid)
                }
        }
        if let ftp = spec.ftp, serviceProtocol == .ftp {
            // AUTH TLS is FTP's upgrade command: its refusal is the upgrade's reply, unless `starttls.reply` says.
            if case .refuse(let reply) = ftp.authTLS, dialog.startTLS.reply == nil {
                dialog.startTLS.reply = expandCode(
                    reply ?? defaultFTPRefusal, text: "Request denied for policy reasons.")
            }
            if case .refuse(let reply) = ftp.authSSL {
                dialog.ftp.authSSLReply = expandCode(
                    reply ?? defaultFTPRefusal, text: "Request denied for policy reasons.")
            }
            dialog.ftp.dataChannel =
                switch ftp.dataChannel {
                case .tls: .tls
                case .plaintext: .plaintext
                case .otherCertificate: .otherCertificate
                case .requireResumption: .requireResumption
                }
            if let pasvAddress = ftp.pasvAddress { dialog.ftp.passiveHost = pasvAddress }
            dialog.ftp.extendedPassive = ftp.epsv
        }
        return dialog
    }

    /// The reply FTP servers refuse AUTH with when the scenario gives none (vsftpd's wording).
    static let defaultFTPRefusal = "534 Request denied for policy reasons."

    /// A reply given as a bare code (`421`, `454`) gets a reason text, since a client expects one.
    static func expandCode(_ reply: String, text: String) -> String {
        guard !reply.isEmpty, reply.count <= 3, reply.allSatisfy(\.isASCII), reply.allSatisfy(\.isNumber) else {
            return reply
        }
        return "\(reply) \(text)"
    }

    /// The `tls:` section and the served chain → the server-role TLS configuration.
    public static func tls(_ spec: TLSSpec, chain: [[UInt8]], key: TLSPrivateKey) -> TLSConfiguration {
        var configuration = TLSConfiguration(
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

    /// The `network:` list → the mock's faults, in order.
    public static func faults(_ specs: [FaultSpec]) -> [NetworkFault] {
        specs.map { spec in
            switch spec.kind {
            case .latency(let delay): .latency(milliseconds: delay.faultMilliseconds, in: spec.phase)
            case .trickle(let bytes, let interval):
                .trickle(bytes: bytes, intervalMilliseconds: interval.faultMilliseconds, in: spec.phase)
            case .slice(let bytes): .slice(bytes: bytes, in: spec.phase)
            case .stall: .stall(in: spec.phase)
            case .reset: .reset(in: spec.phase)
            case .closeAfter(let bytes): .closeAfter(bytes: bytes, in: spec.phase)
            }
        }
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
        dataChannelChain: MintedChain? = nil,
        unsupported: inout [String]
    ) -> MockServerConfiguration {
        var tls = tls(scenario.tls, chain: servedChain, key: key)
        for (name, chain) in sniChains {
            tls.serverNameChains[name] = TLSServerCredential(
                certificateChain: chain.served, privateKey: .pem(chain.leafKeyPEM))
        }
        var dataChannelTLS: TLSConfiguration?
        if let dataChannelChain {
            dataChannelTLS = Self.tls(
                scenario.tls, chain: dataChannelChain.served, key: .pem(dataChannelChain.leafKeyPEM))
        }
        return MockServerConfiguration(
            serviceProtocol: scenario.server.serviceProtocol,
            mode: scenario.server.mode,
            host: scenario.server.address,
            port: scenario.server.port,
            backend: scenario.server.backend,
            tls: tls,
            dialog: dialog(scenario, hostname: hostname, unsupported: &unsupported),
            faults: faults(scenario.network),
            dataChannelTLS: dataChannelTLS,
            implicitSpeaksPlaintext: scenario.dialog.implicitSpeaksPlaintext,
            startTLSSpeaksTLS: scenario.dialog.startTLSSpeaksTLS,
            limits: limits(scenario.server)
        )
    }

    /// `server.max_connections` and `server.idle_timeout` → the mock's limits; absent keys keep its defaults
    /// (256 connections, the protocol's idle timeout).
    public static func limits(_ server: ServerSpec) -> MockServerConfiguration.Limits {
        var limits = MockServerConfiguration.Limits()
        if let maxConnections = server.maxConnections { limits.maxConnections = maxConnections }
        limits.closeAfterConnections = server.closeAfterConnections
        if let idleTimeout = server.idleTimeout {
            let (seconds, attoseconds) = idleTimeout.components
            limits.idleTimeout = Double(seconds) + Double(attoseconds) / 1e18
        }
        return limits
    }
}
