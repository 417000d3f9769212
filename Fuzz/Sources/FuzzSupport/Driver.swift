#if canImport(Glibc)
import Glibc
#endif

/// The one driver every target's `main.swift` calls: `fuzzMain { input in … }` runs libFuzzer over the body with the
/// process's arguments and exits with libFuzzer's status. The body gets each input as a `FuzzInput`; it traps
/// (`fatalError`) when an invariant the target checks is broken, and otherwise returns. Whatever a body can build
/// once (a loader, a configuration, a date) belongs in a `let` outside it, so each execution spends its time in the
/// parser under test.
public func fuzzMain(_ body: @escaping (inout FuzzInput) -> Void) -> Never {
    FuzzBody.current = body
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput))
}

/// The body libFuzzer's C entry point calls; set once, before libFuzzer starts, and read only from its thread.
enum FuzzBody {
    nonisolated(unsafe) static var current: ((inout FuzzInput) -> Void)?
}

/// libFuzzer's test function: hands the bytes to the target's body.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    FuzzBody.current?(&input)
    return 0
}

/// libFuzzer's driver, as a library call: `swift build` links every executable's `main` itself (on Linux it renames
/// the module's entry point and points `main` at it), so the driver is started from `fuzzMain` instead of relying on
/// libFuzzer's own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ testOneInput: @convention(c) (UnsafeRawPointer?, Int) -> CInt
) -> CInt
