import MimicCore
import MimicDialogs

/// Rejects knob combinations no mock could serve (https with STARTTLS, PREAUTH on SMTP, an LDAP result code
/// on POP3, …), pointing at the knob at fault. Runs once per matrix cell, so the message names the cell.
struct ScenarioValidator {
    private typealias Keys = ScenarioKeys
    let root: YAMLValue
    let protocolOrigin: YAMLValue
    let modeOrigin: YAMLValue
    let faults: [ScenarioDecoder.DecodedFault]
    let cell: MatrixCell?

    func validate(_ scenario: Scenario) throws(ScenarioError) {
        let proto = scenario.server.serviceProtocol
        let mode = scenario.server.mode
        let dialog = scenario.dialog

        if proto == .https && mode == .startTLS {
            throw fail(modeOrigin, "https has no STARTTLS upgrade; use tls: implicit or none")
        }
        if let probeMode = scenario.probe.mode, proto == .https, probeMode == .startTLS {
            throw fail(at: Keys.Probe.mode, "https has no STARTTLS upgrade to probe with")
        }

        // TLS layer.
        if mode == .none && !dialog.startTLSSpeaksTLS && !scenario.tls.isDefault {
            throw fail(at: Keys.Top.tls, "TLS settings have no effect: server.tls is none")
        }
        if scenario.tls.ciphers != nil && scenario.server.backend != .openssl {
            throw fail(
                at: Keys.TLS.ciphers,
                "an OpenSSL cipher list, but server.backend is \(scenario.server.backend); use tls.priority"
            )
        }
        if scenario.tls.priority != nil && scenario.server.backend != .gnutls {
            throw fail(
                at: Keys.TLS.priority,
                "a GnuTLS priority string, but server.backend is \(scenario.server.backend); use tls.ciphers"
            )
        }
        if scenario.tls.abortWithAlert != nil && scenario.tls.closeMidHandshake {
            throw fail(
                at: Keys.TLS.closeMidHandshake,
                "give either abort_with_alert or close_mid_handshake, not both"
            )
        }

        // Dialog knobs that belong to some protocols only.
        let textGreeting: Set<ServiceProtocol> = [.smtp, .imap, .pop3, .ftp]
        if dialog.greeting != nil && !textGreeting.contains(proto) {
            throw fail(at: Keys.Dialog.greeting, "\(proto) has no greeting")
        }
        if dialog.greeting != nil && dialog.refuseGreeting != nil {
            throw fail(at: Keys.Dialog.refuseGreeting, "give either greeting or refuse_greeting, not both")
        }
        if let refusal = given(Keys.Dialog.refuseGreeting)?.scalarText {
            if let problem = Self.greetingRefusalProblem(refusal, for: proto) {
                throw fail(at: Keys.Dialog.refuseGreeting, problem)
            }
        }
        if given(Keys.Dialog.capabilities) != nil && !textGreeting.contains(proto) {
            throw fail(at: Keys.Dialog.capabilities, "\(proto) has no capability list to change")
        }
        if dialog.capabilitiesAfterTLS != nil && mode == .none {
            throw fail(at: Keys.Capabilities.afterTLS, "server.tls is none: there is no after TLS")
        }
        if given(Keys.Dialog.startTLS) != nil {
            if mode != .startTLS {
                throw fail(at: Keys.Dialog.startTLS, "server.tls is \(mode): there is no upgrade to misbehave in")
            }
            if proto != .ldap {
                if given(Keys.StartTLS.ldapResult) != nil {
                    throw fail(
                        at: Keys.StartTLS.ldapResult,
                        "an LDAP result code, but server.protocol is \(proto); use reply"
                    )
                }
                if given(Keys.StartTLS.ldapDiagnostic) != nil {
                    throw fail(
                        at: Keys.StartTLS.ldapDiagnostic,
                        "an LDAP diagnostic, but server.protocol is \(proto); use reply"
                    )
                }
            } else if given(Keys.StartTLS.reply) != nil {
                throw fail(
                    at: Keys.StartTLS.reply,
                    "LDAP answers StartTLS with an ExtendedResponse; use ldap_result and ldap_diagnostic"
                )
            }
        }
        if dialog.preauth && proto != .imap {
            throw fail(at: Keys.Dialog.preauth, "PREAUTH is an IMAP greeting; server.protocol is \(proto)")
        }
        if given(Keys.Dialog.ldap) != nil && proto != .ldap {
            throw fail(at: Keys.Dialog.ldap, "LDAP knobs, but server.protocol is \(proto)")
        }
        if given(Keys.Dialog.ftp) != nil && proto != .ftp {
            throw fail(at: Keys.Dialog.ftp, "FTP knobs, but server.protocol is \(proto)")
        }
        if given(Keys.Dialog.ftp) != nil && mode == .none {
            throw fail(at: Keys.Dialog.ftp, "FTP TLS knobs, but server.tls is none")
        }
        if dialog.lineEnding != .crlf && proto == .ldap {
            throw fail(at: Keys.Dialog.lineEndings, "LDAP is binary (BER): it has no line endings")
        }
        if dialog.implicitSpeaksPlaintext && mode != .implicit {
            throw fail(at: Keys.Dialog.implicitSpeaksPlaintext, "needs server.tls: implicit (it is \(mode))")
        }
        if dialog.startTLSSpeaksTLS && mode != .startTLS {
            throw fail(at: Keys.Dialog.startTLSSpeaksTLS, "needs server.tls: starttls (it is \(mode))")
        }

        // Network faults.
        for fault in faults {
            guard let phaseOrigin = fault.phaseOrigin else { continue }
            switch fault.fault.phase {
            case .upgrade where mode != .startTLS:
                throw fail(phaseOrigin, "there is no upgrade phase when server.tls is \(mode)")
            case .handshake where mode == .none, .postTLS where mode == .none:
                throw fail(phaseOrigin, "there is no TLS when server.tls is none")
            case .greeting where proto == .https || proto == .ldap, .capabilities where !textGreeting.contains(proto):
                throw fail(phaseOrigin, "\(proto) has no \(fault.fault.phase.rawValue) phase")
            default:
                continue
            }
        }

        // Probe.
        let probeMode = scenario.probe.mode ?? mode
        if scenario.probe.client.tryStartTLSAnyway && probeMode != .startTLS {
            throw fail(at: Keys.Probe.startTLSAnyway, "only applies when probing with STARTTLS (mode is \(probeMode))")
        }
        if scenario.probe.enumerate && (probeMode == .none || scenario.server.mode == .none) {
            throw fail(at: Keys.Probe.enumerate, "asks what a TLS server accepts; this one speaks no TLS")
        }

        // Expectations.
        for backend in scenario.expect.backends.keys.sorted(by: { $0.rawValue < $1.rawValue })
        where !scenario.probe.client.backends.contains(backend) {
            throw fail(
                at: Keys.Expect.backends.path + "." + backend.rawValue,
                "\(backend) is not probed (probe.backends is \(scenario.probe.client.backends.map(\.rawValue)))"
            )
        }
        let outcomes = Set(scenario.probe.client.backends.map { HashableOutcome(scenario.expect.expected(for: $0)) })
        if outcomes.count > 1 && scenario.expect.divergence == nil {
            throw fail(
                at: Keys.Expect.backends,
                "the backends are expected to differ; say why in expect.divergence"
            )
        }
        if outcomes.count <= 1 && scenario.expect.divergence != nil {
            throw fail(
                at: Keys.Expect.divergence,
                "the backends are expected to agree, so there is no divergence to explain"
            )
        }
    }

