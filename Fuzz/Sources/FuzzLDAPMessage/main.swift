import FuzzSupport
import MimicDialogs

// LDAP messages: the framer that splits a stream into LDAPMessages (whose answer must not depend on segmentation),
// and each message decoded as a server's response and as a client's request (`ParserEntryPoints.ldap(input:)`).
fuzzMain { input in
    if !ParserEntryPoints.ldap(input: input.bytes) { fatalError("LDAP framer: the messages depend on segmentation") }
}
