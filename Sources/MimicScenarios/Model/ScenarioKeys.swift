import MimicCerts
import MimicCore
import MimicDialogs
import MimicTLS

/// Every key of the scenario format, declared once per section (name, type, default, help, where it goes). The
/// loader, the validator and `scenarios/schema.json` (`ScenarioSchema`) are derived from these.
enum ScenarioKeys {
    enum Top {
        static let path = ""
        static let id = ScenarioKey<Scenario>(
            "id", in: path, schema: ["type": "string", "pattern": "^[A-Za-z0-9_.:/{}-]+$"],
            help: "Unique id, e.g. smtp::starttls::expired-leaf. With a matrix, contains {protocol} and/or {tls}.")
        static let summary = ScenarioKey<Scenario>(
            "summary", in: path, schema: ["type": "string", "minLength": 1],
            help: "One line for reports; {protocol} and {tls} are substituted.")
        static let tags = ScenarioKey<Scenario>(
            "tags", in: path, \.tags, .textList, help: "Free-form tags for selecting scenarios.")
        static let fieldFailure = ScenarioKey<Scenario>(
            "field_failure", in: path, \.fieldFailure, .text(acceptingNumbers: true),
            help: "Reference into FIELD-FAILURES.md, e.g. catalogue#36.")
        static let server = ScenarioKey<Scenario>("server", in: path, schema: Server.section.schema)
        static let pki = ScenarioKey<Scenario>("pki", in: path, schema: PKI.section.schema)
        static let tls = ScenarioKey<Scenario>("tls", in: path, \.tls, .section(TLS.section, initial: TLSSpec()))
        static let dialog = ScenarioKey<Scenario>(
            "dialog", in: path, \.dialog, .section(Dialog.section, initial: ServerDialogConfiguration()))
        static let network = ScenarioKey<Scenario>(
            "network", in: path, schema: ["type": "array", "items": .ref("fault")],
            help: "Toxiproxy-style faults, applied in order.")
        static let probe = ScenarioKey<Scenario>(
            "probe", in: path, \.probe, .section(Probe.section, initial: ProbeSpec()))
        static let expect = ScenarioKey<Scenario>("expect", in: path, schema: Expect.section.schema)
        static let matrix = ScenarioKey<Scenario>("matrix", in: path, schema: Matrix.section.schema)
        static let section = KeySection<Scenario>(
            [id, summary, tags, fieldFailure, server, pki, tls, dialog, network, probe, expect, matrix],
            [("required", .strings([id.name, summary.name, server.name, expect.name]))])
    }

    enum Server {
        static let path = "server"
        static let serviceProtocol = ScenarioKey<ServerSpec>("protocol", in: path, schema: .ref("protocol"))
        static let mode = ScenarioKey<ServerSpec>("tls", in: path, schema: .ref("mode"))
        static let backend = ScenarioKey<ServerSpec>(
            "backend", in: path, \.backend, .enumeration(what: "backend", ref: "backend"),
            help: "The TLS library the mock serves with.")
        static let address = ScenarioKey<ServerSpec>(
            "address", in: path, \.address, .listenAddress,
            help: "Listen address (default 127.0.0.1): an IPv4 or IPv6 literal, or localhost.")
        static let port = ScenarioKey<ServerSpec>(
            "port", in: path, \.port, .int(in: 0...65535), default: 0, help: "0 (default) = ephemeral.")
        static let maxConnections = ScenarioKey<ServerSpec>(
            "max_connections", in: path, \.limits.maxConnections, .int(in: MockServerLimits.maxConnectionsRange),
            help: "Connections served at once (default 256); one more hears the protocol's 'too many connections' "
                + "(SMTP 421, IMAP * BYE, POP3 -ERR, FTP 421, LDAP Notice of Disconnection, HTTPS 503) and is closed.")
        static let idleTimeout = ScenarioKey<ServerSpec>(
            "idle_timeout", in: path, \.limits.idleTimeout, .idleTimeout,
            help: "Close a connection silent both ways this long: 1s to 10m. Default: the protocol's real server "
                + "(smtp 300s, imap/pop3 180s, ftp 300s, ldap 300s, https 60s).")
        static let closeAfterConnections = ScenarioKey<ServerSpec>(
            "close_after_connections", in: path, \.limits.closeAfterConnections,
            .int(in: MockServerLimits.closeAfterConnectionsRange),
            help: "After this many connections in all, every later one hears the protocol's 'too many connections' "
                + "(a server that rate-limits a scanner). Default: no such limit.")
        static let section = KeySection<ServerSpec>(
            [serviceProtocol, mode, backend, address, port, maxConnections, idleTimeout, closeAfterConnections],
            [
                ("required", .strings([backend.name])),
                ("description", "protocol and tls are required unless the matrix supplies them."),
            ])
    }

