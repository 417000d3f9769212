import FuzzSupport
import MimicDialogs

// Every server dialog (the mocks' SMTP, IMAP, POP3, FTP, LDAP and HTTP sides) fed arbitrary client bytes under a few
// of the configurations scenarios can ask for (`ParserEntryPoints.serverDialog(input:)`).
fuzzMain { input in
    if !ParserEntryPoints.serverDialog(input: input.bytes) { fatalError("server dialog") }
}
