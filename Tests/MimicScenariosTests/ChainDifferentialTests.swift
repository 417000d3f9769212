import Foundation
import MimicCerts
import MimicCore
import MimicScenarios
import MimicTLS
import MimicTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `mimic verify --policy strict` against the libraries' own command-line tools, run with exactly the reference
/// flags, on chains the factory mints with every knob: each backend must accept or reject exactly as its own
/// library's CLI does.
///
/// OpenSSL: `openssl verify -no-CApath -no-CAstore -CAfile ROOTS -untrusted REST -x509_strict -partial_chain
/// -auth_level 2 -purpose sslserver -verify_hostname H LEAF`; GnuTLS: `certtool --verify --verify-profile=medium
/// --verify-purpose=1.3.6.1.5.5.7.3.1 --verify-hostname=H --load-ca-certificate=ROOTS --infile CHAIN`.
@Suite("Chains: mimic verify --policy strict agrees with openssl verify and certtool")
struct ChainDifferentialTests {
    /// One chain: a spec (YAML), the host to check, and the trust anchors by name (`local-ca` is the factory's CA).
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var yaml: String
        var host: String = "mail.example.test"
        var roots: [String] = ["local-ca"]
        /// Verify at this many seconds from now (`-attime` for OpenSSL, certtool under faketime); nil = now.
        var at: Int? = nil
        var description: String { name }
    }

    /// A CA under the local CA and a leaf under it, each with extra spec lines, served as `serve`.
    static func twoLevel(
        _ name: String,
        leaf: String = "",
        intermediate: String = "",
        serve: String = "[leaf, int]",
        extra: String = "",
        host: String = "mail.example.test",
        roots: [String] = ["local-ca"]
    ) -> Case {
        let intermediateLines = merge(
            [("name", "int"), ("issuer", "local-ca"), ("ca", "true"), ("not_before", "-30d"), ("not_after", "+1y")],
            intermediate
        )
        let leafLines = merge([("name", "leaf"), ("issuer", "int"), ("sans", "[dns:mail.example.test]")], leaf)
        let yaml = "certificates:\n" + intermediateLines + leafLines + extra + "serve: \(serve)\n"
        return Case(name: name, yaml: yaml, host: host, roots: roots)
    }

    /// One certificate's YAML list item: the defaults in order, each replaced by an override of the same key,
    /// then the overrides with new keys.
    private static func merge(_ defaults: [(String, String)], _ overrides: String) -> String {
        var pairs = defaults
        for line in overrides.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            if let index = pairs.firstIndex(where: { $0.0 == key }) {
                pairs[index].1 = value
            } else {
                pairs.append((key, value))
            }
        }
        return pairs.enumerated().map { index, pair in
            (index == 0 ? "  - " : "    ") + "\(pair.0): \(pair.1)\n"
        }.joined()
    }

    static let cases: [Case] =
        [
            twoLevel("good"),
            twoLevel("wrong-host", host: "other.example.test"),
            twoLevel("ip-host-against-dns-san", host: "127.0.0.1"),
            twoLevel("ip-san", leaf: "sans: [ip:127.0.0.1]", host: "127.0.0.1"),
            twoLevel("wildcard", leaf: "sans: [dns:*.example.test]"),
            twoLevel("partial-wildcard", leaf: "sans: [dns:m*.example.test]"),
            twoLevel("wildcard-too-deep", leaf: "sans: [dns:*.test]"),
            twoLevel("expired-leaf", leaf: "not_before: -60d\nnot_after: -1d"),
            twoLevel("not-yet-valid-leaf", leaf: "not_before: +1d\nnot_after: +60d"),
            twoLevel("expired-intermediate", intermediate: "not_after: -1d"),
            twoLevel("leaf-missing-aki", leaf: "authority_key_id: false"),
            twoLevel("leaf-missing-ski", leaf: "subject_key_id: false"),
            twoLevel("intermediate-missing-aki", intermediate: "authority_key_id: false"),
            twoLevel("intermediate-missing-ski", intermediate: "subject_key_id: false"),
            twoLevel("intermediate-basic-constraints-non-critical", intermediate: "basic_constraints: non-critical"),
            twoLevel("intermediate-without-basic-constraints", intermediate: "basic_constraints: absent"),
            twoLevel("leaf-basic-constraints-non-critical", leaf: "basic_constraints: non-critical"),
            twoLevel("leaf-without-basic-constraints", leaf: "basic_constraints: absent"),
            twoLevel("leaf-with-key-cert-sign", leaf: "key_usage: [digitalSignature, keyCertSign]"),
            twoLevel("intermediate-without-key-usage", intermediate: "key_usage: []"),
            twoLevel("leaf-without-key-usage", leaf: "key_usage: []"),
            twoLevel("intermediate-empty-subject", intermediate: "subject: {}"),
            twoLevel("empty-subject-san-not-critical", leaf: "subject: {}\nsan_critical: false"),
            twoLevel("empty-subject-san-critical", leaf: "subject: {}"),
            twoLevel("san-critical-with-subject", leaf: "san_critical: true"),
            twoLevel("leaf-eku-client-only", leaf: "extended_key_usage: [clientAuth]"),
            twoLevel("leaf-without-eku", leaf: "extended_key_usage: []"),
            twoLevel("intermediate-not-ca", intermediate: "ca: false\nkey_usage: [keyCertSign]"),
            twoLevel("leaf-is-ca", leaf: "ca: true"),
            twoLevel("rsa1024-leaf", leaf: "key: rsa1024"),
            twoLevel("sha1-leaf", leaf: "signature: rsa-sha1", intermediate: "key: rsa2048\nsignature: ecdsa-sha256"),
            twoLevel("missing-intermediate", serve: "[leaf]"),
            twoLevel("reversed-with-root", serve: "[leaf, local-ca, int]"),
            twoLevel("root-served", serve: "[leaf, int, local-ca]"),
            twoLevel("intermediate-duplicated", serve: "[leaf, int, int]"),
            twoLevel("partial-chain-intermediate-trusted", roots: ["int"]),
            twoLevel("partial-chain-leaf-trusted", serve: "[leaf]", roots: ["leaf"]),
            twoLevel("no-trust-at-all", roots: []),
            twoLevel("unreadable-certificate-in-roots", roots: ["local-ca", "garbage"]),
            twoLevel(
                "path-length-exceeded",
                intermediate: "path_length: 0",
                serve: "[leaf2, sub, int]",
                extra: "  - name: sub\n    issuer: int\n    ca: true\n    not_before: -30d\n    not_after: +1y\n"
            ).renamed(leafIssuer: "sub"),
            twoLevel("self-signed-leaf", leaf: "issuer: self", serve: "[leaf]"),
            twoLevel("self-signed-leaf-trusted", leaf: "issuer: self", serve: "[leaf]", roots: ["leaf"]),
            crossSigned(served: "[leaf, int, root2-cross]", name: "cross-signed"),
            crossSigned(
                served: "[leaf, int, root2-self, root2-cross]", name: "cross-signed-with-untrusted-self-signed"),
            crossSigned(served: "[leaf, root2-cross, int]", name: "cross-signed-out-of-order"),
            twoLevel("too-long", serve: "[leaf, int" + String(repeating: ", int", count: 31) + "]"),
        ] + Malformation.allCases.map { twoLevel("leaf-\($0)", leaf: "malform: [\($0)]") } + [
            twoLevel("intermediate-negative-serial", intermediate: "malform: [negative-serial]"),
            twoLevel("intermediate-duplicate-extension", intermediate: "malform: [duplicate-extension]"),
            twoLevel("intermediate-truncated-key", intermediate: "malform: [truncated-key]"),
            twoLevel("intermediate-algorithm-mismatch", intermediate: "malform: [algorithm-mismatch]"),
            twoLevel("intermediate-oversized", intermediate: "malform: [oversized]"),
            twoLevel("leaf-zero-serial-missing-aki", leaf: "malform: [zero-serial]\nauthority_key_id: false"),
        ]

    /// The clock moved: `mimic verify --at` against `openssl verify -attime` and certtool under `faketime`.
    static let timedCases: [Case] = [
        twoLevel("expired-leaf-before-expiry", leaf: "not_before: -60d\nnot_after: -1d").at(-3 * 86_400),
        twoLevel("good-after-expiry", leaf: "not_after: +10d").at(20 * 86_400),
        twoLevel("not-yet-valid-later", leaf: "not_before: +1d\nnot_after: +60d").at(2 * 86_400),
        twoLevel("not-yet-valid-before", leaf: "not_before: -1d", intermediate: "not_before: -2d").at(-3 * 86_400),
        twoLevel("good-a-month-ago-intermediate-expired", intermediate: "not_after: -10d").at(-30 * 86_400),
    ]

    /// leaf ← int ← root2, where root2 exists twice with one key and subject: self-signed (not trusted) and
    /// cross-signed by the local CA (trusted).
    static func crossSigned(served: String, name: String) -> Case {
        Case(
            name: name,
            yaml: """
                certificates:
                  - name: root2-self
                    issuer: self
                    ca: true
                    subject: { common_name: Mimic Cross Root, organization: Mimic }
                    not_before: -30d
                    not_after: +1y
                  - name: root2-cross
                    issuer: local-ca
                    ca: true
                    same_key_as: root2-self
                    subject: { common_name: Mimic Cross Root, organization: Mimic }
                    not_before: -30d
                    not_after: +1y
                  - name: int
                    issuer: root2-self
                    ca: true
                    not_before: -30d
                    not_after: +1y
                  - name: leaf
                    issuer: int
                    sans: [dns:mail.example.test]
                serve: \(served)
                """
        )
    }

    /// Differences known and explained in certs/DIVERGENCES.md: case name → backend.
    static let knownDivergences: [String: Set<TLSBackend>] = [:]

    struct Outcome: Sendable {
        var opensslCLI: Bool
        var certtool: Bool
        var mimic: [TLSBackend: Bool]
        var verification: ChainVerification
    }

    static func run(_ testCase: Case) throws -> Outcome {
        let spec = try ChainSpec.parse(yaml: testCase.yaml)
        let minted = try Fixtures.factory.mint(spec, name: "diff-\(testCase.name)", hostname: testCase.host)
        let localCA = try Fixtures.factory.localCA().certificateDER
        // `garbage`: a DER SEQUENCE that is no certificate, which makes either CLI refuse the whole ROOTS file.
        let roots = testCase.roots.compactMap { name in
            name == "local-ca"
                ? localCA : name == "garbage" ? [0x30, 0x03, 0x02, 0x01, 0x01] : minted.certificates[name]
        }
        let directory = try ChainScratchFolder()
        defer { directory.remove() }
        let leaf = try directory.write("leaf.pem", [minted.served[0]])
        let rest = minted.served.count > 1 ? try directory.write("rest.pem", Array(minted.served.dropFirst())) : nil
        let chain = try directory.write("chain.pem", minted.served)
        let rootsFile = try directory.write("roots.pem", roots)

        let isIP = testCase.host.contains(":") || testCase.host.allSatisfy { $0.isNumber || $0 == "." }
        var opensslArguments = ["verify", "-no-CApath", "-no-CAstore"]
        opensslArguments += roots.isEmpty ? [] : ["-CAfile", rootsFile]
        opensslArguments += rest.map { ["-untrusted", $0] } ?? []
        opensslArguments += ["-x509_strict", "-partial_chain", "-auth_level", "2", "-purpose", "sslserver"]
        let time = testCase.at.map { Date().addingTimeInterval(TimeInterval($0)) }
        if let time { opensslArguments += ["-attime", String(Int(time.timeIntervalSince1970))] }
        opensslArguments += [isIP ? "-verify_ip" : "-verify_hostname", testCase.host, leaf]
        let openssl = try Subprocess.run("/usr/bin/openssl", opensslArguments, timeout: 30)
        #expect(!openssl.timedOut)

        var certtoolArguments = [
            "--verify", "--verify-profile=medium", "--verify-purpose=1.3.6.1.5.5.7.3.1",
            "--verify-hostname=\(testCase.host)", "--infile", chain,
        ]
        // certtool without a CA file would trust the chain's own last certificate; an empty file trusts nothing.
        certtoolArguments.append(
            "--load-ca-certificate=\(roots.isEmpty ? try directory.write("none.pem", []) : rootsFile)")
        let certtool: Subprocess.Result
        if let time {
            // certtool has no time option: its clock is moved instead (libfaketime, an absolute UTC time).
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [
                .withFullDate, .withSpaceBetweenDateAndTime, .withTime, .withColonSeparatorInTime,
            ]
            certtool = try Subprocess.run(
                "/usr/bin/faketime", [formatter.string(from: time), "/usr/bin/certtool"] + certtoolArguments,
                timeout: 30, environment: ["TZ": "UTC"])
        } else {
            certtool = try Subprocess.run("/usr/bin/certtool", certtoolArguments, timeout: 30)
        }
        #expect(!certtool.timedOut)

        let verification = try ChainVerification(
            chain: minted.served,
            anchors: roots,
            hostname: testCase.host,
            at: time,
            policy: .strict
        )
        var mimic: [TLSBackend: Bool] = [:]
        for backend in verification.backends { mimic[backend.backend] = backend.accepted }
        // The command as the reference suite calls it, one backend at a time: its exit status is the answer.
        // (A ROOTS file without a certificate is a usage error, exit 3, so that one case stays in-process.)
        if !roots.isEmpty {
            for backend in TLSBackend.allCases {
                var arguments = [
                    "verify", "--chain", chain, "--ca", rootsFile, "--host", testCase.host, "--policy", "strict",
                    "--backend", backend.rawValue,
                ]
                if let time { arguments.append("--at=@\(Int(time.timeIntervalSince1970))") }
                let command = try Subprocess.run(Fixtures.mimicExecutable.path, arguments, timeout: 60)
                #expect(command.status == 0 || command.status == 2, "\(testCase.name) \(backend): \(command.stderr)")
                #expect(
                    (command.status == 0) == mimic[backend],
                    "\(testCase.name) \(backend): mimic verify exit \(command.status), in-process \(String(describing: mimic[backend]))"
                )
            }
        }
        return Outcome(
            opensslCLI: openssl.status == 0,
            certtool: certtool.status == 0,
            mimic: mimic,
            verification: verification
        )
    }

    @Test("each backend agrees with its own library's CLI", arguments: cases + timedCases)
    func agrees(_ testCase: Case) throws {
        let outcome = try Self.run(testCase)
        print(
            "differential \(testCase.name): openssl CLI \(outcome.opensslCLI) mimic \(outcome.mimic[.openssl] ?? false); "
                + "certtool \(outcome.certtool) mimic \(outcome.mimic[.gnutls] ?? false)"
        )
        let known = Self.knownDivergences[testCase.name] ?? []
        for (backend, reference) in [(TLSBackend.openssl, outcome.opensslCLI), (.gnutls, outcome.certtool)] {
            let agrees = outcome.mimic[backend] == reference
            if known.contains(backend) {
                #expect(!agrees, "\(testCase.name) \(backend): now agrees; take it off the known divergences")
            } else {
                #expect(
                    agrees,
                    "\(testCase.name) \(backend): mimic \(outcome.mimic[backend].map { $0 ? "accepts" : "rejects" } ?? "?"), CLI \(reference ? "accepts" : "rejects"); raw \(outcome.verification.backends.first { $0.backend == backend }?.verification.rawErrors.map(\.code) ?? [])"
                )
            }
        }
    }

    @Test("every malformed chain is judged, marked, and never exit 3")
    func malformedChainsAreJudged() throws {
        for malformation in Malformation.allCases {
            let testCase = Self.twoLevel("cli-\(malformation)", leaf: "malform: [\(malformation)]")
            let spec = try ChainSpec.parse(yaml: testCase.yaml)
            let minted = try Fixtures.factory.mint(spec, name: "diff-\(testCase.name)", hostname: testCase.host)
            let directory = try ChainScratchFolder()
            defer { directory.remove() }
            let chain = try directory.write("chain.pem", minted.served)
            let roots = try directory.write("roots.pem", minted.anchors)
            let run = try Subprocess.run(
                Fixtures.mimicExecutable.path,
                [
                    "verify", "--chain", chain, "--ca", roots, "--host", testCase.host, "--policy", "strict",
                    "--format",
                    "json",
                ],
                timeout: 30
            )
            #expect(run.status == 0 || run.status == 2, "\(malformation): exit \(run.status) \(run.stderr)")
            let json = try #require(
                try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(malformation)")
            let facts = try #require(json["facts"] as? [String: Any])
            let certificates = try #require(facts["certificates"] as? [[String: Any]])
            #expect(certificates[0]["malformed"] as? [String] != nil, "\(malformation): leaf not marked")
            let findings = try #require(json["factFindings"] as? [[String: Any]])
            #expect(findings.contains { $0["code"] as? String == "malformedCertificate" }, "\(malformation)")
        }
    }

    @Test("bytes that are no certificate at all are judged (exit 2); only a file without a certificate is exit 3")
    func garbageIsRejectedNotUnknown() throws {
        let directory = try ChainScratchFolder()
        defer { directory.remove() }
        let localCA = try Fixtures.factory.localCA().certificateDER
        let roots = try directory.write("roots.pem", [localCA])
        let garbage = try directory.write("garbage.pem", [[0x30, 0x03, 0x02, 0x01, 0x01], localCA])
        let rejected = try Subprocess.run(
            Fixtures.mimicExecutable.path,
            ["verify", "--chain", garbage, "--ca", roots, "--policy", "strict", "--format", "json"],
            timeout: 30
        )
        #expect(rejected.status == 2, "\(rejected.stdout)\(rejected.stderr)")
        #expect(rejected.stdout.contains("malformedCertificate"))
        let empty = directory.path + "/empty.pem"
        #expect(FileManager.default.createFile(atPath: empty, contents: Data("no certificate here\n".utf8)))
        let unknown = try Subprocess.run(
            Fixtures.mimicExecutable.path, ["verify", "--chain", empty, "--ca", roots], timeout: 30)
        #expect(unknown.status == 3)
    }

    @Test("strict findings name the rule broken")
    func strictFindingsNameTheRule() throws {
        let expectations: [(Case, FindingCode)] = [
            (Self.twoLevel("named-leaf-missing-aki", leaf: "authority_key_id: false"), .missingAKI),
            (Self.twoLevel("named-int-missing-ski", intermediate: "subject_key_id: false"), .missingSKI),
            (Self.twoLevel("named-int-non-critical", intermediate: "basic_constraints: non-critical"), .caNotCritical),
            (
                Self.twoLevel("named-key-cert-sign", leaf: "key_usage: [digitalSignature, keyCertSign]"),
                .keyCertSignOnLeaf
            ),
            (Self.twoLevel("named-san", leaf: "subject: {}\nsan_critical: false"), .sanNotCritical),
        ]
        for (testCase, code) in expectations {
            let spec = try ChainSpec.parse(yaml: testCase.yaml)
            let minted = try Fixtures.factory.mint(spec, name: "diff-\(testCase.name)", hostname: testCase.host)
            let strict = try ChainVerification(
                chain: minted.served, anchors: minted.anchors, hostname: testCase.host, backends: [.openssl],
                policy: .strict)
            #expect(strict.backends[0].verification.findings.map(\.code).contains(code), "\(testCase.name)")
            #expect(!strict.accepted)
            // The default policy is what a client does: none of these stop curl or postfix.
            let lenient = try ChainVerification(
                chain: minted.served, anchors: minted.anchors, hostname: testCase.host, backends: [.openssl])
            #expect(lenient.accepted, "\(testCase.name) rejected under the default policy")
        }
    }
}

extension ChainDifferentialTests.Case {
    /// The same case verified `seconds` from now.
    func at(_ seconds: Int) -> Self {
        var copy = self
        copy.name += "-at-\(seconds / 86_400)d"
        copy.at = seconds
        return copy
    }

    /// The path-length case serves a second leaf under `sub`; this rewrites the spec so the leaf hangs there.
    func renamed(leafIssuer: String) -> Self {
        var copy = self
        copy.yaml = yaml.replacingOccurrences(
            of: "  - name: leaf\n    issuer: int", with: "  - name: leaf2\n    issuer: \(leafIssuer)")
        return copy
    }
}

/// A folder only this user can read (mkdtemp, 0700), removed by the test.
struct ChainScratchFolder {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/mimic-chains-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        path = String(cString: made)
    }

    /// Writes PEM certificates to NAME (mode 0600) and returns its path.
    func write(_ name: String, _ certificates: [[UInt8]]) throws -> String {
        let file = path + "/" + name
        let text = certificates.map { PEM.encode(der: $0, label: "CERTIFICATE") }.joined()
        guard
            FileManager.default.createFile(
                atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
        return file
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
