import Foundation
import MimicCerts

/// Reads certificates from a PEM file named on the command line, with errors a person can act on.
public enum PEMFile {
    /// Files larger than this are not certificate bundles; refuse them rather than read them whole.
    public static let maximumSize = 8 << 20

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func certificates(at path: String, role: String) throws(Failure) -> [[UInt8]] {
        let url = URL(fileURLWithPath: path)
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw Failure(description: "\(role) \(path): no such file")
        }
        if let size = attributes[.size] as? Int, size > maximumSize {
            throw Failure(description: "\(role) \(path): \(size) bytes is too large for a certificate file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw Failure(description: "\(role) \(path): cannot read it (\(error.localizedDescription))")
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
