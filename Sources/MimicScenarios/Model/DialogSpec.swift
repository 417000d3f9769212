/// Protocol-level misbehaviour of the mock, in the spirit of EAST's knobs and striptls' attacks.
///
/// Every knob defaults to a well-behaved server; a scenario sets only what it breaks.
public struct DialogSpec: Sendable, Hashable {
    /// The greeting lines (several make a multi-line `220-` greeting); nil keeps the protocol's default.
    public var greeting: [String]?
    /// How long the server waits before its first byte (tarpits, postscreen greet-wait).
    public var greetingDelay: Duration
    /// Refuse the session in the greeting with this reply (`421 4.3.2 Try later`, `* BYE`, `-ERR`).
    public var refuseGreeting: String?
    /// Capability lists (EHLO keywords, IMAP CAPABILITY atoms, POP3 CAPA lines, FTP FEAT lines).
    public var capabilities: Capabilities
    public var startTLS: StartTLSSpec?
    /// IMAP: greet with `* PREAUTH`, skipping the chance to upgrade.
    public var preauth: Bool
    public var ldap: LDAPSpec?
    public var ftp: FTPSpec?
    public var lineEndings: LineEndings
    /// An implicit-TLS port that answers in plaintext.
    public var implicitSpeaksPlaintext: Bool
    /// A STARTTLS port that starts TLS from the first byte.
    public var startTLSSpeaksTLS: Bool

    public init(
        greeting: [String]? = nil,
        greetingDelay: Duration = .zero,
        refuseGreeting: String? = nil,
        capabilities: Capabilities = Capabilities(),
        startTLS: StartTLSSpec? = nil,
        preauth: Bool = false,
        ldap: LDAPSpec? = nil,
        ftp: FTPSpec? = nil,
        lineEndings: LineEndings = .crlf,
        implicitSpeaksPlaintext: Bool = false,
        startTLSSpeaksTLS: Bool = false
    ) {
        self.greeting = greeting
        self.greetingDelay = greetingDelay
        self.refuseGreeting = refuseGreeting
        self.capabilities = capabilities
        self.startTLS = startTLS
        self.preauth = preauth
        self.ldap = ldap
        self.ftp = ftp
        self.lineEndings = lineEndings
        self.implicitSpeaksPlaintext = implicitSpeaksPlaintext
        self.startTLSSpeaksTLS = startTLSSpeaksTLS
    }

    public struct Capabilities: Sendable, Hashable {
        /// Advertised before the upgrade; nil keeps the protocol's default list.
        public var beforeTLS: [String]?
        /// Advertised after the upgrade; nil keeps the protocol's default list.
        public var afterTLS: [String]?

        public init(beforeTLS: [String]? = nil, afterTLS: [String]? = nil) {
            self.beforeTLS = beforeTLS
            self.afterTLS = afterTLS
        }
    }

    public enum LineEndings: String, Sendable, Hashable, CaseIterable {
        case crlf
        /// Bare LF, which strict servers and clients reject.
        case lf
    }
}

/// How the mock handles the in-band upgrade (SMTP STARTTLS, IMAP STARTTLS, POP3 STLS, FTP AUTH TLS,
/// LDAP StartTLS).
public struct StartTLSSpec: Sendable, Hashable {
    public var advertise: Advertise
    /// The reply to the upgrade command (`454 4.7.0 TLS not available`, `NO …`, `BAD …`, `-ERR …`); nil sends the
    /// protocol's go-ahead.
    public var reply: String?
    /// LDAP: the ExtendedResponse resultCode (0 success, 2 protocolError, 52 unavailable).
    public var ldapResult: Int?
    /// LDAP: the diagnosticMessage text.
    public var ldapDiagnostic: String?
    /// False: the server says go ahead but never starts TLS.
    public var transition: Bool
    /// Plaintext sent right after the go-ahead, before any TLS (the buffering/injection attack).
    public var injectAfterGoAhead: String?

    public init(
        advertise: Advertise = .advertised,
        reply: String? = nil,
        ldapResult: Int? = nil,
        ldapDiagnostic: String? = nil,
        transition: Bool = true,
        injectAfterGoAhead: String? = nil
    ) {
        self.advertise = advertise
        self.reply = reply
        self.ldapResult = ldapResult
        self.ldapDiagnostic = ldapDiagnostic
        self.transition = transition
        self.injectAfterGoAhead = injectAfterGoAhead
    }

    /// Whether the capability list offers the upgrade (`advertise: true | false | mangled` in YAML).
    public enum Advertise: Sendable, Hashable, CaseIterable {
        case advertised
        /// Left out of the capabilities, though the command may still work (gromox#3).
        case omitted
        /// Advertised as `XXXXXXXA`, as middleboxes rewrite it.
        case mangled
    }
}

/// LDAP response shapes seen in the field (AD, Samba, OpenLDAP, ApacheDS).
public struct LDAPSpec: Sendable, Hashable {
    /// Encode BER lengths in long form (`30 84 00 00 00 …`) as Active Directory does.
    public var longFormLengths: Bool
    /// Answer with this messageID instead of the request's.
    public var messageID: Int?
    /// Send an unsolicited Notice of Disconnection (1.3.6.1.4.1.1466.20036) instead of the response.
    public var noticeOfDisconnection: Bool
    public var responseName: ResponseName

    public init(
        longFormLengths: Bool = false,
        messageID: Int? = nil,
        noticeOfDisconnection: Bool = false,
        responseName: ResponseName = .omitted
    ) {
        self.longFormLengths = longFormLengths
        self.messageID = messageID
        self.noticeOfDisconnection = noticeOfDisconnection
        self.responseName = responseName
    }

    /// The ExtendedResponse's optional responseName.
    public enum ResponseName: Sendable, Hashable {
        /// Echo the StartTLS OID 1.3.6.1.4.1.1466.20037 (ApacheDS).
        case startTLS
        /// Leave it out (allowed by RFC 4511), as OpenLDAP slapd does: the default.
        case omitted
        /// Some other OID.
        case custom(String)
    }
}

/// FTP: the AUTH variants and the data channel.
public struct FTPSpec: Sendable, Hashable {
    public var authTLS: Auth
    public var authSSL: Auth
    public var dataChannel: DataChannel
    /// The IPv4 address the 227 reply to PASV names instead of the mock's own (NAT, a bounce); nil: its own.
    public var pasvAddress: String?
    /// False: EPSV is refused and left out of FEAT, so clients fall back to PASV.
    public var epsv: Bool

    public init(
        authTLS: Auth = .accept,
        authSSL: Auth = .accept,
        dataChannel: DataChannel = .tls,
        pasvAddress: String? = nil,
        epsv: Bool = true
    ) {
        self.authTLS = authTLS
        self.authSSL = authSSL
        self.dataChannel = dataChannel
        self.pasvAddress = pasvAddress
        self.epsv = epsv
    }

    public enum Auth: Sendable, Hashable {
        case accept
        /// Refused with this reply, or the protocol's default refusal (`534`) when nil.
        case refuse(reply: String?)
    }

    public enum DataChannel: String, Sendable, Hashable, CaseIterable {
        /// PROT P honoured: TLS on the data channel with the control channel's certificate.
        case tls
        /// PROT P accepted but the data channel stays plaintext.
        case plaintext
        /// The data channel presents a different certificate.
        case otherCertificate = "other-certificate"
        /// The data channel requires TLS session resumption from the control channel (vsftpd, FileZilla).
        case requireResumption = "require-resumption"
    }
}
