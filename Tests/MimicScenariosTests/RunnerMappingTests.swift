import Foundation
import MimicCerts
import MimicCore
import MimicDialogs
import MimicNet
import MimicScenarios
import MimicTLS
import Testing

/// Scenario → mock configuration, one knob family at a time, through the same preparation `mimic run` uses.
@Suite("Runner: scenario → mock configuration")
struct RunnerMappingTests {
    let runner = ScenarioRunner(factory: Fixtures.factory)

    func scenario(_ yaml: String, file: String = "mapping.yaml") throws -> Scenario {
        let scenarios = try ScenarioLoader(knownProfiles: nil).load(yaml: yaml, file: file)
        return try #require(scenarios.first)
    }

    func prepared(_ yaml: String) throws -> PreparedScenario {
        let (prepared, errors) = runner.prepare([try scenario(yaml)])
        #expect(errors.isEmpty, "\(errors)")
        return try #require(prepared.first)
    }

    @Test("server.max_connections and server.idle_timeout reach the mock's limits; absent, its defaults hold")
    func limits() throws {
        let set = try prepared(
            """
            id: t::limits
            summary: s
            server: { protocol: pop3, tls: starttls, backend: openssl, max_connections: 100000, idle_timeout: 1.5s }
            pki: { profile: good }
            expect: { verdict: [] }
            """)
        #expect(set.scenario.server.limits.maxConnections == 100_000)
        #expect(set.scenario.server.limits.idleTimeout == 1.5)
        #expect(set.configuration.limits.maxConnections == 100_000)
        #expect(set.configuration.limits.idleTimeout == 1.5)

        let unset = try prepared(
            """
            id: t::limits-default
            summary: s
            server: { protocol: pop3, tls: starttls, backend: openssl }
            pki: { profile: good }
            expect: { verdict: [] }
            """)
        #expect(unset.configuration.limits == MockServerConfiguration.Limits())
        #expect(unset.configuration.limits.maxConnections == 256)
        #expect(unset.configuration.limits.effectiveIdleTimeout(for: .pop3) == 180)
    }

    @Test("server section: protocol, mode, backend, address and port")
    func server() throws {
        let p = try prepared(
            """
            id: t::server
            summary: s
            server: { protocol: imap, tls: implicit, backend: gnutls, address: "::1", port: 1993 }
            pki: { profile: good }
            expect: { verdict: [] }
            """)
        let c = p.configuration
        #expect(c.serviceProtocol == .imap)
        #expect(c.mode == .implicit)
        #expect(c.backend == .gnutls)
        #expect(c.host == "::1")
        #expect(c.port == 1993)
        #expect(c.dialog.mode == .implicit)
        #expect(p.serverName == "mail.example.test")
        #expect(p.probeMode == .implicit)
    }

    @Test("dialog: greeting, delay, refusal with a bare code, capabilities, line endings, preauth")
    func dialogGreeting() throws {
        let p = try prepared(
            """
            id: t::greeting
            summary: s
            server: { protocol: smtp, tls: starttls, backend: openssl }
            dialog:
              greeting_delay: 250ms
              refuse_greeting: 421
              capabilities: { before_tls: [PIPELINING, STARTTLS], after_tls: [AUTH PLAIN] }
              line_endings: lf
            probe: { servername: smtp.example.test }
            expect: { verdict: [greetingRejected] }
            """)
        let d = p.configuration.dialog
        #expect(d.greetingDelay == .milliseconds(250))
        #expect(d.refuseGreeting == "421 Service not available")
        #expect(d.capabilitiesBeforeTLS == ["PIPELINING", "STARTTLS"])
        #expect(d.capabilitiesAfterTLS == ["AUTH PLAIN"])
        #expect(d.lineEnding == .lf)
        #expect(d.hostname == "smtp.example.test")

        let imap = try prepared(
            """
            id: t::preauth
            summary: s
            server: { protocol: imap, tls: starttls, backend: openssl }
            dialog: { preauth: true, greeting: ["* PREAUTH hello"] }
            expect: { verdict: [startTLSNotOffered] }
            """)
        #expect(imap.configuration.dialog.preauth)
        #expect(imap.configuration.dialog.greeting == ["* PREAUTH hello"])
    }

