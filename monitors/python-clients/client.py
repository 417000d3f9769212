#!/usr/bin/env python3
"""What a typical Python application does with a TLS mail/FTP/HTTPS server, using only the standard library
with its default settings: ssl.create_default_context(cafile=...) (certificate chain and hostname verified),
smtplib / imaplib / poplib / ftplib / urllib, then a dummy login where applications log in, then quit.

usage: client.py PROTOCOL MODE HOST PORT SERVERNAME CAFILE [TIMEOUT]
  PROTOCOL  smtp | imap | pop3 | ftp | https
  MODE      implicit | starttls   (none is treated as starttls: a plaintext server asked to upgrade)

The client connects to SERVERNAME exactly as an application would (so SNI and the hostname check use it);
SERVERNAME is resolved to HOST inside this process only, as an /etc/hosts line would do it.

Exit codes (Nagios): 0 the TLS session was established and verified (a rejected dummy login is fine),
2 a certificate/TLS error or a protocol error (including a reply timeout or a reset after connecting),
3 could not connect (refused, unresolvable, unreachable) or bad usage.
"""
import ftplib
import imaplib
import poplib
import smtplib
import socket
import ssl
import sys
import urllib.error
import urllib.request

# MIMIC_CLIENT_STYLE=opportunistic: the pattern much application code follows: upgrade only when the server
# offers it (smtplib's has_extn('starttls'), imaplib's capabilities), then log in and, for SMTP, send a message
# whatever happened. Against a stripped upgrade that is the silent plaintext fallback the mock watches for.
OPPORTUNISTIC = __import__("os").environ.get("MIMIC_CLIENT_STYLE") == "opportunistic"

DUMMY_USER = "monitor"
DUMMY_PASS = "not-a-real-password"


def usage(msg):
    print(f"PYTHON UNKNOWN - {msg}")
    print(__doc__.split("\n\n")[1])
    sys.exit(3)


if len(sys.argv) not in (7, 8):
    usage("wrong number of arguments")
PROTOCOL, MODE, HOST, PORT, SERVERNAME, CAFILE = sys.argv[1:7]
try:
    PORT = int(PORT)
    TIMEOUT = float(sys.argv[7]) if len(sys.argv) == 8 else 10.0
except ValueError:
    usage("PORT and TIMEOUT must be numbers")
if MODE == "none":
    MODE = "starttls"
if MODE not in ("implicit", "starttls") or PROTOCOL not in ("smtp", "imap", "pop3", "ftp", "https"):
    usage(f"unsupported protocol/mode {PROTOCOL}/{MODE}")
if PROTOCOL == "https" and MODE != "implicit":
    usage("https has no STARTTLS")

# Name resolution for SERVERNAME only (the test bench's hosts line); everything else resolves normally.
_real_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    if isinstance(host, str) and host.lower().rstrip(".") == SERVERNAME.lower().rstrip("."):
        host = HOST
    return _real_getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _getaddrinfo

CONTEXT = ssl.create_default_context(cafile=CAFILE)
steps = []  # what happened, for the one-line answer


class ConnectFailed(Exception):
    pass


def connect(factory):
    """The constructor connects (and, for the *_SSL classes, hand-shakes); tell a failed connect apart."""
    try:
        return factory()
    except (ConnectionRefusedError, socket.gaierror) as e:
        raise ConnectFailed(e)
    except OSError as e:  # unreachable network or host; a timeout here may be a silent greeting: not caught
        if getattr(e, "errno", None) in (101, 113) and not isinstance(e, ssl.SSLError):
            raise ConnectFailed(e)
        raise


def tls_summary(sock):
    try:
        return f"{sock.version()} {sock.cipher()[0]}"
    except Exception:
        return "TLS"


# --- one function per protocol: application code as the standard library documents it ---------------------

def run_smtp():
    # SMTP: connect, EHLO, STARTTLS, EHLO again, NOOP, QUIT (no login: the server need not offer AUTH).
    steps.append("connect")
    if MODE == "implicit":
        s = connect(lambda: smtplib.SMTP_SSL(SERVERNAME, PORT, timeout=TIMEOUT, context=CONTEXT))
        steps.append("tls")
    else:
        s = connect(lambda: smtplib.SMTP(SERVERNAME, PORT, timeout=TIMEOUT))
        steps.append("greeting")
        s.ehlo()
        if OPPORTUNISTIC and not s.has_extn("starttls"):
            steps.append("no STARTTLS offered, going on in plaintext")
            return smtp_send(s, "plaintext")
        steps.append("starttls")
        s.starttls(context=CONTEXT)
        steps.append("tls")
        s.ehlo()
    tls = tls_summary(s.sock)
    if OPPORTUNISTIC:
        return smtp_send(s, tls)
    s.noop()
    s.quit()
    return tls


def smtp_send(s, tls):
    """Log in where AUTH is offered, send one message, quit: what a notification script does."""
    if s.has_extn("auth"):
        try:
            s.login(DUMMY_USER, DUMMY_PASS)
        except smtplib.SMTPException:
            tls += " (dummy login rejected)"
    try:
        s.sendmail("monitor@example.test", ["postmaster@example.test"], "Subject: mimic\r\n\r\nhello\r\n")
    except smtplib.SMTPException as e:
        tls += f" (message refused: {e})"
    s.quit()
    return tls


