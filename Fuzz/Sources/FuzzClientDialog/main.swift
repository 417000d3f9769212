import FuzzSupport
import MimicCore

#if canImport(Glibc)
import Glibc
#endif

/// Every client dialog (the probe's SMTP, IMAP, POP3, FTP, LDAP and HTTP sides, implicit and STARTTLS) fed arbitrary
/// server bytes. Input: a protocol/mode byte, a segment-size byte, then the server's bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let selector = input.choice()
    let segmentChoice = input.choice()
    let serviceProtocol = FuzzInput.serviceProtocol(selector)
    let mode: TLSMode = serviceProtocol == .https || selector & 0x40 != 0 ? .implicit : .startTLS
    ClientDialogDriver.run(
        serviceProtocol, mode: mode,
        segments: FuzzInput.segments(input.bytes, size: FuzzInput.segmentSize(segmentChoice, total: input.bytes.count)),
        dataChannelOpens: selector & 0x80 == 0)
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
