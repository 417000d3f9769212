/// How close an expiry must come before it is a finding: within `warnDays` a WARNING, within `critDays` CRITICAL
/// (`expiringSoon`). The probe, `mimic verify` and the profile matrix judge with the same defaults.
public struct ExpiryThresholds: Sendable, Hashable, Codable {
    public var warnDays: Int
    public var critDays: Int

    public init(warnDays: Int = Self.defaultWarnDays, critDays: Int = Self.defaultCritDays) {
        self.warnDays = warnDays
        self.critDays = critDays
    }

    /// The monitoring convention's defaults (check_ssl_cert, the Nagios plugins): 30 days WARNING, 7 CRITICAL.
    public static let defaultWarnDays = 30
    public static let defaultCritDays = 7
    public static let `default` = ExpiryThresholds()
}
