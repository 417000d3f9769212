import FuzzSupport
import MimicDialogs

// Every client dialog (the probe's SMTP, IMAP, POP3, FTP, LDAP and HTTP sides, implicit and STARTTLS) fed arbitrary
// server bytes; the input's first bytes pick the protocol, the mode and the segmentation
// (`ParserEntryPoints.clientDialog(input:)`).
fuzzMain { input in
    if !ParserEntryPoints.clientDialog(input: input.bytes) { fatalError("client dialog") }
}
