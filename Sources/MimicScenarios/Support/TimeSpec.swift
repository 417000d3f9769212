import Foundation

/// A point in time as a person types it on a command line.
///
/// Accepts ISO 8601 (`2027-01-01T00:00:00Z`), a date alone (`2027-01-01`, midnight UTC), Unix seconds
/// (`@1798761600`), and offsets from now (`+30d`, `-2h`, `+1y`, `now`).
public enum TimeSpec {
    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "cannot read '\(text)' as a time: use ISO 8601 (2027-01-01T00:00:00Z), a date (2027-01-01), "
                + "@UNIX-SECONDS, or an offset from now (+30d, -12h, +1y)"
        }
    }

    public static func parse(_ text: String, now: Date = Date()) throws(ParseError) -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "now" { return now }
        if trimmed.hasPrefix("@"), let seconds = Double(trimmed.dropFirst()), seconds.isFinite {
            return Date(timeIntervalSince1970: seconds)
        }
        if let offset = offset(trimmed) { return now.addingTimeInterval(offset) }
        let full = ISO8601DateFormatter()
        if let date = full.date(from: trimmed) { return date }
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        if let date = dateOnly.date(from: trimmed) { return date }
        throw ParseError(text: text)
    }

    /// `+30d`, `-2h`, `+15m`, `+10s`, `+1y` (365 days), `+2w` in seconds; nil if it is not an offset.
    public static func offset(_ text: String) -> TimeInterval? {
        guard let sign = text.first, sign == "+" || sign == "-", let unit = text.last else { return nil }
        let digits = text.dropFirst().dropLast()
        guard !digits.isEmpty, digits.count <= 9, let value = Int(digits) else { return nil }
        let unitSeconds: Double
        switch unit {
        case "s": unitSeconds = 1
        case "m": unitSeconds = 60
        case "h": unitSeconds = 3600
        case "d": unitSeconds = 86_400
        case "w": unitSeconds = 7 * 86_400
        case "y": unitSeconds = 365 * 86_400
        default: return nil
        }
        return Double(value) * unitSeconds * (sign == "-" ? -1 : 1)
    }
}
