import Crypto
import Foundation
import MimicCore
import Testing
import X509
import _CryptoExtras

@testable import MimicCerts

@Suite struct ProfileTests {
    static let required = [
        "good", "expired-leaf", "not-yet-valid", "expiring-soon", "expired-intermediate", "wrong-host",
        "cn-only-no-san", "wildcard-good", "wildcard-too-deep", "ip-san", "self-signed", "untrusted-root",
        "missing-intermediate", "reversed-chain", "extra-unrelated-cert", "rsa1024-leaf", "sha1-leaf",
        "intermediate-not-ca", "path-length-exceeded", "eku-client-only",
    ]

    static let allNames: [String] = (try? ChainProfile.profileNames(in: FactoryFixture.profilesDirectory)) ?? []

    @Test func everyRequiredProfileExistsAndLoads() throws {
        let profiles = try ChainProfile.all(in: FactoryFixture.profilesDirectory)
        let names = profiles.map(\.name)
        for name in Self.required {
            #expect(names.contains(name), "missing profile \(name)")
        }
        for profile in profiles {
            #expect(!profile.summary.isEmpty)
            #expect(!profile.hostname.isEmpty)
            #expect(profile.file?.lastPathComponent == "\(profile.name).yaml")
        }
    }

    /// Mints the profile and checks every certificate against what its spec asked for.
    @Test(arguments: allNames)
    func profileMintsWhatItsSpecSays(name: String) throws {
        let factory = FactoryFixture.sharedFactory()
        let profile = try ChainProfile.load(named: name, in: FactoryFixture.profilesDirectory)
        let minted = try factory.mint(profile: name)
        let reference = factory.referenceTime
        let ca = try factory.localCA()

        #expect(minted.name == name)
        #expect(minted.hostname == profile.hostname)
        #expect(minted.servedNames == profile.spec.serve)
        #expect(
            minted.served == profile.spec.serve.map { $0 == "local-ca" ? ca.certificateDER : minted.certificates[$0] }
        )
        #expect(minted.anchors.first == ca.certificateDER)
        #expect(minted.anchors.count == 1 + (profile.spec.trust?.count ?? 0))
        #expect(Set(minted.certificates.keys) == Set(profile.spec.certificates.map(\.name)))

        for spec in profile.spec.certificates {
            let der = try #require(minted.certificates[spec.name])
            #expect(try FactoryFixture.keyDescription(of: der) == spec.key.rawValue, "\(name)/\(spec.name) key")
            if spec.key == .rsa1024 {
                // swift-certificates refuses RSA keys under 2048 bits; the openssl tests cover this certificate.
                #expect(throws: (any Error).self) { try Certificate(derEncoded: der) }
                continue
            }
            let certificate = try Certificate(derEncoded: der)
            let context = "\(name)/\(spec.name)"
            #expect(certificate.notValidBefore == spec.notBefore.date(from: reference), "\(context) notBefore")
            #expect(certificate.notValidAfter == spec.notAfter.date(from: reference), "\(context) notAfter")

            let issuerKey = profile.spec.issuerKeyType(of: spec)
            let signature = spec.signature ?? .default(for: issuerKey)
            #expect(certificate.signatureAlgorithm == signature.algorithm, "\(context) signature")

            // The issuer really signed it.
            let issuerCertificate: Certificate
            switch spec.issuer {
            case nil: issuerCertificate = certificate
            case "local-ca": issuerCertificate = try Certificate(derEncoded: ca.certificateDER)
            case let issuer?: issuerCertificate = try Certificate(derEncoded: try #require(minted.certificates[issuer]))
            }
            #expect(certificate.issuer == issuerCertificate.subject, "\(context) issuer name")
            #expect(issuerCertificate.publicKey.isValidSignature(certificate.signature, for: certificate), "\(context)")

            let constraints = try #require(try certificate.extensions.basicConstraints)
            if spec.ca {
                #expect(constraints == .isCertificateAuthority(maxPathLength: spec.pathLength), "\(context) CA")
            } else {
                #expect(constraints == .notCertificateAuthority, "\(context) not CA")
            }

            let sans = try certificate.extensions.subjectAlternativeNames
            if spec.sans.isEmpty {
                #expect(sans == nil, "\(context) no SAN extension")
            } else {
                let expected: [GeneralName] = spec.sans.map { san in
                    switch san {
                    case .dns(let dnsName): .dnsName(dnsName)
                    case .ip(let address):
                        .ipAddress(.init(contentBytes: ArraySlice(IPAddress.parse(address) ?? [])))
                    }
                }
                #expect(sans.map(Array.init) == expected, "\(context) SANs")
            }

            let eku = try certificate.extensions.extendedKeyUsage
            let expectedEKU = spec.extendedKeyUsage ?? (spec.ca ? [] : [.serverAuth])
            let ekuNames: [ExtendedKeyUsageName] = (eku.map(Array.init) ?? []).compactMap { usage in
                usage == .serverAuth ? .serverAuth : usage == .clientAuth ? .clientAuth : nil
            }
            #expect(ekuNames == expectedEKU, "\(context) EKU")

            let keyUsage = try certificate.extensions.keyUsage
            let expectedKU =
                spec.keyUsage
                ?? (spec.ca
                    ? [.keyCertSign, .cRLSign]
                    : (spec.key.isRSA ? [.digitalSignature, .keyEncipherment] : [.digitalSignature]))
            #expect(keyUsage?.keyCertSign == expectedKU.contains(.keyCertSign), "\(context) KU")
            #expect(keyUsage?.digitalSignature == expectedKU.contains(.digitalSignature), "\(context) KU")
            #expect(keyUsage?.keyEncipherment == expectedKU.contains(.keyEncipherment), "\(context) KU")
        }

        // The server's key belongs to the first served certificate.
        let first = try #require(profile.spec.serve.first)
        #expect(minted.leafKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let leafDER = try #require(minted.certificates[first])
        let keySPKI = try Self.publicKeySPKI(
            ofPKCS8: minted.leafKeyPEM,
            type: profile.spec.certificate(named: first)!.key
        )
        #expect(keySPKI == Array(try FactoryFixture.subjectPublicKeyInfo(of: leafDER)))
    }

