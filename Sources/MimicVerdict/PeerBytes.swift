/// What the first bytes from a peer look like, so that a mode mix-up or a missing upgrade is named for what it is
/// rather than reported as a garbled handshake.
public enum PeerBytes: Sendable, Hashable {
    /// A TLS record header: content type 20 to 24, major version 3.
    case tlsRecord
    /// A printable line, as protocol greetings and replies are.
    case text(line: String)
    /// Anything else (a BER-encoded LDAP message, say), shown as hex.
    case binary(hex: String)
    case nothing

    public static func classify<Bytes: Collection>(_ bytes: Bytes) -> PeerBytes where Bytes.Element == UInt8 {
        let head = Array(bytes.prefix(256))
        guard let first = head.first else { return .nothing }
        if (20...24).contains(first), head.count < 2 || head[1] == 3 { return .tlsRecord }
        let line = head.prefix { $0 != 0x0D && $0 != 0x0A }
        if !line.isEmpty, line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            return .text(line: String(decoding: line, as: UTF8.self))
        }
        let digits = Array("0123456789abcdef")
        let hex = head.prefix(16).map { String([digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]]) }
        return .binary(hex: hex.joined(separator: " ") + (head.count > 16 ? " …" : ""))
    }

    /// True when `bytes` hold a plaintext line followed by the start of a TLS record: a server that sent extra
    /// plaintext after its go-ahead and then hand-shook anyway.
    public static func isTextThenTLS(_ bytes: [UInt8]) -> Bool {
        guard case .text = classify(bytes), let newline = bytes.firstIndex(of: 0x0A) else { return false }
        var rest = bytes[(newline + 1)...]
        // Skip any further plaintext lines.
        while case .text = classify(rest), let next = rest.firstIndex(of: 0x0A) { rest = rest[(next + 1)...] }
        return classify(rest) == .tlsRecord
    }

    /// A text line or binary: anything but TLS (or silence).
    public var isPlaintext: Bool {
        switch self {
        case .text, .binary: true
        case .tlsRecord, .nothing: false
        }
    }

    /// Evidence for a report.
    public var evidence: String {
        switch self {
        case .tlsRecord: "a TLS record"
        case .text(let line): line
        case .binary(let hex): "bytes \(hex)"
        case .nothing: "nothing"
        }
    }
}
