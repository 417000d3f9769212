/// A TLS protocol version. Legacy versions are first-class: a probe must reach a legacy server to report it.
public enum MimicTLSVersion: String, Sendable, Hashable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    case tls1_0 = "1.0"
    case tls1_1 = "1.1"
    case tls1_2 = "1.2"
    case tls1_3 = "1.3"

    /// The wire value of the version (0x0301 … 0x0304).
    public var wireValue: UInt16 {
        switch self {
        case .tls1_0: 0x0301
        case .tls1_1: 0x0302
        case .tls1_2: 0x0303
        case .tls1_3: 0x0304
        }
    }

    /// The name as libraries print it: `TLSv1.2`.
    public var displayName: String { "TLSv\(rawValue)" }

    /// True for versions deprecated by RFC 8996.
    public var isLegacy: Bool { self < .tls1_2 }

    public init?(wireValue: UInt16) {
        guard let version = MimicTLSVersion.allCases.first(where: { $0.wireValue == wireValue }) else { return nil }
        self = version
    }

    /// Accepts `1.2`, `tls1.2`, `TLSv1.2`, `tls1_2`.
    public init?(parsing text: String) {
        var t = text.lowercased()
        for prefix in ["tlsv", "tls"] where t.hasPrefix(prefix) {
            t.removeFirst(prefix.count)
            break
        }
        t = String(t.map { $0 == "_" ? "." : $0 })
        guard let version = MimicTLSVersion(rawValue: t) else { return nil }
        self = version
    }

    public static func < (lhs: MimicTLSVersion, rhs: MimicTLSVersion) -> Bool { lhs.wireValue < rhs.wireValue }

    public var description: String { displayName }
}
