import Foundation
import MimicCore
import MimicTLS
import NIOCore
import Synchronization

/// Enumerates what a server accepts: per backend, the versions (TLS 1.0–1.3), the suites at each accepted version,
/// the groups, and whether the server enforces its own order. Each offer is one short connection through the same
/// protocol dialog as a probe (an SMTP STARTTLS enumeration speaks SMTP every time), at most `concurrency` at once.
///
/// A connection that does not reach the handshake (refused, a "too many connections" greeting, a reset or a
/// silence) means the server stopped answering: no more offers are made, and the result holds what was found so far
/// with a note saying why.
public struct Enumerator: Sendable {
    public var prober: Prober
    /// Connections at once, over every backend.
    public var concurrency: Int

    public init(prober: Prober = Prober(), concurrency: Int = 4) {
        self.prober = prober
        self.concurrency = max(1, concurrency)
    }

    /// One connection's offer and what it is for.
    struct Job: Sendable {
        enum Purpose: Sendable {
            case version(MimicTLSVersion)
            case suite(MimicTLSVersion, TLSSuiteCandidate)
            /// Every suite of one authentication kind at once: only kinds the server takes are tried one by one.
            case authentication(MimicTLSVersion, String)
            case group(String)
            case order(first: Bool)
        }
        var backend: TLSBackend
        var offer: ProbeOffer
        var purpose: Purpose

        /// A group offered at TLS 1.3 ends at the server's hello (``ProbeOptions/stopAtServerHello``), which names the
        /// group the server took; before TLS 1.3 the hello does not, so the handshake goes on.
        var stopAtServerHello: Bool {
            guard case .group = purpose else { return false }
            return offer.maximumVersion == .tls1_3
        }
    }

    /// What one connection's answer was.
    enum Answer: Sendable {
        case accepted(HandshakeReport)
        case rejected
        /// The server did not let the offer be made: what it did instead.
        case stopped(Finding)
    }

