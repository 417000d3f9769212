import Foundation
import MimicCerts

/// The shape of a served chain, re-expressed in the certificate factory's spec format: which certificate
/// issued which, what was served in which order, what is missing, and per certificate its key, signature, names,
/// constraints, usages and validity — never its keys or signatures, which are minted anew under the local CA.
struct CapturedChain {
    /// The `pki:` block's lines, indented for the scenario (two spaces).
    var lines: [String] = []
    /// What the factory cannot express, one sentence each.
    var warnings: [String] = []
    /// Notes for the file's header comment (stand-in root, public root).
    var notes: [String] = []

    /// - Parameters:
    ///   - facts: the library-independent chain facts the probe computed for the served chain.
    ///   - capturedAt: validity is written as offsets from this time (or absolute with `absoluteDates`).
    init(
        facts: ChainFacts, capturedAt: Date, absoluteDates: Bool, anchorSubjects: Set<String> = [],
        names: inout NameRewriter
    ) {
        let certificates = facts.certificates
        guard !certificates.isEmpty else { return }

        // Names: leaf, intermediate(-N), root, unrelated(-N), by what each is on the path.
        var specNames: [Int: String] = [:]
        let onPath = facts.path
        var intermediates = 0
        var unrelatedCount = 0
        // A certificate served again (the same bytes) is the same spec certificate served twice.
        var firstServed: [String: Int] = [:]
        var duplicateOf: [Int: Int] = [:]
        for position in certificates.indices {
            let fingerprint = certificates[position].sha256Fingerprint
            if let earlier = firstServed[fingerprint] {
                duplicateOf[position] = earlier
            } else {
                firstServed[fingerprint] = position
            }
        }
        for position in certificates.indices where duplicateOf[position] == nil {
            if position == 0 {
                specNames[position] = "leaf"
            } else if onPath.contains(position) {
                let isTop = onPath.last == position
                if isTop && certificates[position].selfSigned {
                    specNames[position] = "root"
                } else {
                    intermediates += 1
                    specNames[position] = intermediates == 1 ? "intermediate" : "intermediate-\(intermediates)"
                }
            } else {
                unrelatedCount += 1
                specNames[position] = unrelatedCount == 1 ? "unrelated" : "unrelated-\(unrelatedCount)"
            }
        }

        // Issuers: along the path each certificate is issued by the next; the top by the trust anchor (the
        // local CA stands in for it), itself, or a certificate the server did not send.
        var issuers: [Int: String] = [:]
        var synthesized: [(name: String, issuer: String)] = []
        var rootServedAsAnchor: Int?
        for (index, position) in onPath.enumerated() {
            if index + 1 < onPath.count {
                issuers[position] = specNames[onPath[index + 1]]
                continue
            }
            let certificate = certificates[position]
            if facts.complete && facts.anchorCertificate == nil && certificate.selfSigned {
                // The server sent the trust anchor itself: it becomes the local CA, served in its place.
                rootServedAsAnchor = position
            } else if facts.complete {
                issuers[position] = "local-ca"
                if let anchor = facts.anchorCertificate {
                    notes.append(
                        "the trust anchor (\(names.enabled ? "a root" : anchor.subject)) is replaced by the local "
                            + "CA, a stand-in that plays its part")
                }
            } else if certificate.selfSigned {
                issuers[position] = "self"
            } else if anchorSubjects.contains(certificate.issuer) {
                // Named after a trust anchor whose signature did not verify (a malformed certificate).
                issuers[position] = "local-ca"
            } else {
                // The issuer was neither served nor trusted: an intermediate the server left out.
                let name = "missing-issuer"
                issuers[position] = name
                synthesized.append((name, "local-ca"))
                notes.append("the issuer of '\(specNames[position]!)' was not served; it is minted but not served")
            }
        }
        for (position, earlier) in duplicateOf { specNames[position] = specNames[earlier] }
        for position in certificates.indices where !onPath.contains(position) && duplicateOf[position] == nil {
            let certificate = certificates[position]
            if certificate.selfSigned {
                issuers[position] = "self"
            } else if let issuerPosition = certificates.indices.first(where: {
                $0 != position && certificates[$0].subject == certificate.issuer
            }) {
                issuers[position] = specNames[issuerPosition]
            } else {
                let name = "unrelated-issuer-\(position)"
                issuers[position] = name
                synthesized.append((name, "self"))
            }
        }

        if let root = rootServedAsAnchor {
            // Its children name the local CA as their issuer.
            for (position, issuer) in issuers where issuer == specNames[root] { issuers[position] = "local-ca" }
        }

        // Key types, needed to pick each signature's family from its issuer's key.
        var keys: [Int: String] = [:]
        for position in certificates.indices where position != rootServedAsAnchor && duplicateOf[position] == nil {
            keys[position] = keyName(certificates[position], name: specNames[position]!)
        }
        func issuerKey(of position: Int) -> String {
            switch issuers[position] {
            case "self": return keys[position] ?? "p256"
            case "local-ca", .none: return "p256"
            case let name?:
                if let issuerPosition = specNames.first(where: { $0.value == name })?.key {
                    return keys[issuerPosition] ?? "p256"
                }
                return "p256"  // a synthesized issuer: the factory's default key
            }
        }

        lines.append("chain:")
        lines.append("  certificates:")
        for (name, issuer) in synthesized {
            lines.append("    - name: \(name)")
            lines.append("      issuer: \(issuer)")
            lines.append("      ca: true")
        }
        for position in certificates.indices where position != rootServedAsAnchor && duplicateOf[position] == nil {
            let certificate = certificates[position]
            let name = specNames[position]!
            if certificate.unreadable {
                warnings.append("'\(name)' could not be read at all; it is minted as an ordinary certificate")
            }
            lines.append("    - name: \(name)")
            lines.append("      issuer: \(issuers[position] ?? "self")")
            lines += subjectLines(certificate, isLeaf: position == 0, name: name, names: &names)
            lines += sanLines(certificate, names: &names)
            let key = keys[position]!
            lines.append("      key: \(key)")
            if let signature = signatureName(certificate, issuerKey: issuerKey(of: position), name: name) {
                lines.append("      signature: \(signature)")
            }
            if certificate.isCA {
                lines.append("      ca: true")
                if let pathLength = certificate.pathLength { lines.append("      path_length: \(pathLength)") }
            }
            if let shape = certificate.extensionShape {
                // The factory writes AKI and SKI, a critical basicConstraints, and a SAN critical exactly when the
                // subject is empty: only what differs is written.
                if !shape.authorityKeyIdentifier && issuers[position] != "self" {
                    lines.append("      authority_key_id: false")
                }
                if !shape.subjectKeyIdentifier { lines.append("      subject_key_id: false") }
                switch shape.basicConstraints {
                case nil: lines.append("      basic_constraints: absent")
                case "non-critical": lines.append("      basic_constraints: non-critical")
                default: break
                }
                let subjectIsEmpty = Self.attributes(of: certificate.subject).isEmpty
                if let critical = shape.subjectAlternativeNameCritical, critical != subjectIsEmpty {
                    lines.append("      san_critical: \(critical)")
                }
            }
            if let usage = certificate.keyUsage {
                let supported = usage.filter { Self.supportedKeyUsages.contains($0) }
                let dropped = usage.filter { !Self.supportedKeyUsages.contains($0) }
                if !dropped.isEmpty {
                    warnings.append("'\(name)': key usages \(dropped.joined(separator: ", ")) have no factory knob")
                }
                lines.append("      key_usage: [\(supported.joined(separator: ", "))]")
            } else {
                lines.append("      key_usage: []")
            }
            if let purposes = certificate.extendedKeyUsage {
                let supported = purposes.filter { Self.supportedPurposes.contains($0) }
                let dropped = purposes.filter { !Self.supportedPurposes.contains($0) }
                if !dropped.isEmpty {
                    warnings.append(
                        "'\(name)': extended key usages \(dropped.joined(separator: ", ")) have no factory knob")
                }
                lines.append("      extended_key_usage: [\(supported.joined(separator: ", "))]")
            } else if position == 0 {
                lines.append("      extended_key_usage: []")
            }
            if let problems = certificate.malformed {
                let knobs = Set(problems.compactMap(Self.malformation))
                for problem in problems where Self.malformation(problem) == nil {
                    warnings.append("'\(name)' is malformed in a way no factory knob makes: \(problem)")
                }
                if !knobs.isEmpty { lines.append("      malform: [\(knobs.sorted().joined(separator: ", "))]") }
            }
            lines.append("      not_before: \(Self.time(certificate.notBefore, from: capturedAt, absolute: absoluteDates))")
            lines.append("      not_after: \(Self.time(certificate.notAfter, from: capturedAt, absolute: absoluteDates))")
        }
        var served = certificates.indices.map { position in
            position == rootServedAsAnchor || duplicateOf[position] == rootServedAsAnchor && rootServedAsAnchor != nil
                ? "local-ca" : specNames[position]!
        }
        if facts.servedCount > certificates.count, let last = served.last {
            // Only the first certificates of an over-long chain are read: the rest are served as the last again.
            notes.append("\(facts.servedCount) certificates were served and \(certificates.count) read; the rest are "
                + "served as copies of the last")
            served += Array(repeating: last, count: facts.servedCount - certificates.count)
        }
        lines.append("  serve: [\(served.joined(separator: ", "))]")
        if facts.unrelated.isEmpty == false {
            notes.append("served but on no path from the leaf: \(facts.unrelated.map { specNames[$0]! }.joined(separator: ", "))")
        }
    }

