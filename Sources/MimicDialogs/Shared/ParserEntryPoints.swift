import MimicCore

/// Public doors to the dialogs' internal parsers, for the libFuzzer targets in `Fuzz/` and their corpus replay: each runs one parser over
/// peer bytes exactly as the dialogs do and returns a small digest of what it saw, so nothing is optimised away.
/// They add no behaviour; the dialogs do not call them.
public enum ParserEntryPoints {
    /// Feeds `bytes` to a `LineReader` in segments of `segment` bytes (at least 1), draining lines after each;
    /// returns the number of lines read, or -1 once a line was too long (where the dialogs stop).
    public static func lineReader(_ bytes: [UInt8], maxLineLength: Int, segment: Int) -> Int {
        var reader = LineReader(maxLineLength: maxLineLength)
        return countFramed(bytes, segment: segment, append: { reader.append($0) }) {
            switch reader.next() {
            case .line(let line):
                _ = line.display
                return .item
            case .needMoreBytes: return .needMoreBytes
            case .lineTooLong(let evidence):
                _ = evidence
                return .refused
            }
        }
    }

    /// Reads `bytes` as a sequence of BER elements and checks each one's nesting, as the LDAP decoders do;
    /// returns the number of top-level elements, or -1 on the first error.
    public static func ber(_ bytes: [UInt8], maxDepth: Int) -> Int {
        var reader = BERReader(bytes[...])
        var count = 0
        do throws(BERError) {
            while let element = try reader.next() {
                try BER.validate(element, maxDepth: maxDepth)
                if !element.isConstructed { _ = try? element.integer() }
                count += 1
            }
        } catch {
            _ = error.description
            return -1
        }
        return count
    }

    /// Decodes `bytes` as one LDAPMessage from a server (the probe's side) and as one request from a client (the
    /// mock's side); returns how many of the two decoded.
    public static func ldapMessages(_ bytes: [UInt8], maxDepth: Int) -> Int {
        var decoded = 0
        if (try? LDAPMessage(decoding: bytes, maxDepth: maxDepth)) != nil { decoded += 1 }
        if (try? LDAPRequest(decoding: bytes, maxDepth: maxDepth)) != nil { decoded += 1 }
        return decoded
    }

    /// Splits `bytes`, appended in segments of `segment` bytes, into LDAPMessages as the dialogs' framer does;
    /// returns the number of whole messages, or -1 once the stream was invalid.
    public static func ldapFramer(_ bytes: [UInt8], maxMessageBytes: Int, segment: Int) -> Int {
        var framer = LDAPFramer(maxMessageBytes: maxMessageBytes)
        return countFramed(bytes, segment: segment, append: { framer.append($0) }) {
            switch framer.next() {
            case .message: .item
            case .needMoreBytes: .needMoreBytes
            case .invalid: .refused
            }
        }
    }

    /// What a framing reader gave when asked for its next item.
    enum Framed {
        case item
        case needMoreBytes
        case refused
    }

    /// Appends `bytes` in segments of `segment` bytes (at least 1), taking every whole item after each; returns
    /// the number of items, or -1 once the reader refused the stream.
    static func countFramed(
        _ bytes: [UInt8], segment: Int, append: ([UInt8]) -> Void, next: () -> Framed
    ) -> Int {
        var items = 0
        for piece in pieces(bytes, size: max(1, segment)) {
            append(piece)
            drain: while true {
                switch next() {
                case .item: items += 1
                case .needMoreBytes: break drain
                case .refused: return -1
                }
            }
        }
        return items
    }

    /// The FTP passive-mode reply parsers: the port of an EPSV reply and the endpoint of a PASV reply.
    public static func ftpPassive(_ text: String) -> (epsvPort: Int?, pasvHost: String?, pasvPort: Int?) {
        let endpoint = FTPPassiveReply.pasvEndpoint(text)
        return (FTPPassiveReply.epsvPort(text), endpoint?.host, endpoint?.port)
    }

    // MARK: Whole fuzz inputs
    //
    // A fuzz input spends its first bytes on choices (protocol, mode, configuration, segment size) and gives the rest
    // to the parser. The libFuzzer targets in Fuzz/ and the corpus replay in the ordinary tests both decode inputs
    // here, so a crash input kept as a regression test replays exactly as the fuzzer ran it. Each returns false when
    // an invariant the fuzzer checks is broken (never for a parser's own rejection of bad bytes).

