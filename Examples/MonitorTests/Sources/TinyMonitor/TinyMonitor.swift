import Foundation

/// A home-grown STARTTLS certificate check of the kind many shops run from cron: `openssl s_client` with
/// verification on, its exit code read as the verdict.
public enum TinyMonitor {
    public enum Status: Equatable, Sendable {
        case ok
        case critical(String)

        public var isAlert: Bool { self != .ok }
    }

    /// Checks `host:port`: STARTTLS for `starttls` (`smtp`, `imap`, `pop3`, `ftp`, `ldap`), implicit TLS for nil.
    public static func check(
        host: String, port: Int, starttls: String?, servername: String, caFile: String
    ) throws -> Status {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        var arguments = [
            "s_client", "-connect", "\(host):\(port)", "-servername", servername, "-CAfile", caFile,
            "-verify_return_error", "-verify_hostname", servername, "-brief",
        ]
        if let starttls { arguments += ["-starttls", starttls] }
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let words = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return process.terminationStatus == 0 ? .ok : .critical(words.split(separator: "\n").first.map(String.init) ?? "")
    }
}
