#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a path names and how big it is, by `stat(2)` with symbolic links followed.
///
/// FileManager's attributes also look up the owner's user and group names (reading `/etc/passwd` and
/// `/etc/group` each time); loading a thousand scenario files or a probe's CA file needs only the kind and size.
public struct FileStatus: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular, directory, characterDevice, blockDevice, fifo, socket, other

        /// "a directory", "a character device", … for messages that say what a path is instead of a file.
        public var description: String {
            switch self {
            case .regular: "a regular file"
            case .directory: "a directory"
            case .characterDevice: "a character device"
            case .blockDevice: "a block device"
            case .fifo: "a FIFO"
            case .socket: "a socket"
            case .other: "a special file"
            }
        }
    }

    public var kind: Kind
    public var size: Int

    /// Nil when the path does not exist or cannot be looked at (a dangling link, a folder without search right).
    public init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        self.init(status)
    }

    /// What an open descriptor refers to; nil when `fstat(2)` fails.
    public init?(descriptor: Int32) {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        self.init(status)
    }

    private init(_ status: stat) {
        size = Int(status.st_size)
        kind =
            switch status.st_mode & S_IFMT {
            case S_IFREG: .regular
            case S_IFDIR: .directory
            case S_IFCHR: .characterDevice
            case S_IFBLK: .blockDevice
            case S_IFIFO: .fifo
            case S_IFSOCK: .socket
            default: .other
            }
    }
}