    @Test("dialog.starttls: advertise omitted/mangled, reply, transition, injection")
    func dialogStartTLS() throws {
        let mangled = try prepared(
            """
            id: t::starttls
            summary: s
            server: { protocol: smtp, tls: starttls, backend: openssl }
            dialog:
              starttls: { advertise: mangled, reply: 454, transition: false, inject_after_go_ahead: "250 x\\r\\n" }
            expect: { verdict: [startTLSNotOffered] }
            """)
        let s = mangled.configuration.dialog.startTLS
        #expect(s.advertise == .mangled)
        #expect(s.reply == "454 TLS not available")
        #expect(s.transition == false)
        #expect(s.injectAfterGoAhead == "250 x\r\n")

        let omitted = try prepared(
            """
            id: t::omitted
            summary: s
            server: { protocol: pop3, tls: starttls, backend: openssl }
            dialog: { starttls: { advertise: false, reply: "-ERR no" } }
            expect: { verdict: [startTLSNotOffered] }
            """)
        #expect(omitted.configuration.dialog.startTLS.advertise == .stripped)
        #expect(omitted.configuration.dialog.startTLS.reply == "-ERR no")
    }

    @Test("dialog: LDAP result, diagnostic and response shapes; a custom responseName OID is served as is")
    func dialogLDAP() throws {
        let p = try prepared(
            """
            id: t::ldap
            summary: s
            server: { protocol: ldap, tls: starttls, backend: openssl }
            dialog:
              starttls: { ldap_result: 52, ldap_diagnostic: "busy" }
              ldap: { long_form_lengths: true, message_id: 7, notice_of_disconnection: true, response_name: false }
            expect: { verdict: [startTLSRejected] }
            """)
        let l = p.configuration.dialog.ldap
        #expect(l.resultCode == 52)
        #expect(l.diagnosticMessage == "busy")
        #expect(l.longFormLengths)
        #expect(l.messageIDOverride == 7)
        #expect(l.noticeOfDisconnection)
        #expect(l.responseName == false)

        let custom = try prepared(
            """
            id: t::ldap-oid
            summary: s
            server: { protocol: ldap, tls: starttls, backend: openssl }
            dialog: { ldap: { response_name: "1.2.3.4" } }
            expect: { verdict: [] }
            """)
        #expect(custom.configuration.dialog.ldap.responseName == .oid("1.2.3.4"))
        let startTLS = try prepared(
            """
            id: t::ldap-starttls-oid
            summary: s
            server: { protocol: ldap, tls: starttls, backend: openssl }
            dialog: { ldap: { response_name: "1.3.6.1.4.1.1466.20037" } }
            expect: { verdict: [] }
            """)
        #expect(startTLS.configuration.dialog.ldap.responseName == .startTLS)
    }

    @Test("dialog.ftp: AUTH refusals and the data channel, other-certificate with a second chain")
    func dialogFTP() throws {
        let p = try prepared(
            """
            id: t::ftp
            summary: s
            server: { protocol: ftp, tls: starttls, backend: openssl }
            pki: { profile: good }
            dialog: { ftp: { auth_tls: "534 Policy", auth_ssl: false, data_channel: other-certificate } }
            expect: { verdict: [] }
            """)
        let c = p.configuration
        #expect(c.dialog.startTLS.reply == "534 Policy")
        #expect(c.dialog.ftp.authSSLReply == "534 Request denied for policy reasons.")
        #expect(c.dialog.ftp.dataChannel == .otherCertificate)
        let data = try #require(c.dataChannelTLS)
        #expect(!data.certificateChain.isEmpty)
        #expect(data.certificateChain.first != c.tls.certificateChain.first)
        // The probe must trust the data channel's chain as well as the control channel's.
        #expect(p.anchors.count >= 1)

        let plain = try prepared(
            """
            id: t::ftp-plain
            summary: s
            server: { protocol: ftp, tls: starttls, backend: openssl }
            dialog: { ftp: { data_channel: require-resumption } }
            expect: { verdict: [] }
            """)
        #expect(plain.configuration.dialog.ftp.dataChannel == .requireResumption)
        #expect(plain.configuration.dataChannelTLS == nil)
        #expect(plain.configuration.dialog.startTLS.reply == nil)
    }