    public func enumerate(_ target: ProbeTarget, options base: ProbeOptions) async -> EnumerationResult {
        let started = NIODeadline.now()
        var options = base
        options.ftpDataChannel = false
        var state = State(backends: base.client.backends)

        // 1. Versions: everything the library can offer, one version at a time.
        var jobs: [Job] = []
        for backend in base.client.backends {
            for version in MimicTLSVersion.allCases {
                jobs.append(Job(backend: backend, offer: .everything(backend, at: version), purpose: .version(version)))
            }
        }
        await run(jobs, target: target, options: options, state: &state)

        // 2. At each accepted version, every suite of one authentication kind at once (a server with an EC key
        // takes no RSA-signed suite), and the groups at the highest version.
        jobs = []
        for backend in base.client.backends {
            let candidates = TLSBackends.offerableSuites(backend)
            for version in state.accepted[backend, default: []].sorted() {
                let usable = candidates.filter { $0.usable(at: version) }
                for kind in Self.authenticationKinds(usable) {
                    let suites = usable.filter { Self.authentication($0) == kind }
                    jobs.append(
                        Job(
                            backend: backend, offer: .suites(suites, backend: backend, at: version),
                            purpose: .authentication(version, kind)))
                }
            }
            if let top = state.accepted[backend]?.max() {
                // At TLS 1.3 each ends at the server's hello (`Job.stopAtServerHello`): the key exchange after it (for
                // the finite-field groups, modular exponentiations of 2048 to 4096 bits on both sides, and a check of
                // the server's share) was most of an enumeration's time and says nothing the hello has not.
                for group in TLSGroups.known {
                    jobs.append(
                        Job(
                            backend: backend, offer: .everything(backend, at: top, groups: [group]),
                            purpose: .group(group)))
                }
            }
        }
        await run(jobs, target: target, options: options, state: &state)

        // 3. The suites of each kind the server took, by elimination (`SuiteElimination`): step 2's answer first,
        // then the rest at once until the server refuses; what the answers cannot tell, one suite at a time.
        var chains: [SuiteElimination] = []
        for backend in base.client.backends {
            let candidates = TLSBackends.offerableSuites(backend)
            for version in state.accepted[backend, default: []].sorted() {
                let usable = candidates.filter { $0.usable(at: version) }
                var offerable: [String: [TLSSuiteCandidate]] = [:]
                for candidate in usable {
                    let kind = Self.authentication(candidate)
                    guard state.authenticationTaken[backend, default: []].contains("\(version.rawValue) \(kind)") else {
                        state.skipped(backend, version, candidate)
                        continue
                    }
                    // An offer the library cannot build (a suite its build lacks) is no connection.
                    let alone = Job(
                        backend: backend, offer: .suites([candidate], backend: backend, at: version),
                        purpose: .suite(version, candidate))
                    if let problem = Self.unbuildable(alone, target: target) {
                        state.notOfferable(alone, problem)
                    } else {
                        offerable[kind, default: []].append(candidate)
                    }
                }
                for kind in Self.authenticationKinds(usable) {
                    guard let suites = offerable[kind] else { continue }
                    var chain = SuiteElimination(backend: backend, version: version, suites: suites)
                    if let taken = state.authenticationAnswers[backend]?["\(version.rawValue) \(kind)"] {
                        state.record(chain.primed(with: taken), backend: backend, version: version)
                    }
                    chains.append(chain)
                }
            }
        }
        jobs = await eliminate(chains, target: target, options: options, state: &state)
        await run(jobs, target: target, options: options, state: &state)

        // 4. Order: two accepted suites offered one way, then the other.
        jobs = []
        for backend in base.client.backends {
            let byVersion = state.acceptedSuites(backend)
            guard
                let version = [MimicTLSVersion.tls1_2, .tls1_3, .tls1_1, .tls1_0].first(where: {
                    byVersion[$0, default: []].count >= 2
                })
            else { continue }
            let pair = Array(byVersion[version, default: []].prefix(2))
            jobs.append(
                Job(backend: backend, offer: .suites(pair, backend: backend, at: version), purpose: .order(first: true))
            )
            jobs.append(
                Job(
                    backend: backend, offer: .suites(pair.reversed(), backend: backend, at: version),
                    purpose: .order(first: false)))
        }
        await run(jobs, target: target, options: options, state: &state)

        let elapsed = Double((NIODeadline.now() - started).nanoseconds) / 1e6
        return state.result(concurrency: concurrency, milliseconds: elapsed)
    }

    /// Runs `jobs`, at most `concurrency` at once; stops launching once the server stopped answering.
    private func run(_ jobs: [Job], target: ProbeTarget, options: ProbeOptions, state: inout State) async {
        guard state.stopReason == nil, !jobs.isEmpty else { return }
        let prober = self.prober
        await withTaskGroup(of: (Int, Answer?).self) { tasks in
            var next = 0
            func launch() {
                guard next < jobs.count, state.stopReason == nil else { return }
                let index = next
                next += 1
                let job = jobs[index]
                // An offer the library cannot build (a suite its build lacks) is no connection.
                if let problem = Self.unbuildable(job, target: target) {
                    state.notOfferable(job, problem)
                    tasks.addTask { (index, nil) }
                    return
                }
                state.connections[job.backend, default: 0] += 1
                tasks.addTask {
                    var offered = options
                    offered.offer = job.offer
                    offered.stopAtServerHello = job.stopAtServerHello
                    let report = await prober.probe(target, backend: job.backend, options: offered)
                    return (index, Self.answer(report))
                }
            }
            for _ in 0..<concurrency { launch() }
            for await (index, answer) in tasks {
                if let answer { state.record(jobs[index], answer) }
                launch()
            }
        }
    }

