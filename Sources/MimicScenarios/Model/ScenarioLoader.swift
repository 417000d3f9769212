import Foundation
import MimicCore
import Synchronization
import Yams

/// Reads scenario files into `Scenario`s, with a `file:line:column: field.path: message` error for anything
/// wrong in them.
public struct ScenarioLoader: Sendable {
    /// Profile names (`certs/profiles/*.yaml` without the extension) that scenarios may name; nil skips the check.
    public var knownProfiles: Set<String>?

    /// Scenario files are small hand-written documents; a bigger one is a mistake (or a hostile file).
    public static let maximumFileSize = 1 << 20

    public init(knownProfiles: Set<String>? = nil) {
        self.knownProfiles = knownProfiles
    }

    /// Loads one file; a file with a matrix yields several scenarios.
    public func load(file: URL) throws(ScenarioError) -> [Scenario] {
        let name = Self.displayName(of: file)
        return try load(yaml: try Self.readText(of: file, what: "scenario files"), file: name)
    }

    /// Loads scenarios from YAML text; `file` names it in locations and errors.
    public func load(yaml: String, file: String) throws(ScenarioError) -> [Scenario] {
        let node = try Self.compose(
            yaml, file: file, what: "scenario files",
            emptyMessage: "empty file: a scenario needs at least id, summary, server and expect")
        return try ScenarioDecoder(file: file, knownProfiles: knownProfiles).decode(node)
    }

    /// A small hand-written YAML or JSON file's text: at most 1 MiB, UTF-8 (scenarios, monitor adapters,
    /// manifests).
    static func readText(of file: URL, what: String) throws(ScenarioError) -> String {
        let start = SourceLocation(file: displayName(of: file), line: 1, column: 1)
        let bytes: [UInt8]
        do {
            bytes = try BoundedFile.read(file.path, limit: maximumFileSize)
        } catch {
            let message =
                switch error {
                case .missing: "cannot read: no such file"
                case .notRegular: "not a regular file"
                case .tooLarge(let size): "file is \(size) bytes; \(what) are limited to 1 MiB"
                case .unreadable(let reason): "cannot read: \(reason)"
                }
            throw ScenarioError(location: start, path: "", message: message)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ScenarioError(location: start, path: "", message: "not valid UTF-8")
        }
        return text
    }

