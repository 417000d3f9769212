/// Public doors to the dialogs' internal parsers, for the libFuzzer targets in `Fuzz/`: each runs one parser over
/// peer bytes exactly as the dialogs do and returns a small digest of what it saw, so nothing is optimised away.
/// They add no behaviour; the dialogs do not call them.
public enum ParserEntryPoints {
    /// Feeds `bytes` to a `LineReader` in segments of `segment` bytes (at least 1), draining lines after each;
    /// returns the number of lines read, or -1 once a line was too long (where the dialogs stop).
    public static func lineReader(_ bytes: [UInt8], maxLineLength: Int, segment: Int) -> Int {
        var reader = LineReader(maxLineLength: maxLineLength)
        var lines = 0
        let step = max(1, segment)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + step)
            reader.append(Array(bytes[start..<end]))
            start = end
            drain: while true {
                switch reader.next() {
                case .line(let line):
                    lines += 1
                    _ = line.display
                case .needMoreBytes: break drain
                case .lineTooLong(let evidence):
                    _ = evidence
                    return -1
                }
            }
        }
        return lines
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
        var messages = 0
        let step = max(1, segment)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + step)
            framer.append(Array(bytes[start..<end]))
            start = end
            drain: while true {
                switch framer.next() {
                case .message: messages += 1
                case .needMoreBytes: break drain
                case .invalid: return -1
                }
            }
        }
        return messages
    }

    /// The FTP passive-mode reply parsers: the port of an EPSV reply and the endpoint of a PASV reply.
    public static func ftpPassive(_ text: String) -> (epsvPort: Int?, pasvHost: String?, pasvPort: Int?) {
        let endpoint = FTPPassiveReply.pasvEndpoint(text)
        return (FTPPassiveReply.epsvPort(text), endpoint?.host, endpoint?.port)
    }
}
