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
        let bytes: [UInt8]
        do {
            bytes = try BoundedFile.read(path, limit: maximumSize)
        } catch {
            switch error {
            case .missing: throw Failure(description: "\(role) \(path): no such file")
            case .notRegular(let kind):
                // A device, a FIFO or a directory is no certificate file, and reading one may never end (/dev/zero)
                // or fail with a misleading errno: say what it is instead.
                throw Failure(
                    description: "\(role) \(path): is \(kind.description), not a regular file; give a PEM file of certificates")
            case .tooLarge(let size):
                throw Failure(description: "\(role) \(path): \(size) bytes is too large for a certificate file")
            case .unreadable(let reason): throw Failure(description: "\(role) \(path): cannot read it (\(reason))")
            }
        }
        let certificates: [[UInt8]]
        do {
            certificates = try PEM.decodeCertificates(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw Failure(description: "\(role) \(path): \(error)")
        }
        guard !certificates.isEmpty else {
            throw Failure(description: "\(role) \(path): holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        return certificates
    }
}
