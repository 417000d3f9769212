import MimicCore

/// How a server dialog behaves. The defaults are a well-behaved server (Postfix, Dovecot, vsftpd, slapd, nginx
/// shapes); every knob is one misbehaviour from the field (FIELD-FAILURES.md). The names map 1:1 to a scenario's
/// `dialog:` section: camelCase here, snake_case in YAML (`startTLS.injectAfterGoAhead` ↔
/// `starttls: { inject_after_go_ahead: … }`).
///
/// Text knobs that hold replies are written as the server would send them, without the line ending; several
/// lines are separated by `\n` and each goes out with the configured `lineEnding`.
public struct ServerDialogConfiguration: Sendable, Hashable {
    /// `.startTLS`: plaintext, upgrade offered. `.implicit`: the caller hand-shakes before `start()`, no upgrade
    /// offered. `.none`: plaintext only, the upgrade neither offered nor accepted.
    public var mode: TLSMode
    /// The server's name in default greetings and replies.
    public var hostname: String
    /// The greeting, verbatim, one element per line (`["220-first", "220 last"]`); nil is the protocol's default.
    public var greeting: [String]?
    /// Make the default greeting multi-line (`220-` then `220 `, as postscreen does). SMTP and FTP only.
    public var multilineGreeting: Bool
    /// Wait before the greeting (sendmail greet_pause, postscreen greet_wait tarpits).
    public var greetingDelay: Duration
    /// Where the delay goes: before the whole greeting, or before its final line (postscreen's `220-` first).
    public var greetingDelayPlacement: GreetingDelayPlacement
    /// Send this instead of the greeting and close (`421 4.3.2 Service not available`, `554 5.7.1 No SMTP
    /// service here`, `* BYE …`, `-ERR …`). LDAP: a Notice of Disconnection (unavailable) instead. HTTPS: this
    /// status line (`HTTP/1.1 503 Service Unavailable`) answers the first request, then close.
    /// `ServerDialogConfiguration.defaultRefusal(for:)` gives a typical one.
    public var refuseGreeting: String?
    /// Capabilities before TLS, replacing the defaults (EHLO keywords, IMAP atoms, CAPA lines, FEAT lines, LDAP
    /// supportedExtension OIDs). The upgrade keyword is added at the end unless listed, then `startTLS.advertise`
    /// applies.
    public var capabilitiesBeforeTLS: [String]?
    /// Capabilities after TLS (and in implicit mode), verbatim: listing STARTTLS here is "not refreshed after TLS".
    public var capabilitiesAfterTLS: [String]?
    public var startTLS: StartTLS
    /// IMAP: greet with `* PREAUTH` (the session is authenticated in plaintext, STARTTLS no longer possible).
    public var preauth: Bool
    /// How every line this server sends ends.
    public var lineEnding: LineEnding
    /// Postscreen/Exim style: bytes received before the greeting's final line is sent get `earlyTalkReply` and
    /// a close.
    public var rejectEarlyTalk: Bool
    /// The reply to early talk; nil is the protocol's (`554 5.5.1 Protocol error`, `* BYE …`, `-ERR …`).
    public var earlyTalkReply: String?
    /// Exchange style: a command ending in a bare LF is refused with the protocol's error (SMTP
    /// `500 5.5.2 Error: bare <LF> received`); the session goes on.
    public var strictCRLF: Bool
    /// Replies that replace the normal answer to a command, keyed by the command verb in upper case (`EHLO`,
    /// `MAIL`, `RCPT`, `LOGIN`, `PASS`, `PROT`). IMAP values are the text after the tag (`NO [UNAVAILABLE] …`).
    /// SMTP/FTP: a reply starting with 421 closes the connection; IMAP: a `* BYE` closes it. For 4xx/5xx after
    /// TLS, rate limiting on EHLO, EHLO name policy (field failures 9, 10, 42).
    public var commandReplies: [String: String]
    /// Handled by the caller: on an implicit-TLS port, skip the handshake and call `start()` at once, so the
    /// greeting goes out in plaintext (modeMismatch). The dialog itself ignores it.
    public var implicitSpeaksPlaintext: Bool
    /// Handled by the caller: a STARTTLS port that expects a ClientHello at once, saying nothing first
    /// (modeMismatch); the dialog then runs as on an implicit port.
    public var startTLSSpeaksTLS: Bool
    public var ldap: LDAP
    public var ftp: FTP
    /// Bounds on what a client can make the dialog hold: line length, header lines (HTTP), pending bytes
    /// (`maxReplyBytes`), LDAP message size and BER depth.
    public var limits: DialogLimits

