import MimicCore
import MimicTLS

/// Step 3 of an enumeration for one chain — one backend, one accepted version, one authentication kind the server
/// took — without a connection per suite: every suite not yet decided is offered at once, the one the server picks
/// is accepted and left out of the next offer, and a refusal ends the chain (none of the rest is accepted). A
/// server accepting n suites of the kind costs n + 1 connections instead of one per suite the library has.
///
/// What it records is what offering each suite alone would have recorded; where an answer does not tell that for
/// sure (the server picked a suite it already picked, or one the chain cannot name; a handshake failed and it
/// cannot be told whether the server had chosen), the chain falls back to the rest one by one (`fallback`).
///
/// No I/O: the enumerator makes each offer and hands the answer back.
struct SuiteElimination {
    /// A single-suite answer, as the one-by-one method records it: the handshake when accepted, nil when refused.
    typealias Record = (candidate: TLSSuiteCandidate, handshake: HandshakeReport?)

    let backend: TLSBackend
    let version: MimicTLSVersion
    /// Not yet decided, in the library's order.
    private(set) var remaining: [TLSSuiteCandidate]
    /// Set when the answers stopped telling single-suite results: `remaining` is to be offered one by one.
    private(set) var fallback = false
    /// Suites the server picked (accepted or failed after): offered again, it may pick them again.
    private var picked: [TLSSuiteCandidate] = []

    init(backend: TLSBackend, version: MimicTLSVersion, suites: [TLSSuiteCandidate]) {
        self.backend = backend
        self.version = version
        self.remaining = suites
    }

    /// The suites to offer next; nil when the chain is done or falls back to one by one.
    ///
    /// OpenSSL offers exactly its list. GnuTLS offers every suite of its table whose cipher, MAC and key exchange
    /// keywords are all in the priority string: the offer leaves out any suite that would bring a picked one back.
    func nextOffer() -> [TLSSuiteCandidate]? {
        guard !fallback, !remaining.isEmpty else { return nil }
        guard backend == .gnutls, !picked.isEmpty else { return remaining }
        var offer: [TLSSuiteCandidate] = []
        var keywords: [Set<String>] = [[], [], []]
        for suite in remaining {
            var trial = keywords
            for (index, keyword) in suite.offer.prefix(3).enumerated() { trial[index].insert(keyword) }
            let bringsBack = picked.contains { old in
                old.offer.prefix(3).enumerated().allSatisfy { trial[$0.offset].contains($0.element) }
            }
            if !bringsBack {
                offer.append(suite)
                keywords = trial
            }
        }
        // A suite's own keywords offer that suite alone: something is always offered.
        return offer.isEmpty ? [remaining[0]] : offer
    }

    /// The rest is to be offered one by one.
    mutating func fallBack() { fallback = true }

    /// Step 2's answer to the whole kind at once (a superset of `remaining`) is this chain's first answer when
    /// the server completed it with a suite the chain can name; anything else tells nothing here.
    mutating func primed(with handshake: HandshakeReport) -> [Record] {
        guard handshake.completed, let name = handshake.cipherSuite,
            let chosen = remaining.firstIndex(where: { Self.names($0).contains(name) })
        else { return [] }
        let suite = remaining.remove(at: chosen)
        picked.append(suite)
        return [(suite, handshake)]
    }

    /// The answer to `offered` (what `nextOffer()` returned); returns what to record. `handshake` is the connection's, also when it failed.
    mutating func answered(
        _ offered: [TLSSuiteCandidate], completed: Bool, handshake: HandshakeReport?
    ) -> [Record] {
        // One suite offered: the answer is the one-by-one answer itself.
        if offered.count == 1, let only = offered.first, let index = remaining.firstIndex(of: only) {
            remaining.remove(at: index)
            if completed { picked.append(only) }
            return [(only, completed ? handshake : nil)]
        }
        let chosen = handshake?.cipherSuite.flatMap { name in remaining.firstIndex { Self.names($0).contains(name) } }
        if completed {
            guard let chosen else {
                fallback = true
                return []
            }
            let suite = remaining.remove(at: chosen)
            picked.append(suite)
            return [(suite, handshake)]
        }
        if let chosen {
            // The server chose, then the handshake failed (the client refused its key exchange, say): offered
            // alone the suite fails the same way.
            let suite = remaining.remove(at: chosen)
            picked.append(suite)
            return [(suite, nil)]
        }
        // No suite known and a fatal alert from the server: refused at the ClientHello (GnuTLS reports the offered
        // version before any ServerHello, so the version tells nothing).
        guard let handshake, handshake.cipherSuite == nil, handshake.alertReceived?.fatal == true else {
            // The server may have chosen a suite the chain cannot name, or the connection ended with no answer
            // to the offer: only single offers tell.
            fallback = true
            return []
        }
        // None of the offered suites is taken.
        let refused = remaining.filter { offered.contains($0) }
        remaining.removeAll { offered.contains($0) }
        return refused.map { ($0, nil) }
    }

    /// The names a handshake may report for `suite`: the IANA name (what both libraries report for a negotiated
    /// suite) and the library's own.
    static func names(_ suite: TLSSuiteCandidate) -> [String] {
        switch suite.backend {
        case .openssl: [suite.name]
        case .gnutls: [ianaName(gnuTLS: suite), suite.name]
        }
    }

    /// GnuTLS names its table's suites `TLS_RSA_AES_128_CBC_SHA1` and reports a negotiated one by its IANA name,
    /// `TLS_RSA_WITH_AES_128_CBC_SHA`. OpenSSL's table knows the IANA name of every code it shares; the rest (3DES,
    /// RC4, Camellia-GCM) is spelt by IANA's rule. A name that comes out wrong only matches nothing, and the chain
    /// falls back to one by one.
    static func ianaName(gnuTLS suite: TLSSuiteCandidate) -> String {
        openSSLNames[suite.code] ?? ianaSpelling(gnuTLSName: suite.name)
    }

    /// IANA's spelling of a GnuTLS suite name: `TLS_<key exchange>_WITH_<cipher>_<MAC>`, `DH_anon` for
    /// `DH_ANON`, `RC4` for `ARCFOUR`, `SHA` for `SHA1`. TLS 1.3 names are the same in both.
    static func ianaSpelling(gnuTLSName name: String) -> String {
        var parts = name.split(separator: "_").map(String.init)
        guard parts.count > 3, parts[0] == "TLS" else { return name }
        parts.removeFirst()
        guard ["RSA", "DHE", "ECDHE", "DH", "ECDH"].contains(parts[0]) else { return name }
        var exchange = [parts.removeFirst()]
        if parts[0] == "ANON" {
            parts.removeFirst()
            exchange.append("anon")
        } else if exchange != ["RSA"], ["RSA", "DSS", "ECDSA"].contains(parts[0]) {
            exchange.append(parts.removeFirst())
        }
        let spelt = parts.map { part in
            switch part {
            case "ARCFOUR": "RC4"
            case "SHA1": "SHA"
            default: part
            }
        }
        return "TLS_" + exchange.joined(separator: "_") + "_WITH_" + spelt.joined(separator: "_")
    }

    private static let openSSLNames: [UInt16: String] = Dictionary(
        TLSBackends.offerableSuites(.openssl).map { ($0.code, $0.name) }, uniquingKeysWith: { first, _ in first })
}
