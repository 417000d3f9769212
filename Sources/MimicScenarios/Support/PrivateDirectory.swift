import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Folders only this user can read, for CA files a monitor is told to trust and files a grading run writes.
///
/// A predictable name under the shared temporary directory could be planted by another local user (a symlink
/// to a folder they control, a CA file of their own): a new folder is made by `mkdtemp` (0700, a name nobody can
/// guess, never an existing path), and a folder the user names must be a real directory, not a symlink, owned by us
/// and not writable by others.
public enum PrivateDirectory {
    public struct Error: Swift.Error, CustomStringConvertible {
        public let description: String
    }

    /// A new, empty 0700 folder under the temporary directory: `<tmp>/<prefix>XXXXXX`.
    public static func make(prefix: String) throws(Error) -> URL {
        let base = FileManager.default.temporaryDirectory.path
        var template = Array((base.hasSuffix("/") ? base : base + "/").utf8CString.dropLast())
        template.append(contentsOf: Array("\(prefix)XXXXXX".utf8CString))
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let pointer = mkdtemp(buffer.baseAddress!) else { return nil }
            return String(cString: pointer)
        }
        guard let made else {
            throw Error(
                description: "cannot create a private folder under \(base): \(String(cString: strerror(errno)))")
        }
        return URL(fileURLWithPath: made, isDirectory: true)
    }

    /// A folder the user named: created 0700 if missing; if it exists it must be a directory (not a symlink) that
    /// we own and that no one else can write to.
    public static func use(_ path: String) throws(Error) -> URL {
        if mkdir(path, 0o700) == 0 { return URL(fileURLWithPath: path, isDirectory: true) }
        guard errno == EEXIST else {
            throw Error(description: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard lstat(path, &status) == 0 else {
            throw Error(description: "cannot inspect \(path): \(String(cString: strerror(errno)))")
        }
        guard (status.st_mode & S_IFMT) == S_IFDIR else {
            throw Error(description: "\(path) exists and is not a directory (or is a symlink); refusing to use it")
        }
        guard status.st_uid == getuid() else {
            throw Error(description: "\(path) belongs to another user; refusing to use it")
        }
        guard status.st_mode & 0o022 == 0 else {
            throw Error(description: "\(path) is writable by others; refusing to put a CA file there")
        }
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    /// Writes `text` to `file` with mode `mode`, replacing it atomically and never following a symlink planted at
    /// the final name (the temporary name is new, and rename replaces the link itself).
    public static func write(_ text: String, to file: URL, mode: mode_t = 0o644) throws(Error) {
        let temporary = file.path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw Error(description: "cannot write \(file.path): \(String(cString: strerror(errno)))")
        }
        var ok = true
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else {
                ok = false
                break
            }
            offset += written
        }
        fchmod(descriptor, mode)
        close(descriptor)
        guard ok, rename(temporary, file.path) == 0 else {
            unlink(temporary)
            throw Error(description: "cannot write \(file.path): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes a folder we made, and what is in it.
    public static func remove(_ folder: URL) {
        try? FileManager.default.removeItem(at: folder)
    }
}

/// The C library's write(2), which a static method named `write` would otherwise shadow.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(descriptor, buffer, count)
    #else
    Darwin.write(descriptor, buffer, count)
    #endif
}
