import Foundation
import Testing

@testable import MimicCore

/// `BoundedFile.read`: the bytes of a regular file up to a limit; what is not a regular file is refused before
/// it is opened (a FIFO without a writer would block an open, /dev/zero a read), and a file over the limit is
/// refused with its size.
@Suite("BoundedFile")
struct BoundedFileTests {
    /// A private folder (0700) for one test, removed afterwards.
    static func withFolder(_ body: (String) throws -> Void) throws {
        var template = Array((NSTemporaryDirectory() + "/mimic-bounded-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let folder = String(cString: try #require(made))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try body(folder)
    }

    @Test("a file's bytes, whole, at and under the limit; an empty file is empty")
    func reads() throws {
        try Self.withFolder { folder in
            let path = folder + "/a.pem"
            let bytes = (0..<5000).map { UInt8(truncatingIfNeeded: $0) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(try BoundedFile.read(path, limit: 5000) == bytes)
            #expect(try BoundedFile.read(path, limit: 1 << 20) == bytes)
            try Data().write(to: URL(fileURLWithPath: folder + "/empty"))
            #expect(try BoundedFile.read(folder + "/empty", limit: 10) == [])
            // A symbolic link to a file is the file.
            try FileManager.default.createSymbolicLink(atPath: folder + "/link", withDestinationPath: path)
            #expect(try BoundedFile.read(folder + "/link", limit: 5000) == bytes)
        }
    }

    @Test("over the limit by one byte: refused with the size")
    func tooLarge() throws {
        try Self.withFolder { folder in
            let path = folder + "/big"
            try Data(repeating: 0x41, count: 4097).write(to: URL(fileURLWithPath: path))
            #expect(throws: BoundedFile.Failure.tooLarge(4097)) { try BoundedFile.read(path, limit: 4096) }
        }
    }

    @Test("missing files, dangling links, folders, devices and FIFOs are refused, none of them read")
    func notFiles() throws {
        try Self.withFolder { folder in
            #expect(throws: BoundedFile.Failure.missing) { try BoundedFile.read(folder + "/none", limit: 10) }
            try FileManager.default.createSymbolicLink(atPath: folder + "/dangling", withDestinationPath: folder + "/none")
            #expect(throws: BoundedFile.Failure.missing) { try BoundedFile.read(folder + "/dangling", limit: 10) }
            #expect(throws: BoundedFile.Failure.notRegular(.directory)) { try BoundedFile.read(folder, limit: 10) }
            #expect(throws: BoundedFile.Failure.notRegular(.characterDevice)) {
                try BoundedFile.read("/dev/zero", limit: 10)
            }
            let fifo = folder + "/fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            #expect(throws: BoundedFile.Failure.notRegular(.fifo)) { try BoundedFile.read(fifo, limit: 10) }
        }
    }

    @Test("a file whose read fails says why (/proc/self/mem: a regular file that reads as EIO at 0, even for root)")
    func unreadable() {
        #expect(throws: BoundedFile.Failure.unreadable(String(cString: strerror(EIO)))) {
            try BoundedFile.read("/proc/self/mem", limit: 10)
        }
    }
}
