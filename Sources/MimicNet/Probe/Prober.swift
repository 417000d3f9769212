import Foundation
import MimicCerts
import MimicCore
import MimicDialogs
import MimicTLS
import NIOCore
import NIOPosix

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
        let (first, session) = await connection(target, backend: backend, options: options, resuming: nil)
        guard options.checkResumption, first.handshake?.completed == true else { return first }
        var report = first
        guard let session else {
            report.resumption = false
            return report
        }
        var again = options
        again.ftpDataChannel = false
        let (second, _) = await connection(target, backend: backend, options: again, resuming: session)
        report.resumption = second.handshake?.completed == true ? second.handshake?.sessionResumed : nil
        return report
    }

    private func connection(
        _ target: ProbeTarget, backend: TLSBackend, options: ProbeOptions, resuming: TLSSession?
    ) async -> (ProbeReport, TLSSession?) {
        let started = Date()
        var report = ProbeReport(
            target: target,
            backend: backend,
            libraryVersion: TLSBackends.libraryVersion(backend),
            startedAt: started,
            timings: [],
            transcript: [],
            findings: []
        )
        let tlsContext: any TLSContext
        do {
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
            tlsContext = try TLSBackends.makeContext(backend, configuration: configuration)
        } catch {
            report.findings.append(
                Finding(.handshakeFailure, severity: .unknown, phase: .handshake, evidence: "\(error)"))
            return (report, nil)
        }
        let makeEngine: @Sendable (TLSSession?) throws(TLSFailure) -> any TLSEngine = { session throws(TLSFailure) in
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
        let eventLoop = group.next()
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
        do {
            _ = try await bootstrap.connect(literalOrHost: target.host, port: target.port).get()
        } catch {
            promise.fail(error)
            let elapsed = Double((NIODeadline.now() - connectStarted).nanoseconds) / 1e6
            report.timings = [ProbeReport.Timing(phase: .connect, milliseconds: elapsed)]
            report.findings = [Self.connectFinding(error, target: target)]
            return (report, nil)
        }
        let outcome: ProbeOutcome
        do {
            outcome = try await promise.futureResult.get()
        } catch {
            report.findings = [Finding(.closed, severity: .unknown, phase: .connect, evidence: "\(error)")]
            return (report, nil)
        }
        let assembled = ProbeVerdict.assemble(report, outcome: outcome, options: options)
        return (await explainSilentGreeting(assembled, options: options), outcome.session)
    }

    /// A STARTTLS port that says nothing may be an implicit-TLS port waiting for a ClientHello (a monitor
    /// configured for the wrong mode). One more connection that opens with a ClientHello tells the two apart.
    private func explainSilentGreeting(_ report: ProbeReport, options: ProbeOptions) async -> ProbeReport {
        guard report.target.mode == .startTLS,
            let index = report.findings.firstIndex(where: { $0.code == .timeout && $0.phase == .greeting })
        else { return report }
        var implicitTarget = report.target
        implicitTarget.mode = .implicit
        var quick = options
        quick.deadlines = ProbeDeadlines(
            connect: options.deadlines.connect, reply: 2, handshake: min(options.deadlines.handshake, 5),
            overall: min(options.deadlines.overall, 10))
        quick.ftpDataChannel = false
        quick.checkResumption = false
        let second = await probe(implicitTarget, backend: report.backend, options: quick)
        guard let handshake = second.handshake, handshake.completed else { return report }
        var explained = report
        explained.findings[index] = Finding(
            .modeMismatch, phase: .greeting,
            evidence: "no greeting in STARTTLS mode, but the port completes a TLS handshake "
                + "(\(handshake.negotiatedVersion?.displayName ?? "TLS")): it speaks implicit TLS",
            source: report.backend.rawValue)
        return explained
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