    /// A client dialog (the probe's side) against server bytes. Input: protocol/mode byte (protocol = byte % 6,
    /// implicit when 0x40 is set or for HTTPS, a data channel that fails when 0x80 is set), segment-size byte, bytes.
    public static func clientDialog(input: [UInt8]) -> Bool {
        var input = input[...]
        let selector = input.popFirst() ?? 0
        let segmentChoice = input.popFirst() ?? 0
        let serviceProtocol = ServiceProtocol.allCases[Int(selector) % ServiceProtocol.allCases.count]
        let mode: TLSMode = serviceProtocol == .https || selector & 0x40 != 0 ? .implicit : .startTLS
        let bytes = Array(input)
        driveClient(
            serviceProtocol, mode: mode, segments: segments(bytes, choice: segmentChoice),
            dataChannelOpens: selector & 0x80 == 0)
        return true
    }

    /// A server dialog (the mock's side) against client bytes. Input: protocol/mode byte (protocol = byte % 6,
    /// mode = (byte >> 4) % 3: STARTTLS, implicit, none; HTTPS always implicit; the FTP transfer outcome = byte % 4),
    /// configuration flags byte, segment-size byte, bytes.
    public static func serverDialog(input: [UInt8]) -> Bool {
        var input = input[...]
        let selector = input.popFirst() ?? 0
        let flags = input.popFirst() ?? 0
        let segmentChoice = input.popFirst() ?? 0
        let serviceProtocol = ServiceProtocol.allCases[Int(selector) % ServiceProtocol.allCases.count]
        var configuration = ServerDialogConfiguration()
        switch (selector >> 4) % 3 {
        case 0: configuration.mode = .startTLS
        case 1: configuration.mode = .implicit
        default: configuration.mode = .none
        }
        if serviceProtocol == .https { configuration.mode = .implicit }
        configuration.strictCRLF = flags & 0x01 != 0
        configuration.rejectEarlyTalk = flags & 0x02 != 0
        configuration.lineEnding = flags & 0x04 != 0 ? .lf : .crlf
        configuration.ldap.longFormLengths = flags & 0x08 != 0
        configuration.ftp.extendedPassive = flags & 0x10 == 0
        configuration.preauth = serviceProtocol == .imap && flags & 0x20 != 0
        configuration.startTLS.executeInjectedCommands = flags & 0x40 != 0
        let transfer: DataTransferOutcome = [.sent, .noConnection, .connectionFailed][Int(selector & 0x03) % 3]
        let bytes = Array(input)
        driveServer(
            serviceProtocol, configuration: configuration, segments: segments(bytes, choice: segmentChoice),
            transfer: transfer)
        return true
    }

    /// The HTTP readers: the probe's response reader and the mock's request reader, fed the same bytes. Input:
    /// segment-size byte, bytes.
    public static func http(input: [UInt8]) -> Bool {
        var input = input[...]
        let segmentChoice = input.popFirst() ?? 0
        let pieces = segments(Array(input), choice: segmentChoice)
        driveClient(.https, mode: .implicit, segments: pieces, dataChannelOpens: true)
        driveServer(
            .https, configuration: ServerDialogConfiguration(mode: .implicit), segments: pieces, transfer: .sent)
        return true
    }

    /// The line reader; false when the lines depend on how the bytes were segmented. Input: line-length limit byte,
    /// segment-size byte, bytes.
    public static func lineReader(input: [UInt8]) -> Bool {
        var input = input[...]
        let limit = Int(input.popFirst() ?? 0)
        let segmentChoice = input.popFirst() ?? 0
        let bytes = Array(input)
        let lines = lineReader(bytes, maxLineLength: limit, segment: segmentSize(segmentChoice, total: bytes.count))
        return lines == lineReader(bytes, maxLineLength: limit, segment: bytes.count)
    }

    /// The BER reader. Input: depth byte (limit = byte % 32), bytes.
    public static func ber(input: [UInt8]) -> Bool {
        var input = input[...]
        let depth = Int((input.popFirst() ?? 0) % 32)
        _ = ber(Array(input), maxDepth: depth)
        return true
    }

