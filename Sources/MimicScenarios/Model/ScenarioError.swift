/// A scenario file that cannot be loaded, with the place to fix it.
///
/// Every error names a file, line and column, and the dotted path of the field at fault
/// (`dialog.starttls.reply`), so an editor can jump to it and a reader knows which knob is meant.
public struct ScenarioError: Error, Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    /// The dotted field path (`server.protocol`, `network[2].kind`); empty for file-level problems
    /// (syntax errors, empty files, a top level that is not a mapping).
    public var path: String
    public var message: String

    public init(location: SourceLocation, path: String, message: String) {
        self.location = location
        self.path = path
        self.message = message
    }

    public var file: String { location.file }
    public var line: Int { location.line }
    public var column: Int { location.column }

    /// `file:line:column: field.path: message`, the shape compilers use, so editors and CI annotate it.
    public var description: String {
        path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}