def run_imap():
    steps.append("connect")
    if MODE == "implicit":
        m = connect(lambda: imaplib.IMAP4_SSL(SERVERNAME, PORT, ssl_context=CONTEXT, timeout=TIMEOUT))
        steps.append("tls")
    else:
        m = connect(lambda: imaplib.IMAP4(SERVERNAME, PORT, timeout=TIMEOUT))
        if OPPORTUNISTIC and "STARTTLS" not in m.capabilities:
            steps.append("no STARTTLS offered, going on in plaintext")
        else:
            steps.append("starttls")
            m.starttls(ssl_context=CONTEXT)
            steps.append("tls")
    tls = tls_summary(m.sock) if isinstance(m.sock, ssl.SSLSocket) else "plaintext"
    try:
        m.login(DUMMY_USER, DUMMY_PASS)
        m.select("INBOX", readonly=True)
    except imaplib.IMAP4.error as e:
        if "LOGIN" not in str(e).upper() and "AUTH" not in str(e).upper():
            raise
        tls += " (dummy login rejected)"
    m.logout()
    return tls


def run_pop3():
    steps.append("connect")
    if MODE == "implicit":
        p = connect(lambda: poplib.POP3_SSL(SERVERNAME, PORT, timeout=TIMEOUT, context=CONTEXT))
        steps.append("tls")
    else:
        p = connect(lambda: poplib.POP3(SERVERNAME, PORT, timeout=TIMEOUT))
        steps.append("starttls")
        p.stls(context=CONTEXT)
        steps.append("tls")
    tls = tls_summary(p.sock)
    try:
        p.user(DUMMY_USER)
        p.pass_(DUMMY_PASS)
        p.stat()
    except poplib.error_proto as e:
        if not str(e).startswith("b'-ERR"):
            raise
        tls += " (dummy login rejected)"
    p.quit()
    return tls


class ImplicitFTP_TLS(ftplib.FTP_TLS):
    """ftplib has no implicit FTPS; this is the usual recipe: wrap the control socket right after connect."""

    def connect(self, host="", port=0, timeout=-999, source_address=None):
        if host:
            self.host = host
        if port > 0:
            self.port = port
        if timeout != -999:
            self.timeout = timeout
        self.sock = socket.create_connection((self.host, self.port), self.timeout)
        self.af = self.sock.family
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome


def run_ftp():
    steps.append("connect")
    if MODE == "implicit":
        f = ImplicitFTP_TLS(context=CONTEXT, timeout=TIMEOUT)
        connect(lambda: f.connect(SERVERNAME, PORT))
        steps.append("tls")
    else:
        f = ftplib.FTP_TLS(context=CONTEXT, timeout=TIMEOUT)
        connect(lambda: f.connect(SERVERNAME, PORT))
        steps.append("starttls")
        f.auth()
        steps.append("tls")
    tls = tls_summary(f.sock)
    try:
        f.login(DUMMY_USER, DUMMY_PASS)  # FTP_TLS.login() sends AUTH TLS first only when not yet secured
    except ftplib.error_perm as e:
        tls += f" (dummy login rejected: {e})"
        f.quit()
        return tls
    steps.append("data channel")
    f.prot_p()
    f.nlst()  # one data-channel transfer, protected, as an application listing a folder does
    f.quit()
    return tls + ", data channel protected"


def run_https():
    steps.append("connect")
    url = f"https://{SERVERNAME}:{PORT}/"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT, context=CONTEXT) as r:
            status = r.status
            r.read()
    except urllib.error.HTTPError as e:  # an HTTP error status still came over a verified TLS session
        status = e.code
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, (ConnectionRefusedError, socket.gaierror)):
            raise ConnectFailed(reason)
        if isinstance(reason, BaseException):
            raise reason
        raise
    return f"HTTP {status}"


def main():
    label = f"{PROTOCOL}/{MODE} {SERVERNAME} ({HOST}:{PORT})"
    try:
        result = {"smtp": run_smtp, "imap": run_imap, "pop3": run_pop3, "ftp": run_ftp, "https": run_https}[PROTOCOL]()
    except ConnectFailed as e:
        print(f"PYTHON UNKNOWN - {label}: could not connect: {e}")
        return 3
    except ssl.SSLCertVerificationError as e:
        print(f"PYTHON CRITICAL - {label}: certificate rejected: {e.verify_message} ({e.reason}) [{steps[-1]}]")
        return 2
    except ssl.SSLError as e:
        print(f"PYTHON CRITICAL - {label}: TLS error: {e} [{steps[-1]}]")
        return 2
    except (TimeoutError, socket.timeout) as e:
        print(f"PYTHON CRITICAL - {label}: timed out: {e} [{steps[-1]}]")
        return 2
    except (smtplib.SMTPException, imaplib.IMAP4.error, poplib.error_proto, ftplib.Error, EOFError) as e:
        print(f"PYTHON CRITICAL - {label}: protocol error: {type(e).__name__}: {e} [{steps[-1]}]")
        return 2
    except OSError as e:
        print(f"PYTHON CRITICAL - {label}: connection error: {type(e).__name__}: {e} [{steps[-1]}]")
        return 2
    except Exception as e:  # anything else the library raised is still the server's failure to serve the client
        print(f"PYTHON CRITICAL - {label}: {type(e).__name__}: {e} [{steps[-1] if steps else 'start'}]")
        return 2
    print(f"PYTHON OK - {label}: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
