import MimicCore
import MimicDialogs

/// One misbehaving mock server paired with the verdict each probe backend must reach.
///
/// A scenario file (`scenarios/**/*.yaml`) decodes into one `Scenario`, or into several when it has a
/// `matrix`. Everything a runner needs is here as typed values, the dialog and the faults as the configurations
/// the mock runs.
public struct Scenario: Sendable, Hashable, Identifiable {
    /// Unique across the library: `smtp::starttls::expired-leaf`.
    public var id: String
    /// One line for reports.
    public var summary: String
    public var tags: [String]
    /// A reference into the field-failure catalogue (`FIELD-FAILURES.md`), e.g. `field#12` or `catalogue#36`.
    public var fieldFailure: String?
    public var server: ServerSpec
    /// The certificates the mock serves; nil means the runner's default chain (valid for `probe.servername`).
    public var pki: PKISpec?
    public var tls: TLSSpec
    /// The mock's dialog knobs, decoded straight into the dialog's own configuration; its `mode` and `hostname` are
    /// the server's and the chain's, set when the scenario is prepared.
    public var dialog: ServerDialogConfiguration
    /// Network faults, applied in order.
    public var network: [NetworkFault]
    public var probe: ProbeSpec
    public var expect: Expectation
    /// The matrix cell this scenario was expanded from; nil when the file has no matrix.
    public var matrixCell: MatrixCell?
    /// Where the scenario was defined (the file and the line of its top-level mapping).
    public var source: SourceLocation
    /// Where each of its values was written, for problems found after loading.
    public var locations = SourceMap()

    public init(
        id: String,
        summary: String,
        tags: [String] = [],
        fieldFailure: String? = nil,
        server: ServerSpec,
        pki: PKISpec? = nil,
        tls: TLSSpec = TLSSpec(),
        dialog: ServerDialogConfiguration = ServerDialogConfiguration(),
        network: [NetworkFault] = [],
        probe: ProbeSpec = ProbeSpec(backends: TLSBackend.allCases),
        expect: Expectation,
        matrixCell: MatrixCell? = nil,
        source: SourceLocation
    ) {
        self.id = id
        self.summary = summary
        self.tags = tags
        self.fieldFailure = fieldFailure
        self.server = server
        self.pki = pki
        self.tls = tls
        self.dialog = dialog
        self.network = network
        self.probe = probe
        self.expect = expect
        self.matrixCell = matrixCell
        self.source = source
    }

    /// Where the value at `path` (`pki.serve`, `dialog.ftp.data_channel`) was written, or its nearest enclosing
    /// value; the scenario's own position when none of it was.
    public func location(of path: String) -> SourceLocation { locations.location(of: path) ?? source }

    /// The top-level keys of a scenario file, in the order the README documents them.
    public static var topLevelKeys: [String] { ScenarioKeys.Top.section.names }
}

/// The values one matrix cell substituted: a file with `matrix: { protocol: [smtp, imap] }` expands to
/// one scenario per protocol.
public struct MatrixCell: Sendable, Hashable {
    public var serviceProtocol: ServiceProtocol?
    public var mode: TLSMode?

    public init(serviceProtocol: ServiceProtocol? = nil, mode: TLSMode? = nil) {
        self.serviceProtocol = serviceProtocol
        self.mode = mode
    }
}
