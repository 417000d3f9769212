import Foundation

extension ChainSpec {
    /// Checks what the types cannot: names unique and well formed, issuers that exist and form no cycle,
    /// signature algorithms the issuer's key can make, served and trusted names that exist.
    ///
    /// Specs parsed from YAML are already validated (with lines); ``CertificateFactory/mint(_:name:hostname:)``
    /// calls this for specs built in code.
    public func validate() throws {
        try validate(prefix: "", reader: SpecReader(file: nil))
    }

    func validate(prefix: String, reader: SpecReader) throws {
        func path(_ key: String) -> String { SpecReader.join(prefix, key) }
        if certificates.isEmpty {
            throw reader.error(path("certificates"), "needs at least one certificate")
        }
        var indexByName: [String: Int] = [:]
        for (index, certificate) in certificates.enumerated() {
            let field = path("certificates[\(index)].name")
            let name = certificate.name
            guard Self.isValidName(name) else {
                throw reader.error(field, "bad name '\(name)' (1-64 characters from A-Z a-z 0-9 . _ -)")
            }
            // `chain` and `ca` would collide with chain.pem and ca.pem when a minted chain is written out.
            guard !Self.reservedNames.contains(name) else {
                throw reader.error(field, "'\(name)' is reserved (\(Self.reservedNames.joined(separator: ", ")))")
            }
            if indexByName[name] != nil {
                throw reader.error(field, "duplicate certificate name '\(name)'")
            }
            indexByName[name] = index
        }

        for (index, certificate) in certificates.enumerated() {
            guard let other = certificate.sameKeyAs else { continue }
            let field = path("certificates[\(index)].same_key_as")
            guard let target = self.certificate(named: other), other != certificate.name, target.sameKeyAs == nil
            else {
                throw reader.error(field, "'\(other)' is not another certificate of this chain with a key of its own")
            }
            guard target.key == certificate.key else {
                throw reader.error(
                    field,
                    "'\(other)' has a \(target.key) key, this certificate a \(certificate.key) key"
                )
            }
        }

        for (index, certificate) in certificates.enumerated() {
            let field = path("certificates[\(index)]")
            if let issuer = certificate.issuer, issuer != CertificateSpec.localCA, indexByName[issuer] == nil {
                let known = ([CertificateSpec.localCA, "self"] + certificates.map(\.name)).joined(separator: ", ")
                throw reader.error(
                    "\(field).issuer",
                    "unknown issuer '\(issuer)' (expected one of: \(known))"
                )
            }
            if certificate.pathLength != nil, !certificate.ca {
                throw reader.error(
                    "\(field).path_length",
                    "path_length needs ca: true (BasicConstraints carries it only for CAs)"
                )
            }
            if let signature = certificate.signature {
                let issuerKey = issuerKeyType(of: certificate)
                if signature.isRSA != issuerKey.isRSA {
                    throw reader.error(
                        "\(field).signature",
                        "'\(signature)' cannot be made with the issuer's \(issuerKey) key"
                    )
                }
            }
            // Follow the issuer links: a cycle would make minting recurse forever.
            var seen: [String] = [certificate.name]
            var current = certificate
            while let issuer = current.issuer, issuer != current.name, issuer != CertificateSpec.localCA,
                let next = indexByName[issuer].map({ certificates[$0] })
            {
                if seen.contains(next.name) {
                    let loop = (seen + [next.name]).joined(separator: " -> ")
                    throw reader.error("\(field).issuer", "issuer cycle: \(loop)")
                }
                seen.append(next.name)
                current = next
            }
        }

        if serve.isEmpty {
            throw reader.error(path("serve"), "needs at least one certificate to serve")
        }
        for (index, name) in serve.enumerated() {
            let field = path("serve[\(index)]")
            if name == CertificateSpec.localCA {
                // The first served certificate's key goes to the server: never the local CA's.
                if index == 0 {
                    throw reader.error(field, "the local CA cannot be served first (its key would be the server's)")
                }
            } else if indexByName[name] == nil {
                let known = certificates.map(\.name).joined(separator: ", ")
                throw reader.error(field, "unknown certificate '\(name)' (expected one of: \(known))")
            }
        }
        for (index, name) in (trust ?? []).enumerated() where indexByName[name] == nil {
            throw reader.error(
                path("trust[\(index)]"),
                "unknown certificate '\(name)' (expected one of: \(certificates.map(\.name).joined(separator: ", ")))"
            )
        }
    }

    /// The key type of the certificate's issuer (the local CA's is P-256; a self-signed cert's is its own).
    func issuerKeyType(of certificate: CertificateSpec) -> KeyType {
        guard let issuer = certificate.issuer, issuer != certificate.name else { return certificate.key }
        if issuer == CertificateSpec.localCA { return LocalCA.keyType }
        return self.certificate(named: issuer)?.key ?? certificate.key
    }

    static let reservedNames = [CertificateSpec.localCA, "self", "chain", "ca"]

    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x2E || byte == 0x5F
            }
            && name.first != "."
    }
}
