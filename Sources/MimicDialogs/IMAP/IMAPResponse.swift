/// One IMAP response line, split just enough for a STARTTLS dialog (RFC 9051 §7):
///
///     response-data   = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data / message-data /
///                       capability-data / enable-data) CRLF
///     response-tagged = tag SP resp-cond-state CRLF
///     greeting        = "*" SP (resp-cond-auth / resp-cond-bye) CRLF
///     resp-cond-auth  = ("OK" / "PREAUTH") SP resp-text
///
/// Literals (`{n}`) are not followed: no response this dialog needs carries one.
enum IMAPResponse: Sendable, Hashable {
    /// `* KEYWORD rest`; the keyword upper-cased (`OK`, `PREAUTH`, `BYE`, `CAPABILITY`, …).
    case untagged(keyword: String, rest: String)
    /// `tag STATUS rest`; the status upper-cased (`OK`, `NO`, `BAD`).
    case tagged(tag: String, status: String, rest: String)
    /// `+ …`: a continuation request, never expected here.
    case continuation
    case malformed

    init(_ text: String) {
        if text.hasPrefix("+") {
            self = .continuation
            return
        }
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            self = .malformed
            return
        }
        let rest = parts.count > 2 ? String(parts[2]) : ""
        if parts[0] == "*" {
            self = .untagged(keyword: parts[1].uppercased(), rest: rest)
        } else {
            self = .tagged(tag: String(parts[0]), status: parts[1].uppercased(), rest: rest)
        }
    }

    /// The atoms of a `[CAPABILITY …]` response code at the start of resp-text, if there is one.
    static func capabilityCode(in text: String) -> [String]? {
        let prefix = "[CAPABILITY "
        guard text.uppercased().hasPrefix(prefix) else { return nil }
        let body = text.dropFirst(prefix.count)
        guard let end = body.firstIndex(of: "]") else { return nil }
        return atoms(body[..<end])
    }

    static func atoms(_ text: Substring) -> [String] {
        text.split(separator: " ").map(String.init)
    }
}