    /// Composes one YAML document with its marks, bounded in size and in nodes; syntax errors at libyaml's position.
    static func compose(_ yaml: String, file: String, what: String, emptyMessage: String) throws(ScenarioError) -> Node
    {
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard yaml.utf8.count <= maximumFileSize else {
            throw ScenarioError(location: start, path: "", message: "\(what) are limited to 1 MiB")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml, .basic, .default, .utf8)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            throw duplicateKeyError(names: duplicates, first: context.mark, yaml: yaml, file: file)
        } catch let error as YamlError {
            throw syntaxError(error, file: file)
        } catch {
            throw ScenarioError(location: start, path: "", message: "YAML error: \(error)")
        }
        guard let node, !isNull(node) else {
            throw ScenarioError(location: start, path: "", message: emptyMessage)
        }
        // Aliases share nodes, so a small file can denote an exponentially large tree ("billion laughs"):
        // bound the tree before anything walks or re-serialises it.
        var budget = maximumNodes
        guard fits(node, budget: &budget) else {
            throw ScenarioError(
                location: start, path: "",
                message: "the document expands to more than \(maximumNodes) YAML nodes (aliases nested too deep?)"
            )
        }
        try checkNoExplicitTags(node, yaml: yaml, file: file)
        return node
    }

    /// Loads every scenario under the given files and directories. Directories are walked recursively for
    /// `*.yaml` and `*.yml` in sorted order, so ids, errors and reports come out the same on every machine.
    /// A file with an error contributes no scenario; ids must be unique across everything loaded.
    public func load(paths: [URL]) -> (scenarios: [Scenario], errors: [ScenarioError]) {
        var scenarios: [Scenario] = []
        var errors: [ScenarioError] = []
        var firstSeen: [String: SourceLocation] = [:]
        for result in loadConcurrently(Self.scenarioFiles(in: paths, errors: &errors)) {
            do throws(ScenarioError) {
                let loaded = try result.get()
                if let clash = loaded.first(where: { firstSeen[$0.id] != nil }), let first = firstSeen[clash.id] {
                    errors.append(
                        ScenarioError(
                            location: clash.source,
                            path: "id",
                            message: "duplicate id '\(clash.id)' (first defined at \(first))"
                        )
                    )
                    continue
                }
                for scenario in loaded { firstSeen[scenario.id] = scenario.source }
                scenarios.append(contentsOf: loaded)
            } catch {
                errors.append(error)
            }
        }
        return (scenarios, errors)
    }

    /// Every file read and decoded on all cores (each file stands alone), the results in the files' order.
    private func loadConcurrently(_ files: [URL]) -> [Result<[Scenario], ScenarioError>] {
        let results = Mutex([Result<[Scenario], ScenarioError>?](repeating: nil, count: files.count))
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            let result: Result<[Scenario], ScenarioError>
            do throws(ScenarioError) {
                result = .success(try load(file: files[index]))
            } catch {
                result = .failure(error)
            }
            results.withLock { $0[index] = result }
        }
        return results.withLock { $0.map { $0! } }
    }

    /// The scenario files a list of paths names: files as given, directories walked (sorted, recursive).
    public static func scenarioFiles(in paths: [URL], errors: inout [ScenarioError]) -> [URL] {
        var files: [URL] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
                errors.append(
                    ScenarioError(
                        location: SourceLocation(file: displayName(of: path), line: 1, column: 1),
                        path: "",
                        message: "no such file or directory"
                    )
                )
                continue
            }
            if isDirectory.boolValue {
                files.append(contentsOf: walk(path))
            } else {
                files.append(path)
            }
        }
        return files
    }

    private static func walk(_ directory: URL) -> [URL] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        var files: [URL] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let child = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: child.path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                files.append(contentsOf: walk(child))
            } else if name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                files.append(child)
            }
        }
        return files
    }

    /// Relative paths stay relative (`scenarios/smtp/x.yaml`), so messages are short and machine-independent.
    static func displayName(of url: URL) -> String {
        url.baseURL == nil ? url.path : url.relativePath
    }

    /// More nodes than any hand-written scenario has, few enough to walk in microseconds.
    static let maximumNodes = 100_000

    private static func fits(_ node: Node, budget: inout Int) -> Bool {
        budget -= 1
        guard budget >= 0 else { return false }
        switch node {
        case .scalar, .alias:
            return true
        case .sequence(let sequence):
            for child in sequence where !fits(child, budget: &budget) { return false }
            return true
        case .mapping(let mapping):
            for (key, value) in mapping where !fits(key, budget: &budget) || !fits(value, budget: &budget) {
                return false
            }
            return true
        }
    }

    private static func isNull(_ node: Node) -> Bool {
        if case .scalar = node, node.tagName == .null { return true }
        return false
    }

    /// libyaml's own position is the best there is for a syntax error: keep it.
    static func syntaxError(_ error: YamlError, file: String) -> ScenarioError {
        func at(_ mark: Mark, _ message: String) -> ScenarioError {
            at(line: mark.line, column: mark.column, message)
        }
        func at(line: Int, column: Int, _ message: String) -> ScenarioError {
            ScenarioError(location: SourceLocation(file: file, line: line, column: column), path: "", message: message)
        }
        switch error {
        case .scanner(let context, let problem, let mark, _):
            return at(mark, "YAML syntax error: \(problem)" + (context.map { " (\($0.text) at \($0.mark))" } ?? ""))
        case .parser(let context, let problem, let mark, _):
            return at(mark, "YAML syntax error: \(problem)" + (context.map { " (\($0.text) at \($0.mark))" } ?? ""))
        case .composer(let context, let problem, let mark, _):
            return at(mark, "YAML error: " + (context.map { "\($0.text), " } ?? "") + problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return at(context.mark, "key \(keys) appears more than once in the same mapping")
        case .reader(let problem, let offset, _, let yaml):
            var line = 1
            var column = 1
            if let offset {
                for character in yaml.prefix(offset) {
                    if character == "\n" {
                        line += 1
                        column = 1
                    } else {
                        column += 1
                    }
                }
            }
            return at(line: line, column: column, "cannot read the YAML: \(problem)")
        default:
            return at(line: 1, column: 1, "YAML error: \(error)")
        }
    }
}
