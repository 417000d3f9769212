import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to completion with a deadline, for tests that drive real tools and servers.
///
/// Not Foundation's `Process`: its exit detection can miss a child when waited on from a Swift concurrency
/// thread, and reading its pipes to EOF hangs when a daemon the child started inherits them. Here the child's
/// output goes to files, and `waitpid` is polled against the deadline; a child past it is killed.
public enum Subprocess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var timedOut: Bool
    }

    public struct LaunchError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func run(
        _ program: String,
        _ arguments: [String],
        timeout: Double,
        environment: [String: String] = [:]
    ) throws -> Result {
        let (outPath, errPath) = Spawn.outputPaths("mimic")
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        // Its own process group, so that a deadline can stop whatever it started in the foreground too.
        let pid = try Spawn.start(
            program, arguments, environment: environment, stdout: outPath, stderr: errPath, ownProcessGroup: true)

        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var timedOut = false
        while true {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { break }
            if waited < 0 && errno != EINTR { break }
            if Date() > deadline {
                timedOut = true
                kill(-pid, SIGTERM)
                usleep(500_000)
                kill(-pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                break
            }
            usleep(10_000)
        }
        return Result(
            status: timedOut ? 124 : Spawn.exitStatus(status),
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
            timedOut: timedOut
        )
    }
}

/// A program left running in the background (a server under test), with its output going to files.
public final class BackgroundProcess: @unchecked Sendable {
    public let pid: pid_t
    private let outPath: String
    private let errPath: String
    private var exitStatus: Int32?

    /// Starts `program`; its standard output and error go to files read with `output()`.
    public init(_ program: String, _ arguments: [String]) throws {
        (outPath, errPath) = Spawn.outputPaths("mimic-bg")
        pid = try Spawn.start(
            program, arguments, environment: [:], stdout: outPath, stderr: errPath, ownProcessGroup: false)
    }

    /// What it printed so far.
    public func output() -> (stdout: String, stderr: String) {
        (
            (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
    }

    /// Waits until its standard output contains `text`, or the deadline passes.
    public func waitForOutput(containing text: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output().stdout.contains(text) { return true }
            if hasExited { return output().stdout.contains(text) }
            usleep(20_000)
        }
        return false
    }

    /// Sends `signal` and waits for the exit; nil when it did not exit by the deadline (it is then killed).
    public func stop(with signal: Int32, timeout: Double) -> Int32? {
        kill(pid, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if hasExited { return exitStatus }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        return nil
    }

    private var hasExited: Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return false }
        exitStatus = Spawn.exitStatus(status)
        return true
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
        unlink(outPath)
        unlink(errPath)
    }
}

/// What both ways of starting a program share.
enum Spawn {
    /// Two fresh files in the temporary directory for a child's standard output and error.
    static func outputPaths(_ prefix: String) -> (stdout: String, stderr: String) {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        return (base + ".out", base + ".err")
    }

    /// Starts `program` (looked up in PATH) with standard input from /dev/null and its output in the two files,
    /// this process's environment with `environment` on top, and a clean signal state: a test runs on a thread that
    /// blocks signals, and daemons started with SIGTERM blocked could only be stopped by SIGKILL after a wait.
    static func start(
        _ program: String,
        _ arguments: [String],
        environment: [String: String],
        stdout: String,
        stderr: String,
        ownProcessGroup: Bool
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Nothing else of the test process: a daemon started from here must not keep the tests' listening sockets.
        _ = spawnCloseFrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2] {
            sigaddset(&defaults, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw Subprocess.LaunchError(description: "cannot start \(program): \(String(cString: strerror(spawned)))")
        }
        return pid
    }

    /// The exit code of a `waitpid` status: the code itself, or 128 + the signal that ended the process.
    static func exitStatus(_ status: Int32) -> Int32 {
        (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }
}

/// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`, which the Glibc module does not export: close every
/// descriptor from `from` up in the child.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func spawnCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32
