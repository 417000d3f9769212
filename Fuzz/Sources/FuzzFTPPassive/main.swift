import FuzzSupport
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// The FTP passive-mode parsers (EPSV's port, PASV's address and port): a hostile reply yields nil or a port in
/// 1…65535 and a dotted quad (`ParserEntryPoints.ftpPassive(input:)`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    if !ParserEntryPoints.ftpPassive(input: FuzzInput(start, count).bytes) { fatalError("FTP passive reply: a port or host out of range") }
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