    enum PKI {
        static let path = "pki"
        static let profile = ScenarioKey<PKISpec>("profile", in: path, schema: .ref("profile"))
        static let chain = ScenarioKey<PKISpec>("chain", in: path, schema: .ref("inlineChain"))
        static let serve = ScenarioKey<PKISpec>(
            "serve", in: path, schema: KeyType<[String]>.textList.schema.merging([("minItems", 1)]),
            help: "Certificates put on the wire, in order (leaf, intermediate, root, …).")
        static let sni = ScenarioKey<PKISpec>(
            "sni", in: path,
            schema: ["type": "object", "minProperties": 1, "additionalProperties": .ref("chainSource")],
            help: "SNI name → chain; the key 'default' is the chain for everything else.")
        static let section = KeySection<PKISpec>(
            [profile, chain, serve, sni],
            [
                ("description", "Give profile or chain (or an sni default), not both."),
                ("not", ["required": .strings([profile.name, chain.name])]),
            ])
    }

    enum TLS {
        static let path = "tls"
        static let versions = ScenarioKey<TLSSpec>("versions", in: path, \.versions, .versions)
        static let ciphers = ScenarioKey<TLSSpec>(
            "ciphers", in: path, \.ciphers, .text(), help: "OpenSSL cipher list (server.backend: openssl only).")
        static let priority = ScenarioKey<TLSSpec>(
            "priority", in: path, \.priority, .text(), help: "GnuTLS priority string (server.backend: gnutls only).")
        static let abortWithAlert = ScenarioKey<TLSSpec>(
            "abort_with_alert", in: path, \.abortWithAlert, .alert,
            help: "Answer the ClientHello with this alert: an RFC 8446 name or a number.")
        static let closeMidHandshake = ScenarioKey<TLSSpec>(
            "close_mid_handshake", in: path, \.closeMidHandshake, .bool, default: false,
            help: "Close the connection during the handshake.")
        static let serverOrder = ScenarioKey<TLSSpec>(
            "server_order", in: path, \.serverOrder, .bool,
            help: "true: pick the suite by the mock's own order (SSL_OP_CIPHER_SERVER_PREFERENCE / "
                + "%SERVER_PRECEDENCE); false: by the client's. Default: the library's (the client's).")
        static let section = KeySection<TLSSpec>(
            [versions, ciphers, priority, abortWithAlert, closeMidHandshake, serverOrder])
    }

    enum Dialog {
        static let path = "dialog"
        static let greeting = ScenarioKey<ServerDialogConfiguration>(
            "greeting", in: path, \.greeting, .greeting,
            help: "Greeting text, or a list of lines for a multi-line greeting.")
        static let greetingDelay = ScenarioKey<ServerDialogConfiguration>(
            "greeting_delay", in: path, \.greetingDelay, .duration, default: "0",
            help: "Wait this long before the first byte (tarpits, postscreen greet-wait).")
        static let refuseGreeting = ScenarioKey<ServerDialogConfiguration>(
            "refuse_greeting", in: path, \.refuseGreeting,
            KeyType.text(acceptingNumbers: true).map { ScenarioKeys.expandCode($0, text: "Service not available") },
            help: "Refuse the session: 421 / \"554 …\" (smtp, ftp), \"* BYE …\" (imap), \"-ERR …\" (pop3).")
        static let capabilities = ScenarioKey<ServerDialogConfiguration>("capabilities", in: path, Capabilities.section)
        static let startTLS = ScenarioKey<ServerDialogConfiguration>(
            "starttls", in: path, StartTLS.section, help: "Only with server.tls: starttls.")
        static let preauth = ScenarioKey<ServerDialogConfiguration>(
            "preauth", in: path, \.preauth, .bool, default: false, help: "IMAP only: greet with * PREAUTH.")
        static let ldap = ScenarioKey<ServerDialogConfiguration>("ldap", in: path, LDAP.section, help: "LDAP only.")
        static let ftp = ScenarioKey<ServerDialogConfiguration>("ftp", in: path, FTP.section, help: "FTP only.")
        static let lineEndings = ScenarioKey<ServerDialogConfiguration>(
            "line_endings", in: path, \.lineEnding, .enumeration(what: "line ending"), default: "crlf",
            help: "lf: bare LF, which strict servers and clients reject.")
        static let implicitSpeaksPlaintext = ScenarioKey<ServerDialogConfiguration>(
            "implicit_speaks_plaintext", in: path, \.implicitSpeaksPlaintext, .bool, default: false,
            help: "An implicit-TLS port that answers in plaintext. Only with server.tls: implicit.")
        static let startTLSSpeaksTLS = ScenarioKey<ServerDialogConfiguration>(
            "starttls_speaks_tls", in: path, \.startTLSSpeaksTLS, .bool, default: false,
            help: "A STARTTLS port that starts TLS from the first byte. Only with server.tls: starttls.")
        static let section = KeySection<ServerDialogConfiguration>([
            greeting, greetingDelay, refuseGreeting, capabilities, startTLS, preauth, ldap, ftp, lineEndings,
            implicitSpeaksPlaintext, startTLSSpeaksTLS,
        ])
    }