    public init(
        mode: TLSMode = .startTLS,
        hostname: String = "mail.example.test",
        greeting: [String]? = nil,
        multilineGreeting: Bool = false,
        greetingDelay: Duration = .zero,
        greetingDelayPlacement: GreetingDelayPlacement = .beforeGreeting,
        refuseGreeting: String? = nil,
        capabilitiesBeforeTLS: [String]? = nil,
        capabilitiesAfterTLS: [String]? = nil,
        startTLS: StartTLS = StartTLS(),
        preauth: Bool = false,
        lineEnding: LineEnding = .crlf,
        rejectEarlyTalk: Bool = false,
        earlyTalkReply: String? = nil,
        strictCRLF: Bool = false,
        commandReplies: [String: String] = [:],
        implicitSpeaksPlaintext: Bool = false,
        startTLSSpeaksTLS: Bool = false,
        ldap: LDAP = LDAP(),
        ftp: FTP = FTP(),
        limits: DialogLimits = DialogLimits()
    ) {
        self.mode = mode
        self.hostname = hostname
        self.greeting = greeting
        self.multilineGreeting = multilineGreeting
        self.greetingDelay = greetingDelay
        self.greetingDelayPlacement = greetingDelayPlacement
        self.refuseGreeting = refuseGreeting
        self.capabilitiesBeforeTLS = capabilitiesBeforeTLS
        self.capabilitiesAfterTLS = capabilitiesAfterTLS
        self.startTLS = startTLS
        self.preauth = preauth
        self.lineEnding = lineEnding
        self.rejectEarlyTalk = rejectEarlyTalk
        self.earlyTalkReply = earlyTalkReply
        self.strictCRLF = strictCRLF
        self.commandReplies = commandReplies
        self.implicitSpeaksPlaintext = implicitSpeaksPlaintext
        self.startTLSSpeaksTLS = startTLSSpeaksTLS
        self.ldap = ldap
        self.ftp = ftp
        self.limits = limits
    }

    public enum GreetingDelayPlacement: String, Sendable, Hashable, Codable, CaseIterable {
        case beforeGreeting = "before_greeting"
        case beforeFinalLine = "before_final_line"
    }

    public enum LineEnding: String, Sendable, Hashable, Codable, CaseIterable {
        case crlf
        /// Bare LF, which some clients wait on forever (Courier #43) and others flag.
        case lf

        var bytes: [UInt8] { self == .crlf ? [0x0D, 0x0A] : [0x0A] }
    }

    /// The upgrade: STARTTLS (SMTP, IMAP), STLS (POP3), AUTH TLS (FTP), the StartTLS extended operation (LDAP).
    public struct StartTLS: Sendable, Hashable {
        public var advertise: Advertise
        /// The reply to the upgrade command, verbatim; nil is the protocol's go-ahead. A positive reply (SMTP 220,
        /// FTP 234, POP3 `+OK`, IMAP `OK`) is a go-ahead and TLS follows; anything else is a refusal (`454 4.7.0
        /// TLS not available due to local problem`, `502 5.5.1 …`, `NO …`, `BAD …`, `-ERR …`, FTP `534 …`).
        /// IMAP: a reply starting with OK/NO/BAD gets the client's tag; any other text goes out as written.
        /// LDAP uses `ldap.resultCode` instead.
        public var reply: String?
        /// False: the go-ahead is sent but TLS never starts; the client's next bytes (its ClientHello) are
        /// answered in plaintext with `noTransitionReply`, and everything after them is ignored.
        public var transition: Bool
        /// The plaintext answer to the ClientHello when `transition` is false; nil is the protocol's
        /// unknown-command error (LDAP: a Notice of Disconnection, then close); "" is silence.
        public var noTransitionReply: String?
        /// Bytes sent in the same write right after the go-ahead (`250 injected`): response injection.
        public var injectAfterGoAhead: String?
        /// Keep the commands a client pipelined after the upgrade command and execute them after the handshake,
        /// as servers vulnerable to CVE-2011-0411 did. False (the fix) discards them.
        public var executeInjectedCommands: Bool

        public init(
            advertise: Advertise = .advertised,
            reply: String? = nil,
            transition: Bool = true,
            noTransitionReply: String? = nil,
            injectAfterGoAhead: String? = nil,
            executeInjectedCommands: Bool = false
        ) {
            self.advertise = advertise
            self.reply = reply
            self.transition = transition
            self.noTransitionReply = noTransitionReply
            self.injectAfterGoAhead = injectAfterGoAhead
            self.executeInjectedCommands = executeInjectedCommands
        }

        public enum Advertise: String, Sendable, Hashable, Codable, CaseIterable {
            case advertised
            /// Removed from the capabilities; the command still works (striptls StripFromCapabilities).
            case stripped
            /// Rewritten to X's as middleboxes do (`XXXXXXXA`, Cisco PIX/ASA); the command is then refused as
            /// unknown, as the middlebox rewrites it too.
            case mangled
        }
    }

    /// LDAP StartTLS response shapes (RFC 4511 §4.14; field failure 15).
    public struct LDAP: Sendable, Hashable {
        /// The StartTLS resultCode: 0 success; 2 protocolError, 52 unavailable (Active Directory), 1, 53, 127 …
        public var resultCode: Int
        public var diagnosticMessage: String
        /// The ExtendedResponse's responseName: none (OpenLDAP, the default: slapd 2.5 sends
        /// `30 0c 02 01 <id> 78 07 0a 01 00 04 00 04 00`; `false`), the StartTLS OID (ApacheDS; `true`), or another
        /// OID (a server that echoes the wrong one).
        public var responseName: ResponseName
        /// Encode every length in the long form `84 xx xx xx xx`, as Active Directory does.
        public var longFormLengths: Bool
        /// Answer every request with this messageID instead of the request's.
        public var messageIDOverride: Int?
        /// Answer StartTLS with a Notice of Disconnection (messageID 0, resultCode `resultCode` or unavailable)
        /// and close.
        public var noticeOfDisconnection: Bool

