import FuzzSupport
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// LDAP messages: the framer that splits a stream into LDAPMessages, then each message decoded as a server's
/// response (the probe) and as a client's request (the mock). Input: a segment-size byte, then the stream.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let segmentChoice = input.choice()
    let framed = ParserEntryPoints.ldapFramer(
        input.bytes, maxMessageBytes: 64 * 1024,
        segment: FuzzInput.segmentSize(segmentChoice, total: input.bytes.count))
    let whole = ParserEntryPoints.ldapFramer(input.bytes, maxMessageBytes: 64 * 1024, segment: input.bytes.count)
    if framed != whole { fatalError("LDAP framer: \(framed) messages in segments, \(whole) at once") }
    _ = ParserEntryPoints.ldapMessages(input.bytes, maxDepth: 16)
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
