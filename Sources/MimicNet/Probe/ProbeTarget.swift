import MimicCerts
import MimicCore

/// One service to probe: where it is, what it speaks, and how it reaches TLS.
public struct ProbeTarget: Sendable, Hashable, Codable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var serviceProtocol: ServiceProtocol
    public var mode: TLSMode
    /// The name sent as SNI and checked against the certificate; defaults to `host`.
    public var serverName: String?

    public init(host: String, port: Int, serviceProtocol: ServiceProtocol, mode: TLSMode, serverName: String? = nil) {
        self.host = host
        self.port = port
        self.serviceProtocol = serviceProtocol
        self.mode = mode
        self.serverName = serverName
    }

    /// The name checked against the certificate.
    public var verifyName: String { serverName ?? host }

    /// SNI carries DNS names only (RFC 6066 §3): an IP literal is checked but never sent.
    public var sniName: String? { IPAddress.parse(verifyName) == nil ? verifyName : nil }

    public var description: String {
        let shownHost = host.contains(":" as Character) ? "[\(host)]" : host
        return "\(serviceProtocol)://\(shownHost):\(port) (\(mode))"
    }
}
