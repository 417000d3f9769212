import ArgumentParser
import Foundation
import MimicCore
import MimicNet
import MimicScenarios
import MimicTLS
import MimicVerdict
import Synchronization

/// What `mimic probe` was asked to do, as plain values: `ProbeCommand` declares the options to Argument Parser
/// (help, completion, every usage error) and hands its values over as one of these; the defaults live here, once.
///
/// A probe is a short process, and a monitor may start one a minute for every service it watches. Argument
/// Parser finds a command's options by reflection, and the Swift runtime answers each first question of the kind
/// "does `Option<TLSMode?>` conform to this protocol" by scanning every conformance in the executable (about 8 700
/// here): that took a fifth of a probe's time. `quick(_:)` therefore reads the ordinary, well-formed command lines
/// of `mimic probe` itself — long options, their values through the same `ExpressibleByArgument` conversions,
/// targets — and declines everything else (help, a short option, an unknown name, a value it would have to guess
/// at, anything `validate()` refuses), which then goes to Argument Parser as before. `QuickProbeParsingTests` holds
/// the names below to Argument Parser's own list of `ProbeCommand`'s options and checks that whatever `quick`
/// accepts, Argument Parser parses to the same invocation.
struct ProbeInvocation: Equatable, Sendable {
    var targets: [String] = []
    var mode: TLSMode?
    var backend: TLSBackendChoice = .both
    var servername: String?
    var caFile: String?
    var warnDays = ExpiryThresholds.defaultWarnDays
    var critDays = ExpiryThresholds.defaultCritDays
    var timeout: Double = 10
    var ehlo = "probe.mimic.test"
    var policy: VerificationPolicy = .default
    var startTLSAnyway = false
    var format: ProbeFormat = .text
    var concurrency = 8
    var enumerate = false
    var enumerateConcurrency = 4

    static let defaults = ProbeInvocation()

