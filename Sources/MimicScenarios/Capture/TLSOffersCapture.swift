import MimicCore
import MimicNet
import MimicTLS

/// The `tls:` knobs that make a mock accept what an enumeration found the server to accept: its versions, its
/// TLS 1.2-and-older suites (an OpenSSL mock's cipher list, or a GnuTLS mock's priority string when a suite only
/// GnuTLS still has — 3DES, RC4 — was accepted) and whether it enforces its own order.
struct TLSOffersCapture {
    var lines: [String] = []
    var notes: [String] = []
    /// `gnutls` when only a GnuTLS mock can serve what was accepted.
    var serverBackend: String?

    init(_ enumerations: [EnumerationReport]) {
        let versions = Set(enumerations.flatMap(\.acceptedVersions)).sorted()
        if !versions.isEmpty {
            lines.append("versions: [\(versions.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))]")
        }
        let serverOrder = enumerations.contains { $0.serverOrder == true }
        if serverOrder { lines.append("server_order: true") }

        // Suites below TLS 1.3, by code point, as any backend saw them accepted.
        var accepted: [UInt16: String] = [:]
        for report in enumerations {
            for version in report.versions where version.version < .tls1_3 {
                for suite in version.acceptedSuites {
                    if let code = UInt16(suite.code.dropFirst(2), radix: 16) { accepted[code] = suite.name }
                }
            }
        }
        guard !accepted.isEmpty else { return }
        let openssl = Dictionary(
            TLSBackends.offerableSuites(.openssl).map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        let gnutls = Dictionary(
            TLSBackends.offerableSuites(.gnutls).map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
        let onlyGnuTLS = accepted.keys.filter { openssl[$0] == nil && gnutls[$0] != nil }
        if onlyGnuTLS.isEmpty {
            let names = accepted.keys.sorted().compactMap { openssl[$0]?.offer.first }
            let weak = accepted.values.contains { TLSSuiteTraits.weakness($0) != nil }
            let list = names.joined(separator: ":") + (weak ? ":@SECLEVEL=0" : "")
            lines.append("ciphers: \(CaptureYAML.quoted(list))")
            notes.append("the TLS 1.2-and-older suites the server accepted are the mock's cipher list, exactly")
        } else {
            // NORMAL and the keywords of every accepted suite GnuTLS's NORMAL leaves out.
            serverBackend = "gnutls"
            var keywords: [String] = []
            for code in accepted.keys.sorted() {
                guard let candidate = gnutls[code], TLSSuiteTraits.weakness(candidate.name) != nil
                    || openssl[code] == nil
                else { continue }
                for keyword in candidate.offer where !keywords.contains(keyword) { keywords.append(keyword) }
            }
            var priority = "NORMAL:-VERS-ALL:" + versions.map { "+VERS-TLS\($0.rawValue)" }.joined(separator: ":")
            priority += keywords.map { ":+\($0)" }.joined()
            if serverOrder { priority += ":%SERVER_PRECEDENCE" }
            lines.append("priority: \(CaptureYAML.quoted(priority))")
            notes.append("suites only GnuTLS still has were accepted (\(onlyGnuTLS.compactMap { accepted[$0] }.sorted().joined(separator: ", "))): "
                + "the mock serves with GnuTLS, NORMAL plus those suites")
        }
    }
}