    enum Capabilities {
        static let path = "dialog.capabilities"
        static let beforeTLS = ScenarioKey<ServerDialogConfiguration>(
            "before_tls", in: path, \.capabilitiesBeforeTLS, .textList,
            help: "Advertised before the upgrade; absent keeps the protocol's default list.")
        static let afterTLS = ScenarioKey<ServerDialogConfiguration>(
            "after_tls", in: path, \.capabilitiesAfterTLS, .textList,
            help: "Advertised after the upgrade; absent keeps the protocol's default list.")
        static let section = KeySection<ServerDialogConfiguration>([beforeTLS, afterTLS])
    }

    enum StartTLS {
        static let path = "dialog.starttls"
        static let advertise = ScenarioKey<ServerDialogConfiguration>(
            "advertise", in: path, \.startTLS.advertise, .advertise, default: true,
            help: "true, false, or mangled (rewritten to XXXXXXXA).")
        static let reply = ScenarioKey<ServerDialogConfiguration>(
            "reply", in: path, \.startTLS.reply,
            KeyType.text(acceptingNumbers: true).map { ScenarioKeys.expandCode($0, text: "TLS not available") },
            help: "Reply to the upgrade command, e.g. \"454 4.7.0 TLS not available\", \"NO …\", \"BAD …\", \"-ERR …\".")
        static let ldapResult = ScenarioKey<ServerDialogConfiguration>(
            "ldap_result", in: path, \.ldap.resultCode, .int(in: 0...65535),
            help: "LDAP ExtendedResponse resultCode (ldap only).")
        static let ldapDiagnostic = ScenarioKey<ServerDialogConfiguration>(
            "ldap_diagnostic", in: path, \.ldap.diagnosticMessage, .anyText, help: "LDAP diagnosticMessage (ldap only).")
        static let transition = ScenarioKey<ServerDialogConfiguration>(
            "transition", in: path, \.startTLS.transition, .bool, default: true,
            help: "false: go-ahead but no TLS follows.")
        static let injectAfterGoAhead = ScenarioKey<ServerDialogConfiguration>(
            "inject_after_go_ahead", in: path, \.startTLS.injectAfterGoAhead, .text(),
            help: "Plaintext sent right after the go-ahead.")
        static let section = KeySection<ServerDialogConfiguration>(
            [advertise, reply, ldapResult, ldapDiagnostic, transition, injectAfterGoAhead])
    }

    enum LDAP {
        static let path = "dialog.ldap"
        static let longFormLengths = ScenarioKey<ServerDialogConfiguration>(
            "long_form_lengths", in: path, \.ldap.longFormLengths, .bool, default: false,
            help: "BER long-form lengths, as Active Directory sends.")
        static let messageID = ScenarioKey<ServerDialogConfiguration>(
            "message_id", in: path, \.ldap.messageIDOverride, .int(in: 0...Int(Int32.max)),
            help: "Answer with this messageID instead of the request's.")
        static let noticeOfDisconnection = ScenarioKey<ServerDialogConfiguration>(
            "notice_of_disconnection", in: path, \.ldap.noticeOfDisconnection, .bool, default: false,
            help: "Send a Notice of Disconnection instead of the StartTLS response.")
        static let responseName = ScenarioKey<ServerDialogConfiguration>(
            "response_name", in: path, \.ldap.responseName, .responseName, default: false,
            help: "true (StartTLS OID, as ApacheDS), false (omitted, the default, as slapd) or an OID.")
        static let section = KeySection<ServerDialogConfiguration>(
            [longFormLengths, messageID, noticeOfDisconnection, responseName])
    }

