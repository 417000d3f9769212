import FuzzSupport
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// The line reader every text dialog frames with (CRLF, bare LF flagged, a bounded line); the lines must not depend
/// on how the bytes were segmented (`ParserEntryPoints.lineReader(input:)`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    if !ParserEntryPoints.lineReader(input: FuzzInput(start, count).bytes) { fatalError("line reader: the lines depend on segmentation") }
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
