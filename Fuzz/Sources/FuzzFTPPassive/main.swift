import FuzzSupport
import MimicDialogs

// The FTP passive-mode parsers (EPSV's port, PASV's address and port): a hostile reply yields nil or a port in
// 1…65535 and a dotted quad (`ParserEntryPoints.ftpPassive(input:)`).
fuzzMain { input in
    if !ParserEntryPoints.ftpPassive(input: input.bytes) {
        fatalError("FTP passive reply: a port or host out of range")
    }
}
