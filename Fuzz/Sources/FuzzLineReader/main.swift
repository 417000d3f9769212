import FuzzSupport
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// The line reader every text dialog frames with (CRLF, bare LF flagged, a bounded line). Input: a limit byte, a
/// segment-size byte, then the bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let limit = Int(input.choice())
    let segmentChoice = input.choice()
    let lines = ParserEntryPoints.lineReader(
        input.bytes, maxLineLength: limit, segment: FuzzInput.segmentSize(segmentChoice, total: input.bytes.count))
    // Whatever the segmentation, the same lines come out.
    let whole = ParserEntryPoints.lineReader(input.bytes, maxLineLength: limit, segment: input.bytes.count)
    if lines != whole { fatalError("line reader: \(lines) lines in segments, \(whole) at once") }
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
