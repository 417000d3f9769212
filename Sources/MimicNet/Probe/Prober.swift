import Foundation
import MimicCerts
import MimicCore
import MimicDialogs
import MimicTLS
import MimicVerdict
import NIOCore
import NIOPosix
import Synchronization

/// Speaks each protocol natively up to the TLS hello, hand-shakes through each requested backend on its own
/// connection, and reports what it saw with a verdict.
public final class Prober: Sendable {
    private let group: any EventLoopGroup

    public init(group: any EventLoopGroup = MimicEventLoops.shared) {
        self.group = group
    }

    /// Probes one target through every backend in `options`, each on its own connection, concurrently.
    public func probe(_ target: ProbeTarget, options: ProbeOptions) async -> [ProbeReport] {
        await withTaskGroup(of: (Int, ProbeReport).self) { tasks in
            for (index, backend) in options.client.backends.enumerated() {
                tasks.addTask { (index, await self.probe(target, backend: backend, options: options)) }
            }
            var reports: [(Int, ProbeReport)] = []
            for await report in tasks { reports.append(report) }
            return reports.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// `probe(_:options:)` without Swift concurrency: every step, the TLS contexts' making included, runs on the
    /// event loops, and the reports (in the order of the backends) complete the future, which never fails. A probe
    /// process waits on it from its main thread and so never starts the concurrency pool's threads (two of them
    /// and a manager, on two cores that are busy starting the event loops and OpenSSL at that moment). Where a
    /// pool runs anyway (many targets, a scenario run), `probe` makes the contexts on it and keeps the loops for
    /// the connections.
    ///
    /// With `contexts` (made for the same target and options), each connection takes its TLS context from there:
    /// whoever asks first makes it, the connection as its handshake starts or the caller beforehand
    /// (`prepare(for:options:contexts:)`), and the other waits for it.
    public func probeFuture(
        _ target: ProbeTarget, options: ProbeOptions, contexts: ProbeContexts? = nil
    ) -> EventLoopFuture<[ProbeReport]> {
        let backends = options.client.backends
        let loop = group.next()
        guard !backends.isEmpty else { return loop.makeSucceededFuture([]) }
        let each = backends.map {
            probeFuture(target, backend: $0, options: options, setUp: nil, context: contexts?.byBackend[$0])
        }
        return EventLoopFuture.whenAllComplete(each, on: loop).map { results in
            zip(results, backends).map { result, backend in
                (try? result.get()) ?? Self.unfinished(target, backend: backend)
            }
        }
    }

    /// Does on the calling thread, while `probeFuture(target, options:)` runs on the loops, what its connections
    /// would otherwise do first on their way: each backend's first context (OpenSSL's reads its configuration and
    /// loads its providers, about 2 ms; a connection's own context, made as its handshake starts, waits for it),
    /// and a first verdict, on the first trust anchor, so that what a verdict costs only once in a process (the
    /// certificate code's first pages, the Swift runtime's first look at its types) is paid during the network
    /// waits rather than after the handshakes. Given the probe's `contexts`, the first contexts made are the
    /// connections' own, so that a connection's handshake has none left to make.
    public static func prepare(for target: ProbeTarget, options: ProbeOptions, contexts: ProbeContexts? = nil) {
        if let contexts {
            contexts.make()
        } else {
            for backend in options.client.backends { TLSBackends.prepare(backend) }
        }
        guard let anchor = options.trustAnchors.first else { return }
        _ = CertificateVerdict(
            verification: nil, chain: [anchor], anchors: options.trustAnchors, hostname: target.verifyName)
    }

    /// Probes many targets, at most `concurrency` at a time; results in the order of `targets`.
    public func probe(_ targets: [ProbeTarget], options: ProbeOptions, concurrency: Int = 8) async -> [[ProbeReport]] {
        await withTaskGroup(of: (Int, [ProbeReport]).self) { tasks in
            var results = Array(repeating: [ProbeReport](), count: targets.count)
            var next = 0
            func launch() {
                guard next < targets.count else { return }
                let index = next
                next += 1
                tasks.addTask { (index, await self.probe(targets[index], options: options)) }
            }
            for _ in 0..<max(1, concurrency) { launch() }
            for await (index, reports) in tasks {
                results[index] = reports
                launch()
            }
            return results
        }
    }

    /// One connection, one backend (and, with `checkResumption`, a second one offering the first's session).
    public func probe(_ target: ProbeTarget, backend: TLSBackend, options: ProbeOptions) async -> ProbeReport {
        let setUp = Self.setUp(target, backend: backend, options: options)
        return await Self.settled(
            probeFuture(target, backend: backend, options: options, setUp: setUp),
            or: Self.unfinished(target, backend: backend))
    }

    /// `probe(_:backend:options:)` on the event loops, with the context `setUp` made (when nil: taken from
    /// `context`, or made on the connection's loop); the future never fails.
    private func probeFuture(
        _ target: ProbeTarget, backend: TLSBackend, options: ProbeOptions, setUp: SetUp?, context: LazyContext? = nil
    ) -> EventLoopFuture<ProbeReport> {
        connection(target, backend: backend, options: options, resuming: nil, setUp: setUp, context: context).flatMap {
            first, session in
            guard options.checkResumption, first.handshake?.completed == true else {
                return first.eventLoopFuture(on: self.group)
            }
            guard let session else {
                var report = first
                report.resumption = false
                return report.eventLoopFuture(on: self.group)
            }
            var again = options
            again.ftpDataChannel = false
            return self.connection(target, backend: backend, options: again, resuming: session, setUp: nil).map {
                second, _ in
                var report = first
                report.resumption = second.handshake?.completed == true ? second.handshake?.sessionResumed : nil
                return report
            }
        }
    }

    /// The value of a future that is built never to fail; `fallback` should it fail all the same.
    static func settled<Value: Sendable>(_ future: EventLoopFuture<Value>, or fallback: Value) async -> Value {
        (try? await future.get()) ?? fallback
    }

    /// The report of a probe that did not come to an end (never expected: the futures above do not fail).
    static func unfinished(_ target: ProbeTarget, backend: TLSBackend) -> ProbeReport {
        ProbeReport(
            target: target, backend: backend, libraryVersion: TLSBackends.libraryVersion(backend), startedAt: Date(),
            timings: [], transcript: [],
            findings: [Finding(.closed, severity: .unknown, phase: .connect, evidence: "the probe did not finish")])
    }

    /// A connection's report as it starts, and its TLS context, or nil with the reason in the report.
    typealias SetUp = (report: ProbeReport, context: (any TLSContext)?)

    static func setUp(_ target: ProbeTarget, backend: TLSBackend, options: ProbeOptions) -> SetUp {
        let report = startingReport(target, backend: backend)
        do {
            let configuration = configuration(target, options: options)
            return (report, try TLSBackends.makeContext(backend, configuration: configuration))
        } catch {
            return (contextFailed(report, error), nil)
        }
    }

    /// A connection's report before anything has happened on it.
    private static func startingReport(_ target: ProbeTarget, backend: TLSBackend) -> ProbeReport {
        ProbeReport(
            target: target,
            backend: backend,
            libraryVersion: TLSBackends.libraryVersion(backend),
            startedAt: Date(),
            timings: [],
            transcript: [],
            findings: []
        )
    }

    /// What a connection's TLS context is made from.
    fileprivate static func configuration(_ target: ProbeTarget, options: ProbeOptions) -> MimicTLSConfiguration {
        var configuration = MimicTLSConfiguration(
            role: .client,
            minimumVersion: options.minimumVersion,
            maximumVersion: options.maximumVersion,
            serverName: target.sniName,
            trustAnchors: options.trustAnchors,
            verifyHostname: target.verifyName,
            verificationPolicy: options.client.verificationPolicy
        )
        options.offer?.apply(to: &configuration)
        return configuration
    }

    /// The report of a connection whose TLS context could not be made: this side's failure, not the server's, and
    /// nothing of what the connection did.
    private static func contextFailed(_ report: ProbeReport, _ error: any Error) -> ProbeReport {
        var failed = report
        failed.findings = [Finding(.handshakeFailure, severity: .unknown, phase: .handshake, evidence: "\(error)")]
        return failed
    }

    /// One connection through one backend. Without a `setUp`, the connection starts at once and its TLS context
    /// is made as the handshake is about to start, on the connection's loop: the connect and the plaintext dialog
    /// go on meanwhile (while OpenSSL's first context, which reads its configuration and loads its providers, may
    /// still be in the making on another thread). Should the context fail, the report is the one a failed `setUp`
    /// gives, whatever the connection did. The future never fails.
    private func connection(
        _ target: ProbeTarget, backend: TLSBackend, options: ProbeOptions, resuming: TLSSession?, setUp: SetUp?,
        context shared: LazyContext? = nil
    ) -> EventLoopFuture<(ProbeReport, TLSSession?)> {
        let eventLoop = group.next()
        if let setUp {
            guard let tlsContext = setUp.context else { return eventLoop.makeSucceededFuture((setUp.report, nil)) }
            return connection(
                target, options: options, resuming: resuming, report: setUp.report, backend: backend,
                context: { tlsContext }, on: eventLoop)
        }
        // On the loop: the caller (`mimic probe`'s main thread) goes on to `prepare` meanwhile.
        return eventLoop.flatSubmit {
            let report = Self.startingReport(target, backend: backend)
            let context =
                shared ?? LazyContext(backend: backend, configuration: Self.configuration(target, options: options))
            return self.connection(
                target, options: options, resuming: resuming, report: report, backend: backend,
                context: { () throws(TLSFailure) in try context.get() }, on: eventLoop
            ).map { result in
                guard let failure = context.failure else { return result }
                return (Self.contextFailed(report, failure), nil)
            }
        }
    }

    private func connection(
        _ target: ProbeTarget, options: ProbeOptions, resuming: TLSSession?, report: ProbeReport,
        backend: TLSBackend, context: @escaping @Sendable () throws(TLSFailure) -> any TLSContext,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<(ProbeReport, TLSSession?)> {
        let makeEngine: @Sendable (TLSSession?) throws(TLSFailure) -> any TLSEngine = { session throws(TLSFailure) in
            let tlsContext = try context()
            guard let session else { return try tlsContext.makeEngine() }
            var configuration = tlsContext.configuration
            configuration.resumeSession = session
            return try TLSBackends.makeContext(backend, configuration: configuration).makeEngine()
        }
        let dialogOptions = DialogOptions(
            mode: target.mode,
            tryStartTLSAnyway: options.client.tryStartTLSAnyway,
            ehloName: options.ehloName,
            host: target.verifyName,
            port: target.port,
            ftpDataChannel: options.ftpDataChannel
        )
        let deadlines = options.deadlines
        let controlHost = target.host
        let promise = eventLoop.makePromise(of: ProbeOutcome.self)
        let connectStarted = NIODeadline.now()
        let openDataChannel:
            @Sendable (String?, Int, TLSSession?, any EventLoop) -> EventLoopFuture<DataChannelResult> = {
                controlPeer, port, session, loop in
                Self.openDataChannel(
                    host: controlPeer ?? controlHost, port: port, session: session, makeEngine: makeEngine,
                    deadline: deadlines.handshake + deadlines.reply, on: loop)
            }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(Int64(deadlines.connect * 1000)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = ProbeConnectionHandler(
                        dialog: ClientDialogs.make(for: target.serviceProtocol, options: dialogOptions),
                        mode: target.mode,
                        deadlines: deadlines,
                        promise: promise,
                        connectStarted: connectStarted,
                        makeEngine: makeEngine,
                        openDataChannel: openDataChannel,
                        resumeSession: resuming,
                        stopAtServerHello: options.stopAtServerHello
                    )
                    try channel.pipeline.syncOperations.addHandlers([QuickAckHandler(), handler])
                }
            }
        let connecting = bootstrap.connect(literalOrHost: target.host, port: target.port)
        return connecting.flatMap { _ in
            promise.futureResult.flatMap { outcome in
                let assembled = ProbeVerdict.assemble(report, outcome: outcome, options: options)
                return self.explainSilentGreeting(assembled, options: options).map { ($0, outcome.session) }
            }.recover { error in
                var failed = report
                failed.findings = [Finding(.closed, severity: .unknown, phase: .connect, evidence: "\(error)")]
                return (failed, nil)
            }
        }.recover { error in
            // Only the connect itself fails here: the outcome's failure is answered above.
            promise.fail(error)
            var failed = report
            let elapsed = Double((NIODeadline.now() - connectStarted).nanoseconds) / 1e6
            failed.timings = [ProbeReport.Timing(phase: .connect, milliseconds: elapsed)]
            failed.findings = [Self.connectFinding(error, target: target)]
            return (failed, nil)
        }
    }

    /// A STARTTLS port that says nothing may be an implicit-TLS port waiting for a ClientHello (a monitor
    /// configured for the wrong mode). One more connection that opens with a ClientHello tells the two apart.
    private func explainSilentGreeting(_ report: ProbeReport, options: ProbeOptions) -> EventLoopFuture<ProbeReport> {
        guard report.target.mode == .startTLS,
            let index = report.findings.firstIndex(where: { $0.code == .timeout && $0.phase == .greeting })
        else { return report.eventLoopFuture(on: group) }
        var implicitTarget = report.target
        implicitTarget.mode = .implicit
        var quick = options
        quick.deadlines = ProbeDeadlines(
            connect: options.deadlines.connect, reply: 2, handshake: min(options.deadlines.handshake, 5),
            overall: min(options.deadlines.overall, 10))
        quick.ftpDataChannel = false
        quick.checkResumption = false
        return probeFuture(implicitTarget, backend: report.backend, options: quick, setUp: nil).map { second in
            guard let handshake = second.handshake, handshake.completed else { return report }
            var explained = report
            explained.findings[index] = Finding(
                .modeMismatch, phase: .greeting,
                evidence: "no greeting in STARTTLS mode, but the port completes a TLS handshake "
                    + "(\(handshake.negotiatedVersion?.displayName ?? "TLS")): it speaks implicit TLS",
                source: report.backend.rawValue)
            return explained
        }
    }

    static func connectFinding(_ error: any Error, target: ProbeTarget) -> Finding {
        let address = "\(target.host):\(target.port)"
        if case .connectTimeout? = error as? ChannelError {
            return Finding(.timeout, phase: .connect, evidence: "no connection to \(address) in time")
        }
        let errnos = errnoCodes(error)
        if errnos.contains(ECONNREFUSED) {
            return Finding(.refused, phase: .connect, evidence: "connection to \(address) refused")
        }
        if errnos.contains(ECONNRESET) {
            // A server that resets at once can do so before the connect completes on this side.
            return Finding(.reset, phase: .connect, evidence: "connection to \(address) reset")
        }
        if error is NIOConnectionError, errnos.isEmpty {
            return Finding(.refused, phase: .resolve, evidence: "cannot resolve or reach \(address): \(error)")
        }
        return Finding(.refused, phase: .connect, evidence: "cannot connect to \(address): \(error)")
    }

    /// The errno behind a network error; for a connect, one per address tried (happy eyeballs tries them all).
    static func errnoCodes(_ error: any Error) -> [CInt] {
        if let connection = error as? NIOConnectionError {
            return connection.connectionErrors.compactMap { ($0.error as? IOError)?.errnoCode }
        }
        return [(error as? IOError)?.errnoCode].compactMap { $0 }
    }

    static func openDataChannel(
        host: String,
        port: Int,
        session: TLSSession?,
        makeEngine: @escaping @Sendable (TLSSession?) throws(TLSFailure) -> any TLSEngine,
        deadline: Double,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<DataChannelResult> {
        let promise = eventLoop.makePromise(of: DataChannelResult.self)
        let limit = TimeAmount.milliseconds(Int64(deadline * 1000))
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(limit)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = TLSEngineHandler(engine: try makeEngine(session))
                    try channel.pipeline.syncOperations.addHandlers([
                        QuickAckHandler(), tls, DataChannelHandler(promise: promise, tls: tls, deadline: limit),
                    ])
                }
            }
        bootstrap.connect(literalOrHost: host, port: port).whenFailure { error in
            promise.succeed(DataChannelResult(handshake: nil, failure: "data channel connect: \(error)", bytes: 0))
        }
        return promise.futureResult
    }
}

extension ClientBootstrap {
    /// Connects straight to an address literal (a probe's usual 127.0.0.1 or ::1); a name goes through NIO's
    /// resolver. `connect(host:port:)` resolves even a literal with getaddrinfo on a dispatch queue and races the
    /// answers (Happy Eyeballs): two thread hops before the first SYN, about a millisecond of a probe.
    func connect(literalOrHost host: String, port: Int) -> EventLoopFuture<any Channel> {
        if let address = try? SocketAddress(ipAddress: host, port: port) { return connect(to: address) }
        return connect(host: host, port: port)
    }
}

extension ProbeReport {
    fileprivate func eventLoopFuture(on group: any EventLoopGroup) -> EventLoopFuture<ProbeReport> {
        group.any().makeSucceededFuture(self)
    }
}

/// The TLS contexts of one probe's connections (`Prober.probeFuture(_:options:contexts:)`), one per backend, each
/// made by whoever asks first: the connection as its handshake starts, or `make()` beforehand on the caller's
/// thread, which `mimic probe`'s main thread calls while the connections speak their plaintext dialog on the loops.
/// A context that cannot be made is reported by its connection, as when the connection makes it.
public final class ProbeContexts: Sendable {
    fileprivate let byBackend: [TLSBackend: LazyContext]
    private let order: [TLSBackend]

