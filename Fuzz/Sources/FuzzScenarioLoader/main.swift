import FuzzSupport
import MimicScenarios

#if canImport(Glibc)
import Glibc
#endif

/// The YAML scenario loader (Yams' parser under a node budget, then the decoder and validator) fed arbitrary text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    let text = String(decoding: input.bytes, as: UTF8.self)
    do {
        _ = try ScenarioLoader().load(yaml: text, file: "fuzz.yaml")
    } catch {
        _ = error.description
    }
    return 0
}

// libFuzzer's driver runs `fuzz`, this target's LLVMFuzzerTestOneInput (see FuzzSupport.runLibFuzzer).
exit(runLibFuzzer(fuzz))
