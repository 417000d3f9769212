import Foundation
import MimicCore
import MimicNet

/// The `dialog:` block of a captured scenario, read from the probe's transcript and findings: the greeting line
/// by line, the capabilities before and after TLS, the upgrade's reply, line endings, a greeting delay, and the
/// protocol's shapes (IMAP PREAUTH, LDAP response form, FTP data channel).
struct DialogCapture {
    let report: ProbeReport
    let target: ProbeTarget
    var names: NameRewriter
    var lines: [String] = []
    var warnings: [String] = []

    struct Line {
        var sent: Bool
        var text: String
        var bareLF: Bool
    }

    private let transcript: [Line]
    private var findings: Set<FindingCode> { Set(report.findings.map(\.code)) }

    init(report: ProbeReport, target: ProbeTarget, names: NameRewriter) {
        self.report = report
        self.target = target
        self.names = names
        transcript = report.transcript.map { entry in
            var text = entry
            let sent = text.hasPrefix("C: ")
            text = String(text.dropFirst(3))
            let bareLF = text.hasSuffix(" [bare LF]")
            if bareLF { text = String(text.dropLast(" [bare LF]".count)) }
            return Line(sent: sent, text: Self.unescaped(text), bareLF: bareLF)
        }
    }

    /// Probe options the scenario needs to meet the server as the capture did (`starttls_anyway: true`).
    var probeExtras: [String] = []
    /// The mock's TLS library, when the server's behaviour is one library's (nil: the default).
    var serverBackend: String?
    private var startTLS: [String] = []

    mutating func capture() {
        if let delay = greetingDelay() { lines.append("greeting_delay: \(delay)ms") }
        if transcript.contains(where: \.bareLF) && target.serviceProtocol != .ldap {
            lines.append("line_endings: lf")
        }
        if findings.contains(.modeMismatch) && target.mode != .none {
            if target.mode == .implicit {
                lines.append("implicit_speaks_plaintext: true")
            } else {
                lines.append("starttls_speaks_tls: true")
                // What the probe saw was a TLS record answering its plaintext: GnuTLS answers garbage with an
                // alert where OpenSSL closes in silence.
                if report.findings.contains(where: { $0.evidence.contains("TLS arrived") }) { serverBackend = "gnutls" }
            }
        }
        switch target.serviceProtocol {
        case .smtp:
            textProtocol(keyword: "STARTTLS", isUpgrade: { $0.uppercased() == "STARTTLS" }, stripTag: false) { slice in
                Self.replies(in: slice, to: { $0.uppercased().hasPrefix("EHLO ") }).first.map {
                    Array($0.dropFirst()).map { String($0.dropFirst(4)) }
                }
            }
        case .imap:
            let greeting = serverLines()
            if greeting.first?.uppercased().hasPrefix("* PREAUTH") == true { lines.append("preauth: true") }
            textProtocol(keyword: "STARTTLS", isUpgrade: { $0.uppercased().hasSuffix(" STARTTLS") }, stripTag: true) {
                slice in
                if let line = slice.first(where: { !$0.sent && $0.text.uppercased().hasPrefix("* CAPABILITY ") }) {
                    return line.text.split(separator: " ").dropFirst(2).map(String.init)
                }
                guard let first = slice.first, !first.sent, let open = first.text.range(of: "[CAPABILITY "),
                    let close = first.text[open.upperBound...].firstIndex(of: "]")
                else { return nil }
                return first.text[open.upperBound..<close].split(separator: " ").map(String.init)
            }
        case .pop3:
            textProtocol(keyword: "STLS", isUpgrade: { $0.uppercased() == "STLS" }, stripTag: false) { slice in
                Self.replies(in: slice, to: { $0.uppercased() == "CAPA" }).first.map { reply in
                    Array(reply.dropFirst().filter { $0 != "." })
                }
            }
        case .ftp:
            textProtocol(keyword: "AUTH TLS", isUpgrade: { $0.uppercased() == "AUTH TLS" }, stripTag: false) { slice in
                Self.replies(in: slice, to: { $0.uppercased() == "FEAT" }).first.map { reply in
                    reply.filter { $0.hasPrefix(" ") }.map { $0.trimmingCharacters(in: .whitespaces) }
                }
            }
            ftp()
        case .ldap:
            ldap()
        case .https:
            break
        }
        upgradeExtras()
        if !startTLS.isEmpty { lines.append("starttls: { \(startTLS.joined(separator: ", ")) }") }
        for finding in report.findings where finding.code == .unexpectedReply && !explained(finding) {
            warnings.append("an unexpected reply in \(finding.phase) (\(names.rewriteText(finding.evidence))) is "
                + "reproduced only where it is the greeting, the upgrade's reply or a known shape")
        }
    }

    /// Unexpected replies that a captured knob reproduces.
    private func explained(_ finding: Finding) -> Bool {
        finding.phase == .greeting || finding.evidence.contains("messageID mismatch")
            || finding.evidence.contains("another certificate chain")
    }

