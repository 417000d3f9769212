import Foundation
import MimicCore
import MimicNet
import Synchronization

/// What a client did that it should not have, read from what the mock saw of it (`ClientObservation`).
///
/// The mock watches any TLS client, not only monitors: an MTA's test send, a mail library's script, an LDAP
/// client. These are the client's findings, beside the monitor's grade.
public enum ClientFinding: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// The upgrade was refused or not offered, and the client went on in plaintext.
    case plaintextFallback
    /// Credentials (AUTH, LOGIN, USER/PASS, an LDAP simple bind) or mail (MAIL FROM, RCPT TO, DATA) before TLS.
    case credentialsInClear
    /// A ClientHello without SNI, for a server that has a name.
    case noSNI
    /// The handshake completed on a certificate a careful client rejects, and the client went on talking.
    case acceptedBadCertificate
    /// The client offered TLS 1.0 or 1.1 (or older).
    case legacyOffered

    public var description: String { rawValue }

    /// The findings of every connection a client made to one scenario's mock.
    ///
    /// - Parameters:
    ///   - servername: the name the client was given; an IP address needs no SNI.
    ///   - badCertificate: the scenario's certificate is one a careful client rejects (a critical certificate
    ///     finding in the probe's verdict).
    public static func judge(
        _ observations: [ClientObservation], servername: String, badCertificate: Bool
    ) -> [ClientFinding] {
        var found: Set<ClientFinding> = []
        let named = IPAddressText.isLiteral(servername) == false
        for observation in observations {
            let dialog = observation.dialog
            if dialog.continuedInPlaintext { found.insert(.plaintextFallback) }
            if dialog.credentialsInClear || dialog.mailInClear { found.insert(.credentialsInClear) }
            if observation.clientHelloSeen, observation.clientHello != nil, observation.serverName == nil, named {
                found.insert(.noSNI)
            }
            let goodbyes: Set<String> = ["QUIT", "LOGOUT", "UNBIND"]
            if badCertificate, observation.handshakeCompleted,
                dialog.commandsAfterTLS.contains(where: { !goodbyes.contains($0.uppercased()) })
            {
                found.insert(.acceptedBadCertificate)
            }
            if observation.offeredVersions.contains(where: { ["1.0", "1.1", "SSLv3", "3.0"].contains($0) }) {
                found.insert(.legacyOffered)
            }
        }
        return allCases.filter { found.contains($0) }
    }
}

enum IPAddressText {
    static func isLiteral(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return true }
        return text.contains(":")
    }
}

/// Every connection each scenario's mock saw, by scenario id; optionally also written as JSON lines
/// (`mimic serve --log FILE`), one object per connection with the scenario's id.
public final class ObservationLog: Sendable {
    private let state = Mutex<(pending: [String: [ClientObservation]], file: FileHandle?)>(([:], nil))

    /// Observations for a scenario are kept until taken; at most this many per scenario (a flood of connections
    /// must not grow without bound).
    public static let limitPerScenario = 1000

    public init(file: FileHandle? = nil) {
        state.withLock { $0.file = file }
    }

    public func record(_ id: String, _ observation: ClientObservation) {
        let line: Data? = state.withLock { $0.file } == nil ? nil : Self.line(id, observation)
        state.withLock { state in
            if state.pending[id, default: []].count < Self.limitPerScenario {
                state.pending[id, default: []].append(observation)
            }
            if let line, let file = state.file { try? file.write(contentsOf: line) }
        }
    }

    /// What has been recorded for a scenario since the last take.
    public func take(_ id: String) -> [ClientObservation] {
        state.withLock { $0.pending.removeValue(forKey: id) ?? [] }
    }

    static func line(_ id: String, _ observation: ClientObservation) -> Data {
        struct Line: Encodable {
            var scenario: String
            var connection: ClientObservation
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        var data = (try? encoder.encode(Line(scenario: id, connection: observation))) ?? Data("{}".utf8)
        data.append(0x0A)
        return data
    }
}
