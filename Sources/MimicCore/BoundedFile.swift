#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file's bytes, never more than a limit: what is checked is the file that is read (one descriptor,
/// `fstat(2)` on it), and the read stops one byte past the limit however much the file has grown since.
public enum BoundedFile {
    public enum Failure: Error, Equatable {
        /// The path does not exist or cannot be looked at.
        case missing
        /// A directory, a device, a FIFO…: reading one may never end (/dev/zero, a FIFO without a writer).
        case notRegular(FileStatus.Kind)
        /// The file holds more than the limit: its size when known, else (it grew while read) the limit + 1.
        case tooLarge(Int)
        /// open(2) or read(2) failed: strerror's words.
        case unreadable(String)
    }

    public static func read(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
        // Looked at before it is opened: opening a device or a FIFO can block or have effects of its own.
        guard let status = FileStatus(path: path) else { throw .missing }
        guard status.kind == .regular else { throw .notRegular(status.kind) }
        guard status.size <= limit else { throw .tooLarge(status.size) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw .unreadable(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        // The path may have been replaced between the two looks.
        guard let opened = FileStatus(descriptor: descriptor) else { throw .unreadable(String(cString: strerror(errno))) }
        guard opened.kind == .regular else { throw .notRegular(opened.kind) }
        // One byte more than fstat saw: a file that grew shows it, and is read on, in doubling steps, to the limit.
        var bytes = [UInt8](repeating: 0, count: min(opened.size, limit) + 1)
        var count = 0
        while true {
            if count == bytes.count {
                guard count <= limit else { break }
                bytes.append(contentsOf: repeatElement(0, count: min(limit + 1, count * 2) - count))
            }
            let got = bytes.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress! + count, $0.count - count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw .unreadable(String(cString: strerror(errno)))
            }
            if got == 0 { break }
            count += got
        }
        guard count <= limit else { throw .tooLarge(count) }
        bytes.removeSubrange(count...)
        return bytes
    }
}

private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