    /// Runs the elimination chains, each one connection at a time, at most `concurrency` connections at once; stops
    /// launching once the server stopped answering. Returns what is left to offer one suite at a time.
    private func eliminate(
        _ chains: [SuiteElimination], target: ProbeTarget, options: ProbeOptions, state: inout State
    ) async -> [Job] {
        guard state.stopReason == nil else { return [] }
        var chains = chains
        let prober = self.prober
        await withTaskGroup(of: (Int, [TLSSuiteCandidate], ProbeReport).self) { tasks in
            /// Makes chain `index`'s next offer; false when it has none.
            func launch(_ index: Int) -> Bool {
                guard state.stopReason == nil, let offer = chains[index].nextOffer(), let first = offer.first else {
                    return false
                }
                let chain = chains[index]
                let job = Job(
                    backend: chain.backend, offer: .suites(offer, backend: chain.backend, at: chain.version),
                    purpose: .suite(chain.version, first))
                // Every suite was built alone; a list that cannot be built is left to the single offers.
                if offer.count > 1, Self.unbuildable(job, target: target) != nil {
                    chains[index].fallBack()
                    return false
                }
                state.connections[chain.backend, default: 0] += 1
                tasks.addTask {
                    var offered = options
                    offered.offer = job.offer
                    return (index, offer, await prober.probe(target, backend: job.backend, options: offered))
                }
                return true
            }
            var next = 0
            func launchNextChain() {
                while next < chains.count {
                    next += 1
                    if launch(next - 1) { return }
                }
            }
            for _ in 0..<concurrency { launchNextChain() }
            for await (index, offered, report) in tasks {
                let chain = chains[index]
                switch Self.answer(report) {
                case .stopped(let finding):
                    let job = Job(
                        backend: chain.backend, offer: .suites(offered, backend: chain.backend, at: chain.version),
                        purpose: .suite(chain.version, offered[0]))
                    state.record(job, .stopped(finding))
                case .accepted(let handshake):
                    let records = chains[index].answered(offered, completed: true, handshake: handshake)
                    state.record(records, backend: chain.backend, version: chain.version)
                case .rejected:
                    let records = chains[index].answered(offered, completed: false, handshake: report.handshake)
                    state.record(records, backend: chain.backend, version: chain.version)
                }
                if !launch(index) { launchNextChain() }
            }
        }
        guard state.stopReason == nil else { return [] }
        return chains.filter(\.fallback).flatMap { chain in
            chain.remaining.map { candidate in
                Job(
                    backend: chain.backend, offer: .suites([candidate], backend: chain.backend, at: chain.version),
                    purpose: .suite(chain.version, candidate))
            }
        }
    }

    /// Whether the backend can build this offer at all (a context is cheap; a connection is not).
    static func unbuildable(_ job: Job, target: ProbeTarget) -> String? {
        // The same offers recur in every enumeration of a run (a scenario library enumerates dozens of mocks).
        let key = OfferKey(backend: job.backend, offer: job.offer, serverName: target.sniName)
        if let known = offerProblems.withLock({ $0[key] }) { return known }
        var configuration = MimicTLSConfiguration(role: .client, serverName: target.sniName, verifyPeer: false)
        job.offer.apply(to: &configuration)
        let problem: String?
        do {
            _ = try TLSBackends.makeContext(job.backend, configuration: configuration)
            problem = nil
        } catch {
            problem = "\(error)"
        }
        offerProblems.withLock { known in
            if known.count >= 20_000 { known.removeAll() }
            known[key] = problem
        }
        return problem
    }

    private struct OfferKey: Hashable {
        var backend: TLSBackend
        var offer: ProbeOffer
        var serverName: String?
    }

    /// What `unbuildable` found per offer, nil for one that builds; bounded.
    private static let offerProblems = Mutex<[OfferKey: String?]>([:])

    /// The kind of server key a suite needs, from its name: `ECDSA`, `RSA`, `DSS`, `anon`; `any` for TLS 1.3.
    static func authentication(_ suite: TLSSuiteCandidate) -> String {
        guard suite.minimumVersion < .tls1_3 else { return "any" }
        let name = suite.name.uppercased()
        if name.contains("ANON") { return "anon" }
        if name.contains("_ECDSA_") { return "ECDSA" }
        if name.contains("_DSS_") { return "DSS" }
        if name.contains("_PSK_") { return "PSK" }
        return "RSA"
    }

