import FuzzSupport
import MimicTLS

#if canImport(Glibc)
import Glibc
#endif

/// The ClientHello reader the mocks run on a client's first TLS bytes. Input: a segment-size byte, then the bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let segmentChoice = input.choice()
    var parser = ClientHelloParser()
    for segment in FuzzInput.segments(input.bytes, size: FuzzInput.segmentSize(segmentChoice, total: input.bytes.count)) {
        if parser.append(segment) != .needMoreBytes { break }
    }
    var whole = ClientHelloParser()
    _ = whole.append(input.bytes)
    // The outcome depends on the bytes, not on how they were segmented.
    if parser.finish() != whole.finish() { fatalError("ClientHello outcome depends on segmentation") }
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
