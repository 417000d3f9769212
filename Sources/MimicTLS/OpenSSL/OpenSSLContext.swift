private import COpenSSL
import MimicCore

// Placeholder until the OpenSSL engine lands.
final class OpenSSLContext: TLSContext, @unchecked Sendable {
    static var libraryVersion: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
    let backend = TLSBackend.openssl
    let configuration: TLSConfiguration
    init(configuration: TLSConfiguration) throws(TLSFailure) {
        self.configuration = configuration
        throw TLSFailure(reason: "OpenSSL engine not built yet")
    }
    func makeEngine() throws(TLSFailure) -> any TLSEngine { throw TLSFailure(reason: "not built yet") }
}

enum OpenSSLVerifier: TLSChainVerifier {
    static let backend = TLSBackend.openssl
    static func verify(chain: [[UInt8]], anchors: [[UInt8]], hostname: String?, at time: Double?) -> VerificationResult {
        VerificationResult(backend: .openssl, accepted: false, rawErrors: [], findings: [], hostname: hostname)
    }
}
