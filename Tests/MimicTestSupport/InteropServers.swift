import Foundation

/// The real servers of the interop tier (postfix, dovecot, vsftpd, slapd, nginx), started and stopped through the
/// shell scripts in Tests/Interop, each serving the chain in a certificate folder (`chain.pem`, `leaf.key`).
///
/// `MIMIC_SKIP_INTEROP=1` skips the tier explicitly; nothing else does. A server that cannot be installed or
/// started is an error carrying the script's own words.
public struct InteropServers: Sendable {
    /// One listening service: `ServiceProtocol` and `TLSMode` raw values, as `start.sh` prints them.
    public struct Service: Sendable {
        public var serviceProtocol: String
        public var port: Int
        public var mode: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public static var enabled: Bool { ProcessInfo.processInfo.environment["MIMIC_SKIP_INTEROP"] != "1" }

    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let scripts = repository.appendingPathComponent("Tests/Interop")

    public let runDirectory: URL
    public let services: [Service]

    /// Installs the servers if missing (idempotent).
    public static func install() throws {
        let install = try Subprocess.run(scripts.appendingPathComponent("install.sh").path, [], timeout: 900)
        guard install.status == 0 else {
            throw Failure("install.sh failed (\(install.status)):\n\(install.stdout)\(install.stderr)")
        }
    }

    /// Starts every server on `basePort`… serving `certificates`; another run on this machine holding the ports
    /// moves the range along, a few times.
    /// `environment`: `MIMIC_POSTFIX_EXTRA` adds lines to postfix's main.cf (legacy TLS settings, say).
    public static func start(
        certificates: URL, run: URL, basePort: Int, environment: [String: String] = [:]
    ) throws -> InteropServers {
        let script = scripts.appendingPathComponent("start.sh").path
        var start = try Subprocess.run(
            script, [certificates.path, run.path, "\(basePort)"], timeout: 120, environment: environment)
        var attempt = 1
        while start.status != 0 && (start.stdout + start.stderr).contains("already in use") && attempt < 5 {
            start = try Subprocess.run(
                script, [certificates.path, run.path, "\(basePort + attempt * 1_000)"], timeout: 120,
                environment: environment)
            attempt += 1
        }
        guard start.status == 0 else {
            _ = try? Subprocess.run(scripts.appendingPathComponent("stop.sh").path, [run.path], timeout: 60)
            throw Failure("start.sh failed (\(start.status)):\n\(start.stdout)\(start.stderr)")
        }
        let services = start.stdout.split(separator: "\n").compactMap { line -> Service? in
            let fields = line.split(separator: " ")
            guard fields.count == 3, let port = Int(fields[1]) else { return nil }
            return Service(serviceProtocol: String(fields[0]), port: port, mode: String(fields[2]))
        }
        return InteropServers(runDirectory: run, services: services)
    }

    /// Stops every server by PID; nil when that worked, else the script's words.
    public func stop() -> String? {
        let stop = try? Subprocess.run(
            Self.scripts.appendingPathComponent("stop.sh").path, [runDirectory.path], timeout: 60)
        return stop?.status == 0 ? nil : "stop.sh failed: \(stop?.stdout ?? "")\(stop?.stderr ?? "")"
    }
}
