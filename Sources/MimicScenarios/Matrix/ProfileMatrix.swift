import Foundation
import MimicCerts
import MimicCore
import MimicTLS
import MimicVerdict

/// Every certificate profile served by one backend and judged by the other, in memory, in both directions.
///
/// This is the foundation's demonstration: for each profile the server engine serves the minted chain exactly as
/// the profile says, the client engine of the other library hand-shakes and verifies, and the findings are
/// compared with what the profile expects of that client library.
public struct ProfileMatrix: Sendable {
    /// One direction of one profile.
    public struct Cell: Sendable, Codable {
        public var client: TLSBackend
        public var server: TLSBackend
        public var handshake: HandshakeReport
        /// The client backend's verdict: its own verification plus what only the chain facts say.
        public var findings: [Finding]
        public var expected: [FindingCode]

        /// The codes found, in first-seen order; a handshake that did not complete is its own finding.
        public var found: [FindingCode] {
            handshake.completed ? findings.codes : [.handshakeFailure]
        }

        public var matches: Bool { Set(found) == Set(expected) }

        /// What the client library said by itself, and what only the chain facts added.
        var describedFindings: String {
            guard handshake.completed else { return FindingCode.handshakeFailure.rawValue }
            let library = handshake.verification?.findings.codes ?? []
            let facts = found.filter { !library.contains($0) }
            var text = ProfileMatrix.list(library)
            if !facts.isEmpty { text += " +facts " + facts.map(\.rawValue).joined(separator: ",") }
            return text
        }
    }

    public struct Row: Sendable, Codable {
        public var profile: String
        public var summary: String
        public var hostname: String
        /// The certificates the server served, by their names in the profile, in order.
        public var servedNames: [String]
        public var cells: [Cell]
        public var divergence: String?
        public var matches: Bool { cells.allSatisfy(\.matches) }
    }

    public var rows: [Row]
    public var matches: Bool { rows.allSatisfy(\.matches) }

    /// The two cross-library directions: OpenSSL client ↔ GnuTLS server, GnuTLS client ↔ OpenSSL server.
    public static let crossDirections: [(client: TLSBackend, server: TLSBackend)] = [
        (.openssl, .gnutls), (.gnutls, .openssl),
    ]

    public init(rows: [Row]) {
        self.rows = rows
    }

    /// Mints every profile (or the named ones) and hand-shakes each in both directions.
    public static func run(
        factory: CertificateFactory,
        profiles names: [String]? = nil,
        directions: [(client: TLSBackend, server: TLSBackend)] = crossDirections
    ) throws -> ProfileMatrix {
        let profiles = try ChainProfile.all(in: factory.profilesDirectory)
            .filter { names == nil || names!.contains($0.name) }
        var rows: [Row] = []
        for profile in profiles {
            let minted = try factory.mint(profile: profile.name)
            var cells: [Cell] = []
            for direction in directions {
                let report = try handshake(minted, client: direction.client, server: direction.server)
                let verdict = CertificateVerdict(
                    verification: report.verification,
                    chain: report.peerChain,
                    anchors: minted.anchors,
                    hostname: minted.hostname
                )
                cells.append(
                    Cell(
                        client: direction.client,
                        server: direction.server,
                        handshake: report,
                        findings: verdict.findings,
                        expected: profile.expectedFindings(for: direction.client)
                    )
                )
            }
            rows.append(
                Row(
                    profile: profile.name,
                    summary: profile.summary,
                    hostname: profile.hostname,
                    servedNames: minted.servedNames,
                    cells: cells,
                    divergence: profile.expectation.divergence
                )
            )
        }
        return ProfileMatrix(rows: rows)
    }

    /// One in-memory handshake of a minted chain: the server serves it, the client verifies it.
    public static func handshake(
        _ minted: MintedChain,
        client: TLSBackend,
        server: TLSBackend,
        minimumVersion: MimicTLSVersion? = nil,
        maximumVersion: MimicTLSVersion? = nil,
        chunk: Int = .max
    ) throws(TLSFailure) -> HandshakeReport {
        let serverContext = try TLSBackends.makeContext(
            server,
            configuration: MimicTLSConfiguration(
                role: .server,
                minimumVersion: minimumVersion,
                maximumVersion: maximumVersion,
                certificateChain: minted.served,
                privateKey: .pem(minted.leafKeyPEM)
            )
        )
        // SNI carries DNS names only (RFC 6066 §3); an IP literal is checked but not sent.
        let isIPLiteral = IPAddress.parse(minted.hostname) != nil
        let clientContext = try TLSBackends.makeContext(
            client,
            configuration: MimicTLSConfiguration(
                role: .client,
                minimumVersion: minimumVersion,
                maximumVersion: maximumVersion,
                serverName: isIPLiteral ? nil : minted.hostname,
                trustAnchors: minted.anchors,
                verifyHostname: minted.hostname
            )
        )
        let clientEngine = try clientContext.makeEngine()
        let serverEngine = try serverContext.makeEngine()
        _ = TLSPump(chunk: chunk).handshake(client: clientEngine, server: serverEngine)
        return clientEngine.report
    }
}

extension ProfileMatrix {
    public func render(_ format: ReportFormat) -> String { format.render(rows, text: renderText) }

    /// A row per profile, a column per client and server library pairing, then the known divergences.
    func renderText() -> String {
        var table = TextTable(
            header: ["profile", "expected (openssl / gnutls)"]
                + (rows.first?.cells ?? []).map { "\($0.client.displayName) client ← \($0.server.displayName) server" }
                + [""]
        )
        for row in rows {
            let expected = row.cells.map { Self.list($0.expected) }
            let expectedText = Set(expected).count == 1 ? expected[0] : expected.joined(separator: " / ")
            table.add(
                [row.profile, expectedText]
                    + row.cells.map(\.describedFindings)
                    + [row.matches ? "ok" : "MISMATCH"]
            )
        }
        var out = table.render()
        out += "\n\n'accept' is the client library's own verdict; '+facts' marks what only Mimic's chain facts add."
        let divergences = rows.filter { $0.divergence != nil }
        if !divergences.isEmpty {
            out += "\n\nKnown divergences between the libraries (certs/DIVERGENCES.md):"
            for row in divergences { out += "\n  \(row.profile): \(row.divergence!)" }
        }
        let failed = rows.filter { !$0.matches }.count
        out += "\n\n\(rows.count - failed) of \(rows.count) profiles as expected through both libraries"
        return out
    }

    static func list(_ codes: [FindingCode]) -> String {
        codes.isEmpty ? "accept" : codes.map(\.rawValue).joined(separator: ",")
    }
}