    static func authenticationKinds(_ suites: [TLSSuiteCandidate]) -> [String] {
        var kinds: [String] = []
        for suite in suites where !kinds.contains(authentication(suite)) { kinds.append(authentication(suite)) }
        return kinds
    }

    static func answer(_ report: ProbeReport) -> Answer {
        if let handshake = report.handshake {
            if handshake.completed || handshake.endedAtServerHello { return .accepted(handshake) }
            // A handshake that was never answered is a server gone quiet, not a refusal of the offer.
            if let timeout = report.findings.first(where: { $0.code == .timeout }) { return .stopped(timeout) }
            return .rejected
        }
        let finding = report.findings.first { $0.code != .startTLSStillAdvertised }
        return .stopped(finding ?? Finding(.closed, phase: .handshake, evidence: "no handshake"))
    }
}

extension Enumerator {
    /// What the enumeration found so far.
    struct State {
        var backends: [TLSBackend]
        var accepted: [TLSBackend: Set<MimicTLSVersion>] = [:]
        var versionsTried: [TLSBackend: Set<MimicTLSVersion>] = [:]
        var suites: [TLSBackend: [MimicTLSVersion: [(TLSSuiteCandidate, HandshakeReport?)]]] = [:]
        var groupsTried: [TLSBackend: [String]] = [:]
        var groupsAccepted: [TLSBackend: [String]] = [:]
        var orderPicks: [TLSBackend: [Bool: String]] = [:]
        var connections: [TLSBackend: Int] = [:]
        var cannotOffer: [TLSBackend: [String]] = [:]
        var stopReason: String?
        var stopFinding: Finding?
        /// `"1.2 ECDSA"`: authentication kinds the server took, per version.
        var authenticationTaken: [TLSBackend: Set<String>] = [:]
        /// The handshake that took each of them (the first answer of its elimination chain).
        var authenticationAnswers: [TLSBackend: [String: HandshakeReport]] = [:]

        /// A suite not tried alone because the server took none of its kind: refused all the same.
        mutating func skipped(_ backend: TLSBackend, _ version: MimicTLSVersion, _ candidate: TLSSuiteCandidate) {
            suites[backend, default: [:]][version, default: []].append((candidate, nil))
        }

        init(backends: [TLSBackend]) { self.backends = backends }

        mutating func notOfferable(_ job: Job, _ problem: String) {
            switch job.purpose {
            case .suite(let version, let candidate):
                cannotOffer[job.backend, default: []].append("\(candidate.libraryName) at \(version.displayName)")
            case .version(let version):
                cannotOffer[job.backend, default: []].append("\(version.displayName): \(problem)")
            case .group(let group):
                cannotOffer[job.backend, default: []].append("group \(group)")
            case .order, .authentication:
                break
            }
        }

        mutating func record(_ job: Job, _ answer: Answer) {
            if case .stopped(let finding) = answer {
                if stopReason == nil {
                    let made = connections.values.reduce(0, +)
                    stopReason =
                        "enumeration incomplete: the server stopped answering after \(made) connection(s) "
                        + "(\(job.backend.rawValue): \(finding.code) [\(finding.phase)]: \(finding.evidence)); "
                        + "the results are those found so far"
                    // UNKNOWN: what the server accepts could not be told, whatever stopped it.
                    stopFinding = Finding(
                        finding.code, severity: .unknown, phase: .enumeration, evidence: stopReason ?? "",
                        source: job.backend.rawValue, rawCode: finding.rawCode)
                }
                return
            }
            let handshake: HandshakeReport? = if case .accepted(let report) = answer { report } else { nil }
            switch job.purpose {
            case .version(let version):
                versionsTried[job.backend, default: []].insert(version)
                if let handshake, handshake.negotiatedVersion == version {
                    accepted[job.backend, default: []].insert(version)
                }
            case .suite(let version, let candidate):
                suites[job.backend, default: [:]][version, default: []].append((candidate, handshake))
            case .authentication(let version, let kind):
                if let handshake {
                    authenticationTaken[job.backend, default: []].insert("\(version.rawValue) \(kind)")
                    authenticationAnswers[job.backend, default: [:]]["\(version.rawValue) \(kind)"] = handshake
                }
            case .group(let group):
                groupsTried[job.backend, default: []].append(group)
                if let handshake, handshake.keyExchangeGroup?.lowercased() == group {
                    groupsAccepted[job.backend, default: []].append(group)
                }
            case .order(let first):
                if let suite = handshake?.cipherSuite { orderPicks[job.backend, default: [:]][first] = suite }
            }
        }

