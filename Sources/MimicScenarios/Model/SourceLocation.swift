/// Where something was written in a scenario file: reports point back at it.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file as it was given to the loader (relative paths stay relative, so reports stay short).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, counted in Unicode scalars as libyaml does.
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