    @Test("dialog: the implicit/STARTTLS mix-ups reach the mock")
    func modeMixups() throws {
        let implicit = try prepared(
            """
            id: t::implicit-plain
            summary: s
            server: { protocol: pop3, tls: implicit, backend: openssl }
            dialog: { implicit_speaks_plaintext: true }
            expect: { verdict: [modeMismatch] }
            """)
        #expect(implicit.configuration.dialog.implicitSpeaksPlaintext)

        let startTLS = try prepared(
            """
            id: t::starttls-tls
            summary: s
            server: { protocol: smtp, tls: starttls, backend: openssl }
            dialog: { starttls_speaks_tls: true }
            probe: { mode: implicit }
            expect: { verdict: [modeMismatch] }
            """)
        #expect(startTLS.configuration.dialog.startTLSSpeaksTLS)
        #expect(startTLS.probeMode == .implicit)
        #expect(startTLS.configuration.mode == .startTLS)
    }

    @Test("tls: versions → bounds, cipher list, priority, abort alert, cut mid-handshake")
    func tls() throws {
        let p = try prepared(
            """
            id: t::tls
            summary: s
            server: { protocol: https, tls: implicit, backend: openssl }
            tls: { versions: ["1.2", "1.0", "1.1"], ciphers: "HIGH:!aNULL", abort_with_alert: handshake_failure }
            expect: { verdict: [handshakeFailure] }
            """)
        let t = p.configuration.tls
        #expect(t.role == .server)
        #expect(t.minimumVersion == .tls1_0)
        #expect(t.maximumVersion == .tls1_2)
        #expect(t.cipherList == "HIGH:!aNULL")
        #expect(t.abortWithAlert == TLSAlert(code: 40))
        #expect(t.closeMidHandshake == nil)
        #expect(t.privateKey != nil)

        let g = try prepared(
            """
            id: t::tls-gnutls
            summary: s
            server: { protocol: https, tls: implicit, backend: gnutls }
            tls: { priority: "NORMAL:-VERS-TLS1.3", close_mid_handshake: true }
            expect: { verdict: [handshakeFailure] }
            """)
        #expect(g.configuration.tls.priority == "NORMAL:-VERS-TLS1.3")
        #expect(g.configuration.tls.closeMidHandshake == .afterClientHello)
        #expect(g.configuration.tls.minimumVersion == nil)
    }

