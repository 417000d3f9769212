import FuzzSupport
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// LDAP messages: the framer that splits a stream into LDAPMessages (whose answer must not depend on segmentation),
/// and each message decoded as a server's response and as a client's request (`ParserEntryPoints.ldap(input:)`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    if !ParserEntryPoints.ldap(input: FuzzInput(start, count).bytes) { fatalError("LDAP framer: the messages depend on segmentation") }
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