    func validate() throws(ValidationError) {
        guard timeout > 0, timeout <= 600 else { throw ValidationError("--timeout must be between 0 and 600 seconds") }
        guard warnDays >= critDays, critDays >= 0 else { throw ValidationError("need --warn-days >= --crit-days >= 0") }
        guard (1...256).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 256") }
        guard (1...64).contains(enumerateConcurrency) else {
            throw ValidationError("--enumerate-concurrency must be 1 to 64")
        }
        for target in targets {
            do { _ = try ProbeURL.parse(target, mode: mode, serverName: servername) } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    /// The two slow first steps of a probe that need nothing from the command line but the backends: the first
    /// context of each backend (OpenSSL's takes about 2 ms: its configuration file, its providers) and the event
    /// loops (a millisecond of thread start-up).
    ///
    /// For one target (`waitsForOneTarget`), only the loops, one per backend where cores are idle, made on this
    /// thread: `runWaiting` hands the probe to them and then makes OpenSSL's first context itself, while the
    /// connections open and speak their plaintext dialog; a connection makes its own context as its handshake
    /// starts, after that first one. A thread of its own for OpenSSL's start was slower: the main thread, woken by a
    /// loop thread that had started, was queued for two milliseconds on the core where OpenSSL's start ran while the
    /// other core idled (perf sched events, 2026-12-05).
    ///
    /// For many targets, OpenSSL's first context on a thread of its own, started first, and then the loops, one per
    /// core: there a pool of tasks makes each connection's context before it connects. OpenSSL's start goes first
    /// so that it is not queued behind the loop threads' start on a busy machine (measured, 40 interleaved pairs
    /// with every core busy: 30.2 -> 23.2 ms). `Mimic.main` calls this before its first `await`.
    func warmUp() -> WarmUp {
        let backends = backend.backends
        guard !waitsForOneTarget else {
            // A loop per backend only where cores are idle to run them side by side: with every core busy, the
            // second loop's wake-ups queue behind the other threads as well, and one loop for both connections was
            // faster (interleaved pairs, both backends, a spinning process per core: 23.3 -> 19.4 ms); on a quiet
            // machine one loop was the slower (14.7 -> 15.2 ms).
            let loops = min(backends.count, max(1, MimicEventLoops.idleCores() ?? backends.count))
            return WarmUp(work: nil, prober: Prober(group: MimicEventLoops.group(forConnections: loops)))
        }
        let work = BackgroundWork { for backend in backends { TLSBackends.prepare(backend) } }
        return WarmUp(work: work, prober: Prober(group: MimicEventLoops.shared))
    }

    /// What `warmUp()` started: OpenSSL's first context, on a thread of its own (many targets), and the prober,
    /// with its loops.
    struct WarmUp {
        let work: BackgroundWork?
        let prober: Prober

        /// Waits until the background work has ended.
        func join() { work?.join() }
    }

    /// One target and no enumeration (what a monitor runs): `runWaiting` probes it, on a loop per backend.
    var waitsForOneTarget: Bool { targets.count == 1 && !enumerate }

    /// Probes the targets, prints the results and returns the exit code (Nagios: 0 OK, 1 WARNING, 2 CRITICAL,
    /// 3 UNKNOWN). `warmUp` (from `warmUp()`, started anew when nil) is joined before this returns or throws:
    /// exit(3) under it would run OpenSSL's clean-up while it is still initialising.
    func run(warmUp started: WarmUp? = nil) async throws -> Int32 {
        let warmUp = started ?? warmUp()
        defer { warmUp.join() }
        let (parsed, options) = try prepared()
        let reports = await warmUp.prober.probe(parsed, options: options, concurrency: concurrency)
        var enumerations: [EnumerationResult?] = Array(repeating: nil, count: parsed.count)
        if enumerate {
            // One target at a time: the bound is on connections to one server.
            let enumerator = Enumerator(prober: warmUp.prober, concurrency: enumerateConcurrency)
            for (index, target) in parsed.enumerated() {
                enumerations[index] = await enumerator.enumerate(target, options: options)
            }
        }
        return report(parsed, reports: reports, enumerations: enumerations)
    }

    /// `run` for what a monitor runs, one target and no enumeration, on the calling thread: the probe's steps run
    /// on the event loops while this thread does what their first steps would otherwise do first (`Prober.prepare`:
    /// the connections' own TLS contexts, OpenSSL's first among them, and a first verdict) and then waits for the
    /// reports, so the concurrency pool never starts (its first threads cost a millisecond of a probe's start on two
    /// busy cores). Nil, having done nothing, for any other invocation.
    func runWaiting(warmUp: WarmUp) throws -> Int32? {
        guard waitsForOneTarget else { return nil }
        defer { warmUp.join() }
        let (parsed, options) = try prepared()
        let contexts = ProbeContexts(parsed[0], options: options)
        let probing = warmUp.prober.probeFuture(parsed[0], options: options, contexts: contexts)
        Prober.prepare(for: parsed[0], options: options, contexts: contexts)
        let reports = try probing.wait()
        return report(parsed, reports: [reports], enumerations: [nil])
    }

    private func prepared() throws -> ([ProbeTarget], ProbeOptions) {
        let parsed = try targets.map { try ProbeURL.parse($0, mode: mode, serverName: servername) }
        let anchors = try trustAnchors(caFile: caFile)
        var options = ProbeOptions(
            backends: backend.backends,
            trustAnchors: anchors,
            deadlines: ProbeDeadlines(timeout: timeout),
            warnDays: warnDays,
            critDays: critDays,
            ehloName: ehlo,
            tryStartTLSAnyway: startTLSAnyway
        )
        options.client.verificationPolicy = policy
        return (parsed, options)
    }

    /// Prints the results; the exit code.
    private func report(
        _ parsed: [ProbeTarget], reports: [[ProbeReport]], enumerations: [EnumerationResult?]
    ) -> Int32 {
        let results = parsed.indices.map {
            ProbeResult(target: parsed[$0], reports: reports[$0], enumeration: enumerations[$0])
        }
        print(ProbeRendering.render(results, format: format, warnDays: warnDays, critDays: critDays))
        return ProbeRendering.exitCode(results)
    }
}

extension ProbeInvocation {
    /// The options that take a value, by long name, each with how it sets the invocation: false when the text is
    /// not a value of the option's type (through the type's own `ExpressibleByArgument` conversion).
    static let valueOptions: [String: @Sendable (inout ProbeInvocation, String) -> Bool] = [
        "mode": { invocation, text in accept(TLSMode(argument: text)) { invocation.mode = $0 } },
        "backend": { invocation, text in accept(TLSBackendChoice(argument: text)) { invocation.backend = $0 } },
        "servername": { invocation, text in accept(text) { invocation.servername = $0 } },
        "ca-file": { invocation, text in accept(text) { invocation.caFile = $0 } },
        "warn-days": { invocation, text in accept(Int(argument: text)) { invocation.warnDays = $0 } },
        "crit-days": { invocation, text in accept(Int(argument: text)) { invocation.critDays = $0 } },
        "timeout": { invocation, text in accept(Double(argument: text)) { invocation.timeout = $0 } },
        "ehlo": { invocation, text in accept(text) { invocation.ehlo = $0 } },
        "policy": { invocation, text in accept(VerificationPolicy(argument: text)) { invocation.policy = $0 } },
        "format": { invocation, text in accept(ProbeFormat(argument: text)) { invocation.format = $0 } },
        "concurrency": { invocation, text in accept(Int(argument: text)) { invocation.concurrency = $0 } },
        "enumerate-concurrency": { invocation, text in
            accept(Int(argument: text)) { invocation.enumerateConcurrency = $0 }
        },
    ]

    private static func accept<Value>(_ value: Value?, _ set: (Value) -> Void) -> Bool {
        guard let value else { return false }
        set(value)
        return true
    }

    /// The flags, by long name.
    static let flags: [String: @Sendable (inout ProbeInvocation) -> Void] = [
        "starttls-anyway": { $0.startTLSAnyway = true },
        "enumerate": { $0.enumerate = true },
    ]

    /// The invocation `arguments` (the command line after the program's name) ask for, when they are `probe`
    /// followed by nothing but known long options with acceptable values and targets, and pass `validate()`;
    /// otherwise nil, for Argument Parser to read (and to explain, when they are wrong).
    static func quick(_ arguments: [String]) -> ProbeInvocation? {
        guard arguments.first == "probe" else { return nil }
        var invocation = ProbeInvocation()
        var seen: Set<String> = []
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-") else {
                invocation.targets.append(argument)
                continue
            }
            // Only `--name` and `--name=value`; a short option, `--` and a lone `-` are Argument Parser's.
            guard argument.hasPrefix("--"), argument.count > 2 else { return nil }
            let body = argument.dropFirst(2)
            let name: String
            var value: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                value = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
            }
            // A repeated option is left to Argument Parser's rule for it.
            guard seen.insert(name).inserted else { return nil }
            if let set = flags[name] {
                guard value == nil else { return nil }
                set(&invocation)
                continue
            }
            guard let set = valueOptions[name] else { return nil }
            if value == nil {
                // The next argument is the value unless it looks like an option (or a negative number): left alone.
                guard index < arguments.count, !arguments[index].hasPrefix("-") else { return nil }
                value = arguments[index]
                index += 1
            }
            guard let value, !value.isEmpty, set(&invocation, value) else { return nil }
        }
        guard !invocation.targets.isEmpty, (try? invocation.validate()) != nil else { return nil }
        return invocation
    }
}

/// Work on a thread of its own, started at once and joined later.
///
/// A plain POSIX thread: Foundation's `Thread.detachNewThread` took most of a millisecond to get a probe's first
/// one running (its thread object and set-up), and the OpenSSL warm-up on it lies on the OpenSSL connection's way.
final class BackgroundWork: Sendable {
    private final class Work {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// The thread, or nil when none could be made and the work ran on the caller's thread instead.
    private let thread: Mutex<pthread_t?>

    init(_ body: @escaping @Sendable () -> Void) {
        let work = Unmanaged.passRetained(Work(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { argument in
                Unmanaged<Work>.fromOpaque(argument!).takeRetainedValue().body()
                return nil
            }, work)
        if created == 0 {
            self.thread = Mutex(thread)
        } else {
            Unmanaged<Work>.fromOpaque(work).takeRetainedValue().body()
            self.thread = Mutex(nil)
        }
    }

    /// Waits until the work has ended; later calls return at once.
    func join() {
        guard let thread = take() else { return }
        pthread_join(thread, nil)
    }

    /// Never joined: the thread's resources go when it ends.
    deinit {
        if let thread = take() { pthread_detach(thread) }
    }

    private func take() -> pthread_t? {
        thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
    }
}