    /// The factory's `malform` knob that makes a problem the chain facts named, if any.
    static func malformation(_ problem: String) -> String? {
        let text = problem.lowercased()
        if text.contains("signature algorithm differs") { return "algorithm-mismatch" }
        if text.contains("serialnumber: negative") { return "negative-serial" }
        if text.contains("serialnumber: zero") { return "zero-serial" }
        if text.contains("appears more than once") { return "duplicate-extension" }
        if text.contains("othername") { return "malformed-othername-san" }
        if text.contains("ia5") { return "non-ia5-san" }
        if text.contains("64 kib") || text.contains("oversize") { return "oversized" }
        if text.contains("subjectpublickeyinfo") || text.contains("public key") { return "truncated-key" }
        return nil
    }

    static let supportedKeyUsages: Set<String> = ["digitalSignature", "keyEncipherment", "keyCertSign", "cRLSign"]
    static let supportedPurposes: Set<String> = ["serverAuth", "clientAuth"]

    private mutating func keyName(_ certificate: CertificateFacts, name: String) -> String {
        switch certificate.keyType {
        case "EC":
            switch certificate.curve {
            case "P-256": return "p256"
            case "P-384": return "p384"
            default:
                warnings.append("'\(name)' has a \(certificate.curve ?? "unknown") key; minted as P-384")
                return "p384"
            }
        case "RSA", "RSA-PSS":
            let bits = certificate.keySize ?? 2048
            if certificate.keyType == "RSA-PSS" { warnings.append("'\(name)' has an RSA-PSS key; minted as RSA") }
            switch bits {
            case 1024, 2048, 3072, 4096: return "rsa\(bits)"
            case ..<2048:
                warnings.append("'\(name)' has a \(bits)-bit RSA key; minted as rsa1024 (still weak)")
                return "rsa1024"
            case ..<3072:
                warnings.append("'\(name)' has a \(bits)-bit RSA key; minted as rsa2048")
                return "rsa2048"
            case ..<4096:
                warnings.append("'\(name)' has a \(bits)-bit RSA key; minted as rsa3072")
                return "rsa3072"
            default:
                warnings.append("'\(name)' has a \(bits)-bit RSA key; minted as rsa4096")
                return "rsa4096"
            }
        default:
            warnings.append("'\(name)' has a \(certificate.keyType) key, which the factory cannot mint; minted as P-256")
            return "p256"
        }
    }

