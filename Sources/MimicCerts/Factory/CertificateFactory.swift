import Crypto
import Foundation
import Synchronization
import SwiftASN1
import X509

/// Mints certificate chains from specs and profiles, dated relative to a reference time, under a persistent
/// local CA, with keys cached per machine.
///
/// The home folder (normally the repository's `certs/`) holds `profiles/`, the local CA in `local/` and the key
/// cache in `.keys/`; the last two are created on first use and are never committed.
public final class CertificateFactory: Sendable {
    /// The `certs/` folder.
    public let home: URL
    /// Where ``mint(profile:)`` finds `NAME.yaml` (default `home/profiles`).
    public let profilesDirectory: URL
    /// Every relative date of every spec is counted from here.
    public let referenceTime: Date

    /// True for a factory that writes nothing: its local CA and keys live in memory and its profiles are the
    /// built-in ones (see ``inMemory(referenceTime:)``).
    public let inMemory: Bool

    private let cachedCA = Mutex<LocalCA?>(nil)

    /// - Parameters:
    ///   - home: the `certs/` folder (see ``defaultHome()``).
    ///   - profiles: the profiles folder when it is not `home/profiles` (tests use the repository's profiles with a
    ///     temporary home).
    ///   - referenceTime: the time `not_before`/`not_after` offsets count from, taken to the whole second before it
    ///     (see ``wholeSecond(_:)``).
    public init(home: URL, profiles: URL? = nil, referenceTime: Date = Date()) {
        self.home = home
        self.profilesDirectory = profiles ?? home.appendingPathComponent("profiles")
        self.referenceTime = Self.wholeSecond(referenceTime)
        self.inMemory = false
    }

    /// A factory that writes nothing: a local CA made for this process, keys generated in memory (and shared by
    /// every in-memory factory of the process), the built-in profiles. What a test inside another package uses,
    /// with no checkout of this repository on disk.
    public static func inMemory(referenceTime: Date = Date()) -> CertificateFactory {
        CertificateFactory(inMemoryAt: referenceTime)
    }

    private init(inMemoryAt referenceTime: Date) {
        // Never read or written: every path of an in-memory factory goes through `inMemory`.
        self.home = URL(fileURLWithPath: "/nonexistent/mimic-in-memory", isDirectory: true)
        self.profilesDirectory = home.appendingPathComponent("profiles")
        self.referenceTime = Self.wholeSecond(referenceTime)
        self.inMemory = true
    }

    /// Certificates carry whole seconds and the encoder rounds to the nearest: from a reference time with a
    /// fraction, `not_after: -3d` could land up to half a second after three days before it, and a chain checked
    /// at once read "expired 2 day(s) ago". Offsets count from the second the reference time falls in.
    static func wholeSecond(_ time: Date) -> Date {
        Date(timeIntervalSince1970: time.timeIntervalSince1970.rounded(.down))
    }

    /// The profile `NAME`: `profiles/NAME.yaml`, or the built-in one for an in-memory factory.
    public func profile(named name: String) throws -> ChainProfile {
        inMemory ? try ChainProfile.builtIn(named: name) : try ChainProfile.load(named: name, in: profilesDirectory)
    }

    /// The names of the profiles ``profile(named:)`` knows, sorted.
    public func profileNames() throws -> [String] {
        inMemory ? ChainProfile.builtInNames : try ChainProfile.profileNames(in: profilesDirectory)
    }

    /// Every profile ``profile(named:)`` knows, sorted by name.
    public func allProfiles() throws -> [ChainProfile] {
        try profileNames().map { try profile(named: $0) }
    }

