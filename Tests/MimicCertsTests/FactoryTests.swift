import Crypto
import Foundation
import Testing
import X509

@testable import MimicCerts

@Suite struct FactoryTests {
    @Test func localCAIsCreatedOnceAndReused() throws {
        let home = FactoryFixture.makeTemporaryHome(prefix: "ca")
        defer { try? FileManager.default.removeItem(at: home) }
        let first = try CertificateFactory(home: home).localCA()
        let second = try CertificateFactory(home: home).localCA()
        #expect(first.sha256Fingerprint == second.sha256Fingerprint)
        #expect(first.certificateDER == second.certificateDER)
        #expect(first.pemPath == home.appendingPathComponent("local/ca.pem"))

        // Fingerprint: 32 upper-case hex pairs separated by colons, of the DER.
        let expected = SHA256.hash(data: first.certificateDER).map { String(format: "%02X", $0) }.joined(separator: ":")
        #expect(first.sha256Fingerprint == expected)
        #expect(first.sha256Fingerprint.count == 32 * 3 - 1)

        #expect(try FactoryFixture.mode(of: home.appendingPathComponent("local/ca.key")) == 0o600)
        let pem = try String(contentsOf: try #require(first.pemPath), encoding: .utf8)
        #expect(try PEM.decodeCertificates(pem) == [first.certificateDER])

        let certificate = try Certificate(derEncoded: first.certificateDER)
        #expect(FactoryFixture.commonNames(certificate.subject) == ["Mimic Local CA"])
        #expect(certificate.subject.description.contains("O=Mimic"))
        #expect(certificate.issuer == certificate.subject)
        #expect(P256.Signing.PublicKey(certificate.publicKey) != nil)
        #expect(try certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: nil))
        let years = certificate.notValidAfter.timeIntervalSince(certificate.notValidBefore) / (365 * 86_400)
        #expect(abs(years - 10) < 0.01)
        #expect(certificate.notValidBefore < Date())
    }

    @Test("an in-memory factory mints every built-in profile and writes nothing")
    func inMemoryFactoryWritesNothing() throws {
        let factory = CertificateFactory.inMemory()
        let repositoryProfiles = try ChainProfile.profileNames(in: FactoryFixture.profilesDirectory)
        #expect(try factory.profileNames() == repositoryProfiles)
        for name in repositoryProfiles {
            let minted = try factory.mint(profile: name)
            #expect(!minted.served.isEmpty, "\(name)")
            #expect(minted.anchors.first == (try factory.localCA().certificateDER))
        }
        #expect(try factory.localCA().pemPath == nil)
        #expect(!FileManager.default.fileExists(atPath: factory.home.path))
        #expect(throws: ChainSpecError.self) { try factory.mint(profile: "no-such-profile") }
    }

    @Test func concurrentCreationYieldsOneCA() async throws {
        let home = FactoryFixture.makeTemporaryHome(prefix: "race")
        defer { try? FileManager.default.removeItem(at: home) }
        let fingerprints = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 {
                group.addTask { try CertificateFactory(home: home).localCA().sha256Fingerprint }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(fingerprints.count == 1)
        #expect(try CertificateFactory(home: home).localCA().sha256Fingerprint == fingerprints.first)
        // No temp files left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("local").path)
            .filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func damagedCAKeyIsReportedNotReplaced() throws {
        let home = FactoryFixture.makeTemporaryHome(prefix: "damaged")
        defer { try? FileManager.default.removeItem(at: home) }
        _ = try CertificateFactory(home: home).localCA()
        try "not a key".write(to: home.appendingPathComponent("local/ca.key"), atomically: true, encoding: .utf8)
        let error = #expect(throws: FactoryFileError.self) { try CertificateFactory(home: home).localCA() }
        #expect(error?.path.hasSuffix("ca.key") == true)
    }

    @Test func keysAreCachedOnDiskWithPrivateModes() throws {
        let home = FactoryFixture.makeTemporaryHome(prefix: "keys")
        defer { try? FileManager.default.removeItem(at: home) }
        let spec = ChainSpec(
            certificates: [
                CertificateSpec(name: "cache-int", issuer: "local-ca", ca: true),
                CertificateSpec(name: "cache-leaf", issuer: "cache-int", sans: [.dns("mail.example.test")]),
            ],
            serve: ["cache-leaf", "cache-int"]
        )
        let first = try CertificateFactory(home: home).mint(spec, hostname: "mail.example.test")
        let keys = home.appendingPathComponent(".keys")
        #expect(try FactoryFixture.mode(of: keys) == 0o700)
        let keyFile = keys.appendingPathComponent("cache-leaf-p256.pem")
        #expect(try FactoryFixture.mode(of: keyFile) == 0o600)
        #expect(try String(contentsOf: keyFile, encoding: .utf8) == first.leafKeyPEM)

        // A second factory (another run) reuses the key; certificates are new (fresh serials) but keys are not.
        let second = try CertificateFactory(home: home).mint(spec, hostname: "mail.example.test")
        #expect(second.leafKeyPEM == first.leafKeyPEM)
        let firstLeaf = try Certificate(derEncoded: try #require(first.certificates["cache-leaf"]))
        let secondLeaf = try Certificate(derEncoded: try #require(second.certificates["cache-leaf"]))
        #expect(firstLeaf.publicKey == secondLeaf.publicKey)
        #expect(firstLeaf.serialNumber != secondLeaf.serialNumber)

        // A different key type under the same name is a different cached key.
        var rsaSpec = spec
        rsaSpec.certificates[1].key = .rsa2048
        let rsa = try CertificateFactory(home: home).mint(rsaSpec, hostname: "mail.example.test")
        #expect(rsa.leafKeyPEM != first.leafKeyPEM)
        #expect(FileManager.default.fileExists(atPath: keys.appendingPathComponent("cache-leaf-rsa2048.pem").path))
    }

    @Test func writeProducesTheFilesAServerAndClientNeed() throws {
        let minted = try FactoryFixture.sharedFactory().mint(profile: "good")
        let dir = FactoryFixture.makeTemporaryHome(prefix: "write").appendingPathComponent("good")
        defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        try minted.write(to: dir)
        let chain = try PEM.decodeCertificates(
            String(contentsOf: dir.appendingPathComponent("chain.pem"), encoding: .utf8)
        )
        #expect(chain == minted.served)
        let anchors = try PEM.decodeCertificates(
            String(contentsOf: dir.appendingPathComponent("ca.pem"), encoding: .utf8)
        )
        #expect(anchors == minted.anchors)
        #expect(try String(contentsOf: dir.appendingPathComponent("leaf.key"), encoding: .utf8) == minted.leafKeyPEM)
        #expect(try FactoryFixture.mode(of: dir.appendingPathComponent("leaf.key")) == 0o600)
        for (name, der) in minted.certificates {
            let file = dir.appendingPathComponent("\(name).pem")
            #expect(try PEM.decodeCertificates(String(contentsOf: file, encoding: .utf8)) == [der])
        }
    }

    @Test func trustedSpecCertificatesBecomeAnchors() throws {
        let spec = ChainSpec(
            certificates: [
                CertificateSpec(name: "own-root", ca: true),
                CertificateSpec(name: "own-leaf", issuer: "own-root", sans: [.dns("mail.example.test")]),
            ],
            serve: ["own-leaf", "own-root"],
            trust: ["own-root"]
        )
        let factory = FactoryFixture.sharedFactory()
        let minted = try factory.mint(spec, name: "own", hostname: "mail.example.test")
        #expect(
            minted.anchors == [try factory.localCA().certificateDER, try #require(minted.certificates["own-root"])]
        )
        #expect(minted.name == "own")
    }

    /// Minting stays fast because keys are generated once and cached (`make bench` measures the speed): a second
    /// minting of every profile signs with the keys of the first.
    @Test func mintingAgainReusesTheCachedKeys() throws {
        let factory = FactoryFixture.sharedFactory()
        let names = Array(try ChainProfile.profileNames(in: FactoryFixture.profilesDirectory).prefix(20))
        #expect(names.count == 20)
        let first = try names.map { try factory.mint(profile: $0).leafKeyPEM }
        let again = try names.map { try factory.mint(profile: $0).leafKeyPEM }
        #expect(again == first)
    }

    @Test func defaultHomeFollowsTheEnvironment() {
        setenv("MIMIC_CERTS", "/tmp/mimic-certs-env-test", 1)
        #expect(CertificateFactory.defaultHome().path == "/tmp/mimic-certs-env-test")
        unsetenv("MIMIC_CERTS")
        let expected = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("certs")
        #expect(CertificateFactory.defaultHome().standardizedFileURL.path == expected.standardizedFileURL.path)
    }

    @Test func pemRoundTripsAndRejectsBadInput() throws {
        let der: [UInt8] = Array(0..<200).map { UInt8($0) }
        let text = PEM.encode(der: der, label: "CERTIFICATE")
        #expect(text.split(separator: "\n").dropFirst().dropLast().allSatisfy { $0.count <= 64 })
        #expect(
            try PEM.decodeCertificates(
                "junk before\n" + text + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" + text
            ) == [der, der]
        )
        #expect(throws: PEM.DecodingError.self) { try PEM.decodeCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n") }
        #expect(throws: PEM.DecodingError.self) {
            try PEM.decodeCertificates("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")
        }
        #expect(throws: PEM.DecodingError.self) { try PEM.decodeCertificates("no blocks at all") }
        let huge = String(repeating: "A", count: PEM.maximumInputBytes + 1)
        #expect(throws: PEM.DecodingError.self) { try PEM.decodeCertificates(huge) }
        #expect(
            try PEM.decodeCertificates(data: Data([0x30, 0x03, 0x02, 0x01, 0x00])) == [[0x30, 0x03, 0x02, 0x01, 0x00]]
        )
    }
}

/// Offsets count from a whole second: a certificate carries whole seconds, so a reference time with a fraction
/// would put `not_after: -3d` a rounding after three days before it, and a chain checked at once would read
/// "expired 2 day(s) ago".
@Suite("Factory: reference time")
struct FactoryReferenceTimeTests {
    @Test("not_after -3d from a reference time with a fraction is exactly three days before its whole second")
    func wholeSeconds() throws {
        for fraction in [0.1, 0.5, 0.9, 0.999] {
            let reference = Date(timeIntervalSince1970: 1_800_000_000 + fraction)
            let chain = try CertificateFactory.inMemory(referenceTime: reference).mint(profile: "expired-leaf")
            let leaf = try ParsedCertificate(der: try #require(chain.served.first))
            #expect(leaf.notAfter.timeIntervalSince1970 == 1_800_000_000 - 3 * 86_400, "fraction \(fraction)")
            #expect(leaf.notAfter <= reference.addingTimeInterval(-3 * 86_400))
        }
    }
}
