import FuzzSupport
import MimicCore
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP parsers: the probe's response reader (status line, headers, body framing) fed arbitrary server bytes,
/// and the mock's request reader fed the same bytes as a client's. Input: a segment-size byte, then the bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let segmentChoice = input.choice()
    let segments = FuzzInput.segments(
        input.bytes, size: FuzzInput.segmentSize(segmentChoice, total: input.bytes.count))
    ClientDialogDriver.run(.https, mode: .implicit, segments: segments, dataChannelOpens: true)
    ServerDialogDriver.run(
        .https, configuration: ServerDialogConfiguration(mode: .implicit), segments: segments, transfer: .sent)
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