        public init(
            resultCode: Int = 0,
            diagnosticMessage: String = "",
            responseName: ResponseName = .omitted,
            longFormLengths: Bool = false,
            messageIDOverride: Int? = nil,
            noticeOfDisconnection: Bool = false
        ) {
            self.resultCode = resultCode
            self.diagnosticMessage = diagnosticMessage
            self.responseName = responseName
            self.longFormLengths = longFormLengths
            self.messageIDOverride = messageIDOverride
            self.noticeOfDisconnection = noticeOfDisconnection
        }

        /// The optional responseName of an ExtendedResponse (RFC 4511 §4.12: `[10] LDAPOID OPTIONAL`). A Boolean
        /// literal still works: `true` is the StartTLS OID, `false` none.
        public enum ResponseName: Sendable, Hashable, ExpressibleByBooleanLiteral {
            /// 1.3.6.1.4.1.1466.20037, the StartTLS request's own name.
            case startTLS
            /// No responseName at all.
            case omitted
            /// This text as the LDAPOID, sent as is (any OID, or something that is not one).
            case oid(String)

            public init(booleanLiteral value: Bool) {
                self = value ? .startTLS : .omitted
            }

            /// The OID sent, or nil when none is.
            public var oid: String? {
                switch self {
                case .startTLS: LDAPMessage.startTLSOID
                case .omitted: nil
                case .oid(let oid): oid
                }
            }
        }
    }

    /// FTP specifics (RFC 4217; field failure 40).
    public struct FTP: Sendable, Hashable {
        /// The reply to `AUTH SSL`; nil is the go-ahead. With `startTLS.reply` refusing `AUTH TLS` this makes
        /// "AUTH TLS refused while AUTH SSL works".
        public var authSSLReply: String?
        public var dataChannel: DataChannel
        /// The address a PASV reply names (the listener itself is always the caller's): another one makes a server
        /// that steers its clients elsewhere (behind NAT, or a bounce).
        public var passiveHost: String
        /// False: EPSV is refused (`502`) and left out of FEAT, so clients fall back to PASV, as behind old
        /// firewalls that only know PASV.
        public var extendedPassive: Bool

        public init(
            authSSLReply: String? = nil,
            dataChannel: DataChannel = .tls,
            passiveHost: String = "127.0.0.1",
            extendedPassive: Bool = true
        ) {
            self.authSSLReply = authSSLReply
            self.dataChannel = dataChannel
            self.passiveHost = passiveHost
            self.extendedPassive = extendedPassive
        }

        public enum DataChannel: String, Sendable, Hashable, Codable, CaseIterable {
            /// TLS on the data connection when PROT P is in force.
            case tls
            /// PROT P accepted but not enforced: the data connection stays plaintext.
            case plaintext
            /// TLS with a certificate other than the control connection's (enforced by the caller).
            case otherCertificate = "other_certificate"
            /// TLS that requires resuming the control connection's session, as vsftpd's require_ssl_reuse
            /// (enforced by the caller; a failed transfer is then answered `522`).
            case requireResumption = "require_resumption"
        }
    }

    /// A typical greeting refusal for the protocol.
    public static func defaultRefusal(for serviceProtocol: ServiceProtocol) -> String {
        switch serviceProtocol {
        case .smtp: "554 5.7.1 mail.example.test ESMTP not accepting connections"
        case .imap: "* BYE Server shutting down."
        case .pop3: "-ERR [SYS/TEMP] Server shutting down."
        case .ftp: "421 Service not available, closing control connection."
        case .ldap: "unavailable"
        case .https: "HTTP/1.1 503 Service Unavailable"
        }
    }

    /// What a real server of the protocol says to a connection beyond its connection limit, as a `refuseGreeting`:
    /// Postfix's `421 4.7.0 <name> Error: too many connections`, FTP's `421`, IMAP's `* BYE`, POP3's `-ERR
    /// [SYS/TEMP]` (RFC 3206), an LDAP Notice of Disconnection (unavailable, this diagnostic), nginx's 503 answering
    /// the first request.
    public static func tooManyConnections(for serviceProtocol: ServiceProtocol, hostname: String) -> String {
        switch serviceProtocol {
        case .smtp: "421 4.7.0 \(hostname) Error: too many connections"
        case .imap: "* BYE Too many connections"
        case .pop3: "-ERR [SYS/TEMP] Too many connections"
        case .ftp: "421 Too many connections"
        case .ldap: "Too many connections"
        case .https: "HTTP/1.1 503 Service Unavailable"
        }
    }
}

extension Duration {
    /// Whole milliseconds, never negative.
    var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        let total = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int(clamping: max(0, total))
    }
}
