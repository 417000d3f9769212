import ArgumentParser
import MimicVerdict

/// `--warn-days` and `--crit-days`: how close to expiry a certificate in the path makes `probe` and `verify` warn.
/// Each command checks them in its own `validate()`.
struct ExpiryDays: ParsableArguments {
    @Option(
        name: .customLong("warn-days"), help: "WARNING when a certificate in the path expires within this many days.")
    var warnDays: Int = ExpiryThresholds.defaultWarnDays

    @Option(
        name: .customLong("crit-days"), help: "CRITICAL when a certificate in the path expires within this many days.")
    var critDays: Int = ExpiryThresholds.defaultCritDays
}