    /// The LDAP framer and both message decoders; false when the framing depends on segmentation. Input:
    /// segment-size byte, bytes.
    public static func ldap(input: [UInt8]) -> Bool {
        var input = input[...]
        let segmentChoice = input.popFirst() ?? 0
        let bytes = Array(input)
        let limit = DialogLimits().maxLDAPMessageBytes
        let framed = ldapFramer(bytes, maxMessageBytes: limit, segment: segmentSize(segmentChoice, total: bytes.count))
        _ = ldapMessages(bytes, maxDepth: DialogLimits().maxBERDepth)
        return framed == ldapFramer(bytes, maxMessageBytes: limit, segment: bytes.count)
    }

    /// The FTP passive-mode parsers; false when one yields a port outside 1…65535 or a host that is not a dotted
    /// quad. Input: the reply text (any bytes, decoded leniently).
    public static func ftpPassive(input: [UInt8]) -> Bool {
        let parsed = ftpPassive(String(decoding: input, as: UTF8.self))
        if let port = parsed.epsvPort, !(1...65535).contains(port) { return false }
        if let port = parsed.pasvPort, !(1...65535).contains(port) { return false }
        if let host = parsed.pasvHost, host.split(separator: ".").count != 4 { return false }
        return true
    }

    /// A segment size from a choice byte: 0 means everything at once, otherwise 1…64 bytes.
    static func segmentSize(_ choice: UInt8, total: Int) -> Int {
        choice == 0 ? max(1, total) : Int(choice % 64) + 1
    }

    static func segments(_ bytes: [UInt8], choice: UInt8) -> [[UInt8]] {
        pieces(bytes, size: segmentSize(choice, total: bytes.count))
    }

    /// `bytes` cut into pieces of `size` bytes (at least 1), the last one shorter when it does not divide.
    static func pieces(_ bytes: [UInt8], size: Int) -> [[UInt8]] {
        stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min(bytes.count, $0 + size)]) }
    }

    /// Performs `first` and every action it leads to, round by round, as a caller of a dialog would; `perform`
    /// returns the actions one leads to. A dialog that never stops asking is cut off after 1000 rounds.
    static func settle<Action>(_ first: [Action], performing perform: (Action) -> [Action]) {
        var pending = first
        var rounds = 0
        while !pending.isEmpty, rounds < 1000 {
            rounds += 1
            pending = pending.flatMap(perform)
        }
    }

    /// Plays the probe's side: every TLS upgrade succeeds at once, every data channel opens (or fails), the peer's
    /// bytes arrive in `segments`, then the connection closes.
    static func driveClient(
        _ serviceProtocol: ServiceProtocol, mode: TLSMode, segments: [[UInt8]], dataChannelOpens: Bool
    ) {
        var dialog = ClientDialogs.make(for: serviceProtocol, options: DialogOptions(mode: mode))
        var ended = false
        func perform(_ action: DialogAction) -> [DialogAction] {
            switch action {
            case .send, .finding: return []
            case .startTLS: return dialog.tlsEstablished()
            case .openDataChannel:
                return dataChannelOpens ? dialog.dataChannelOpened() : dialog.dataChannelFailed("refused")
            case .completed, .failed:
                ended = true
                return []
            }
        }
        settle(dialog.start(), performing: perform)
        for segment in segments where !ended { settle(dialog.received(segment), performing: perform) }
        if !ended { settle(dialog.closed(), performing: perform) }
        _ = dialog.transcript.description
    }

    /// Plays the mock's side: delays elapse at once, every TLS upgrade succeeds, FTP data listeners open on a made-up
    /// port and transfers end as `transfer` says.
    static func driveServer(
        _ serviceProtocol: ServiceProtocol, configuration: ServerDialogConfiguration, segments: [[UInt8]],
        transfer: DataTransferOutcome
    ) {
        var dialog = ServerDialogs.make(for: serviceProtocol, configuration: configuration)
        func perform(_ action: ServerAction) -> [ServerAction] {
            switch action {
            case .send, .enterPhase, .closeDataListener, .close: []
            case .delay: dialog.delayElapsed()
            case .startTLS: dialog.tlsEstablished()
            case .listenForData: dialog.dataListenerReady(port: 20_021)
            case .transferData: dialog.dataTransferFinished(transfer)
            }
        }
        settle(dialog.start(), performing: perform)
        for segment in segments where !dialog.isClosed { settle(dialog.received(segment), performing: perform) }
        if !dialog.isClosed { settle(dialog.closed(), performing: perform) }
        _ = dialog.transcript.description
        _ = dialog.observation
    }
}