    enum FTP {
        static let path = "dialog.ftp"
        /// AUTH TLS is FTP's upgrade command: its refusal is the upgrade's reply, unless `starttls.reply` says.
        static let authTLS = ScenarioKey<ServerDialogConfiguration>(
            "auth_tls", in: path, schema: .ref("ftpAuth"), default: true
        ) { (value, dialog) throws(ScenarioError) in
            if let refusal = try KeyType.ftpAuth.decode(value), dialog.startTLS.reply == nil {
                dialog.startTLS.reply = refusal
            }
        }
        static let authSSL = ScenarioKey<ServerDialogConfiguration>(
            "auth_ssl", in: path, \.ftp.authSSLReply, .ftpAuth, default: true)
        static let dataChannel = ScenarioKey<ServerDialogConfiguration>(
            "data_channel", in: path, \.ftp.dataChannel,
            .oneOf(
                [
                    ("tls", .tls), ("plaintext", .plaintext), ("other-certificate", .otherCertificate),
                    ("require-resumption", .requireResumption),
                ], what: "data channel"), default: "tls")
        static let pasvAddress = ScenarioKey<ServerDialogConfiguration>(
            "pasv_address", in: path, \.ftp.passiveHost, .pasvAddress,
            help: "The IPv4 address the 227 reply to PASV names instead of the mock's own.")
        static let epsv = ScenarioKey<ServerDialogConfiguration>(
            "epsv", in: path, \.ftp.extendedPassive, .bool, default: true,
            help: "false: EPSV is refused and left out of FEAT, so clients fall back to PASV.")
        static let section = KeySection<ServerDialogConfiguration>([authTLS, authSSL, dataChannel, pasvAddress, epsv])
    }

    /// One item of the `network` list; the kind says which parameters it takes (`kinds`).
    enum Fault {
        static let path = "network[]"
        static let phase = ScenarioKey<NetworkFault>(
            "phase", in: path, schema: ["enum": .strings(FaultPhase.allCases.map(\.rawValue))], default: "any")
        static let kind = ScenarioKey<NetworkFault>("kind", in: path, schema: ["enum": .strings(kinds.map(\.name))])
        static let ms = ScenarioKey<NetworkFault>("ms", in: path, schema: KeyType.int(in: msRange).schema)
        static let bytes = ScenarioKey<NetworkFault>("bytes", in: path, schema: ["type": "integer", "minimum": 0])
        static let interval = ScenarioKey<NetworkFault>("interval", in: path, schema: .ref("duration"))
        static let section = KeySection<NetworkFault>([phase, kind, ms, bytes, interval], [("required", ["kind"])])

        static let msRange = 0...3_600_000
        static let sliceRange = 1...65536
        static let closeAfterRange = 0...(1 << 30)

        /// Each kind's name in scenario files, its parameters, and the fault they make.
        static let kinds: [(name: String, parameters: [String], make: FaultMaker)] = [
            ("latency", [ms.name], { (m) throws(ScenarioError) in .latency(milliseconds: try m.int(ms, msRange)) }),
            (
                "trickle", [bytes.name, interval.name],
                { (m) throws(ScenarioError) in
                    .trickle(
                        bytes: try m.int(bytes, sliceRange),
                        intervalMilliseconds: try m.required(interval).duration().faultMilliseconds)
                }
            ),
            ("slice", [bytes.name], { (m) throws(ScenarioError) in .slice(bytes: try m.int(bytes, sliceRange)) }),
            ("stall", [], { _ throws(ScenarioError) in .stall }),
            ("reset", [], { _ throws(ScenarioError) in .reset }),
            (
                "close_after", [bytes.name],
                { (m) throws(ScenarioError) in .closeAfter(bytes: try m.int(bytes, closeAfterRange)) }
            ),
        ]
        typealias FaultMaker = @Sendable (YAMLMapping) throws(ScenarioError) -> NetworkFault.Kind

