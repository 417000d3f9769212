import MimicCerts
import MimicScenarios

/// The shipped scenario library, compiled in: every id, by protocol and mode, for parameterised tests.
///
/// ```swift
/// @Test(arguments: MimicLibrary.ids(.smtp))
/// func monitorJudgesEverySMTPServer(id: String) async throws {
///     try await MockServer.with(scenario: id) { mock in … }
/// }
/// ```
public enum MimicLibrary {
    /// Every scenario of the library, loaded once.
    public static let scenarios: [Scenario] = {
        let loader = ScenarioLoader(knownProfiles: Set(ChainProfile.builtInNames))
        var all: [Scenario] = []
        for (path, text) in BuiltInScenarios.texts.sorted(by: { $0.key < $1.key }) {
            if let loaded = try? loader.load(yaml: text, file: "scenarios/\(path)") { all += loaded }
        }
        return all.sorted { $0.id < $1.id }
    }()

    private static let byID: [String: Scenario] = Dictionary(
        scenarios.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })

    /// The scenario with this id.
    public static func scenario(id: String) -> Scenario? { byID[id] }

    /// The ids of every scenario of `serviceProtocol` (and `mode` when given), sorted.
    public static func ids(_ serviceProtocol: ServiceProtocol? = nil, mode: TLSMode? = nil) -> [String] {
        scenarios.filter { scenario in
            (serviceProtocol == nil || scenario.server.serviceProtocol == serviceProtocol)
                && (mode == nil || scenario.server.mode == mode)
        }.map(\.id)
    }
}
