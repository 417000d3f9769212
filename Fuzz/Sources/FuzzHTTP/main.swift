import FuzzSupport
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP readers: the probe's response reader (status line, headers) and the mock's request reader, fed the same
/// arbitrary bytes (`ParserEntryPoints.http(input:)`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    if !ParserEntryPoints.http(input: FuzzInput(start, count).bytes) { fatalError("HTTP") }
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
