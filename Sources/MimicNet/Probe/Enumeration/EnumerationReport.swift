import Foundation
import MimicCore
import MimicTLS

/// What one backend's offers found the server to accept.
public struct EnumerationReport: Sendable, Codable {
    /// One offered suite and the answer.
    public struct Suite: Sendable, Hashable, Codable {
        /// `0x002F`.
        public var code: String
        /// The IANA name as the handshake reported it when accepted, else the library's name for it.
        public var name: String
        public var accepted: Bool
        /// Why it is broken, when it is (`3DES (Sweet32)`); nil otherwise.
        public var weakness: String?
        public var forwardSecret: Bool
    }

    /// One version and what the server accepts at it.
    public struct VersionResult: Sendable, Hashable, Codable {
        public var version: MimicTLSVersion
        public var accepted: Bool
        /// Every suite the backend could offer at this version, in the library's order (tried only when the
        /// version is accepted).
        public var suites: [Suite]
        public var acceptedSuites: [Suite] { suites.filter(\.accepted) }
    }

    public var backend: TLSBackend
    public var libraryVersion: String
    public var versions: [VersionResult]
    /// Groups tried (`TLSGroups.known`) and those the server accepted, at the highest version it accepts.
    public var groupsTried: [String]
    public var groupsAccepted: [String]
    /// True when the server picked the same suite whichever order two were offered in; nil when it could not be
    /// told (fewer than two suites accepted, or the enumeration stopped first).
    public var serverOrder: Bool?
    /// Connections this backend made.
    public var connections: Int
    /// Offers this library cannot make (suites it does not have): not the server's doing.
    public var notOfferable: [String]
    public var findings: [Finding]

    public var acceptedVersions: [MimicTLSVersion] { versions.filter(\.accepted).map(\.version) }
    public var acceptedSuites: [Suite] { versions.flatMap(\.acceptedSuites) }
}

/// The enumeration of one target through every backend.
public struct EnumerationResult: Sendable, Codable {
    public var reports: [EnumerationReport]
    /// False when the server stopped answering (refused, closed, rate-limited) before every offer was made: the
    /// reports hold the results so far and `notes` says why.
    public var complete: Bool
    /// Where the libraries disagree about what the server accepts, and suites only one of them can offer.
    public var disagreements: [String]
    public var notes: [String]
    public var connections: Int
    public var concurrency: Int
    public var milliseconds: Double

    public func report(for backend: TLSBackend) -> EnumerationReport? { reports.first { $0.backend == backend } }
}