    /// The factory's signature for this certificate: its issuer's key family, the certificate's own digest.
    private mutating func signatureName(_ certificate: CertificateFacts, issuerKey: String, name: String) -> String? {
        let hash = certificate.signatureHash ?? "SHA-256"
        if issuerKey.hasPrefix("rsa") {
            switch hash {
            case "SHA-256": return "rsa-sha256"
            case "SHA-384": return "rsa-sha384"
            case "SHA-1": return "rsa-sha1"
            case "SHA-512":
                warnings.append("'\(name)' is signed with SHA-512; minted with rsa-sha384")
                return "rsa-sha384"
            default:
                warnings.append("'\(name)' is signed with \(hash) (\(certificate.signatureAlgorithm)); minted with rsa-sha1, "
                    + "the weakest digest the factory signs with")
                return "rsa-sha1"
            }
        }
        switch hash {
        case "SHA-256": return "ecdsa-sha256"
        case "SHA-384": return "ecdsa-sha384"
        case "SHA-512":
            warnings.append("'\(name)' is signed with SHA-512; minted with ecdsa-sha384")
            return "ecdsa-sha384"
        default:
            warnings.append("'\(name)' is signed with \(hash) (\(certificate.signatureAlgorithm)) under an EC issuer, "
                + "which the factory cannot sign with; minted with ecdsa-sha256")
            return "ecdsa-sha256"
        }
    }

