import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP/1.0 GET to a loopback address, for adapters that read an exporter's probe endpoint.
///
/// HTTP/1.0 so that the answer is the body until close (no chunked encoding to undo); loopback only, so a
/// template can never send grading traffic elsewhere; a deadline on the whole exchange and a bound on the answer.
public enum LoopbackHTTP {
    public struct Response: Sendable, Hashable {
        public var status: Int
        public var body: String
        public var milliseconds: Double
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public static let responseLimit = 1 << 20

    public static func get(_ url: String, timeout: Duration) async throws(Failure) -> Response {
        let outcome: Result<Response, Failure> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do throws(Failure) {
                    continuation.resume(returning: .success(try getBlocking(url, timeout: timeout)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.start()
        }
        return try outcome.get()
    }

    /// Splits `http://HOST:PORT/path?query` and checks that HOST is a loopback literal.
    static func target(_ url: String) throws(Failure) -> (family: Int32, address: [UInt8], port: Int, request: String) {
        guard url.hasPrefix("http://") else { throw Failure(description: "\(url): only http:// on loopback") }
        let rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        let request = slash == rest.endIndex ? "/" : String(rest[slash...])
        var host = authority
        var portText = "80"
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = String(after.dropFirst()) }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = String(authority[authority.index(after: colon)...])
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw Failure(description: "\(url): bad port '\(portText)'")
        }
        if host == "localhost" { host = "127.0.0.1" }
        if host == "::1" { return (AF_INET6, [UInt8](repeating: 0, count: 15) + [1], port, request) }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        guard octets.count == 4, host.split(separator: ".").count == 4, octets[0] == 127 else {
            throw Failure(description: "\(url): grading talks to loopback addresses only (127.0.0.0/8, ::1)")
        }
        guard request.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw Failure(description: "\(url): the path must be percent-encoded")
        }
        return (AF_INET, octets, port, request)
    }

    static func getBlocking(_ url: String, timeout: Duration) throws(Failure) -> Response {
        let (family, address, port, request) = try target(url)
        let started = ContinuousClock.now
        let deadline = started + timeout
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)

        let connected = withSocketAddress(family: family, address: address, port: port) {
            connect(descriptor, $0, $1)
        }
        if connected != 0 {
            guard errno == EINPROGRESS else {
                throw Failure(description: "\(url): \(String(cString: strerror(errno)))")
            }
            try wait(descriptor, for: Int16(POLLOUT), until: deadline, url: url)
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else { throw Failure(description: "\(url): \(String(cString: strerror(error)))") }
        }

        let hostHeader = family == AF_INET6 ? "[::1]:\(port)" : "127.0.0.1:\(port)"
        let requestBytes = Array(
            "GET \(request) HTTP/1.0\r\nHost: \(hostHeader)\r\nUser-Agent: mimic-grade\r\n\r\n".utf8)
        var sent = 0
        while sent < requestBytes.count {
            let count = requestBytes[sent...].withUnsafeBytes {
                send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                sent += count
            } else if errno == EAGAIN || errno == EINTR {
                try wait(descriptor, for: Int16(POLLOUT), until: deadline, url: url)
            } else {
                throw Failure(description: "\(url): \(String(cString: strerror(errno)))")
            }
        }

        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                response.append(contentsOf: buffer[0..<count])
                guard response.count <= responseLimit else {
                    throw Failure(description: "\(url): the answer is over \(responseLimit) bytes")
                }
            } else if count == 0 {
                break
            } else if errno == EAGAIN || errno == EINTR {
                try wait(descriptor, for: Int16(POLLIN), until: deadline, url: url)
            } else {
                throw Failure(description: "\(url): \(String(cString: strerror(errno)))")
            }
        }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/"), let firstLine = text.split(separator: "\r\n", maxSplits: 1).first,
            firstLine.split(separator: " ").count >= 2, let status = Int(firstLine.split(separator: " ")[1])
        else { throw Failure(description: "\(url): not an HTTP response") }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return Response(status: status, body: body, milliseconds: (ContinuousClock.now - started).milliseconds)
    }

    private static func wait(
        _ descriptor: Int32, for events: Int16, until deadline: ContinuousClock.Instant, url: String
    ) throws(Failure) {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw Failure(description: "\(url): no answer in time") }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(min(max(left.milliseconds, 1), 1000)))
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw Failure(description: "\(url): \(String(cString: strerror(errno)))") }
        }
    }
}

extension LoopbackHTTP {
    /// Connects to 127.0.0.1:`port` and closes again: does something accept there?
    static func connectOnly(port: Int) throws(Failure) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket") }
        defer { close(descriptor) }
        let result = withSocketAddress(family: AF_INET, address: loopback, port: port) {
            connect(descriptor, $0, $1)
        }
        guard result == 0 else { throw Failure(description: "refused") }
    }

    /// A port the kernel would hand out on 127.0.0.1 now (bound and released at once).
    static func freePort() -> Int? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let bound = withSocketAddress(family: AF_INET, address: loopback, port: 0) { pointer, length in
            bind(descriptor, pointer, length)
        }
        guard bound == 0 else { return nil }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static let loopback: [UInt8] = [127, 0, 0, 1]

    /// `body` with a socket address for `address` (4 or 16 bytes) and `port`, and its length: the one place the
    /// IPv4 and IPv6 structures are filled in.
    static func withSocketAddress(
        family: Int32, address: [UInt8], port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) -> Int32 {
        if family == AF_INET {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &socketAddress.sin_addr) { $0.copyBytes(from: address) }
            return asGeneric(&socketAddress, body)
        }
        var socketAddress = sockaddr_in6()
        socketAddress.sin6_family = sa_family_t(AF_INET6)
        socketAddress.sin6_port = in_port_t(UInt16(port).bigEndian)
        withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { $0.copyBytes(from: address) }
        return asGeneric(&socketAddress, body)
    }

    /// `body` with a `sockaddr_in` or `sockaddr_in6` seen as the generic `sockaddr`, and its size.
    private static func asGeneric<Address>(
        _ socketAddress: inout Address, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) -> Int32 {
        withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }
}
