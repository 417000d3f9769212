import FuzzSupport
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// Every client dialog (the probe's SMTP, IMAP, POP3, FTP, LDAP and HTTP sides, implicit and STARTTLS) fed arbitrary
/// server bytes; the input's first bytes pick the protocol, the mode and the segmentation
/// (`ParserEntryPoints.clientDialog(input:)`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    if !ParserEntryPoints.clientDialog(input: FuzzInput(start, count).bytes) { fatalError("client dialog") }
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
