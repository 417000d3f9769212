#!/bin/sh
# Writes WORKDIR/blackbox.yml for prometheus-blackbox-exporter 0.23 from the zoo manifest.
# usage: setup.sh MANIFEST.json WORKDIR
#
# One module per protocol, mode and servername, named PROTOCOL_MODE_SERVERNAME (smtp_starttls_mail.example.test),
# because the name checked against the certificate (tls_config.server_name) is per module in blackbox. The CA is
# the zoo's one CA file. Modules follow blackbox's own example.yml shapes: a tcp prober with tls: true for
# implicit TLS, query_response STARTTLS steps for smtp/imap/pop3/ftp, the http prober for https. LDAP StartTLS
# cannot be written (see the adapter). Exit 0 once the file is written and `--config.check` accepts it.
set -eu
[ $# -eq 2 ] || { echo "usage: setup.sh MANIFEST.json WORKDIR" >&2; exit 2; }
manifest=$1
workdir=$2
[ -r "$manifest" ] || { echo "setup.sh: cannot read $manifest" >&2; exit 1; }
[ -d "$workdir" ] || { echo "setup.sh: no folder $workdir" >&2; exit 1; }

python3 - "$manifest" "$workdir/blackbox.yml" <<'PY'
import json, re, sys

manifest, out = sys.argv[1], sys.argv[2]
data = json.load(open(manifest))

# Every "servername" in the manifest (monitors/manifest.schema.json) gets modules; the CA is the top-level
# "cafile" (walked generically, so the first CA-file-like key found wins).
NAME_KEYS = {"servername", "server_name", "sni"}
CA_KEYS = {"cafile", "ca_file", "trust", "ca"}
HOSTNAME = re.compile(r"^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
names, cafiles = set(), []


def walk(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, str) and k.lower() in NAME_KEYS and HOSTNAME.match(v):
                names.add(v)
            elif isinstance(v, str) and k.lower() in CA_KEYS and v.startswith("/"):
                cafiles.append(v)
            else:
                walk(v)
    elif isinstance(node, list):
        for v in node:
            walk(v)


walk(data)
if not names:
    sys.exit("setup.sh: no servername in the manifest")
if not cafiles:
    sys.exit("setup.sh: no CA file in the manifest")
cafile = cafiles[0]  # every scenario of one zoo shares the same local CA


def q(s):
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def tls_config(name):
    return [f"      tls_config:", f"        ca_file: {q(cafile)}", f"        server_name: {q(name)}"]


# query_response steps: blackbox appends "\n" to each send, so "\r" makes CRLF; each expect reads lines until one
# matches (multi-line greetings and replies are skipped over line by line).
GREETING = {"smtp": r"^220 ", "imap": r"^\* (OK|PREAUTH)", "pop3": r"^\+OK", "ftp": r"^220 "}
STARTTLS = {
    "smtp": [("expect", r"^220 "), ("send", "EHLO prober.mimic.test\r"), ("expect", r"^250[- ]STARTTLS"),
             ("send", "STARTTLS\r"), ("expect", r"^220"), ("starttls", True),
             ("send", "EHLO prober.mimic.test\r"), ("expect", r"^250 "), ("send", "QUIT\r"), ("expect", r"^221")],
    "imap": [("expect", r"^\* OK"), ("send", "a1 STARTTLS\r"), ("expect", r"^a1 OK"), ("starttls", True),
             ("send", "a2 CAPABILITY\r"), ("expect", r"^a2 OK"), ("send", "a3 LOGOUT\r"), ("expect", r"^a3 OK")],
    "pop3": [("expect", r"^\+OK"), ("send", "STLS\r"), ("expect", r"^\+OK"), ("starttls", True),
             ("send", "QUIT\r"), ("expect", r"^\+OK")],
    "ftp": [("expect", r"^220 "), ("send", "AUTH TLS\r"), ("expect", r"^234"), ("starttls", True),
            ("send", "QUIT\r"), ("expect", r"^221")],
}
IMPLICIT_AFTER = {
    "smtp": [("send", "QUIT\r"), ("expect", r"^221")],
    "imap": [("send", "a1 LOGOUT\r"), ("expect", r"^a1 OK")],
    "pop3": [("send", "QUIT\r"), ("expect", r"^\+OK")],
    "ftp": [("send", "QUIT\r"), ("expect", r"^221")],
}


def steps(items):
    lines = ["      query_response:"]
    for k, v in items:
        lines.append(f"        - {k}: {'true' if v is True else q(v)}")
    return lines


lines = ["# written by monitors/blackbox_exporter/setup.sh from " + manifest, "modules:"]
for name in sorted(names):
    for proto in ("smtp", "imap", "pop3", "ftp"):
        lines += [f"  {q(f'{proto}_implicit_{name}')}:", "    prober: tcp", "    timeout: 10s", "    tcp:",
                  "      tls: true"]
        lines += tls_config(name)
        lines += steps([("expect", GREETING[proto])] + IMPLICIT_AFTER[proto])
        lines += [f"  {q(f'{proto}_starttls_{name}')}:", "    prober: tcp", "    timeout: 10s", "    tcp:"]
        lines += tls_config(name)
        lines += steps(STARTTLS[proto])
    lines += [f"  {q(f'ldap_implicit_{name}')}:", "    prober: tcp", "    timeout: 10s", "    tcp:", "      tls: true"]
    lines += tls_config(name)
    lines += [f"  {q(f'https_implicit_{name}')}:", "    prober: http", "    timeout: 10s", "    http:",
              "      method: GET", "      fail_if_not_ssl: true", "      ip_protocol_fallback: false",
              "      preferred_ip_protocol: ip4"]
    lines += [l.replace("      ", "      ", 1) for l in tls_config(name)]
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"setup.sh: {len(names)} servername(s), CA {cafile}, wrote {out}")
PY

prometheus-blackbox-exporter --config.file="$workdir/blackbox.yml" --config.check >"$workdir/config-check.log" 2>&1 || {
    cat "$workdir/config-check.log" >&2
    echo "setup.sh: blackbox rejected $workdir/blackbox.yml" >&2
    exit 1
}
