import MimicCore

/// Where an FTP data channel goes, and what to say when a PASV reply names somewhere else.
///
/// A 227 reply carries an IPv4 address as well as a port. A client that connects wherever it says can be steered
/// to a third host — an internal address behind the server's firewall, or anyone's service (the FTP bounce attack,
/// RFC 2577 §3) — and a server behind NAT that forgot its public address sends its private one. The probe therefore
/// takes only the port from the reply and always connects to the control connection's peer (as curl's
/// `--ftp-skip-pasv-ip` and Python's ftplib do by default); the address the reply named is only compared.
public enum FTPDataChannelAddress {
    /// The `pasvAddressMismatch` warning when `announced` (the 227 reply's dotted quad) is not `controlPeer` (the
    /// control connection's peer, as the socket reports it); nil when they agree or nothing was announced (EPSV).
    ///
    /// `0.0.0.0` counts as a mismatch: many clients read it as "the same host", but it is the unspecified address
    /// (RFC 1122 §3.2.1.3: never a destination), and a client that connects to it literally reaches its own host
    /// — the monitor's machine, not the server. A server sending it is misconfigured (a wildcard listener
    /// reporting its bind address), which is worth a warning even though this probe is not misled by it.
    public static func mismatch(announced: String?, controlPeer: String?, connectedTo: String? = nil) -> Finding? {
        guard let announced else { return nil }
        let peer = controlPeer.map(normalized)
        if let peer, normalized(announced) == peer { return nil }
        var evidence = "227 reply names \(announced)"
        if announced == "0.0.0.0" {
            evidence += " (the unspecified address: a client that trusts it connects to its own host)"
        }
        evidence += ", not the control connection's peer \(peer ?? "(unknown)")"
        evidence += "; the data channel went to \(connectedTo ?? peer ?? "the control host") instead"
        return Finding(
            .pasvAddressMismatch,
            phase: .dataChannel,
            evidence: evidence,
            source: "dialog"
        )
    }

    /// An IPv4-mapped IPv6 peer (`::ffff:127.0.0.1`, what a dual-stack socket reports) is its IPv4 address.
    static func normalized(_ address: String) -> String {
        let lowered = address.lowercased()
        for prefix in ["::ffff:", "0:0:0:0:0:ffff:"] where lowered.hasPrefix(prefix) {
            let tail = lowered.dropFirst(prefix.count)
            if tail.split(separator: ".").count == 4 { return String(tail) }
        }
        return lowered
    }
}
