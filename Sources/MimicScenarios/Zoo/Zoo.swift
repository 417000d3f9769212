import Foundation
import MimicNet

/// Every scenario's mock listening at once, with one CA file, a hosts file and a manifest in one private folder:
/// what `mimic serve` keeps up for a monitor's author and what `mimic grade` points a monitor at.
public struct Zoo: Sendable {
    public var served: [ServedScenario]
    /// The zoo's folder: `ca.pem`, `hosts`, `manifest.json`.
    public var directory: URL
    public var manifest: ZooManifest
    public var manifestFile: URL { directory.appendingPathComponent("manifest.json") }
    public var hostsFile: URL { directory.appendingPathComponent("hosts") }
    public var caFile: URL { directory.appendingPathComponent("ca.pem") }
    /// Whether `stop()` removes `directory` (it does for a folder the zoo made itself).
    public var ownsDirectory: Bool

    public enum StartError: Error, CustomStringConvertible {
        /// Bad options (a port base that cannot fit): a usage error, nothing started.
        case usage(String)
        /// A mock could not start (a port taken): everything started is stopped again.
        case mock(String)

        public var description: String {
            switch self {
            case .usage(let text), .mock(let text): text
            }
        }
    }

    /// Starts every scenario's mock.
    ///
    /// - Parameters:
    ///   - portBase: fixed ports from `ZooPorts` (scenarios that name their own `server.port` keep it); nil keeps
    ///     each scenario's own port (0: ephemeral).
    ///   - directory: a folder named by the user (checked by `PrivateDirectory.use`), or nil for a new private one.
    ///   - observations: where what each client did goes, by scenario id.
    public static func start(
        _ prepared: [PreparedScenario],
        portBase: Int? = nil,
        directory: URL? = nil,
        observations: ObservationLog? = nil
    ) async throws(StartError) -> Zoo {
        var ports: [String: Int] = [:]
        if let portBase {
            let reserved = Set(prepared.map(\.configuration.port).filter { $0 != 0 })
            let unnamed = prepared.filter { $0.configuration.port == 0 }.map(\.scenario.id)
            do {
                ports = try ZooPorts.assign(ids: unnamed, base: portBase, reserved: reserved)
            } catch {
                throw .usage(error.description)
            }
        }
        let folder: URL
        do throws(PrivateDirectory.Error) {
            if let directory {
                folder = try PrivateDirectory.use(directory.path)
            } else {
                folder = try PrivateDirectory.make(prefix: "mimic-zoo-")
            }
        } catch {
            throw .usage(error.description)
        }
        let served: [ServedScenario]
        do {
            var observer: (@Sendable (String, ClientObservation) -> Void)?
            if let observations {
                observer = { id, observation in observations.record(id, observation) }
            }
            served = try await ScenarioServing.start(prepared, caDirectory: folder, ports: ports, observer: observer)
        } catch {
            if directory == nil { PrivateDirectory.remove(folder) }
            throw .mock("\(error)")
        }
        var zoo = Zoo(
            served: served, directory: folder,
            manifest: ZooManifest(served: served, hostsFile: nil), ownsDirectory: directory == nil)
        zoo.manifest.hostsFile = zoo.hostsFile.path
        do {
            try PrivateDirectory.write(ScenarioServing.hostsLines(served), to: zoo.hostsFile)
            try PrivateDirectory.write(zoo.manifest.json() + "\n", to: zoo.manifestFile)
        } catch {
            await zoo.stop()
            throw .mock(error.description)
        }
        return zoo
    }

    /// Waits (at most `limit`) until a scenario's mock has no connection open, so that every connection a client
    /// made has been reported to the observation log.
    public func settle(_ id: String, limit: Duration = .seconds(2)) async {
        guard let mock = served.first(where: { $0.scenario.id == id })?.mock as? MockServer else { return }
        let deadline = ContinuousClock.now + limit
        while mock.openConnections > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Stops every mock, and removes the folder if the zoo made it.
    public func stop() async {
        await ScenarioServing.stop(served)
        if ownsDirectory { PrivateDirectory.remove(directory) }
    }
}
