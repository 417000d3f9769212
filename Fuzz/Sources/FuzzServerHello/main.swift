import FuzzSupport
import MimicTLS

// The ServerHello reader enumeration runs on a server's first TLS bytes before the engine sees them. Input: a
// segment-size byte, then the bytes.
fuzzMain { input in
    let segmentChoice = input.choice()
    var reader = ServerHelloReader()
    var outcome = ServerHelloReader.Outcome.needMoreBytes
    let size = FuzzInput.segmentSize(segmentChoice, total: input.bytes.count)
    for segment in FuzzInput.segments(input.bytes, size: size) {
        outcome = reader.append(segment)
        if outcome != .needMoreBytes { break }
    }
    var whole = ServerHelloReader()
    // The outcome depends on the bytes, not on how they were segmented.
    if whole.append(input.bytes) != outcome { fatalError("ServerHello outcome depends on segmentation") }
}
