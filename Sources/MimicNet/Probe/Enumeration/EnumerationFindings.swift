import MimicCore
import MimicTLS

/// Turns what one backend's offers found into findings, and compares the backends.
public enum EnumerationFindings {
    /// `legacyVersion` (TLS 1.0/1.1 accepted), `weakCipher` (a broken suite accepted), `noForwardSecrecy` (every
    /// accepted suite has a static key exchange, and no TLS 1.3).
    public static func findings(_ report: EnumerationReport) -> [Finding] {
        var findings: [Finding] = []
        let source = report.backend.rawValue
        let legacy = report.acceptedVersions.filter(\.isLegacy)
        if !legacy.isEmpty {
            findings.append(
                Finding(
                    .legacyVersion, phase: .enumeration,
                    evidence: "accepts \(legacy.map(\.displayName).joined(separator: ", ")) (RFC 8996)", source: source)
            )
        }
        var weak: [String] = []
        for version in report.versions {
            for suite in version.acceptedSuites {
                if let weakness = suite.weakness, !weak.contains(where: { $0.hasPrefix(suite.name + " ") }) {
                    weak.append("\(suite.name) (\(weakness))")
                }
            }
        }
        if !weak.isEmpty {
            findings.append(
                Finding(
                    .weakCipher, phase: .enumeration, evidence: "accepts " + weak.joined(separator: ", "),
                    source: source))
        }
        let accepted = report.acceptedSuites
        if !accepted.isEmpty, !report.acceptedVersions.contains(.tls1_3), accepted.allSatisfy({ !$0.forwardSecret }) {
            let names = Array(Set(accepted.map(\.name))).sorted()
            findings.append(
                Finding(
                    .noForwardSecrecy, phase: .enumeration,
                    evidence: "accepts only static key exchange: " + names.prefix(6).joined(separator: ", ")
                        + (names.count > 6 ? ", …" : ""),
                    source: source))
        }
        return findings
    }

    /// Where the backends' answers differ: versions one accepts and the other does not, suites both can offer that
    /// only one saw accepted (a disagreement about the server), and accepted suites only one library can offer
    /// (not the server's doing: said so, never a finding).
    public static func disagreements(_ reports: [EnumerationReport]) -> [String] {
        guard reports.count == 2 else { return [] }
        let (a, b) = (reports[0], reports[1])
        var out: [String] = []
        for version in MimicTLSVersion.allCases {
            let inA = a.acceptedVersions.contains(version)
            let inB = b.acceptedVersions.contains(version)
            let triedA = a.versions.contains { $0.version == version }
            let triedB = b.versions.contains { $0.version == version }
            if triedA && triedB && inA != inB {
                let (yes, no) = inA ? (a, b) : (b, a)
                out.append(
                    "\(version.displayName): accepted through \(yes.backend.displayName), refused through \(no.backend.displayName)"
                )
            }
        }
        for version in MimicTLSVersion.allCases {
            guard let va = a.versions.first(where: { $0.version == version }),
                let vb = b.versions.first(where: { $0.version == version }), va.accepted, vb.accepted
            else { continue }
            let offeredA = Dictionary(va.suites.map { ($0.code, $0) }, uniquingKeysWith: { x, _ in x })
            let offeredB = Dictionary(vb.suites.map { ($0.code, $0) }, uniquingKeysWith: { x, _ in x })
            for code in Set(offeredA.keys).union(offeredB.keys).sorted() {
                let sa = offeredA[code]
                let sb = offeredB[code]
                switch (sa, sb) {
                case (let x?, let y?) where x.accepted != y.accepted:
                    let (yes, no) = x.accepted ? (a, b) : (b, a)
                    out.append(
                        "\(version.displayName) \((x.accepted ? x : y).name): accepted through \(yes.backend.displayName), "
                            + "refused through \(no.backend.displayName)")
                case (let x?, nil) where x.accepted:
                    out.append(
                        "\(version.displayName) \(x.name): accepted; only \(a.backend.displayName) can offer it "
                            + "(\(b.backend.displayName) lacks it: not a server finding)")
                case (nil, let y?) where y.accepted:
                    out.append(
                        "\(version.displayName) \(y.name): accepted; only \(b.backend.displayName) can offer it "
                            + "(\(a.backend.displayName) lacks it: not a server finding)")
                default:
                    break
                }
            }
        }
        return out
    }
}
