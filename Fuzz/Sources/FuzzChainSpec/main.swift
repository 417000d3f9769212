import FuzzSupport
import MimicCerts

#if canImport(Glibc)
import Glibc
#endif

/// The chain-spec reader (certificate profiles and scenarios' inline chains) fed arbitrary YAML text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    _ = try? ChainSpec.parse(yaml: String(decoding: input.bytes, as: UTF8.self), file: "fuzz.yaml")
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
