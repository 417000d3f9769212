/// The dialog as it happened: each line (or binary message) sent and received, in order.
public struct Transcript: Sendable, Hashable, CustomStringConvertible {
    public enum Direction: String, Sendable, Hashable {
        case sent = "C"
        case received = "S"
    }

    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        public var direction: Direction
        /// The line without its terminator, escaped (`\xNN` for control bytes); for binary protocols a
        /// decoded summary.
        public var text: String
        /// True when the line had CRLF stripped; false for a bare LF (received lines only).
        public var crlf: Bool

        public var description: String { "\(direction.rawValue): \(text)\(crlf ? "" : " [bare LF]")" }
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    mutating func append(_ direction: Direction, _ text: String, crlf: Bool = true) {
        entries.append(Entry(direction: direction, text: text, crlf: crlf))
    }

    public var description: String { entries.map(\.description).joined(separator: "\n") }
}
