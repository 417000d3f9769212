import MimicCore

/// One misbehaving mock server paired with the verdict each probe backend must reach.
///
/// A scenario file (`scenarios/**/*.yaml`) decodes into one `Scenario`, or into several when it has a
/// `matrix`. Everything a runner needs is here as typed values; nothing is left as loose YAML except an
/// inline certificate chain, which the certificate factory decodes itself (see `InlineChain`).
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
    public var dialog: DialogSpec
    /// Network faults, applied in order.
    public var network: [FaultSpec]
    public var probe: ProbeSpec
    public var expect: Expectation
    /// The matrix cell this scenario was expanded from; nil when the file has no matrix.
    public var matrixCell: MatrixCell?
    /// Where the scenario was defined (the file and the line of its top-level mapping).
    public var source: SourceLocation

    public init(
        id: String,
        summary: String,
        tags: [String] = [],
        fieldFailure: String? = nil,
        server: ServerSpec,
        pki: PKISpec? = nil,
        tls: TLSSpec = TLSSpec(),
        dialog: DialogSpec = DialogSpec(),
        network: [FaultSpec] = [],
        probe: ProbeSpec = ProbeSpec(),
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

    /// The top-level keys of a scenario file, in the order the README documents them.
    public static let topLevelKeys: [String] = [
        "id", "summary", "tags", "field_failure", "server", "pki", "tls", "dialog", "network", "probe", "expect",
        "matrix",
    ]
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
