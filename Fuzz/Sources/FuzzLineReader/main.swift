import FuzzSupport
import MimicDialogs

// The line reader every text dialog frames with (CRLF, bare LF flagged, a bounded line); the lines must not depend
// on how the bytes were segmented (`ParserEntryPoints.lineReader(input:)`).
fuzzMain { input in
    if !ParserEntryPoints.lineReader(input: input.bytes) { fatalError("line reader: the lines depend on segmentation") }
}
