/// A reply with a three-digit code, as SMTP and FTP send: the code, each line's text after the code and its
/// separator, and the lines as received for evidence.
struct CodedReply: Sendable, Hashable {
    var code: Int
    var lines: [String]
    var rawLines: [String]

    /// The whole reply as the server wrote it, one line per line, escaped.
    var display: String {
        // Not `joined(separator:)`: the standard library's is generic, and its first call in a process has the
        // runtime look up the collection's element type.
        var text = ""
        for (index, line) in rawLines.enumerated() {
            if index > 0 { text += "\n" }
            text += line
        }
        return text
    }
    var first: String { lines.first ?? "" }
    var isPositive: Bool { code >= 200 && code < 300 }
    var isPreliminary: Bool { code >= 100 && code < 200 }

    /// The three-digit code at the start of a line: `ddd` where each is an ASCII digit and the first is 1-5.
    static func code(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 3 else { return nil }
        var value = 0
        for index in 0..<3 {
            let byte = bytes[index]
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        guard value >= 100 && value < 600 else { return nil }
        return value
    }

    static func text(after prefix: Int, _ line: ReceivedLine) -> String {
        line.bytes.count > prefix ? String(decoding: line.bytes[prefix...], as: UTF8.self) : ""
    }
}

/// The result of adding one line to a reply in progress.
enum ReplyProgress: Sendable, Hashable {
    case incomplete
    case complete(CodedReply)
    case invalid(String)
}

/// A coded reply in progress: the lines read so far and the code they carry. Both assemblers keep one.
private struct PartialCodedReply: Sendable {
    var code: Int?
    var lines: [String] = []
    var rawLines: [String] = []

    /// Adds a line that must be a reply line: the code, then a space, a hyphen or nothing. A hyphen says more lines
    /// follow; every line must carry the code of the reply's first. `protocolName` names the reply in errors.
    mutating func addReplyLine(_ line: ReceivedLine, protocolName: String) -> ReplyProgress {
        guard let lineCode = CodedReply.code(line.bytes) else {
            return .invalid("not an \(protocolName) reply line (no three-digit code)")
        }
        if let code, code != lineCode {
            return .invalid("reply code changed from \(code) to \(lineCode) within one reply")
        }
        let separator = Self.separator(line)
        guard separator == nil || separator == 0x20 || separator == 0x2D else {
            return .invalid("reply code not followed by space or hyphen")
        }
        code = lineCode
        lines.append(CodedReply.text(after: 4, line))
        rawLines.append(line.display)
        return separator == 0x2D ? .incomplete : finish(lineCode)
    }

    /// The byte after a line's code, nil when the line ends there.
    static func separator(_ line: ReceivedLine) -> UInt8? {
        line.bytes.count > 3 ? line.bytes[3] : nil
    }

    /// The reply is whole: returns it and starts the next one.
    mutating func finish(_ code: Int) -> ReplyProgress {
        let reply = CodedReply(code: code, lines: lines, rawLines: rawLines)
        self = PartialCodedReply()
        return .complete(reply)
    }
}

/// SMTP replies (RFC 5321 §4.2):
///
///     Reply-line     = *( Reply-code "-" [ textstring ] CRLF )
///                      Reply-code [ SP textstring ] CRLF
///
/// Every line carries the same code; the last has a space (or nothing) after it. A `220-` first line is not
/// the greeting's end (postscreen; ssl_exporter PR #205).
struct SMTPReplyAssembler: Sendable {
    private var reply = PartialCodedReply()

    mutating func add(_ line: ReceivedLine) -> ReplyProgress {
        reply.addReplyLine(line, protocolName: "SMTP")
    }
}

/// FTP replies (RFC 959 §4.2): a multi-line reply starts `ddd-` and ends at the first line that starts with
/// the same code followed by a space; lines in between are free text, even ones that start with digits.
/// s_client stopped at the second line of such a banner (openssl #8645).
struct FTPReplyAssembler: Sendable {
    private var reply = PartialCodedReply()

    mutating func add(_ line: ReceivedLine) -> ReplyProgress {
        guard let code = reply.code else { return reply.addReplyLine(line, protocolName: "FTP") }
        reply.lines.append(line.text)
        reply.rawLines.append(line.display)
        let separator = PartialCodedReply.separator(line)
        guard CodedReply.code(line.bytes) == code, separator == nil || separator == 0x20 else { return .incomplete }
        reply.lines[reply.lines.count - 1] = CodedReply.text(after: 4, line)
        return reply.finish(code)
    }
}