    private func subjectLines(_ certificate: CertificateFacts, isLeaf: Bool, name: String, names: inout NameRewriter)
        -> [String]
    {
        let attributes = Self.attributes(of: certificate.subject)
        let commonName = attributes.first { $0.key.uppercased() == "CN" }?.value
        let organization = attributes.first { $0.key.uppercased() == "O" }?.value
        if commonName == nil && organization == nil { return ["      subject: {}"] }
        var parts: [String] = []
        if let commonName {
            // A CA's name says nothing a verdict needs; a leaf's CN may be the name matched (no SAN).
            let value = isLeaf || !names.enabled ? names.rewriteText(commonName) : "Captured \(name)"
            parts.append("common_name: \(CaptureYAML.quoted(value))")
        }
        if let organization {
            parts.append("organization: \(CaptureYAML.quoted(names.enabled ? "Captured" : organization))")
        }
        return ["      subject: { \(parts.joined(separator: ", ")) }"]
    }

    private mutating func sanLines(_ certificate: CertificateFacts, names: inout NameRewriter) -> [String] {
        guard certificate.hasSubjectAlternativeNames else { return ["      sans: []"] }
        var entries: [String] = []
        var dropped: [String] = []
        for san in certificate.subjectAlternativeNames {
            if san.hasPrefix("DNS:") {
                entries.append(CaptureYAML.quoted("dns:" + names.rewrite(String(san.dropFirst(4)))))
            } else if san.hasPrefix("IP:") {
                entries.append(CaptureYAML.quoted("ip:" + names.rewriteIP(String(san.dropFirst(3)))))
            } else {
                dropped.append(san.split(separator: ":").first.map(String.init) ?? san)
            }
        }
        if !dropped.isEmpty {
            warnings.append("subjectAltName entries of kinds \(Set(dropped).sorted().joined(separator: ", ")) have no factory knob")
        }
        if entries.isEmpty {
            warnings.append("an empty subjectAltName extension cannot be minted; the scenario has none")
        }
        return ["      sans: [\(entries.joined(separator: ", "))]"]
    }

    /// `CN=a\,b,O=Mimic` → [(CN, a,b), (O, Mimic)] (RFC 4514 escapes undone for `\,` `\+` `\\` and friends).
    static func attributes(of name: String) -> [(key: String, value: String)] {
        var result: [(String, String)] = []
        var current = ""
        var escaping = false
        var parts: [String] = []
        for character in name {
            if escaping {
                current.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == "," || character == "+" {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        for part in parts {
            guard let equals = part.firstIndex(of: "=") else { continue }
            result.append((String(part[..<equals]), String(part[part.index(after: equals)...])))
        }
        return result
    }

    /// An offset from `now` in the factory's units (days when at least two days away, else minutes), or an ISO
    /// 8601 instant.
    static func time(_ date: Date, from now: Date, absolute: Bool) -> String {
        if absolute { return CaptureYAML.quoted(iso8601(date)) }
        let seconds = Int(date.timeIntervalSince(now).rounded())
        let sign = seconds < 0 ? "-" : "+"
        let magnitude = abs(seconds)
        if magnitude >= 2 * 86_400 {
            // Whole days toward now, so that "expires in 29.6 days" stays under a 30-day threshold.
            return "\(sign)\(magnitude / 86_400)d"
        }
        if magnitude >= 3_600 { return "\(sign)\(magnitude / 3_600)h" }
        return "\(sign)\(max(1, magnitude / 60))m"
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
