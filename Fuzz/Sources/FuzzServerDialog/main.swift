import FuzzSupport
import MimicCore
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// Every server dialog (the mocks' SMTP, IMAP, POP3, FTP, LDAP and HTTP sides) fed arbitrary client bytes, under a
/// few of the configurations scenarios can ask for. Input: a protocol/mode byte, a configuration byte, a
/// segment-size byte, then the client's bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let selector = input.choice()
    let flags = input.choice()
    let segmentChoice = input.choice()
    let serviceProtocol = FuzzInput.serviceProtocol(selector)
    var configuration = ServerDialogConfiguration()
    switch (selector >> 4) % 3 {
    case 0: configuration.mode = .startTLS
    case 1: configuration.mode = .implicit
    default: configuration.mode = .none
    }
    if serviceProtocol == .https { configuration.mode = .implicit }
    configuration.strictCRLF = flags & 0x01 != 0
    configuration.rejectEarlyTalk = flags & 0x02 != 0
    configuration.lineEnding = flags & 0x04 != 0 ? .lf : .crlf
    configuration.ldap.longFormLengths = flags & 0x08 != 0
    configuration.ftp.extendedPassive = flags & 0x10 == 0
    configuration.preauth = serviceProtocol == .imap && flags & 0x20 != 0
    configuration.startTLS.executeInjectedCommands = flags & 0x40 != 0
    let transfer: DataTransferOutcome = [.sent, .noConnection, .connectionFailed][Int(selector & 0x03) % 3]
    ServerDialogDriver.run(
        serviceProtocol, configuration: configuration,
        segments: FuzzInput.segments(input.bytes, size: FuzzInput.segmentSize(segmentChoice, total: input.bytes.count)),
        transfer: transfer)
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
