import FuzzSupport
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// Every server dialog (the mocks' SMTP, IMAP, POP3, FTP, LDAP and HTTP sides) fed arbitrary client bytes under a few
/// of the configurations scenarios can ask for (`ParserEntryPoints.serverDialog(input:)`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    if !ParserEntryPoints.serverDialog(input: FuzzInput(start, count).bytes) { fatalError("server dialog") }
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