    @Test("network: every fault kind, its phase and its units")
    func faults() throws {
        let p = try prepared(
            """
            id: t::faults
            summary: s
            server: { protocol: pop3, tls: implicit, backend: openssl }
            network:
              - { phase: greeting, kind: latency, ms: 250 }
              - { phase: handshake, kind: trickle, bytes: 1, interval: 1.5s }
              - { phase: post-tls, kind: slice, bytes: 2 }
              - { phase: any, kind: stall }
              - { kind: reset }
              - { phase: handshake, kind: close_after, bytes: 100 }
            expect: { verdict: [timeout] }
            """)
        #expect(
            p.configuration.faults == [
                .latency(milliseconds: 250, in: .greeting),
                .trickle(bytes: 1, intervalMilliseconds: 1500, in: .handshake),
                .slice(bytes: 2, in: .postTLS),
                .stall(in: .any),
                .reset(in: .any),
                .closeAfter(bytes: 100, in: .handshake),
            ])
    }

    @Test("pki: a profile minted once per run, serve reorders, SNI chains, and no pki gets a chain for the name")
    func pki() throws {
        let yaml = """
            id: t::pki-{n}
            summary: s
            server: { protocol: https, tls: implicit, backend: openssl }
            pki: { profile: good, serve: [intermediate, leaf], sni: { other.example.test: wrong-host } }
            expect: { verdict: [chainOrder] }
            """
        let first = try scenario(yaml.replacingOccurrences(of: "{n}", with: "1"))
        let second = try scenario(yaml.replacingOccurrences(of: "{n}", with: "2"))
        let (prepared, errors) = runner.prepare([first, second])
        #expect(errors.isEmpty)
        try #require(prepared.count == 2)
        let chain = prepared[0].configuration.tls.certificateChain
        #expect(chain.count == 2)
        // Same profile in one run: the same certificates, not a second minting.
        #expect(prepared[1].configuration.tls.certificateChain == chain)

        let good = try Fixtures.factory.mint(profile: "good")
        #expect(good.servedNames == ["leaf", "intermediate"])
        // Reordered as `serve` says; the key stays the leaf's.
        #expect(chain[1].count > 0 && chain[0] != chain[1])
        #expect(prepared[0].configuration.tls.serverNameChains.keys.sorted() == ["other.example.test"])
        let sni = try #require(prepared[0].configuration.tls.serverNameChains["other.example.test"])
        #expect(sni.certificateChain != chain)

        let none = try self.prepared(
            """
            id: t::no-pki
            summary: s
            server: { protocol: https, tls: implicit, backend: openssl }
            probe: { servername: www.example.test }
            expect: { verdict: [] }
            """)
        #expect(none.serverName == "www.example.test")
        let leaf = try #require(none.configuration.tls.certificateChain.first)
        let facts = try ChainFacts(chain: [leaf], anchors: none.anchors, hostname: "www.example.test", at: Date())
        #expect(facts.hostnameMatch == .matched(san: "DNS:www.example.test"))
    }

    @Test("pki: serve naming a certificate the chain lacks is an input error at the serve list")
    func badServe() throws {
        let bad = try scenario(
            """
            id: t::bad-serve
            summary: s
            server: { protocol: https, tls: implicit, backend: openssl }
            pki: { profile: good, serve: [leaf, nowhere] }
            expect: { verdict: [] }
            """, file: "bad-serve.yaml")
        let (prepared, errors) = runner.prepare([bad])
        #expect(prepared.isEmpty)
        let error = try #require(errors.first)
        #expect(error.path == "pki.serve")
        #expect(error.description.hasPrefix("bad-serve.yaml:4:30: pki.serve: "), "\(error)")
        #expect(error.message.contains("'nowhere'"))
    }

    @Test("each value's position is kept by its path; an unwritten path falls back to its parent, then the id")
    func sourceMap() throws {
        let loaded = try scenario(
            """
            id: t::where
            summary: s
            server: { protocol: ftp, tls: starttls, backend: openssl }
            dialog:
              ftp:
                data_channel: other-certificate
            network:
              - { kind: stall, phase: handshake }
              - kind: reset
                phase: greeting
            expect: { verdict: [] }
            """, file: "where.yaml")
        #expect(loaded.location(of: "dialog.ftp.data_channel").description == "where.yaml:6:19")
        #expect(loaded.location(of: "network[1].phase").description == "where.yaml:10:12")
        #expect(loaded.location(of: "network[0]").description == "where.yaml:8:5")
        // Not written: the nearest enclosing value, else the scenario's own position.
        #expect(loaded.location(of: "server.port").description == "where.yaml:3:9")
        #expect(loaded.location(of: "pki.serve") == loaded.source)
    }

    @Test("probe options: anchors, backends, timeout (default short), starttls_anyway, servername")
    func probeOptions() throws {
        let p = try prepared(
            """
            id: t::probe
            summary: s
            server: { protocol: imap, tls: starttls, backend: openssl }
            pki: { profile: wrong-host }
            probe: { servername: imap.example.test, backends: [gnutls], timeout: 1.5s, starttls_anyway: true }
            expect: { verdict: [hostnameMismatch] }
            """)
        let options = p.probeOptions(defaultTimeout: .seconds(3))
        #expect(options.client.backends == [.gnutls])
        #expect(options.deadlines.handshake == 1.5)
        #expect(options.client.tryStartTLSAnyway)
        #expect(!options.trustAnchors.isEmpty)
        #expect(options.trustAnchors == p.anchors)
        let target = p.target(host: "127.0.0.1", port: 1143)
        #expect(target.serverName == "imap.example.test")
        #expect(target.mode == .startTLS)

        let defaults = try prepared(
            """
            id: t::probe-default
            summary: s
            server: { protocol: imap, tls: starttls, backend: openssl }
            expect: { verdict: [] }
            """)
        let o = defaults.probeOptions(defaultTimeout: .seconds(3))
        #expect(o.deadlines.reply == 3)
        #expect(o.client.backends == TLSBackend.allCases)
    }
}