    /// `$MIMIC_CERTS` when set, else `./certs` relative to the current directory.
    public static func defaultHome() -> URL {
        if let path = ProcessInfo.processInfo.environment["MIMIC_CERTS"], !path.isEmpty {
            return URL(fileURLWithPath: path, isDirectory: true)
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
            .appendingPathComponent("certs", isDirectory: true)
    }

    var localDirectory: URL { home.appendingPathComponent("local", isDirectory: true) }
    var keysDirectory: URL { home.appendingPathComponent(".keys", isDirectory: true) }

    /// The local CA, created under `home/local/` on first use and reused afterwards (by this and every later
    /// factory and process on the same home).
    public func localCA() throws -> LocalCA {
        try cachedCA.withLock { cached in
            if let cached { return cached }
            let ca =
                inMemory
                ? try LocalCA.ephemeral(referenceTime: referenceTime)
                : try LocalCA.loadOrCreate(in: localDirectory, referenceTime: referenceTime)
            cached = ca
            return ca
        }
    }

    /// Mints the profile `certs/profiles/NAME.yaml`.
    public func mint(profile: String) throws -> MintedChain {
        try mint(self.profile(named: profile))
    }

    /// Mints a loaded profile with its own name and hostname.
    public func mint(_ profile: ChainProfile) throws -> MintedChain {
        try mint(profile.spec, name: profile.name, hostname: profile.hostname)
    }

    /// Mints every certificate of `spec` and assembles what the server serves and what a client trusts.
    ///
    /// - Parameters:
    ///   - name: the chain's name; it appears in CA subjects so that same-named certificates of different chains
    ///     (which share cached keys) never chain into each other. Default `inline`.
    ///   - hostname: the name a client checks; recorded in the result (SANs come from the spec).
    public func mint(_ spec: ChainSpec, name: String? = nil, hostname: String) throws -> MintedChain {
        try spec.validate()
        let ca = try localCA()
        let chainName = name ?? "inline"
        var minter = Minter(spec: spec, chainName: chainName, ca: ca, factory: self)
        for certificate in spec.certificates {
            _ = try minter.mint(certificate.name)
        }
        let certificates = minter.minted.mapValues(\.der)
        var served: [[UInt8]] = []
        for servedName in spec.serve {
            if servedName == CertificateSpec.localCA {
                served.append(ca.certificateDER)
            } else if let der = certificates[servedName] {
                served.append(der)
            }
        }
        guard let first = spec.serve.first, let leafKey = minter.minted[first]?.key else {
            throw ChainSpecError(field: "serve", message: "nothing to serve")
        }
        let anchors = [ca.certificateDER] + (spec.trust ?? []).compactMap { certificates[$0] }
        return MintedChain(
            name: chainName,
            hostname: hostname,
            certificates: certificates,
            served: served,
            servedNames: spec.serve,
            anchors: anchors,
            leafKeyPEM: leafKey.pkcs8PEM
        )
    }

    func key(for certificate: CertificateSpec) throws -> FactoryKey {
        let name = certificate.sameKeyAs ?? certificate.name
        return inMemory
            ? try KeyStore.memoryKey(name: name, type: certificate.key)
            : try KeyStore.key(name: name, type: certificate.key, directory: keysDirectory)
    }
}

/// One mint: certificates are made issuer first, each once, in whatever order the spec lists them.
private struct Minter {
    struct Minted {
        let certificate: Certificate
        let der: [UInt8]
        let key: FactoryKey
        let keyIdentifier: ArraySlice<UInt8>
    }

    let spec: ChainSpec
    let chainName: String
    let ca: LocalCA
    let factory: CertificateFactory
    var minted: [String: Minted] = [:]

    init(spec: ChainSpec, chainName: String, ca: LocalCA, factory: CertificateFactory) {
        self.spec = spec
        self.chainName = chainName
        self.ca = ca
        self.factory = factory
    }

    /// Validation has ruled out unknown issuers and cycles, so the recursion ends.
    mutating func mint(_ name: String) throws -> Minted {
        if let done = minted[name] { return done }
        guard let certificateSpec = spec.certificate(named: name) else {
            throw ChainSpecError(field: "certificates", message: "unknown certificate '\(name)'")
        }
        let key = try factory.key(for: certificateSpec)
        let subject = try subjectName(for: certificateSpec)
        let keyIdentifier = SubjectKeyIdentifier(hash: key.publicKey).keyIdentifier

        let issuerName: DistinguishedName
        let issuerKey: FactoryKey
        let issuerKeyIdentifier: ArraySlice<UInt8>
        switch certificateSpec.issuer {
        case nil, certificateSpec.name:
            (issuerName, issuerKey, issuerKeyIdentifier) = (subject, key, keyIdentifier)
        case CertificateSpec.localCA:
            issuerName = ca.certificate.subject
            issuerKey = ca.key
            issuerKeyIdentifier =
                (try? ca.certificate.extensions.subjectKeyIdentifier)??.keyIdentifier
                ?? SubjectKeyIdentifier(hash: ca.key.publicKey).keyIdentifier
        case let issuer?:
            let parent = try mint(issuer)
            (issuerName, issuerKey, issuerKeyIdentifier) = (
                parent.certificate.subject, parent.key, parent.keyIdentifier
            )
        }

        let signature = certificateSpec.signature ?? .default(for: issuerKey.type)
        let extensions = try Self.extensions(
            for: certificateSpec,
            subjectIsEmpty: subject.isEmpty,
            keyIdentifier: keyIdentifier,
            authorityKeyIdentifier: issuerKeyIdentifier
        )
        let certificate = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: key.publicKey,
            notValidBefore: certificateSpec.notBefore.date(from: factory.referenceTime),
            notValidAfter: certificateSpec.notAfter.date(from: factory.referenceTime),
            issuer: issuerName,
            subject: subject,
            signatureAlgorithm: signature.algorithm,
            extensions: extensions,
            issuerPrivateKey: issuerKey.privateKey
        )
        let der =
            certificateSpec.malform.isEmpty
            ? try certificate.derBytes()
            : try Malformation.apply(
                certificateSpec.malform,
                to: certificate,
                sans: certificateSpec.sans,
                signature: signature,
                issuerKey: issuerKey.privateKey
            )
        let result = Minted(
            certificate: certificate,
            der: der,
            key: key,
            keyIdentifier: keyIdentifier
        )
        minted[name] = result
        return result
    }

