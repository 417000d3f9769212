import FuzzSupport
import MimicDialogs

#if canImport(Glibc)
import Glibc
#endif

/// The FTP passive-mode parsers (EPSV's port, PASV's address and port): a hostile reply yields nil or a port in
/// 1…65535 and a dotted quad.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    let parsed = ParserEntryPoints.ftpPassive(String(decoding: input.bytes, as: UTF8.self))
    if let port = parsed.epsvPort, !(1...65535).contains(port) { fatalError("EPSV port \(port)") }
    if let port = parsed.pasvPort, !(1...65535).contains(port) { fatalError("PASV port \(port)") }
    if let host = parsed.pasvHost, host.split(separator: ".").count != 4 { fatalError("PASV host \(host)") }
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
