import Foundation
import MimicCore

extension ChainFacts {
    /// The chain's problems in the shared vocabulary, phase `.verification`, source `facts`.
    ///
    /// - Parameters:
    ///   - warnDays: a path certificate expiring within this many days is a WARNING (`expiringSoon`).
    ///   - critDays: within this many days it is CRITICAL.
    public func findings(warnDays: Int = 30, critDays: Int = 7) -> [Finding] {
        var findings: [Finding] = []
        func add(
            _ code: FindingCode,
            _ evidence: String,
            severity: Severity? = nil,
            about: CertificateFacts? = nil,
            days: Int? = nil,
            count: Int? = nil
        ) {
            findings.append(
                Finding(
                    code,
                    severity: severity,
                    phase: .verification,
                    evidence: evidence,
                    source: "facts",
                    depth: about?.position,
                    days: days,
                    count: count
                )
            )
        }
        let onPath = pathCertificates

        // What Mimic could not read: the libraries judged these bytes, the facts below describe what was readable.
        if tooLong {
            add(
                .chainTooLong,
                "the server sent \(servedCount) certificates; the facts examine the first \(Self.maximumChainLength)",
                count: servedCount
            )
        }
        for certificate in certificates {
            guard let problems = certificate.malformed else { continue }
            add(
                .malformedCertificate,
                "\(certificate.label) could not be read in full: \(problems.joined(separator: "; "))",
                about: certificate
            )
        }
        let leafReadable = leaf.map { !$0.unreadable } ?? false

        // Validity, on every certificate a client relies on, the trust anchor included.
        for certificate in onPath {
            if certificate.isExpired(at: checkedAt) {
                add(
                    .expired,
                    "\(certificate.label) \(certificate.expiryPhrase(at: checkedAt)) "
                        + "(notAfter \(Self.iso(certificate.notAfter)))",
                    about: certificate,
                    days: certificate.daysLeft(at: checkedAt)
                )
            }
            if certificate.isNotYetValid(at: checkedAt) {
                add(
                    .notYetValid,
                    "\(certificate.label) is not valid before \(Self.iso(certificate.notBefore))",
                    about: certificate
                )
            }
        }
        let live = onPath.filter { !$0.isExpired(at: checkedAt) }
        if let soonest = live.min(by: { $0.notAfter < $1.notAfter }) {
            let days = soonest.daysLeft(at: checkedAt)
            if days <= warnDays {
                add(
                    .expiringSoon,
                    "\(soonest.label) \(soonest.expiryPhrase(at: checkedAt)) (notAfter \(Self.iso(soonest.notAfter)))",
                    severity: days <= critDays ? .critical : .warning,
                    about: soonest,
                    days: days
                )
            }
        }

        // Identity.
        if let leaf, let hostname, leafReadable {
            switch hostnameMatch {
            case .mismatch:
                let names =
                    leaf.hasSubjectAlternativeNames
                    ? "subjectAltName [\(leaf.subjectAlternativeNames.joined(separator: ", "))]"
                    : "no subjectAltName, CN [\(leaf.commonNames.joined(separator: ", "))]"
                add(.hostnameMismatch, "\(hostname) does not match \(leaf.label): \(names)", about: leaf)
            case .commonNameOnly(let cn):
                add(
                    .hostnameMismatch,
                    "\(hostname) matched only the subject CN; RFC 9525 clients reject it (CN=\(cn), no subjectAltName)",
                    severity: .warning,
                    about: leaf
                )
            case .matched, .notChecked:
                break
            }
        }

        // Trust.
        if !complete, let leaf, leafReadable {
            if leafSelfSigned {
                add(.selfSigned, "\(leaf.label) is self-signed and not among the trust anchors", about: leaf)
            } else if let top = path.last.flatMap({ certificates.indices.contains($0) ? certificates[$0] : nil }) {
                if top.selfSigned {
                    add(.untrustedRoot, "\(top.label) is self-signed and not among the trust anchors", about: top)
                } else if top.isCA {
                    add(
                        .untrustedRoot,
                        "issuer \(top.issuer) of CA \(top.label) was not served and is not a trust anchor",
                        about: top
                    )
                } else {
                    add(
                        .incompleteChain,
                        "issuer \(top.issuer) of \(top.label) was not served and is not a trust anchor "
                            + "(missing intermediate)",
                        about: top
                    )
                }
            }
        }

        // Order.
        if !chainOrder {
            add(
                .chainOrder,
                "served out of order: positions \(path.map(String.init).joined(separator: " → ")) form the path "
                    + "from the leaf up",
                about: nil
            )
        }
        for position in unrelated where certificates.indices.contains(position) && !certificates[position].unreadable {
            add(
                .chainOrder,
                "\(certificates[position].label) is on no path from the leaf (unrelated certificate served)",
                about: certificates[position]
            )
        }

        // Strength.
        for certificate in weakKeys {
            add(
                .weakKey,
                "\(certificate.label) has a \(certificate.keySize.map(String.init) ?? "?")-bit \(certificate.keyType) key",
                about: certificate
            )
        }
        for certificate in weakSignatures {
            add(
                .weakSignature,
                "\(certificate.label) is signed with \(certificate.signatureAlgorithm)",
                about: certificate
            )
        }

        // Basic constraints: issuers in the path that may not issue, and path lengths exceeded. The anchor's cA flag
        // is the trust store's business; its pathLenConstraint is still enforced by OpenSSL and GnuTLS.
        for (index, certificate) in onPath.enumerated() where index > 0 {
            if !certificate.isCA, certificate.position != nil,
                !(anchor != nil && anchorCertificate == nil && index == path.count - 1)
            {
                add(
                    .notACA,
                    "\(certificate.label) issued \(onPath[index - 1].label) but is not a CA",
                    about: certificate
                )
            }
            if let limit = certificate.pathLength {
                let below = onPath[1..<index].filter { !$0.selfIssued }.count
                if below > limit {
                    add(
                        .pathLength,
                        "\(certificate.label) allows \(limit) intermediate(s) below it; the path has \(below)",
                        about: certificate
                    )
                }
            }
        }

        // Purpose: the leaf must be fit for a TLS server.
        if let leaf {
            if let purposes = leaf.extendedKeyUsage, !purposes.contains("serverAuth"),
                !purposes.contains("anyExtendedKeyUsage")
            {
                add(
                    .wrongPurpose,
                    "\(leaf.label) extendedKeyUsage [\(purposes.joined(separator: ", "))] lacks serverAuth",
                    about: leaf
                )
            }
            if let usage = leaf.keyUsage, !usage.contains("digitalSignature"), !usage.contains("keyEncipherment") {
                add(
                    .wrongPurpose,
                    "\(leaf.label) keyUsage [\(usage.joined(separator: ", "))] lacks digitalSignature and keyEncipherment",
                    about: leaf
                )
            }
        }
        return findings
    }

    private static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
