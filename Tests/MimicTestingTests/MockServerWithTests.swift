import Foundation
import MimicTestSupport
import MimicTesting
import Testing

/// MimicTesting as another package's test uses it: mocks started and stopped around a closure, real clients
/// (openssl s_client) against them, nothing written to disk by the factory.
@Suite("MimicTesting")
struct MockServerWithTests {
    @Test("MockServer.with: openssl s_client reaches the verdict the mock announces, good and expired")
    func profileMocks() async throws {
        for (chain, healthy) in [(ChainProfileName.good, true), (.expiredLeaf, false)] {
            let listener = try await MockServer.with(.smtp, .startTLS, chain: chain, backend: .gnutls) { mock in
                #expect(mock.url == "smtp://127.0.0.1:\(mock.port)")
                #expect(mock.expectedVerdict.isOK == healthy, "\(mock.expectedVerdict)")
                #expect(mock.trustAnchorsPEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
                let ca = try mock.writeTrustAnchors()
                defer { try? FileManager.default.removeItem(at: ca.deletingLastPathComponent()) }
                let client = try Subprocess.run(
                    "/usr/bin/openssl",
                    [
                        "s_client", "-connect", "127.0.0.1:\(mock.port)", "-starttls", "smtp", "-servername",
                        mock.serverName, "-CAfile", ca.path, "-verify_return_error", "-verify_hostname",
                        mock.serverName, "-brief",
                    ], timeout: 30)
                #expect((client.status == 0) == healthy, "\(chain.rawValue): \(client.stderr)")
                let listeners = Self.listeners(port: mock.port)
                #expect(listeners.count == 1)
                return listeners
            }
            // Stopped when the closure ended: its listening socket is closed.
            #expect(!listener.isEmpty && listener.isDisjoint(with: Self.openSockets()))
        }
    }

    @Test("the mock stops when the closure throws")
    func stopsOnError() async throws {
        struct Planned: Error {}
        var listener: Set<String> = []
        await #expect(throws: Planned.self) {
            try await MockServer.with(.imap, .implicit) { mock in
                listener = Self.listeners(port: mock.port)
                #expect(listener.count == 1)
                throw Planned()
            }
        }
        #expect(!listener.isEmpty && listener.isDisjoint(with: Self.openSockets()))
    }

    @Test("the shipped library by id, and its ids by protocol for parameterised tests")
    func library() async throws {
        let smtp = MimicLibrary.ids(.smtp)
        #expect(smtp.count >= 40, "\(smtp.count)")
        #expect(smtp.allSatisfy { MimicLibrary.scenario(id: $0)?.server.serviceProtocol == .smtp })
        let ldap = MimicLibrary.ids(.ldap, mode: .startTLS)
        #expect(ldap.contains("ldap::starttls::good"))
        #expect(ldap.allSatisfy { MimicLibrary.scenario(id: $0)?.server.mode == .startTLS })
        #expect(MimicLibrary.scenarios.count >= 250)
        try await MockServer.with(scenario: "ldap::starttls::unavailable-52") { mock in
            #expect(mock.url.hasPrefix("ldap://127.0.0.1:"))
            #expect(mock.expectedVerdict.findings == [.startTLSRejected], "\(mock.expectedVerdict)")
        }
        await #expect(throws: MimicTestingError.self) {
            try await MockServer.with(scenario: "no::such::scenario") { _ in }
        }
    }

    /// The socket inodes of this process's listeners on `port`: the LISTEN entries of /proc/net/tcp and tcp6 whose
    /// inode is one of our descriptors (another test's mock may come to listen on a port a stopped mock freed: a
    /// stopped mock is known by its own listener's inode being gone).
    static func listeners(port: Int) -> Set<String> {
        let ours = openSockets()
        let hexPort = String(format: ":%04X", port)
        var found: Set<String> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            // Read to the end: procfs files report size 0, and a one-shot read may stop at the first page.
            let data = FileHandle(forReadingAtPath: table)?.readDataToEndOfFile() ?? Data()
            let text = String(decoding: data, as: UTF8.self)
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                // local_address is field 1, st field 3 (0A = LISTEN), inode field 9.
                guard fields.count > 9, fields[1].hasSuffix(hexPort), fields[3] == "0A" else { continue }
                if ours.contains(String(fields[9])) { found.insert(String(fields[9])) }
            }
        }
        return found
    }

    /// This process's sockets, by inode.
    static func openSockets() -> Set<String> {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return Set(
            descriptors.compactMap { descriptor in
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)"),
                    target.hasPrefix("socket:[")
                else { return nil }
                return String(target.dropFirst(8).dropLast())
            })
    }
}

/// The compiled-in profiles and library are the repository's files, byte for byte.
@Suite("MimicTesting built-ins")
struct BuiltInsTests {
    @Test("Tools/builtins.py --check: the generated sources match certs/profiles and scenarios/")
    func current() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let check = try Subprocess.run(
            "/usr/bin/python3", [repository.appendingPathComponent("Tools/builtins.py").path, "--check"], timeout: 60)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }
}
