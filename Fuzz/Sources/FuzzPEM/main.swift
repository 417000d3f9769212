import Foundation
import FuzzSupport
import MimicCerts

#if canImport(Glibc)
import Glibc
#endif

/// The PEM reader (certificate files given to `mimic verify`, `--ca`, scenario chains) fed arbitrary bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    _ = try? PEM.decodeCertificates(data: Data(input.bytes))
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
