import Crypto
import Foundation
import MimicTestSupport
import SwiftASN1
import Testing
import X509
import _CryptoExtras

@testable import MimicCerts

/// Shared fixtures for the factory and profile tests: a temporary home (never the repository's certs/local), the
/// repository's profiles, and readers for minted DER.
enum FactoryFixture {
    /// The repository's `certs/profiles`, found from this file's path.
    static let profilesDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("certs/profiles", isDirectory: true)

    /// One home for every test run (never the repository's certs/local), so RSA keys are generated once.
    /// A fixed path per user (`Scratch.cache`), so runs reuse its keys and leave nothing new behind; the factory's
    /// locking and atomic renames make concurrent runs safe.
    static let sharedHome = Scratch.cache("mimic-certs-tests-shared")

    /// Whole seconds: certificate times carry no fractions, so offsets compare exactly.
    static let referenceTime = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970))

    static func makeTemporaryHome(prefix: String) -> URL {
        Scratch.folder("mimic-certs-\(prefix)-")
    }

    static func sharedFactory(referenceTime: Date = referenceTime) -> CertificateFactory {
        CertificateFactory(home: sharedHome, profiles: profilesDirectory, referenceTime: referenceTime)
    }

    static func mode(of url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
    }

    /// The SubjectPublicKeyInfo of a certificate, read with plain ASN.1 (swift-certificates refuses RSA-1024
    /// certificates, which the weak-key profile is made of).
    static func subjectPublicKeyInfo(of der: [UInt8]) throws -> ArraySlice<UInt8> {
        let root = try DER.parse(der)
        guard case .constructed(let certificateParts) = root.content,
            let tbs = certificateParts.first(where: { _ in true }),
            case .constructed(let tbsParts) = tbs.content
        else { throw ASN1Error.invalidASN1Object(reason: "not a certificate") }
        let fields = Array(tbsParts)
        // TBSCertificate: [0] version (explicit, optional), serial, signature, issuer, validity, subject, SPKI.
        let hasVersion = fields.first?.identifier.tagClass == .contextSpecific
        let index = hasVersion ? 6 : 5
        guard fields.count > index else { throw ASN1Error.invalidASN1Object(reason: "short TBSCertificate") }
        return fields[index].encodedBytes
    }

    /// `RSA2048`, `P256`, … for any certificate, including RSA-1024 ones.
    static func keyDescription(of der: [UInt8]) throws -> String {
        let spki = try subjectPublicKeyInfo(of: der)
        if let rsa = try? _RSA.Signing.PublicKey(unsafeDERRepresentation: spki) {
            return "rsa\(rsa.keySizeInBits)"
        }
        if (try? P256.Signing.PublicKey(derRepresentation: spki)) != nil { return "p256" }
        if (try? P384.Signing.PublicKey(derRepresentation: spki)) != nil { return "p384" }
        return "unknown"
    }

    static func commonNames(_ name: DistinguishedName) -> [String] {
        name.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }.compactMap { String($0.value) }
    }

    /// Runs a program with a deadline; returns its exit status and its output (standard output, then error).
    static func run(
        _ executable: String,
        _ arguments: [String],
        timeout: TimeInterval = 20
    ) throws -> (
        status: Int32, output: String
    ) {
        let result = try Subprocess.run(executable, arguments, timeout: timeout)
        if result.timedOut { Issue.record("\(executable) \(arguments) timed out after \(timeout)s") }
        return (result.status, result.stdout + result.stderr)
    }

    static var opensslPath: String {
        ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "/usr/bin/openssl"
    }
}

@Suite struct FactorySupportTests {
    @Test func spkiReaderFindsTheKeyOfAnRSA1024Certificate() throws {
        let minted = try FactoryFixture.sharedFactory().mint(profile: "rsa1024-leaf")
        let leaf = try #require(minted.certificates["leaf"])
        #expect(try FactoryFixture.keyDescription(of: leaf) == "rsa1024")
        let intermediate = try #require(minted.certificates["intermediate"])
        #expect(try FactoryFixture.keyDescription(of: intermediate) == "p256")
    }
}
