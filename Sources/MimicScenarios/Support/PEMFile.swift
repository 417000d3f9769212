import Foundation
import MimicCerts
import MimicCore

/// Reads certificates from a PEM file named on the command line, with errors a person can act on.
public enum PEMFile {
    /// Files larger than this are not certificate bundles; refuse them rather than read them whole.
    public static let maximumSize = 8 << 20

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func certificates(at path: String, role: String) throws(Failure) -> [[UInt8]] {
        // Symbolic links are followed: a link to a PEM file is a PEM file.
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        guard let status = FileStatus(path: resolved.path) else {
            throw Failure(description: "\(role) \(path): no such file")
        }
        // A device, a FIFO or a directory is no certificate file, and reading one may never end (/dev/zero) or
        // fail with a misleading errno: say what it is instead.
        guard status.kind == .regular else {
            throw Failure(
                description:
                    "\(role) \(path): is \(status.kind.description), not a regular file; give a PEM file of certificates"
            )
        }
        if status.size > maximumSize {
            throw Failure(description: "\(role) \(path): \(status.size) bytes is too large for a certificate file")
        }
        let data: Data
        do {
            // Read at most one byte past the limit: the file may have grown since it was measured.
            let handle = try FileHandle(forReadingFrom: resolved)
            defer { try? handle.close() }
            data = try handle.read(upToCount: maximumSize + 1) ?? Data()
        } catch {
            throw Failure(description: "\(role) \(path): cannot read it (\(error.localizedDescription))")
        }
        guard data.count <= maximumSize else {
            throw Failure(
                description: "\(role) \(path): more than \(maximumSize) bytes is too large for a certificate file")
        }
        let certificates: [[UInt8]]
        do {
            certificates = try PEM.decodeCertificates(String(decoding: data, as: UTF8.self))
        } catch {
            throw Failure(description: "\(role) \(path): \(error)")
        }
        guard !certificates.isEmpty else {
            throw Failure(description: "\(role) \(path): holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }
}
