import Foundation
import MimicCerts
import MimicNet
import MimicScenarios

/// A misbehaving (or well-behaved) mock server running for the length of a ``MockServer/with(_:_:chain:backend:_:)``
/// closure: where it listens, what a client must trust, and the verdict a correct client reaches.
public struct MockService: Sendable {
    /// The address it listens on (`127.0.0.1`).
    public let host: String
    /// Its port (ephemeral, chosen by the system).
    public let port: Int
    public let serviceProtocol: ServiceProtocol
    /// Its TLS mode: implicit TLS, STARTTLS (the in-band upgrade) or none.
    public let mode: TLSMode
    /// The name its certificate is for: send it as SNI and check the certificate against it.
    public let serverName: String
    /// The trust anchors a client must be given (the local CA of this process, and any anchors of the chain), DER.
    public let trustAnchorsDER: [[UInt8]]
    /// The verdict a correct client reaches against this server.
    public let expectedVerdict: ExpectedVerdict
    /// The scenario behind the mock, for tests that want every detail.
    public let scenario: Scenario

    /// The trust anchors as one PEM bundle (what `--cafile`, `-CAfile`, `SSL_CERT_FILE` take).
    public var trustAnchorsPEM: String {
        trustAnchorsDER.map { PEM.encode(der: $0, label: "CERTIFICATE") }.joined()
    }

    /// `smtp://127.0.0.1:40123`, with the scheme a URL of this protocol and mode uses (`smtps`, `imaps`, `ldaps`,
    /// `ftps`, `pop3s` for implicit TLS; `https`).
    public var url: String {
        let scheme: String
        switch (serviceProtocol, mode) {
        case (.https, _): scheme = "https"
        case (let other, .implicit): scheme = other.rawValue + "s"
        case (let other, _): scheme = other.rawValue
        }
        let address = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(address):\(port)"
    }

    /// Writes ``trustAnchorsPEM`` to `ca.pem` in a new private folder (0700, the file 0600) and returns the file,
    /// for clients that take a path. The caller removes the folder when done.
    public func writeTrustAnchors() throws -> URL {
        let folder = try PrivateDirectory.make(prefix: "mimic-testing-")
        let file = folder.appendingPathComponent("ca.pem")
        try PrivateDirectory.write(trustAnchorsPEM, to: file)
        return file
    }
}

/// What a correct client concludes about a mock: the findings (empty: nothing wrong) and the severity, and where
/// the two TLS libraries legitimately differ, each one's.
public struct ExpectedVerdict: Sendable, Hashable, CustomStringConvertible {
    public let findings: Set<FindingCode>
    public let severity: Severity
    /// Per library where it differs from ``findings``.
    public let perBackend: [TLSBackend: Set<FindingCode>]

    /// True when a correct client reports the server as healthy.
    public var isOK: Bool { severity == .ok }

    public var description: String {
        "\(severity) [\(findings.map(\.rawValue).sorted().joined(separator: ", "))]"
    }

    init(_ expectation: Expectation, backends: [TLSBackend]) {
        findings = Set(expectation.verdict)
        severity = expectation.severity
        var perBackend: [TLSBackend: Set<FindingCode>] = [:]
        for backend in backends {
            let expected = expectation.expected(for: backend).verdict
            if expected != findings { perBackend[backend] = expected }
        }
        self.perBackend = perBackend
    }
}