    // MARK: Per protocol

    /// The greeting, the capabilities before and after the upgrade command, and its reply.
    private mutating func textProtocol(
        keyword: String, isUpgrade: (String) -> Bool, stripTag: Bool, capabilities read: ([Line]) -> [String]?
    ) {
        let greeting = serverLines()
        if !greetingRefused(greeting) { setGreeting(greeting) }
        let upgrade = transcript.firstIndex { $0.sent && isUpgrade($0.text) }
        let before: [String]?
        let after: [String]?
        switch target.mode {
        case .startTLS:
            before = read(Array(transcript[..<(upgrade ?? transcript.endIndex)]))
            after = upgrade.flatMap { index in read(Array(transcript[(index + 1)...])) }
        case .implicit, .none:
            before = nil
            after = read(transcript)
        }
        capabilities(before: before, after: after, keyword: keyword)
        if target.mode == .startTLS, let upgrade {
            let reply = transcript[(upgrade + 1)...].prefix { !$0.sent }.last?.text
            if let reply, target.serviceProtocol != .ftp || findings.contains(.startTLSRejected) {
                var text = reply
                if stripTag, let space = text.firstIndex(of: " ") { text = String(text[text.index(after: space)...]) }
                if target.serviceProtocol == .ftp {
                    ftpAuth = "auth_tls: \(CaptureYAML.quoted(names.rewriteText(text)))"
                } else {
                    startTLS.append("reply: \(CaptureYAML.quoted(names.rewriteText(text)))")
                }
            }
            if startTLS.contains(where: { $0.hasPrefix("advertise:") }) { probeExtras.append("starttls_anyway: true") }
        }
    }

    private var ftpAuth: String?

    private mutating func ftp() {
        var ftp: [String] = []
        if let ftpAuth { ftp.append(ftpAuth) }
        if findings.contains(.startTLSRejected),
            let reply = Self.replies(in: transcript, to: { $0.uppercased() == "AUTH SSL" }).first?.last
        {
            ftp.append("auth_ssl: \(CaptureYAML.quoted(names.rewriteText(reply)))")
        }
        if Self.replies(in: transcript, to: { $0.uppercased() == "EPSV" }).first?.last?.hasPrefix("229") == false {
            ftp.append("epsv: false")
        }
        if let mismatch = report.findings.first(where: { $0.code == .pasvAddressMismatch }),
            let address = Self.firstIPv4(in: mismatch.evidence)
        {
            ftp.append("pasv_address: \(CaptureYAML.quoted(address))")
        }
        let dataFindings = report.findings.filter { $0.phase == .dataChannel }
        if let reply = report.dialog?.dataChannelReply, reply.lowercased().contains("reuse") {
            ftp.append("data_channel: require-resumption")
        } else if report.dataChannel?.sessionResumed == true {
            // The server resumed the control session on the data channel, as vsftpd's require_ssl_reuse demands;
            // whether it would also accept a fresh session is not known, so the stricter server is written.
            ftp.append("data_channel: require-resumption")
        } else if dataFindings.contains(where: { $0.code == .handshakeFailure }) {
            // The data channel did not hand-shake after PROT P: it answered in plaintext.
            ftp.append("data_channel: plaintext")
        } else if dataFindings.contains(where: { $0.evidence.contains("another certificate chain") }) {
            ftp.append("data_channel: other-certificate")
        }
        if !ftp.isEmpty { lines.append("ftp: { \(ftp.joined(separator: ", ")) }") }
    }

    private mutating func ldap() {
        var ldap: [String] = []
        if report.dialog?.ldapLongFormLengths == true { ldap.append("long_form_lengths: true") }
        let responses = transcript.filter { !$0.sent && $0.text.hasPrefix("ExtendedResponse ") }
        if let response = responses.first, let range = response.text.range(of: ", responseName ") {
            let oid = response.text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
            if oid == "1.3.6.1.4.1.1466.20036" {
                ldap.append("notice_of_disconnection: true")
            } else if oid == "1.3.6.1.4.1.1466.20037" {
                ldap.append("response_name: true")
            } else if !oid.isEmpty {
                ldap.append("response_name: \(CaptureYAML.quoted(String(oid)))")
            }
        }
        // A reply under another messageID than the request's.
        var requested: Int?
        for line in transcript {
            if line.sent {
                requested = Self.messageID(in: line.text)
            } else if let answered = Self.messageID(in: line.text), let asked = requested, answered != asked {
                ldap.append("message_id: \(answered)")
                break
            }
        }
        if findings.contains(.startTLSRejected), let response = responses.first,
            let code = Self.resultCode(in: response.text), code != 0
        {
            startTLS.append("ldap_result: \(code)")
        }
        if !ldap.isEmpty { lines.append("ldap: { \(ldap.joined(separator: ", ")) }") }
    }

