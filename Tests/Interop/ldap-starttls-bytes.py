#!/usr/bin/env python3
"""ldap-starttls-bytes.py PORT [MESSAGE_ID...]

Sends an LDAP StartTLS ExtendedRequest (OID 1.3.6.1.4.1.1466.20037) to a server
on 127.0.0.1:PORT, one connection per messageID (default 1), and prints the
request and the server's response as hex. This is how the bytes in
ServerDialogTests.slapdStartTLS were taken from slapd 2.5 (start.sh's slapd,
the StartTLS port). Reads at most one response of at most 64 KiB, with a
5-second deadline per connection."""
import socket
import sys

OID = b"1.3.6.1.4.1.1466.20037"


def integer(value):
    body = value.to_bytes((value.bit_length() + 8) // 8 or 1, "big", signed=True)
    return bytes([0x02, len(body)]) + body


def start_tls_request(message_id):
    name = bytes([0x80, len(OID)]) + OID
    operation = bytes([0x77, len(name)]) + name
    body = integer(message_id) + operation
    return bytes([0x30, len(body)]) + body


def response(sock):
    data = b""
    while len(data) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
        if len(data) >= 2 and data[1] < 0x80 and len(data) >= 2 + data[1]:
            break
    return data


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    port = int(sys.argv[1])
    for message_id in [int(a) for a in sys.argv[2:]] or [1]:
        request = start_tls_request(message_id)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(request)
            print(message_id, request.hex(), response(sock).hex())


if __name__ == "__main__":
    main()