        /// The name a fault kind has in scenario files.
        static func name(of kind: NetworkFault.Kind) -> String {
            switch kind {
            case .latency: "latency"
            case .trickle: "trickle"
            case .slice: "slice"
            case .stall: "stall"
            case .reset: "reset"
            case .closeAfter: "close_after"
            }
        }
    }

    enum Probe {
        static let path = "probe"
        static let servername = ScenarioKey<ProbeSpec>(
            "servername", in: path, \.servername, .serverName,
            help: "A DNS name (RFC 1123 labels, at most 253 characters) or an IP literal.")
        static let backends = ScenarioKey<ProbeSpec>(
            "backends", in: path, \.client.backends, .backends, help: "The client-side libraries to probe with.")
        static let mode = ScenarioKey<ProbeSpec>(
            "mode", in: path, \.mode, .enumeration(what: "TLS mode", ref: "mode"),
            help: "Probe in this mode instead of the server's.")
        static let timeout = ScenarioKey<ProbeSpec>("timeout", in: path, \.timeout, .positiveDuration)
        static let startTLSAnyway = ScenarioKey<ProbeSpec>(
            "starttls_anyway", in: path, \.client.tryStartTLSAnyway, .bool, default: false,
            help: "Start the handshake even when the upgrade was refused.")
        static let policy = ScenarioKey<ProbeSpec>(
            "policy", in: path, \.client.verificationPolicy, .enumeration(what: "verification policy"), default: "default",
            help: "Chain verification policy: default (each library's ordinary client) or strict (OpenSSL "
                + "X509_STRICT + partial chains, certtool's medium profile).")
        static let enumerate = ScenarioKey<ProbeSpec>(
            "enumerate", in: path, \.enumerate, .bool, default: false,
            help: "Also enumerate what the mock accepts (mimic probe --enumerate): versions, suites, groups, order; "
                + "adds legacyVersion, weakCipher, noForwardSecrecy.")
        static let section = KeySection<ProbeSpec>(
            [servername, backends, mode, timeout, startTLSAnyway, policy, enumerate])
    }

    enum Expect {
        static let path = "expect"
        static let verdict = ScenarioKey<Expectation>("verdict", in: path, schema: .ref("verdict"))
        static let severity = ScenarioKey<Expectation>("severity", in: path, schema: .ref("severity"))
        static let backends = ScenarioKey<Expectation>(
            "backends", in: path,
            schema: [
                "type": "object", "additionalProperties": false,
                "properties": .object(TLSBackend.allCases.map { ($0.rawValue, .ref("backendExpectation")) }),
            ])
        static let divergence = ScenarioKey<Expectation>(
            "divergence", in: path, schema: KeyType<String>.text().schema,
            help: "Why the backends' expectations differ (required exactly when they do).")
        static let monitor = ScenarioKey<Expectation>(
            "monitor", in: path, schema: ["enum": .strings(MonitorExpectation.allCases.map(\.rawValue))],
            help: "What a monitor must report (mimic grade); absent: derived from the verdict (scenarios/README.md).")
        static let section = KeySection<Expectation>(
            [verdict, severity, backends, divergence, monitor], [("required", .strings([verdict.name]))])
    }

    /// `expect.backends.<backend>`.
    enum BackendExpect {
        static let path = "expect.backends[]"
        static let verdict = ScenarioKey<Expectation.BackendOverride>("verdict", in: path, schema: .ref("verdict"))
        static let severity = ScenarioKey<Expectation.BackendOverride>("severity", in: path, schema: .ref("severity"))
        static let section = KeySection<Expectation.BackendOverride>([verdict, severity], [("minProperties", 1)])
    }

    enum Matrix {
        static let path = "matrix"
        static let serviceProtocol = ScenarioKey<MatrixCell>(
            "protocol", in: path, schema: ["type": "array", "minItems": 1, "uniqueItems": true, "items": .ref("protocol")])
        static let mode = ScenarioKey<MatrixCell>(
            "tls", in: path, schema: ["type": "array", "minItems": 1, "uniqueItems": true, "items": .ref("mode")])
        static let section = KeySection<MatrixCell>(
            [serviceProtocol, mode],
            [("description", "Expand into one scenario per protocol × tls cell."), ("minProperties", 1)])
    }
}

extension YAMLMapping {
    fileprivate func int<Root>(_ key: ScenarioKey<Root>, _ range: ClosedRange<Int>) throws(ScenarioError) -> Int {
        try required(key).int(in: range)
    }
}
