import FuzzSupport
import MimicDialogs

// The HTTP readers: the probe's response reader (status line, headers) and the mock's request reader, fed the same
// arbitrary bytes (`ParserEntryPoints.http(input:)`).
fuzzMain { input in
    if !ParserEntryPoints.http(input: input.bytes) { fatalError("HTTP") }
}
