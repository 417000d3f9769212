import Foundation

/// A chain the factory minted: every certificate by name, what the server sends, what a client trusts, and the
/// key the server pairs with its first certificate.
public struct MintedChain: Sendable, Hashable {
    /// The profile's name, or the name given to ``CertificateFactory/mint(_:name:hostname:)``.
    public let name: String
    /// The name a client checks the certificate against.
    public let hostname: String
    /// DER of every certificate of the spec, by spec name (the local CA is in ``anchors``, not here).
    public let certificates: [String: [UInt8]]
    /// DER in the spec's `serve` order: what the server sends.
    public let served: [[UInt8]]
    /// The spec names of ``served``, in the same order.
    public let servedNames: [String]
    /// DER of the trust anchors a client should use: the local CA, then any `trust:` certificates.
    public let anchors: [[UInt8]]
    /// PKCS#8 PEM of the first served certificate's key.
    public let leafKeyPEM: String

    /// The served chain as PEM, in serve order.
    public var chainPEM: String { served.map { PEM.encode(der: $0, label: "CERTIFICATE") }.joined() }

    /// The anchors as PEM.
    public var anchorsPEM: String { anchors.map { PEM.encode(der: $0, label: "CERTIFICATE") }.joined() }

    /// Writes `chain.pem` (served order), `leaf.key` (mode 0600), `ca.pem` (anchors) and one `NAME.pem` per
    /// certificate into `dir`, creating it if needed. Each file is replaced atomically.
    public func write(to dir: URL) throws {
        try FactoryFiles.makeDirectory(dir, mode: 0o755)
        try FactoryFiles.writeAtomically(chainPEM, to: dir.appendingPathComponent("chain.pem"), mode: 0o644)
        try FactoryFiles.writeAtomically(leafKeyPEM, to: dir.appendingPathComponent("leaf.key"), mode: 0o600)
        try FactoryFiles.writeAtomically(anchorsPEM, to: dir.appendingPathComponent("ca.pem"), mode: 0o644)
        for (certificateName, der) in certificates.sorted(by: { $0.key < $1.key }) {
            try FactoryFiles.writeAtomically(
                PEM.encode(der: der, label: "CERTIFICATE"),
                to: dir.appendingPathComponent("\(certificateName).pem"),
                mode: 0o644
            )
        }
    }
}
