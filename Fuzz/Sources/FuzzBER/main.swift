import FuzzSupport
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// The bounded BER reader under both LDAP sides: consecutive elements, nesting checked to a depth
/// (`ParserEntryPoints.ber(input:)`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    if !ParserEntryPoints.ber(input: FuzzInput(start, count).bytes) { fatalError("BER") }
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
