import FuzzSupport
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// The bounded BER reader under both LDAP sides: consecutive elements, nesting checked to a depth.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let depth = Int(input.choice() % 32)
    _ = ParserEntryPoints.ber(input.bytes, maxDepth: depth)
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
