import Foundation
import MimicCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File errors of the factory, with the path.
public struct FactoryFileError: Error, Sendable, CustomStringConvertible, LocalizedError {
    public var path: String
    public var message: String

    public var description: String { "\(path): \(message)" }
    public var errorDescription: String? { description }
}

/// The few file operations the factory needs, done so that keys are never readable by others (mode set at
/// creation, not after) and concurrent writers never leave a half-written file (temp file + rename).
enum FactoryFiles {
    /// Files larger than this are not ours: refuse rather than read them.
    static let maximumFileBytes = 4 << 20

    static func makeDirectory(_ url: URL, mode: mode_t) throws {
        let path = url.path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw FactoryFileError(path: path, message: "not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(
                    at: url,
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: Int(mode)]
                )
            } catch {
                // Another process may have made it in between; only a missing directory is a failure.
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue
                else { throw FactoryFileError(path: path, message: "cannot create directory: \(error)") }
            }
        }
        _ = chmod(path, mode)
    }

    /// Writes `bytes` to `url` atomically with `mode`: a unique temp file beside it, then rename.
    static func writeAtomically(_ bytes: [UInt8], to url: URL, mode: mode_t) throws {
        let directory = url.deletingLastPathComponent()
        let temp = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UUID().uuidString).tmp"
        )
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else {
            throw FactoryFileError(path: temp.path, message: "cannot create: \(String(cString: strerror(errno)))")
        }
        var written = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let result = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                written += result
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else {
            unlink(temp.path)
            throw FactoryFileError(path: url.path, message: "cannot write: \(String(cString: strerror(failure)))")
        }
        // fchmod is not needed: the mode was set at creation, and umask can only have removed bits.
        guard rename(temp.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp.path)
            throw FactoryFileError(path: url.path, message: "cannot rename into place: \(reason)")
        }
    }

    static func writeAtomically(_ text: String, to url: URL, mode: mode_t) throws {
        try writeAtomically(Array(text.utf8), to: url, mode: mode)
    }

    /// Reads a text file of bounded size, or nil when it does not exist.
    static func readText(_ url: URL) throws -> String? {
        let bytes: [UInt8]
        do {
            bytes = try BoundedFile.read(url.path, limit: maximumFileBytes)
        } catch {
            switch error {
            case .missing: return nil
            case .notRegular(let kind): throw FactoryFileError(path: url.path, message: "is \(kind.description), not a file")
            case .tooLarge: throw FactoryFileError(path: url.path, message: "larger than \(maximumFileBytes) bytes")
            case .unreadable(let reason): throw FactoryFileError(path: url.path, message: "cannot read: \(reason)")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw FactoryFileError(path: url.path, message: "not UTF-8 text")
        }
        return text
    }

    /// Runs `body` holding an exclusive advisory lock on `lockFile` (created 0600), so that processes creating
    /// the same files do so one at a time.
    static func withLock<T>(_ lockFile: URL, _ body: () throws -> T) throws -> T {
        let fd = open(lockFile.path, O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else {
            throw FactoryFileError(
                path: lockFile.path,
                message: "cannot open lock: \(String(cString: strerror(errno)))"
            )
        }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                throw FactoryFileError(path: lockFile.path, message: "cannot lock: \(String(cString: strerror(errno)))")
            }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }
}
