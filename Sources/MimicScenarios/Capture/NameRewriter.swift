/// Rewrites a captured server's names to reserved `*.example.test` equivalents, consistently, so that a captured
/// scenario can be attached to a bug report without naming the server and still matches names exactly as the
/// real server's certificate did.
///
/// Each registrable domain (the last two labels) gets a reserved one of its own, in the order met:
/// `example.test`, `example2.test`, …; the labels in front of it are kept when they are common service words
/// (`mail`, `smtp`, `imap`, `mx1`, …) and otherwise become `host1`, `host2`, … — the same label always the same
/// replacement. Wildcard labels (`*`) are kept. Names already under a reserved suffix (RFC 2606, RFC 6761:
/// `.test`, `.example`, `.invalid`, `.localhost`, `example.com/net/org`) are left as they are.
struct NameRewriter {
    let enabled: Bool
    private var domains: [String: String] = [:]
    private var labels: [String: String] = [:]
    private var addresses: [String: String] = [:]
    /// Partial-wildcard labels (`m*`) whose neighbours were renamed: the match may differ from the original.
    private(set) var partialWildcards: [String] = []

    init(enabled: Bool) { self.enabled = enabled }

    static let reservedSuffixes = [".test", ".example", ".invalid", ".localhost"]
    static let reservedDomains: Set<String> = ["example.com", "example.net", "example.org", "test", "example",
                                               "invalid", "localhost"]
    static let serviceLabels: Set<String> = [
        "mail", "smtp", "smtps", "submission", "imap", "imaps", "pop", "pop3", "pop3s", "ftp", "ftps", "ldap",
        "ldaps", "www", "web", "webmail", "mx", "relay", "autodiscover", "autoconfig", "exchange", "owa", "dc",
        "ad", "directory", "files", "secure", "api", "app", "portal", "vpn", "remote", "intranet",
    ]

    /// True for names under a reserved suffix, which are never rewritten.
    static func isReserved(_ name: String) -> Bool {
        let lower = name.lowercased()
        if reservedDomains.contains(lower) { return true }
        if reservedSuffixes.contains(where: { lower.hasSuffix($0) }) { return true }
        return reservedDomains.contains(where: { lower.hasSuffix("." + $0) })
    }

    /// The rewritten form of a DNS name (or pattern); IP literals and single labels are returned unchanged.
    mutating func rewrite(_ name: String) -> String {
        guard enabled, !name.isEmpty, !Self.isReserved(name), looksLikeDNSName(name) else { return name }
        let trailingDot = name.hasSuffix(".")
        let parts = (trailingDot ? String(name.dropLast()) : name).split(separator: ".", omittingEmptySubsequences: false)
            .map { String($0) }
        guard parts.count >= 2 else { return name }
        let base = parts.suffix(2).joined(separator: ".").lowercased()
        let newBase: String
        if let known = domains[base] {
            newBase = known
        } else {
            newBase = domains.isEmpty ? "example.test" : "example\(domains.count + 1).test"
            domains[base] = newBase
        }
        var front: [String] = []
        for label in parts.dropLast(2) {
            let lower = label.lowercased()
            if label == "*" || Self.serviceLabels.contains(lower) || Self.isNumberedService(lower) {
                front.append(label)
            } else if label.contains("*") {
                partialWildcards.append(name)
                front.append(label)
            } else if let known = labels[lower] {
                front.append(known)
            } else {
                let replacement = "host\(labels.count + 1)"
                labels[lower] = replacement
                front.append(replacement)
            }
        }
        return (front + [newBase]).joined(separator: ".") + (trailingDot ? "." : "")
    }

    /// IP addresses: loopback and documentation addresses stay; any other becomes a documentation address
    /// (`192.0.2.N`, `2001:db8::N`), the same address always the same one.
    mutating func rewriteIP(_ address: String) -> String {
        guard enabled else { return address }
        let lower = address.lowercased()
        if lower.hasPrefix("127.") || lower == "::1" || lower.hasPrefix("192.0.2.") || lower.hasPrefix("2001:db8:") {
            return address
        }
        if let known = addresses[lower] { return known }
        let replacement = lower.contains(":") ? "2001:db8::\(addresses.count + 1)" : "192.0.2.\(addresses.count + 1)"
        addresses[lower] = replacement
        return replacement
    }

    /// Rewrites every dotted name inside free text (a greeting, a reply): `mx.corp.example ESMTP` and the like.
    mutating func rewriteText(_ text: String) -> String {
        guard enabled else { return text }
        var output = ""
        var token = ""
        func flush(_ rewriter: inout NameRewriter) {
            if token.contains(".") && !token.hasPrefix(".") && !token.hasSuffix(".") {
                output += rewriter.rewrite(token)
            } else {
                output += token
            }
            token = ""
        }
        for character in text {
            if character.isLetter || character.isNumber || character == "-" || character == "." || character == "*"
                || character == "_"
            {
                token.append(character)
            } else {
                flush(&self)
                output.append(character)
            }
        }
        flush(&self)
        return output
    }

    /// The mapping applied so far, for the file's comment (`corp.example.com → example.test`).
    var mappingDescription: [String] {
        domains.sorted { $0.value.count == $1.value.count ? $0.value < $1.value : $0.value.count < $1.value.count }
            .map { "*.\($0.key) -> *.\($0.value)" }
    }

    private static func isNumberedService(_ label: String) -> Bool {
        let letters = label.prefix { $0.isLetter }
        let digits = label.dropFirst(letters.count)
        return !digits.isEmpty && digits.allSatisfy(\.isNumber) && serviceLabels.contains(String(letters))
    }

    /// Letters, digits, hyphens, underscores and `*`, in at least two dot-separated labels, not all numeric.
    private func looksLikeDNSName(_ name: String) -> Bool {
        guard name.contains("."), !name.allSatisfy({ $0.isNumber || $0 == "." }) else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || "-._*".contains($0) }
    }
}