    private struct HashableOutcome: Hashable {
        let verdict: Set<FindingCode>
        let severity: Severity
        init(_ outcome: (verdict: Set<FindingCode>, severity: Severity)) {
            verdict = outcome.verdict
            severity = outcome.severity
        }
    }

    /// What is wrong with a greeting refusal for the protocol, or nil when it has the right shape.
    static func greetingRefusalProblem(_ refusal: String, for proto: ServiceProtocol) -> String? {
        switch proto {
        case .smtp, .ftp:
            let code = refusal.prefix(3)
            let follows = refusal.dropFirst(3).first
            guard code.count == 3, code.allSatisfy({ $0.isASCII && $0.isNumber }), "45".contains(code.first!),
                follows == nil || follows == " " || follows == "-"
            else {
                return "\(proto) refuses a session with a 4xx or 5xx reply (421, \"554 No service\"), got '\(refusal)'"
            }
            return nil
        case .imap:
            return refusal.hasPrefix("* BYE") ? nil : "IMAP refuses a session with '* BYE …', got '\(refusal)'"
        case .pop3:
            return refusal.hasPrefix("-ERR") ? nil : "POP3 refuses a session with '-ERR …', got '\(refusal)'"
        case .ldap, .https:
            return "\(proto) has no greeting to refuse"
        }
    }

    // MARK: - Locating the knob at fault

    private var cellNote: String {
        guard let cell else { return "" }
        var parts: [String] = []
        if let p = cell.serviceProtocol { parts.append("protocol=\(p)") }
        if let m = cell.mode { parts.append("tls=\(m)") }
        return " (matrix cell \(parts.joined(separator: ", ")))"
    }

    private func fail(_ value: YAMLValue, _ message: String) -> ScenarioError {
        value.error(message + cellNote)
    }

    private func fail<Root>(at key: ScenarioKey<Root>, _ message: String) -> ScenarioError {
        fail(at: key.path, message)
    }

    /// The value written at `key`, or nil when the file leaves it out.
    private func given<Root>(_ key: ScenarioKey<Root>) -> YAMLValue? {
        let (found, complete) = deepest(along: key.path)
        return complete ? found : nil
    }

    /// The error at the deepest node along the dotted `path` that exists (the knob itself when written, else its
    /// section).
    private func fail(at path: String, _ message: String) -> ScenarioError {
        ScenarioError(location: deepest(along: path).value.location, path: path, message: message + cellNote)
    }

    private func deepest(along path: String) -> (value: YAMLValue, complete: Bool) {
        var current = root
        for key in path.split(separator: ".").map(String.init) {
            guard case .mapping(let mapping) = current.node, let child = mapping[key] else { return (current, false) }
            current = YAMLValue(
                node: child,
                path: current.path.isEmpty ? key : "\(current.path).\(key)",
                file: root.file
            )
        }
        return (current, true)
    }
}
