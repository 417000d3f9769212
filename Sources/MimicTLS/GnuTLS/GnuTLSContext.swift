private import CGnuTLS
import MimicCore

// Placeholder until the GnuTLS engine lands.
final class GnuTLSContext: TLSContext, @unchecked Sendable {
    static var libraryVersion: String { "GnuTLS " + String(cString: gnutls_check_version(nil)) }
    let backend = TLSBackend.gnutls
    let configuration: TLSConfiguration
    init(configuration: TLSConfiguration) throws(TLSFailure) {
        self.configuration = configuration
        throw TLSFailure(reason: "GnuTLS engine not built yet")
    }
    func makeEngine() throws(TLSFailure) -> any TLSEngine { throw TLSFailure(reason: "not built yet") }
}

enum GnuTLSVerifier: TLSChainVerifier {
    static let backend = TLSBackend.gnutls
    static func verify(chain: [[UInt8]], anchors: [[UInt8]], hostname: String?, at time: Double?) -> VerificationResult {
        VerificationResult(backend: .gnutls, accepted: false, rawErrors: [], findings: [], hostname: hostname)
    }
}
