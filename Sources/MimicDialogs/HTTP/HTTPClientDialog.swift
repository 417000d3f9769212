import MimicCore

/// One HTTP/1.1 `HEAD /` over an established TLS connection (implicit mode only), reading the status line
/// and the header block (RFC 9112 §4, §5), bounded by the dialog limits.
public struct HTTPClientDialog: LineDialog {
    enum Step: Sendable, Hashable {
        case statusLine
        case headers
    }

    var state: LineDialogState<Step> = .idle
    var core: DialogCore

    public init(options: DialogOptions = DialogOptions(mode: .implicit)) {
        core = DialogCore(serviceProtocol: .https, options: options)
    }

    var currentPhase: Phase { .postTLS }
    func phase(of step: Step) -> Phase { .postTLS }
    /// HTTP speaks first (see `start()`); it never waits for a greeting.
    func greetingStep(overTLS: Bool) -> Step { .statusLine }
    /// Implicit TLS only: there is no upgrade to resume after.
    mutating func resumeOverTLS() -> [DialogAction] { [] }

    /// `Host: name` or `Host: name:port` when the port is not 443; IPv6 literals bracketed (RFC 9110 §7.2).
    var hostHeader: String {
        let host = core.options.host.contains(":" as Character) ? "[\(core.options.host)]" : core.options.host
        guard let port = core.options.port, port != 443 else { return host }
        return "\(host):\(port)"
    }

    public mutating func start() -> [DialogAction] {
        guard state == .idle else { return [] }
        guard core.options.mode == .implicit else {
            return fail(
                core.failure(.postTLS, .modeMismatch, words: "", detail: "the HTTP dialog runs over implicit TLS only")
            )
        }
        state = .awaiting(.statusLine)
        let request = ["HEAD / HTTP/1.1", "Host: \(hostHeader)", "User-Agent: mimic", "Connection: close", ""]
        return request.map { core.send($0) } + drain()
    }

    // Unlike the mail protocols, an HTTP server closing before the headers ended is always a failure.
    public mutating func closed() -> [DialogAction] {
        switch state {
        case .completed, .failed: return []
        default:
            return fail(
                core.closedEarly(
                    .postTLS, buffered: core.reader.bufferedBytes,
                    detail: "the server closed the connection before the end of the headers"))
        }
    }

    mutating func handle(_ line: ReceivedLine) -> [DialogAction] {
        switch state {
        case .awaiting(.statusLine):
            // status-line = HTTP-version SP status-code SP [ reason-phrase ]
            let parts = line.text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3,
                let status = Int(parts[1]), (100...599).contains(status)
            else {
                return fail(
                    core.failure(.postTLS, .unexpectedReply, words: line.display, detail: "not an HTTP/1.x status line")
                )
            }
            core.summary.httpStatus = status
            core.summary.httpReason = parts.count > 2 ? String(parts[2]) : ""
            core.summary.httpHeaders = []
            state = .awaiting(.headers)
            return []

        case .awaiting(.headers):
            guard !line.bytes.isEmpty else {
                core.replyEnded()
                // Interim responses (100, 103 Early Hints) precede the final one.
                if let status = core.summary.httpStatus, status < 200, status != 101 {
                    state = .awaiting(.statusLine)
                    return []
                }
                return complete()
            }
            let text = line.text
            if text.first == " " || text.first == "\t", !core.summary.httpHeaders.isEmpty {
                // obs-fold: a continuation of the previous field's value.
                core.summary.httpHeaders[core.summary.httpHeaders.count - 1].value += " " + text.trimmingLeadingSpace
                return []
            }
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
                return fail(
                    core.failure(.postTLS, .unexpectedReply, words: line.display, detail: "malformed header field")
                )
            }
            let name = text[..<colon].lowercased()
            let value = text[text.index(after: colon)...].trimmingCharacters(in: " \t")
            core.summary.httpHeaders.append(DialogSummary.HTTPHeader(name: name, value: value))
            return []

        case .idle, .awaitingTLS, .quitting, .completed, .failed:
            return []
        }
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        let isTrimmed = { (c: Character) in set.contains(c) }
        var slice = self[...]
        while let first = slice.first, isTrimmed(first) { slice = slice.dropFirst() }
        while let last = slice.last, isTrimmed(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
