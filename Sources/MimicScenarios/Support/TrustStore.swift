import Foundation
import MimicCerts

/// The bundled trust store: Mozilla's roots as Debian's ca-certificates ships them, copied into the repository
/// with their date (`make trust-store` refreshes it), so that probing real servers never consults the OS store.
public enum TrustStore {
    public static func defaultPath() -> String {
        CertificateFactory.defaultHome().appendingPathComponent("trust/mozilla-roots.pem").path
    }
}