    public init(_ target: ProbeTarget, options: ProbeOptions) {
        order = options.client.backends
        let configuration = Prober.configuration(target, options: options)
        byBackend = Dictionary(
            order.map { ($0, LazyContext(backend: $0, configuration: configuration)) }, uniquingKeysWith: { a, _ in a })
    }

    /// Makes each backend's context now, in the order of the backends, unless made already.
    public func make() {
        for backend in order { _ = try? byBackend[backend]?.get() }
    }

    /// Whether `backend`'s context has been made (or has failed), by `make()` or by its connection.
    func isMade(_ backend: TLSBackend) -> Bool { byBackend[backend]?.isMade ?? false }
}

/// A connection's TLS context, made by the first `get()` (on the connection's loop, as the handshake starts, or
/// ahead of it through `ProbeContexts`) and kept for the connections that follow it (an FTP data channel), or the
/// reason it could not be made. A `get()` while another thread makes it waits for that one, asleep
/// (`SleepingMutex`: making OpenSSL's first context takes two milliseconds).
private final class LazyContext: Sendable {
    private let backend: TLSBackend
    private let configuration: MimicTLSConfiguration
    private let made = SleepingMutex<Result<any TLSContext, TLSFailure>?>(nil)

    init(backend: TLSBackend, configuration: MimicTLSConfiguration) {
        self.backend = backend
        self.configuration = configuration
    }

    func get() throws(TLSFailure) -> any TLSContext {
        let result = made.withLock { made in
            if let made { return made }
            let result = Result { () throws(TLSFailure) in
                try TLSBackends.makeContext(backend, configuration: configuration)
            }
            made = result
            return result
        }
        return try result.get()
    }

    /// Whether `get()` has made the context or failed to.
    var isMade: Bool { made.withLock { $0 != nil } }

    /// Why the context could not be made, once `get()` has been called and failed.
    var failure: TLSFailure? {
        made.withLock { made in
            guard case .failure(let failure)? = made else { return nil }
            return failure
        }
    }
}
