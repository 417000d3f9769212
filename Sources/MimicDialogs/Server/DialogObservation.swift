import MimicCore

/// What a client did in a server dialog, as a monitor's grader wants to know it: did it read the capabilities,
/// ask for the upgrade, go on in plaintext when it was refused, send credentials or mail in the clear, say
/// goodbye. Verbs and booleans only: no argument, password or message content is ever kept, and a verb the
/// protocol does not know is kept as `?` (a line that is not a command may be a credential).
public struct DialogObservation: Sendable, Hashable, Codable {
    /// True when the port offered the in-band upgrade: a STARTTLS port advertising it (not stripped or mangled,
    /// not IMAP PREAUTH).
    public var upgradeOffered: Bool
    /// A capability request (EHLO, CAPABILITY, CAPA, FEAT, LDAP's RootDSE search) came in plaintext before any
    /// upgrade request.
    public var readCapabilitiesBeforeUpgrade: Bool
    /// The client asked for the upgrade (STARTTLS, STLS, AUTH TLS/SSL, the LDAP StartTLS extended operation).
    public var requestedUpgrade: Bool
    /// The server refused the upgrade (a configured refusal, a mangled keyword, a port without TLS).
    public var upgradeRefused: Bool
    /// The client sent commands in plaintext after the upgrade was refused, or after reading capabilities that
    /// did not offer it.
    public var continuedInPlaintext: Bool
    /// Those commands' verbs, in order (bounded by `maxCommands`).
    public var plaintextCommandsAfterRefusal: [String]
    /// Credentials before TLS: SMTP AUTH, IMAP LOGIN/AUTHENTICATE, POP3 USER/PASS/APOP/AUTH, FTP USER/PASS, an
    /// LDAP simple bind with a password.
    public var credentialsInClear: Bool
    /// Mail before TLS: SMTP MAIL, RCPT or DATA.
    public var mailInClear: Bool
    /// Verbs sent over TLS (the whole session on an implicit port), in order (bounded by `maxCommands`).
    public var commandsAfterTLS: [String]
    /// The client ended the session itself: QUIT, LOGOUT, an LDAP unbind.
    public var saidGoodbye: Bool

    /// Most verbs kept in each list.
    public static let maxCommands = 256

    public init(
        upgradeOffered: Bool = false,
        readCapabilitiesBeforeUpgrade: Bool = false,
        requestedUpgrade: Bool = false,
        upgradeRefused: Bool = false,
        continuedInPlaintext: Bool = false,
        plaintextCommandsAfterRefusal: [String] = [],
        credentialsInClear: Bool = false,
        mailInClear: Bool = false,
        commandsAfterTLS: [String] = [],
        saidGoodbye: Bool = false
    ) {
        self.upgradeOffered = upgradeOffered
        self.readCapabilitiesBeforeUpgrade = readCapabilitiesBeforeUpgrade
        self.requestedUpgrade = requestedUpgrade
        self.upgradeRefused = upgradeRefused
        self.continuedInPlaintext = continuedInPlaintext
        self.plaintextCommandsAfterRefusal = plaintextCommandsAfterRefusal
        self.credentialsInClear = credentialsInClear
        self.mailInClear = mailInClear
        self.commandsAfterTLS = commandsAfterTLS
        self.saidGoodbye = saidGoodbye
    }
}

/// What one client command means to an observer.
enum ClientCommandKind: Sendable, Hashable {
    case capabilities
    case upgrade
    case credentials
    case mail
    case goodbye
    case other
}

/// The observation a dialog keeps as commands arrive: it knows whether TLS is up and whether the upgrade failed.
struct DialogObserver: Sendable, Hashable {
    private(set) var observation: DialogObservation
    /// Commands after this point are plaintext after a refused or unoffered upgrade.
    private var upgradeFailed = false

    init(upgradeOffered: Bool) {
        observation = DialogObservation(upgradeOffered: upgradeOffered)
    }

    /// The port stopped offering the upgrade (IMAP PREAUTH).
    mutating func withdrawOffer() {
        observation.upgradeOffered = false
    }

    /// A command arrived: `verb` already made safe by `DialogObserver.verb(_:known:)`.
    mutating func command(_ verb: String, _ kind: ClientCommandKind, overTLS: Bool) {
        if overTLS {
            Self.append(verb, to: &observation.commandsAfterTLS)
        } else {
            if upgradeFailed {
                observation.continuedInPlaintext = true
                Self.append(verb, to: &observation.plaintextCommandsAfterRefusal)
            }
            switch kind {
            case .capabilities:
                if !observation.requestedUpgrade { observation.readCapabilitiesBeforeUpgrade = true }
                // Capabilities without the upgrade: whatever follows in plaintext went on without it.
                if !observation.upgradeOffered { upgradeFailed = true }
            case .upgrade: observation.requestedUpgrade = true
            case .credentials: observation.credentialsInClear = true
            case .mail: observation.mailInClear = true
            case .goodbye, .other: break
            }
        }
        if kind == .goodbye { observation.saidGoodbye = true }
    }

    /// The upgrade just asked for was refused (not "already active": that is no refusal).
    mutating func upgradeRefused() {
        observation.upgradeRefused = true
        upgradeFailed = true
    }

    private static func append(_ verb: String, to list: inout [String]) {
        if list.count < DialogObservation.maxCommands { list.append(verb) }
    }

    /// The verb as kept: upper-cased when the protocol knows it, `?` otherwise (never the client's unknown text,
    /// which may be a credential sent where a command was due).
    static func verb(_ verb: String, known: Set<String>) -> String {
        let upper = verb.uppercased()
        return known.contains(upper) ? upper : "?"
    }
}
