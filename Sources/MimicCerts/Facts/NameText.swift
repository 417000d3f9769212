import X509

extension DistinguishedName {
    /// The RFC 4514 text swift-certificates' `description` gives (`CN=leaf,O=Example`: the last RDN first, the
    /// attributes of a multi-valued RDN joined by `+`), built with concrete calls: `description` joins a lazy
    /// generic sequence and describes each part through `String(describing:)`, and the Swift runtime looks their
    /// types and conformances up at first use, a fifth of a millisecond of a probe.
    var rfc4514: String {
        var text = ""
        for (index, rdn) in reversed().enumerated() {
            if index > 0 { text += "," }
            for (position, attribute) in rdn.enumerated() {
                if position > 0 { text += "+" }
                text += attribute.description
            }
        }
        return text
    }
}