    /// The spec's subject, or a default: a leaf is named after its first SAN, a CA after the chain and itself
    /// (so CAs of different chains never share a subject even when they share a cached key).
    func subjectName(for certificate: CertificateSpec) throws -> DistinguishedName {
        let subject =
            certificate.subject
            ?? SubjectSpec(
                commonName: !certificate.ca && !certificate.sans.isEmpty
                    ? certificate.sans[0].value : "Mimic \(chainName) \(certificate.name)",
                organization: "Mimic"
            )
        return try DistinguishedName {
            if let organization = subject.organization { OrganizationName(organization) }
            if let commonName = subject.commonName { CommonName(commonName) }
        }
    }

    static func extensions(
        for certificate: CertificateSpec,
        subjectIsEmpty: Bool,
        keyIdentifier: ArraySlice<UInt8>,
        authorityKeyIdentifier: ArraySlice<UInt8>
    ) throws -> Certificate.Extensions {
        let keyUsage =
            certificate.keyUsage
            ?? (certificate.ca
                ? [.keyCertSign, .cRLSign]
                : (certificate.key.isRSA ? [.digitalSignature, .keyEncipherment] : [.digitalSignature]))
        let extendedKeyUsage = certificate.extendedKeyUsage ?? (certificate.ca ? [] : [.serverAuth])
        let sans: [GeneralName] = certificate.sans.map { san in
            switch san {
            case .dns(let name): .dnsName(name)
            case .ip(let address):
                .ipAddress(ASN1OctetString(contentBytes: ArraySlice(IPAddress.parse(address) ?? [])))
            }
        }
        let basicConstraints: BasicConstraints =
            certificate.ca ? .isCertificateAuthority(maxPathLength: certificate.pathLength) : .notCertificateAuthority
        let sanCritical = certificate.sanCritical ?? subjectIsEmpty
        return try Certificate.Extensions {
            switch certificate.basicConstraints {
            case .critical: Critical(basicConstraints)
            case .nonCritical: basicConstraints
            case .absent: Certificate.Extensions()
            }
            if !keyUsage.isEmpty {
                Critical(
                    KeyUsage(
                        digitalSignature: keyUsage.contains(.digitalSignature),
                        keyEncipherment: keyUsage.contains(.keyEncipherment),
                        keyCertSign: keyUsage.contains(.keyCertSign),
                        cRLSign: keyUsage.contains(.cRLSign)
                    )
                )
            }
            if !extendedKeyUsage.isEmpty {
                try ExtendedKeyUsage(
                    extendedKeyUsage.map { usage -> ExtendedKeyUsage.Usage in
                        switch usage {
                        case .serverAuth: .serverAuth
                        case .clientAuth: .clientAuth
                        }
                    }
                )
            }
            if certificate.subjectKeyIdentifier { SubjectKeyIdentifier(keyIdentifier: keyIdentifier) }
            if certificate.authorityKeyIdentifier { AuthorityKeyIdentifier(keyIdentifier: authorityKeyIdentifier) }
            // RFC 5280 4.2.1.6: with an empty subject the SAN extension must be critical.
            if !sans.isEmpty {
                if sanCritical {
                    Critical(SubjectAlternativeNames(sans))
                } else {
                    SubjectAlternativeNames(sans)
                }
            }
        }
    }
}

extension SignatureKind {
    var algorithm: Certificate.SignatureAlgorithm {
        switch self {
        case .ecdsaSHA256: .ecdsaWithSHA256
        case .ecdsaSHA384: .ecdsaWithSHA384
        case .rsaSHA256: .sha256WithRSAEncryption
        case .rsaSHA384: .sha384WithRSAEncryption
        case .rsaSHA1: .sha1WithRSAEncryption
        }
    }
}

