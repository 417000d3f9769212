import MimicCore

/// An HTTPS origin in nginx's shape (RFC 9112), over the caller's implicit TLS: GET and HEAD of any path answer
/// `200 OK` with a small page; other methods `405 Not Allowed`; a malformed request `400 Bad Request` and a close.
/// Keep-alive as HTTP/1.1 says (`Connection: close` and HTTP/1.0 close after the response). Request bodies are
/// not read: a request announcing one is answered and the connection closed.
public struct HTTPServerDialog: LineServerDialog {
    private enum State: Sendable, Hashable {
        case requestLine
        case headers(method: String, version: String)
    }

    static let page = """
        <!DOCTYPE html>
        <html><head><title>Mimic</title></head><body><h1>Mimic</h1><p>A mock HTTPS server.</p></body></html>

        """

    private var state: State = .requestLine
    private var headerLines = 0
    private var headerBytes = 0
    private var closeAfter = false
    private var hasBody = false
    var core: ServerCore

    public init(configuration: ServerDialogConfiguration = ServerDialogConfiguration(mode: .implicit)) {
        core = ServerCore(serviceProtocol: .https, configuration: configuration)
        core.tlsActive = configuration.mode != .none
    }

    public var serviceProtocol: ServiceProtocol { .https }
    var isReading: Bool { true }
    /// HTTP/1.1 allows a bare LF as a line terminator (RFC 9112 §2.2), so strict CRLF never applies.
    var isCommandMode: Bool { false }

    func defaultGreeting() -> [String] { [] }

    func errorReply(_ problem: LineProblem, line: ReceivedLine?) -> [String] {
        switch problem {
        case .lineTooLong, .garbage, .bareLF, .earlyTalk: Self.response(400, "Bad Request", close: true, body: "")
        }
    }

    static let knownVerbs: Set<String> = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ]

    /// Request lines are observed where they are parsed; header lines carry no command.
    func observedCommand(_ line: ReceivedLine) -> CommandLine? { nil }
    func classify(_ command: CommandLine) -> ClientCommandKind { .other }

    /// No greeting: reading starts at once, in the post-TLS phase.
    public mutating func start() -> [ServerAction] {
        guard core.stage == .idle else { return [] }
        core.stage = .open
        return core.enter(.postTLS) + drain()
    }

    static func response(
        _ status: Int, _ reason: String, close: Bool, body: String, headOnly: Bool = false
    )
        -> [String]
    {
        var lines = [
            "HTTP/1.1 \(status) \(reason)",
            "Server: mimic",
            "Content-Type: text/html",
            "Content-Length: \(body.utf8.count)",
            "Connection: \(close ? "close" : "keep-alive")",
            "",
        ]
        if !headOnly, !body.isEmpty {
            // The body goes out as one more "line" without its own terminator: see `send(_:)`.
            lines.append(body)
        }
        return lines
    }

    /// The response's bytes: header lines with the configured ending, the body as is.
    private mutating func send(_ lines: [String], hasBody: Bool) -> [ServerAction] {
        guard hasBody, let body = lines.last else { return core.reply(lines) }
        var bytes = core.encode(Array(lines.dropLast()))
        core.record(.server, "[body, \(body.utf8.count) bytes]")
        bytes += Array(body.utf8)
        return [.send(bytes)]
    }

    private mutating func fail(_ status: Int, _ reason: String) -> [ServerAction] {
        let body = "<html><body><h1>\(status) \(reason)</h1></body></html>\n"
        return send(Self.response(status, reason, close: true, body: body), hasBody: true) + core.close()
    }

    mutating func handle(_ line: ReceivedLine) -> [ServerAction] {
        core.record(.client, line.display, crlf: !line.bareLF)
        headerLines += 1
        headerBytes += line.bytes.count + 2
        let limits = core.configuration.limits
        guard headerLines <= limits.maxLinesPerReply, headerBytes <= limits.maxReplyBytes else {
            return fail(431, "Request Header Fields Too Large")
        }
        switch state {
        case .requestLine:
            // RFC 9112 §2.2: empty lines before the request line are ignored.
            if line.bytes.isEmpty { return [] }
            let parts = line.text.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, parts[0].allSatisfy(\.isLetter) else {
                return fail(400, "Bad Request")
            }
            let version = String(parts[2])
            guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
                return version.hasPrefix("HTTP/") ? fail(505, "HTTP Version Not Supported") : fail(400, "Bad Request")
            }
            core.observe(String(parts[0]), .other, known: Self.knownVerbs)
            state = .headers(method: String(parts[0]), version: version)
            closeAfter = version == "HTTP/1.0"
            hasBody = false
            return []
        case .headers(let method, let version):
            guard line.bytes.isEmpty else {
                let text = line.text
                guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
                    return fail(400, "Bad Request")
                }
                let name = text[..<colon].lowercased()
                let value = text[text.index(after: colon)...].trimmingCharacters(in: " \t").lowercased()
                switch name {
                case "connection":
                    if value.contains("close") { closeAfter = true }
                    if value.contains("keep-alive") && version == "HTTP/1.0" { closeAfter = false }
                case "content-length":
                    if value != "0" { hasBody = true }
                case "transfer-encoding":
                    hasBody = true
                default:
                    break
                }
                return []
            }
            state = .requestLine
            headerLines = 0
            headerBytes = 0
            return respond(method: method)
        }
    }

    private mutating func respond(method: String) -> [ServerAction] {
        if let refusal = core.configuration.refuseGreeting {
            return core.reply(ServerCore.lines(refusal) + ["Content-Length: 0", "Connection: close", ""]) + core.close()
        }
        let close = closeAfter || hasBody
        var actions: [ServerAction]
        switch method {
        case "GET":
            actions = send(Self.response(200, "OK", close: close, body: Self.page), hasBody: true)
        case "HEAD":
            actions = send(Self.response(200, "OK", close: close, body: Self.page, headOnly: true), hasBody: false)
        default:
            return fail(405, "Not Allowed")
        }
        if close { actions += core.close() }
        return actions
    }
}
