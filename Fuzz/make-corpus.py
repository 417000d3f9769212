#!/usr/bin/env python3
"""make-corpus.py: writes the seed corpora Fuzz/corpus/<target>/ from the test fixtures, the scenario library and
the certificate profiles. Deterministic but for the ClientHello seed's random fields (random, session id, key
shares): the same checkout gives the same files otherwise. Each seed is named after what it is; the first bytes of
the dialog seeds are the target's choice bytes (see each Fuzz/Sources/<target>/<target>.swift)."""
import base64
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Fuzz", "corpus")
PROTOCOLS = ["smtp", "imap", "pop3", "ftp", "ldap", "https"]  # ServiceProtocol.allCases order


def lines(*items):
    return "".join(item + "\r\n" for item in items).encode()


# BER / LDAP (RFC 4511), as the dialog tests and slapd write them.
def tlv(tag, body, long_form=False):
    if long_form:
        return bytes([tag, 0x84]) + len(body).to_bytes(4, "big") + body
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    octets = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + body


def integer(value, tag=0x02):
    body = value.to_bytes((value.bit_length() + 8) // 8 or 1, "big", signed=True)
    return tlv(tag, body)


OID = b"1.3.6.1.4.1.1466.20037"
LDAP_STARTTLS_REQUEST = tlv(0x30, integer(1) + tlv(0x77, tlv(0x80, OID)))
LDAP_ROOT_DSE_SEARCH = tlv(
    0x30,
    integer(2)
    + tlv(
        0x63,
        tlv(0x04, b"") + integer(0, 0x0A) + integer(0, 0x0A) + integer(0) + integer(0) + tlv(0x01, b"\x00")
        + tlv(0x87, b"objectClass") + tlv(0x30, tlv(0x04, b"supportedExtension") + tlv(0x04, b"namingContexts")),
    ),
)
LDAP_UNBIND = tlv(0x30, integer(3) + tlv(0x42, b""))
LDAP_BIND = tlv(0x30, integer(4) + tlv(0x60, integer(3) + tlv(0x04, b"cn=admin") + tlv(0x80, b"secret")))


def extended_response(message_id, code, long_form=False, name=True):
    body = integer(code, 0x0A) + tlv(0x04, b"") + tlv(0x04, b"")
    if name:
        body += tlv(0x8A, OID)
    return tlv(0x30, integer(message_id) + tlv(0x78, body, long_form), long_form)


LDAP_SEARCH_ENTRY = tlv(
    0x30,
    integer(2)
    + tlv(
        0x64,
        tlv(0x04, b"")
        + tlv(0x30, tlv(0x30, tlv(0x04, b"supportedExtension") + tlv(0x31, tlv(0x04, OID) + tlv(0x04, b"1.3.6.1.4.1.4203.1.11.1")))),
    ),
)
LDAP_SEARCH_DONE = tlv(0x30, integer(2) + tlv(0x65, integer(0, 0x0A) + tlv(0x04, b"") + tlv(0x04, b"")))
LDAP_NOTICE_OF_DISCONNECTION = tlv(
    0x30, integer(0) + tlv(0x78, integer(52, 0x0A) + tlv(0x04, b"") + tlv(0x04, b"bye") + tlv(0x8A, b"1.3.6.1.4.1.1466.20036"))
)

# What each server says, whole conversations up to and after the upgrade (the dialog tests' transcripts).
SERVER_STARTTLS = {
    "smtp": lines("220 mail.example.test ESMTP ready", "250-mail.example.test", "250-PIPELINING", "250-SIZE 10240000",
                  "250-STARTTLS", "250 8BITMIME", "220 2.0.0 Ready to start TLS", "250-mail.example.test",
                  "250-AUTH PLAIN LOGIN", "250 8BITMIME", "221 2.0.0 Bye"),
    "imap": lines("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready", "a1 OK CAPABILITY completed",
                  "a2 OK Begin TLS negotiation now", "* CAPABILITY IMAP4rev1 AUTH=PLAIN", "a3 OK done",
                  "* BYE logging out", "a4 OK LOGOUT completed"),
    "pop3": lines("+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>", "+OK Capability list follows", "USER", "STLS",
                  "SASL PLAIN", ".", "+OK Begin TLS negotiation", "+OK Capability list follows", "USER", "SASL PLAIN",
                  ".", "+OK bye"),
    "ftp": lines("220-Welcome to the FTP service", "220-Second line", "220 Ready", "211-Features:", " AUTH TLS",
                 " PBSZ", " PROT", " EPSV", " UTF8", "211 End", "234 Proceed with negotiation.", "200 PBSZ set to 0.",
                 "200 PROT now Private.", "331 Please specify the password.", "230 Login successful.",
                 "229 Entering Extended Passive Mode (|||6446|)", "150 Here comes the directory listing.",
                 "226 Directory send OK.", "221 Goodbye."),
    "ldap": extended_response(1, 0) + LDAP_SEARCH_ENTRY + LDAP_SEARCH_DONE,
    "https": lines("HTTP/1.1 200 OK", "Server: mimic-mock", "X-Folded: a", "  b", "Content-Length: 0", ""),
}
SERVER_OTHER = {
    "smtp-refused": lines("220 mx ESMTP", "250-mx", "250 SIZE", "454 4.7.0 TLS not available"),
    "smtp-bare-lf": b"220 mx ESMTP\n250-mx\n250 STARTTLS\n220 go\n",
    "smtp-injection": lines("220 mx ESMTP", "250 STARTTLS", "220 go", "250 injected"),
    "imap-preauth": lines("* PREAUTH [CAPABILITY IMAP4rev1] logged in", "a1 OK"),
    "imap-literal": lines("* OK ready", "* CAPABILITY IMAP4rev1 {8}", "STARTTLS", "a1 OK", "a2 NO no TLS"),
    "pop3-err": lines("+OK ready", "-ERR unknown command", "-ERR STLS not supported"),
    "ftp-pasv": lines("220 ok", "500 FEAT not understood", "234 go", "200 ok", "200 ok", "230 no password needed",
                      "502 EPSV not implemented", "227 Entering Passive Mode (127,0,0,1,19,137).", "150 here", "226 ok"),
    "ftp-refused": lines("220 ok", "211-Features:", " AUTH TLS", "211 End", "534 Policy requires SSL", "431 no"),
    "ftp-120": lines("120 Service ready in 1 minute", "220 ok"),
    "ldap-unavailable": extended_response(1, 52, long_form=True),
    "ldap-no-name": extended_response(1, 0, name=False) + LDAP_NOTICE_OF_DISCONNECTION,
    "https-early-hints": lines("HTTP/1.1 103 Early Hints", "Link: </a>", "", "HTTP/1.1 301 Moved", "Location: /x", ""),
    "https-chunked": lines("HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "", "5", "hello", "0", ""),
}
CLIENT_STARTTLS = {
    "smtp": lines("EHLO probe.mimic.test", "STARTTLS", "EHLO probe.mimic.test", "MAIL FROM:<a@b.test>", "QUIT"),
    "imap": lines("a1 CAPABILITY", "a2 STARTTLS", "a3 CAPABILITY", "a4 LOGIN user pass", "a5 LOGOUT"),
    "pop3": lines("CAPA", "STLS", "CAPA", "USER me", "PASS secret", "QUIT"),
    "ftp": lines("FEAT", "AUTH TLS", "PBSZ 0", "PROT P", "USER anonymous", "PASS probe@mimic.test", "EPSV", "LIST",
                 "PASV", "RETR x", "QUIT"),
    "ldap": LDAP_STARTTLS_REQUEST + LDAP_ROOT_DSE_SEARCH + LDAP_BIND + LDAP_UNBIND,
    "https": lines("HEAD / HTTP/1.1", "Host: www.example.test", "User-Agent: mimic", "Connection: close", ""),
}
CLIENT_OTHER = {
    "smtp-pipelined": b"EHLO x\r\nSTARTTLS\r\nMAIL FROM:<evil@x>\r\n",
    "smtp-bare-lf": b"HELO x\nSTARTTLS\n",
    "imap-literal": lines("a1 LOGIN {4}", "user {4}", "pass", "a2 AUTHENTICATE PLAIN", "dXNlcgB1c2VyAHBhc3M="),
    "ftp-auth-ssl": lines("AUTH SSL", "CCC", "PROT C", "PORT 127,0,0,1,4,1", "EPRT |1|127.0.0.1|1025|", "ABOR"),
    "ldap-search-first": LDAP_ROOT_DSE_SEARCH + LDAP_STARTTLS_REQUEST,
    "https-get": lines("GET /path?q=1 HTTP/1.0", "Host: a", "Content-Length: 3", "", "abc"),
}


def write(target, name, data):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as handle:
        handle.write(data)


def files(folder, pattern=r".*\.yaml$"):
    found = []
    for base, _, names in os.walk(os.path.join(ROOT, folder)):
        found += [os.path.join(base, n) for n in names if re.match(pattern, n)]
    return sorted(found)


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def strip_keys(text, keys):
    """The YAML document without these top-level keys (and the indented lines under them)."""
    kept, skipping = [], False
    for line in text.decode().splitlines(keepends=True):
        if line[:1] not in (" ", "\t", "-", "#", "\n") and line.strip():
            skipping = line.split(":")[0] in keys
        if not skipping:
            kept.append(line)
    return "".join(kept).encode()


def certificates(limit):
    """The first DER certificates of the bundled trust store (checked in, so the seeds do not change by themselves)."""
    text = read(os.path.join(ROOT, "certs", "trust", "mozilla-roots.pem")).decode()
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----\n(.*?)-----END CERTIFICATE-----", text, re.S)
    return [base64.b64decode("".join(block.split())) for block in blocks[:limit]]


def client_hello():
    """A real ClientHello from Python's ssl module (OpenSSL), taken from a memory BIO: nothing is sent anywhere."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    connection = context.wrap_bio(incoming, outgoing, server_hostname="mail.example.test")
    try:
        connection.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def server_hello(suite, extensions, random=bytes(32), version=0x0303):
    """A ServerHello record, built field by field (RFC 8446 §4.1.3): deterministic, unlike a library's."""
    body = version.to_bytes(2, "big") + random + bytes([32]) + bytes(range(32)) + suite.to_bytes(2, "big") + b"\x00"
    if extensions is not None:
        block = b"".join(kind.to_bytes(2, "big") + len(data).to_bytes(2, "big") + data for kind, data in extensions)
        body += len(block).to_bytes(2, "big") + block
    message = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x03" + len(message).to_bytes(2, "big") + message


HELLO_RETRY_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    for index, proto in enumerate(PROTOCOLS):
        # FuzzClientDialog: selector (protocol index, 0x40 for implicit), segment size, the server's bytes.
        write("FuzzClientDialog", f"{proto}-starttls", bytes([index, 0]) + SERVER_STARTTLS[proto])
        write("FuzzClientDialog", f"{proto}-implicit-sliced", bytes([index | 0x40, 3]) + SERVER_STARTTLS[proto])
        # FuzzServerDialog: selector (protocol index, mode in bits 4-5), flags, segment size, the client's bytes.
        write("FuzzServerDialog", f"{proto}-starttls", bytes([index, 0, 0]) + CLIENT_STARTTLS[proto])
        write("FuzzServerDialog", f"{proto}-implicit-strict", bytes([index | 0x10, 0x01, 5]) + CLIENT_STARTTLS[proto])
    for name, data in SERVER_OTHER.items():
        index = PROTOCOLS.index(name.split("-")[0])
        write("FuzzClientDialog", name, bytes([index, 0]) + data)
    for name, data in CLIENT_OTHER.items():
        index = PROTOCOLS.index(name.split("-")[0])
        write("FuzzServerDialog", name, bytes([index, 0x42, 0]) + data)
    write("FuzzHTTP", "response", b"\x00" + SERVER_STARTTLS["https"])
    write("FuzzHTTP", "early-hints", b"\x07" + SERVER_OTHER["https-early-hints"])
    write("FuzzHTTP", "chunked", b"\x00" + SERVER_OTHER["https-chunked"])
    write("FuzzHTTP", "request", b"\x00" + CLIENT_STARTTLS["https"])
    write("FuzzHTTP", "request-body", b"\x02" + CLIENT_OTHER["https-get"])
    write("FuzzLineReader", "smtp", bytes([200, 0]) + SERVER_STARTTLS["smtp"])
    write("FuzzLineReader", "bare-lf", bytes([16, 1]) + SERVER_OTHER["smtp-bare-lf"])
    write("FuzzLineReader", "too-long", bytes([8, 4]) + b"220 this line is longer than eight\r\n")
    write("FuzzLineReader", "cr-at-limit", bytes([3, 0]) + b"abc\r\nabcd\r\n\r\n")
    ldap = {
        "starttls-request": LDAP_STARTTLS_REQUEST, "root-dse-search": LDAP_ROOT_DSE_SEARCH, "bind": LDAP_BIND,
        "unbind": LDAP_UNBIND, "starttls-response": extended_response(1, 0),
        "starttls-response-long-form": extended_response(1, 52, long_form=True), "search-entry": LDAP_SEARCH_ENTRY,
        "search-done": LDAP_SEARCH_DONE, "notice-of-disconnection": LDAP_NOTICE_OF_DISCONNECTION,
    }
    for name, data in ldap.items():
        write("FuzzBER", name, b"\x10" + data)
        write("FuzzLDAPMessage", name, b"\x00" + data)
    write("FuzzLDAPMessage", "stream-sliced", b"\x02" + SERVER_STARTTLS["ldap"])
    write("FuzzLDAPMessage", "smtp-on-ldap-port", b"\x00" + lines("220 mail ESMTP"))
    # The text after the reply code, as the FTP dialog hands it to the parsers.
    for name, text in {
        "epsv": "Entering Extended Passive Mode (|||6446|)", "pasv": "Entering Passive Mode (127,0,0,1,19,137).",
        "pasv-bare": "10,0,0,1,4,1", "epsv-other-delimiter": "ok (!!!65535!)", "epsv-too-big": "(|||99999|)",
    }.items():
        write("FuzzFTPPassive", name, text.encode())
    hello = client_hello()
    write("FuzzClientHello", "python-openssl", b"\x00" + hello)
    write("FuzzClientHello", "python-openssl-sliced", b"\x05" + hello)
    write("FuzzClientHello", "plaintext", b"\x00" + lines("EHLO x"))
    tls13 = [(43, b"\x03\x04"), (51, b"\x00\x1d\x00\x20" + bytes(32))]
    write("FuzzServerHello", "tls13-x25519", b"\x00" + server_hello(0x1301, tls13))
    write("FuzzServerHello", "tls13-x25519-sliced", b"\x03" + server_hello(0x1301, tls13))
    write("FuzzServerHello", "hello-retry", b"\x00" + server_hello(0x1302, [(43, b"\x03\x04"), (51, b"\x01\x00")],
                                                                     random=HELLO_RETRY_RANDOM))
    write("FuzzServerHello", "tls12", b"\x00" + server_hello(0xC02F, [(65281, b"\x00")]))
    write("FuzzServerHello", "tls10-no-extensions", b"\x00" + server_hello(0x002F, None, version=0x0301))
    write("FuzzServerHello", "alert", b"\x00" + bytes.fromhex("15030300020228"))
    # A sample of the library (every eighth file, so the corpus stays small) and every fixture the loader tests use.
    scenarios = files("scenarios")
    for path in scenarios[::8] + files("Tests/MimicScenariosTests/Fixtures/valid") + files(
            "Tests/MimicScenariosTests/Fixtures/malformed")[::3]:
        name = os.path.relpath(path, ROOT).replace("/", "_")
        write("FuzzScenarioLoader", name, read(path))
    # Each profile whole (a ChainProfile) and without its profile keys (a bare ChainSpec, as a scenario inlines it).
    for path in files("certs/profiles"):
        text = read(path)
        write("FuzzChainSpec", "profile-" + os.path.basename(path), text)
        write("FuzzChainSpec", "spec-" + os.path.basename(path), strip_keys(text, ("name", "summary", "hostname", "expect")))
    for path in files("Tests/MimicScenariosTests/Fixtures/valid", r"inline-chain.*\.yaml$"):
        write("FuzzChainSpec", "scenario-" + os.path.basename(path), read(path))
    ders = certificates(4)
    pem = "".join(
        "-----BEGIN CERTIFICATE-----\n" + "\n".join(re.findall(".{1,64}", base64.b64encode(d).decode())) +
        "\n-----END CERTIFICATE-----\n" for d in ders)
    write("FuzzPEM", "roots.pem", pem.encode())
    write("FuzzPEM", "one-crlf.pem", pem.split("-----END CERTIFICATE-----\n")[0].replace("\n", "\r\n").encode()
          + b"-----END CERTIFICATE-----\r\n")
    for number, der in enumerate(ders):
        write("FuzzCertificateFacts", f"root-{number}", b"\x00" + der)
    write("FuzzCertificateFacts", "chain-and-anchor", bytes([50]) + ders[0] + ders[0])
    total = sum(len(n) for _, _, n in os.walk(OUT))
    print(f"{OUT}: {total} seeds in {len(os.listdir(OUT))} corpora")


if __name__ == "__main__":
    sys.exit(main())