        /// Single-suite answers an elimination chain told.
        mutating func record(_ records: [SuiteElimination.Record], backend: TLSBackend, version: MimicTLSVersion) {
            for (candidate, handshake) in records {
                suites[backend, default: [:]][version, default: []].append((candidate, handshake))
            }
        }

        /// The accepted candidates per version, in the library's order.
        func acceptedSuites(_ backend: TLSBackend) -> [MimicTLSVersion: [TLSSuiteCandidate]] {
            var out: [MimicTLSVersion: [TLSSuiteCandidate]] = [:]
            for (version, results) in suites[backend, default: [:]] {
                out[version] = ordered(results, backend: backend).filter { $0.1 != nil }.map(\.0)
            }
            return out
        }

        private func ordered(
            _ results: [(TLSSuiteCandidate, HandshakeReport?)], backend: TLSBackend
        )
            -> [(TLSSuiteCandidate, HandshakeReport?)]
        {
            let table = TLSBackends.offerableSuites(backend).map(\.code)
            return results.sorted { (table.firstIndex(of: $0.0.code) ?? 0) < (table.firstIndex(of: $1.0.code) ?? 0) }
        }

        func result(concurrency: Int, milliseconds: Double) -> EnumerationResult {
            var reports: [EnumerationReport] = []
            for backend in backends {
                var versions: [EnumerationReport.VersionResult] = []
                for version in MimicTLSVersion.allCases where versionsTried[backend, default: []].contains(version) {
                    let tried = ordered(suites[backend, default: [:]][version, default: []], backend: backend)
                    versions.append(
                        EnumerationReport.VersionResult(
                            version: version, accepted: accepted[backend, default: []].contains(version),
                            suites: tried.map { candidate, handshake in
                                let name = handshake?.cipherSuite ?? candidate.name
                                return EnumerationReport.Suite(
                                    code: candidate.codeText, name: name, accepted: handshake != nil,
                                    weakness: TLSSuiteTraits.weakness(name),
                                    forwardSecret: TLSSuiteTraits.isForwardSecret(name))
                            }))
                }
                var order: Bool?
                if let picks = orderPicks[backend], let one = picks[true], let other = picks[false] {
                    order = one == other
                }
                var report = EnumerationReport(
                    backend: backend, libraryVersion: TLSBackends.libraryVersion(backend), versions: versions,
                    groupsTried: groupsTried[backend, default: []],
                    groupsAccepted: TLSGroups.known.filter { groupsAccepted[backend, default: []].contains($0) },
                    serverOrder: order, connections: connections[backend, default: 0],
                    notOfferable: cannotOffer[backend, default: []], findings: [])
                report.findings = EnumerationFindings.findings(report)
                if var stopFinding {
                    stopFinding.source = backend.rawValue
                    report.findings.append(stopFinding)
                }
                reports.append(report)
            }
            var notes: [String] = []
            if let stopReason { notes.append(stopReason) }
            return EnumerationResult(
                reports: reports, complete: stopReason == nil,
                disagreements: EnumerationFindings.disagreements(reports), notes: notes,
                connections: connections.values.reduce(0, +), concurrency: concurrency, milliseconds: milliseconds)
        }
    }
}