    static func publicKeySPKI(ofPKCS8 pem: String, type: KeyType) throws -> [UInt8] {
        switch type {
        case .p256: Array(try P256.Signing.PrivateKey(pemRepresentation: pem).publicKey.derRepresentation)
        case .p384: Array(try P384.Signing.PrivateKey(pemRepresentation: pem).publicKey.derRepresentation)
        default: Array(try _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem).publicKey.derRepresentation)
        }
    }

    @Test func datesFollowTheReferenceTime() throws {
        let reference = Date(timeIntervalSince1970: 1_700_000_000)
        let factory = FactoryFixture.sharedFactory(referenceTime: reference)
        let expired = try Certificate(
            derEncoded: try #require(try factory.mint(profile: "expired-leaf").certificates["leaf"])
        )
        #expect(expired.notValidAfter == reference - 3 * 86_400)
        #expect(expired.notValidBefore == reference - 93 * 86_400)
        let soon = try Certificate(
            derEncoded: try #require(try factory.mint(profile: "expiring-soon").certificates["leaf"])
        )
        #expect(soon.notValidAfter == reference + 10 * 86_400)
        let future = try Certificate(
            derEncoded: try #require(try factory.mint(profile: "not-yet-valid").certificates["leaf"])
        )
        #expect(future.notValidBefore == reference + 2 * 86_400)
        let intermediate = try Certificate(
            derEncoded: try #require(try factory.mint(profile: "expired-intermediate").certificates["intermediate"])
        )
        #expect(intermediate.notValidAfter == reference - 2 * 86_400)
    }

    @Test func specificProfilesHaveTheirDefect() throws {
        let factory = FactoryFixture.sharedFactory()

        let cnOnly = try Certificate(
            derEncoded: try #require(try factory.mint(profile: "cn-only-no-san").certificates["leaf"])
        )
        #expect(try cnOnly.extensions.subjectAlternativeNames == nil)
        #expect(FactoryFixture.commonNames(cnOnly.subject) == ["mail.example.test"])

        let ip = try factory.mint(profile: "ip-san")
        #expect(ip.hostname == "127.0.0.1")
        let ipLeaf = try Certificate(derEncoded: try #require(ip.certificates["leaf"]))
        #expect(
            try ipLeaf.extensions.subjectAlternativeNames.map(Array.init) == [
                .ipAddress(.init(contentBytes: [127, 0, 0, 1]))
            ]
        )

        let deep = try factory.mint(profile: "wildcard-too-deep")
        #expect(deep.hostname == "a.mail.example.test")

        let missing = try factory.mint(profile: "missing-intermediate")
        #expect(missing.served == [try #require(missing.certificates["leaf"])])

        let reversed = try factory.mint(profile: "reversed-chain")
        #expect(reversed.servedNames == ["leaf", "int-a", "int-b"])
        let intB = try Certificate(derEncoded: try #require(reversed.certificates["int-b"]))
        let intA = try Certificate(derEncoded: try #require(reversed.certificates["int-a"]))
        #expect(intB.issuer == intA.subject)

        let selfSigned = try Certificate(
            derEncoded: try #require(try factory.mint(profile: "self-signed").certificates["leaf"])
        )
        #expect(selfSigned.issuer == selfSigned.subject)
        #expect(selfSigned.publicKey.isValidSignature(selfSigned.signature, for: selfSigned))

        let untrusted = try factory.mint(profile: "untrusted-root")
        let root = try Certificate(derEncoded: try #require(untrusted.certificates["root"]))
        #expect(!untrusted.served.contains(try #require(untrusted.certificates["root"])))
        #expect(!untrusted.anchors.contains(try #require(untrusted.certificates["root"])))
        #expect(root.issuer == root.subject)

        let sha1 = try Certificate(
            derEncoded: try #require(try factory.mint(profile: "sha1-leaf").certificates["leaf"])
        )
        #expect(sha1.signatureAlgorithm == .sha1WithRSAEncryption)

        let notCA = try Certificate(
            derEncoded: try #require(try factory.mint(profile: "intermediate-not-ca").certificates["intermediate"])
        )
        #expect(try notCA.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try notCA.extensions.keyUsage?.keyCertSign == true)

        let pathLength = try factory.mint(profile: "path-length-exceeded")
        let limited = try Certificate(derEncoded: try #require(pathLength.certificates["int-a"]))
        #expect(try limited.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))

        let clientOnly = try Certificate(
            derEncoded: try #require(try factory.mint(profile: "eku-client-only").certificates["leaf"])
        )
        #expect(try clientOnly.extensions.extendedKeyUsage.map(Array.init) == [.clientAuth])

        let extra = try factory.mint(profile: "extra-unrelated-cert")
        #expect(extra.served.count == 3)
        #expect(extra.served.last == extra.certificates["unrelated"])
    }

    @Test func expectationsFollowTheFileAndItsOverrides() throws {
        let directory = FactoryFixture.profilesDirectory
        let expired = try ChainProfile.load(named: "expired-leaf", in: directory)
        #expect(expired.expectedFindings(for: .openssl) == [.expired])
        #expect(expired.expectedFindings(for: .gnutls) == [.expired])
        let good = try ChainProfile.load(named: "good", in: directory)
        #expect(good.expectedFindings(for: .openssl).isEmpty)
        let notCA = try ChainProfile.load(named: "intermediate-not-ca", in: directory)
        #expect(notCA.expectedFindings(for: .openssl) == [.notACA, .wrongPurpose])
        #expect(notCA.expectedFindings(for: .gnutls) == [.notACA])
        #expect(notCA.expectation.divergence?.isEmpty == false)
    }

    @Test func profileErrorsNameTheFieldAndLine() throws {
        let base = """
            summary: test
            certificates:
              - name: leaf
                sans: [dns:mail.example.test]
            serve: [leaf]
            """
        let noExpect = #expect(throws: ChainSpecError.self) {
            try ChainProfile.parse(yaml: base, name: "t", file: "t.yaml")
        }
        #expect(noExpect?.field == "expect")

        let badCode = #expect(throws: ChainSpecError.self) {
            try ChainProfile.parse(yaml: base + "\nexpect:\n  findings: [expird]\n", name: "t", file: "t.yaml")
        }
        #expect(badCode?.field == "expect.findings[0]")
        #expect(badCode?.line == 7)
        #expect(badCode?.description.hasPrefix("t.yaml:7: expect.findings[0]") == true)

        let undeclared = #expect(throws: ChainSpecError.self) {
            try ChainProfile.parse(
                yaml: base + "\nexpect:\n  findings: []\n  openssl: [expired]\n",
                name: "t",
                file: "t.yaml"
            )
        }
        #expect(undeclared?.field == "expect.divergence")

        let wrongName = #expect(throws: ChainSpecError.self) {
            try ChainProfile.parse(yaml: "name: other\n" + base + "\nexpect: {findings: []}\n", name: "t")
        }
        #expect(wrongName?.field == "name")

        #expect(throws: ChainSpecError.self) {
            try ChainProfile.load(named: "../etc/passwd", in: FactoryFixture.profilesDirectory)
        }
        let unknown = #expect(throws: ChainSpecError.self) {
            try ChainProfile.load(named: "no-such-profile", in: FactoryFixture.profilesDirectory)
        }
        #expect(unknown?.message.contains("good") == true)
    }
}