    /// `transition: false` and plaintext injected after the go-ahead, for every protocol.
    private mutating func upgradeExtras() {
        if findings.contains(.noTLSAfterGoAhead) { startTLS.append("transition: false") }
        if let injection = report.findings.first(where: { $0.code == .plaintextInjection }) {
            let marker = "not starting TLS: "
            if let range = injection.evidence.range(of: marker) {
                let bytes = Self.unescaped(String(injection.evidence[range.upperBound...]))
                startTLS.append("inject_after_go_ahead: \(CaptureYAML.quoted(bytes))")
            } else {
                warnings.append("plaintext was injected after the go-ahead but its bytes were not recorded")
            }
        }
    }

    // MARK: Shared pieces

    /// The greeting as a single line or a list.
    private mutating func setGreeting(_ greeting: [String]) {
        guard !greeting.isEmpty else { return }
        let rewritten = greeting.map { names.rewriteText($0) }
        if rewritten.count == 1 {
            lines.append("greeting: \(CaptureYAML.quoted(rewritten[0]))")
        } else {
            lines.append("greeting:")
            lines += rewritten.map { "  - \(CaptureYAML.quoted($0))" }
        }
    }

    /// A refused greeting becomes `refuse_greeting` with the server's last line.
    private mutating func greetingRefused(_ greeting: [String]) -> Bool {
        guard report.findings.contains(where: { $0.code == .greetingRejected && $0.phase != .enumeration }),
            let last = greeting.last
        else { return false }
        lines.append("refuse_greeting: \(CaptureYAML.quoted(names.rewriteText(last)))")
        return true
    }

    /// `capabilities:` and `starttls.advertise` from the lists read before and after TLS.
    private mutating func capabilities(before: [String]?, after: [String]?, keyword: String) {
        var parts: [String] = []
        var advertise: String?
        if var before {
            let isKeyword = { (item: String) in item.uppercased() == keyword }
            if let mangled = before.firstIndex(where: { Self.isMangled($0, keyword: keyword) }) {
                before[mangled] = keyword
                advertise = "mangled"
            } else if !before.contains(where: isKeyword) {
                advertise = "false"
            }
            parts.append("before_tls: \(CaptureYAML.list(before.map { names.rewriteText($0) }))")
        }
        if let after {
            parts.append("after_tls: \(CaptureYAML.list(after.map { names.rewriteText($0) }))")
        }
        if !parts.isEmpty { lines.append("capabilities: { \(parts.joined(separator: ", ")) }") }
        if let advertise { startTLS.append("advertise: \(advertise)") }
    }

    /// The server's lines before the client's first command (the greeting), or all of them.
    private func serverLines() -> [String] {
        var result: [String] = []
        for line in transcript {
            if line.sent { break }
            result.append(line.text)
        }
        return result
    }

    /// For each client line `matching`, the server lines that followed it until the next client line.
    static func replies(in transcript: [Line], to matching: (String) -> Bool) -> [[String]] {
        var result: [[String]] = []
        var collecting = false
        for line in transcript {
            if line.sent {
                collecting = matching(line.text)
                if collecting { result.append([]) }
            } else if collecting {
                result[result.count - 1].append(line.text)
            }
        }
        return result.filter { !$0.isEmpty }
    }

    /// The greeting's own delay: the greeting phase's time when it clearly exceeds a round trip, to 100 ms.
    private func greetingDelay() -> Int? {
        guard target.mode == .startTLS || target.serviceProtocol != .https,
            let timing = report.timings.first(where: { $0.phase == .greeting }), timing.milliseconds >= 300
        else { return nil }
        return Int((timing.milliseconds / 100).rounded(.down)) * 100
    }

    static func isMangled(_ item: String, keyword: String) -> Bool {
        let upper = item.uppercased()
        return upper.count == keyword.count && upper != keyword && upper.hasPrefix("XXXX")
    }

    static func firstIPv4(in text: String) -> String? {
        let tokens = text.split(whereSeparator: { !($0.isNumber || $0 == ".") })
        return tokens.map(String.init).first { token in
            let parts = token.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
        }
    }

    static func messageID(in text: String?) -> Int? {
        guard let text, let range = text.range(of: "messageID ") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }

    /// `ExtendedResponse protocolError (2), …` → 2.
    static func resultCode(in text: String) -> Int? {
        guard let open = text.firstIndex(of: "("), let close = text[open...].firstIndex(of: ")") else { return nil }
        return Int(text[text.index(after: open)..<close])
    }

    /// Undoes the transcript's escaping (`\xNN`, `\t`), decoding the bytes as UTF-8.
    static func unescaped(_ text: String) -> String {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "\\" {
                let next = text.index(after: index)
                if next < text.endIndex, text[next] == "t" {
                    bytes.append(0x09)
                    index = text.index(after: next)
                    continue
                }
                if next < text.endIndex, text[next] == "x", let end = text.index(next, offsetBy: 3, limitedBy: text.endIndex),
                    let value = UInt8(text[text.index(after: next)..<end], radix: 16)
                {
                    bytes.append(value)
                    index = end
                    continue
                }
            }
            bytes += Array(String(character).utf8)
            index = text.index(after: index)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
