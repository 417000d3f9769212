import FuzzSupport
import MimicTLS

// The ClientHello reader the mocks run on a client's first TLS bytes. Input: a segment-size byte, then the bytes.
fuzzMain { input in
    let segmentChoice = input.choice()
    var parser = ClientHelloParser()
    let size = FuzzInput.segmentSize(segmentChoice, total: input.bytes.count)
    for segment in FuzzInput.segments(input.bytes, size: size) {
        if parser.append(segment) != .needMoreBytes { break }
    }
    var whole = ClientHelloParser()
    _ = whole.append(input.bytes)
    // The outcome depends on the bytes, not on how they were segmented.
    if parser.finish() != whole.finish() { fatalError("ClientHello outcome depends on segmentation") }
}
