/// One line as received: its bytes without the terminator, and whether the terminator was a bare LF.
struct ReceivedLine: Sendable, Hashable {
    var bytes: [UInt8]
    var bareLF: Bool

    /// The line decoded leniently for parsing (invalid UTF-8 becomes U+FFFD).
    var text: String { String(decoding: bytes, as: UTF8.self) }
    /// The line escaped for reports and transcripts.
    var display: String { escaped(bytes) }
}

/// Line framing shared by the text protocols: CRLF, with a bare LF tolerated and flagged (Postfix accepts it,
/// Exchange ignores it; blackbox PR #703), and a bound on line length so a peer that never sends LF cannot
/// make us hold unbounded bytes (swift-nio-extras' LineBasedFrameDecoder has no such bound).
///
/// Restartable: bytes may be appended in segments split at any offset; `next()` says "need more bytes"
/// distinctly from "invalid".
struct LineReader: Sendable {
    enum Next: Sendable, Hashable {
        case line(ReceivedLine)
        case needMoreBytes
        /// The buffered line exceeds the limit; the evidence is its beginning.
        case lineTooLong(evidence: String)
    }

    let maxLineLength: Int
    private var buffer: [UInt8] = []
    /// Start of unread bytes: consumed lines are dropped lazily so reading many lines stays linear.
    private var readIndex = 0
    /// Where the search for LF resumes, so a line trickled byte by byte is not rescanned from its start.
    private var scanIndex = 0

    init(maxLineLength: Int) {
        self.maxLineLength = maxLineLength
    }

    /// Bytes received but not yet returned as lines.
    var bufferedCount: Int { buffer.count - readIndex }
    var bufferedBytes: ArraySlice<UInt8> { buffer[readIndex...] }

    mutating func append(_ bytes: [UInt8]) {
        if readIndex > 0 && readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            scanIndex = 0
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    mutating func next() -> Next {
        var index = max(scanIndex, readIndex)
        while index < buffer.count {
            if buffer[index] == 0x0A {
                var end = index
                var bareLF = true
                if end > readIndex && buffer[end - 1] == 0x0D {
                    end -= 1
                    bareLF = false
                }
                if end - readIndex > maxLineLength {
                    return .lineTooLong(evidence: escaped(buffer[readIndex..<end], limit: 80))
                }
                let line = ReceivedLine(bytes: Array(buffer[readIndex..<end]), bareLF: bareLF)
                readIndex = index + 1
                scanIndex = readIndex
                compactIfWorthIt()
                return .line(line)
            }
            index += 1
        }
        scanIndex = index
        // +1 leaves room for the CR of a line that is exactly at the limit.
        if buffer.count - readIndex > maxLineLength + 1 {
            return .lineTooLong(evidence: escaped(buffer[readIndex...], limit: 80))
        }
        return .needMoreBytes
    }

    private mutating func compactIfWorthIt() {
        if readIndex > 4096 && readIndex * 2 > buffer.count {
            buffer.removeFirst(readIndex)
            scanIndex -= readIndex
            readIndex = 0
        }
    }
}
