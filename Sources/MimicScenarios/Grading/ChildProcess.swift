import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a monitor (or an adapter's setup step) with a deadline and a bound on what it prints.
///
/// posix_spawn, not Foundation's `Process`: the child gets its own process group, so that a deadline stops whatever
/// it started too (testssl.sh runs openssl; a shell runs its pipeline); its standard input is /dev/null; standard
/// output and error share one pipe, read as they come so that the order a person would see is kept. Reading stops
/// when the child has exited (a daemon it left behind may hold the pipe open forever), and the group is killed
/// then, so a monitor run leaves nothing running.
public enum ChildProcess {
    public struct Result: Sendable, Hashable {
        /// The exit code, or nil when a signal ended it.
        public var exitCode: Int32?
        public var signal: Int32?
        public var output: String
        /// Bytes past the bound that were read and dropped.
        public var droppedBytes: Int
        public var timedOut: Bool
        public var milliseconds: Double
    }

    public struct LaunchError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The process groups of every run and service under way, so that a signal to Mimic can end them too: they
    /// have groups of their own, which a terminal's Ctrl-C does not reach.
    /// A spawn under way is counted from before `posix_spawn` until its pid is tracked: the child may run (and be
    /// seen running) before the spawning thread gets to track it, and `killAll` must not miss it then.
    private struct Registry {
        var live: Set<pid_t> = []
        var spawning = 0
        var stopping = false
    }

    private static let registry = Mutex(Registry())

    /// False once `killAll` has run: nothing new is started then.
    static func beginSpawn() -> Bool {
        registry.withLock { registry in
            guard !registry.stopping else { return false }
            registry.spawning += 1
            return true
        }
    }

    /// Tracks the spawned group (nil: the spawn failed); one spawned while `killAll` ran is killed at once.
    static func endSpawn(_ pid: pid_t?) {
        registry.withLock { registry in
            registry.spawning -= 1
            guard let pid else { return }
            registry.live.insert(pid)
            if registry.stopping { kill(-pid, SIGKILL) }
        }
    }

    static func untrack(_ pid: pid_t) { registry.withLock { _ = $0.live.remove(pid) } }

    /// Kills every process group a run or a service started (SIGKILL): what `mimic grade` does when it is
    /// interrupted, so no monitor or exporter outlives it. Spawns under way are waited for (a second at most).
    public static func killAll() {
        registry.withLock { $0.stopping = true }
        let deadline = ContinuousClock.now + .seconds(1)
        while registry.withLock({ $0.spawning }) > 0 && ContinuousClock.now < deadline { usleep(1_000) }
        for pid in registry.withLock({ $0.live }) { kill(-pid, SIGKILL) }
    }

    /// True once ``killAll()`` began: every run that ends from now on ends because it was killed.
    public static var isStopping: Bool { registry.withLock { $0.stopping } }

    /// What one run keeps of its output.
    public static let outputLimit = 64 * 1024

    /// Runs `argv` to its end or its deadline, on a thread of its own (never a Swift concurrency thread).
    public static func run(
        _ argv: [String], environment: [String: String], timeout: Duration, outputLimit: Int = outputLimit
    ) async throws(LaunchError) -> Result {
        let outcome: Swift.Result<Result, LaunchError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do throws(LaunchError) {
                    continuation.resume(
                        returning: .success(
                            try runBlocking(argv, environment: environment, timeout: timeout, outputLimit: outputLimit))
                    )
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        return try outcome.get()
    }

    /// Finds `program` (a name without `/`) in `path`, as execvp would; nil when it is not there.
    public static func find(_ program: String, in path: [String]) -> String? {
        if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
        for folder in path where !folder.isEmpty {
            let candidate = folder.hasSuffix("/") ? folder + program : folder + "/" + program
            var status = stat()
            if stat(candidate, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    static func runBlocking(
        _ argv: [String], environment: [String: String], timeout: Duration, outputLimit: Int
    ) throws(LaunchError) -> Result {
        guard let program = argv.first else { throw LaunchError(description: "nothing to run") }
        let searchPath = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
        guard let resolved = find(program, in: searchPath) else {
            throw LaunchError(description: "\(program): not found (PATH \(searchPath.joined(separator: ":")))")
        }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw LaunchError(description: "pipe: \(String(cString: strerror(errno)))") }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)

        let environmentLines = environment.map { "\($0.key)=\($0.value)" }.sorted()
        let started = ContinuousClock.now
        guard beginSpawn() else {
            close(writeEnd)
            close(readEnd)
            throw LaunchError(description: "\(program): not started: Mimic is stopping")
        }
        let (spawned, pid) = spawn(resolved, argv, environment: environmentLines) { actions in
            posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
            posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
            posix_spawn_file_actions_addclose(&actions, writeEnd)
            posix_spawn_file_actions_addclose(&actions, readEnd)
        }
        close(writeEnd)
        endSpawn(spawned == 0 ? pid : nil)
        defer { untrack(pid) }
        guard spawned == 0 else {
            close(readEnd)
            throw LaunchError(description: "\(program): cannot start: \(String(cString: strerror(spawned)))")
        }
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)

        var kept: [UInt8] = []
        var dropped = 0
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        func drain() -> Bool {
            while true {
                let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count > 0 {
                    let room = max(0, outputLimit - kept.count)
                    kept.append(contentsOf: buffer[0..<min(room, count)])
                    dropped += max(0, count - room)
                    continue
                }
                if count == 0 { return false }  // end of file
                return errno == EAGAIN || errno == EINTR
            }
        }

        let deadline = started + timeout
        var status: Int32 = 0
        var exited = false
        var timedOut = false
        var open = true
        while !exited {
            if open {
                var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                _ = poll(&descriptor, 1, 20)
                open = drain()
            } else {
                usleep(10_000)
            }
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid {
                exited = true
            } else if waited < 0, errno != EINTR {
                exited = true
            } else if ContinuousClock.now >= deadline {
                timedOut = true
                kill(-pid, SIGTERM)
                let grace = ContinuousClock.now + .seconds(2)
                while waitpid(pid, &status, WNOHANG) == 0 {
                    if ContinuousClock.now >= grace {
                        kill(-pid, SIGKILL)
                        _ = waitpid(pid, &status, 0)
                        break
                    }
                    if open { open = drain() }
                    usleep(10_000)
                }
                exited = true
            }
        }
        if open { _ = drain() }
        // Whatever the run left behind in its group goes with it.
        kill(-pid, SIGKILL)
        close(readEnd)

        let signalled = (status & 0x7f) != 0 && (status & 0x7f) != 0x7f
        return Result(
            exitCode: signalled ? nil : (status >> 8) & 0xff,
            signal: signalled ? status & 0x7f : nil,
            output: String(decoding: kept, as: UTF8.self),
            droppedBytes: dropped,
            timedOut: timedOut,
            milliseconds: (ContinuousClock.now - started).milliseconds)
    }

    /// posix_spawn `path` as Mimic starts every monitor and service: in a process group of its own (so that
    /// stopping it stops whatever it started), standard input from /dev/null, standard output and error as
    /// `redirect` sets them up, no other descriptor of ours (the zoo's listening sockets stay the zoo's), and every
    /// signal unblocked and at its default (Mimic ignores SIGINT and SIGTERM while it waits for them; a child must
    /// not inherit that). Returns posix_spawn's result and the child's pid.
    static func spawn(
        _ path: String, _ argv: [String], environment: [String],
        redirect: (inout posix_spawn_file_actions_t) -> Void
    ) -> (result: Int32, pid: pid_t) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        redirect(&actions)
        _ = spawnCloseFrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for number in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaultSignals, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var pid: pid_t = 0
        let result = withCStrings(argv) { arguments in
            withCStrings(environment) { variables in
                posix_spawn(&pid, path, &actions, &attributes, arguments, variables)
            }
        }
        return (result, pid)
    }

    private static func withCStrings<T>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> T) -> T {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }
}

/// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`, which the Glibc module does not export: close every
/// descriptor from `from` up in the child.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
func spawnCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32
