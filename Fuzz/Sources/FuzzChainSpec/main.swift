import FuzzSupport
import MimicCerts

#if canImport(Glibc)
import Glibc
#endif

/// The chain-spec reader fed arbitrary YAML text, as a bare chain spec (a scenario's inline chain) and as a certificate
/// profile (`certs/profiles/*.yaml`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    let text = String(decoding: input.bytes, as: UTF8.self)
    _ = try? ChainSpec.parse(yaml: text, file: "fuzz.yaml")
    _ = try? ChainProfile.parse(yaml: text, name: "fuzz", file: "fuzz.yaml")
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
