"""The rows of issue-style speed goals, each against a peer measured in the same run: probe start-up against
`openssl s_client` on a quiet and on a busy machine, against real postfix, against sslyze and testssl.sh, the
mocks' new-handshake rate against nginx, a zoo of a thousand scenarios, and many targets probed at once.

Every function returns a dict of figures (or {"skipped": why}); bench.py prints them and writes them as JSON.
Nothing here asserts a time."""
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

NAME = "mail.example.test"
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def timed(argv, timeout=120, env=None):
    started = time.perf_counter()
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, text=True, env=env)
    return (time.perf_counter() - started) * 1000, result


def median_ms(argv, repeat, timeout=120):
    """Median wall time of `repeat` runs, after one that is not counted: a server's first handshakes, and a
    process's first start from the page cache, are no one's steady state."""
    timed(argv, timeout=timeout)
    samples, last = [], None
    for _ in range(repeat):
        ms, last = timed(argv, timeout=timeout)
        samples.append(ms)
    return statistics.median(samples), last


def paired_medians(ours, peer, repeat, timeout=120):
    """Medians of two commands run in turn (ours, peer, ours, peer, …) after one uncounted run of each: on a
    machine whose speed drifts over seconds, both series see the same drift."""
    timed(ours, timeout=timeout)
    timed(peer, timeout=timeout)
    ours_samples, peer_samples = [], []
    for _ in range(repeat):
        ours_samples.append(timed(ours, timeout=timeout)[0])
        peer_samples.append(timed(peer, timeout=timeout)[0])
    return statistics.median(ours_samples), statistics.median(peer_samples)


class Burners:
    """A busy machine: one spinning process per core for as long as the block runs."""

    def __enter__(self):
        self.children = [subprocess.Popen(["python3", "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
        return self

    def __exit__(self, *exc):
        for child in self.children:
            child.kill()
            child.wait()


class Serve:
    """`mimic serve FOLDER --manifest FILE`: every scenario's address from the manifest."""

    def __init__(self, mimic, folder, timeout=120):
        self.manifest = os.path.join(folder, "zoo.json")
        started = time.perf_counter()
        self.process = subprocess.Popen([mimic, "serve", folder, "--manifest", self.manifest],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        cwd=REPO)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.manifest) and os.path.getsize(self.manifest) > 0:
                try:
                    with open(self.manifest) as handle:
                        self.zoo = json.load(handle)
                    break
                except ValueError:
                    pass
            if self.process.poll() is not None:
                raise RuntimeError("mimic serve ended: " + self.process.stderr.read().decode(errors="replace"))
            time.sleep(0.01)
        else:
            self.stop()
            raise RuntimeError("mimic serve wrote no manifest in time")
        self.milliseconds = (time.perf_counter() - started) * 1000
        self.by_id = {entry["id"]: entry for entry in self.zoo["scenarios"]}

    def rss_mib(self):
        try:
            with open(f"/proc/{self.process.pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def scenario(folder, scenario_id, protocol, mode, backend, profile="good"):
    with open(os.path.join(folder, scenario_id.replace("::", "-") + ".yaml"), "w") as handle:
        handle.write(f"id: {scenario_id}\nsummary: A good server for the benchmark\n"
                     f"server: {{ protocol: {protocol}, tls: {mode}, backend: {backend} }}\n"
                     f"pki: {{ profile: {profile} }}\nprobe: {{ servername: {NAME} }}\nexpect: {{ verdict: [] }}\n")


def probe_argv(mimic, url, mode, ca, backend="both", extra=()):
    return [mimic, "probe", url, "--mode", mode, "--servername", NAME, "--ca-file", ca, "--backend", backend,
            "--format", "nagios", "--timeout", "10", *extra]


def s_client_argv(host, port, ca, starttls=None):
    argv = ["openssl", "s_client", "-connect", f"{host}:{port}", "-servername", NAME, "-CAfile", ca,
            "-verify_return_error", "-verify_hostname", NAME, "-brief"]
    return argv + (["-starttls", starttls] if starttls else [])


def startup(mimic, repeat):
    """mimic probe of an SMTP STARTTLS mock through both backends against one s_client, quiet and busy."""
    if not shutil.which("openssl"):
        return {"skipped": "openssl not installed"}
    with tempfile.TemporaryDirectory(prefix="mimic-bench-") as folder:
        scenario(folder, "bench::smtp::starttls", "smtp", "starttls", "openssl", "rsa2048-good")
        serve = Serve(mimic, folder)
        try:
            entry = serve.by_id["bench::smtp::starttls"]
            host, port, ca = entry["host"], entry["port"], serve.zoo["cafile"]
            ours = probe_argv(mimic, f"smtp://{host}:{port}", "starttls", ca)
            peer = s_client_argv(host, port, ca, "smtp")
            figures = {}
            # Cheap to repeat: sixty pairs at least (with thirty, the ratio moved by 7 % between runs minutes apart).
            pairs = max(repeat, 60)
            for condition in ("quiet", "busy"):
                if condition == "busy":
                    with Burners():
                        mimic_ms, peer_ms = paired_medians(ours, peer, pairs)
                else:
                    mimic_ms, peer_ms = paired_medians(ours, peer, pairs)
                figures[condition] = {"mimic_ms": mimic_ms, "s_client_ms": peer_ms, "ratio": mimic_ms / peer_ms}
            version_ms, _ = median_ms([mimic, "--version"], repeat)
            figures["mimic_version_ms"] = version_ms
            return figures
        finally:
            serve.stop()


class RealServers:
    """Tests/Interop's postfix, dovecot, vsftpd, slapd and nginx, serving an RSA chain minted by mimic."""

    def __init__(self, mimic, base_port=26000):
        self.folder = tempfile.mkdtemp(prefix="mimic-bench-real-")
        os.chmod(self.folder, 0o755)
        self.certs = os.path.join(self.folder, "certs")
        subprocess.run([mimic, "certs", "mint", "rsa2048-good", "--out", self.certs], check=True,
                       capture_output=True, cwd=REPO)
        os.chmod(self.certs, 0o755)
        self.ca = os.path.join(self.certs, "ca.pem")
        self.run_dir = os.path.join(self.folder, "run")
        start = subprocess.run([os.path.join(REPO, "Tests/Interop/start.sh"), self.certs, self.run_dir,
                                str(base_port)], capture_output=True, text=True, timeout=180)
        if start.returncode != 0:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise RuntimeError((start.stdout + start.stderr).strip()[-300:])
        self.ports = {}
        for line in start.stdout.splitlines():
            fields = line.split()
            if len(fields) == 3:
                self.ports[(fields[0], fields[2])] = int(fields[1])

    def stop(self):
        subprocess.run([os.path.join(REPO, "Tests/Interop/stop.sh"), self.run_dir], capture_output=True, timeout=120)
        shutil.rmtree(self.folder, ignore_errors=True)


def real_postfix(mimic, real, repeat):
    if real is None:
        return {"skipped": "the interop servers are not available"}
    port = real.ports.get(("smtp", "starttls"))
    ours = probe_argv(mimic, f"smtp://127.0.0.1:{port}", "starttls", real.ca)
    peer = s_client_argv("127.0.0.1", port, real.ca, "smtp")
    mimic_ms, peer_ms = paired_medians(ours, peer, max(repeat, 60))
    return {"mimic_ms": mimic_ms, "s_client_ms": peer_ms, "ratio": mimic_ms / peer_ms}


def scanners(mimic, repeat):
    """The same certificate check by sslyze and testssl.sh against the same SMTP STARTTLS mock."""
    sslyze = "/opt/mimic-venv/bin/sslyze" if os.access("/opt/mimic-venv/bin/sslyze", os.X_OK) else shutil.which("sslyze")
    testssl = shutil.which("testssl") or shutil.which("testssl.sh")
    with tempfile.TemporaryDirectory(prefix="mimic-bench-") as folder:
        scenario(folder, "bench::smtp::starttls", "smtp", "starttls", "openssl", "rsa2048-good")
        serve = Serve(mimic, folder)
        try:
            entry = serve.by_id["bench::smtp::starttls"]
            host, port, ca = entry["host"], entry["port"], serve.zoo["cafile"]
            # The probe is cheap to repeat; the scanners are not.
            mimic_ms, _ = median_ms(probe_argv(mimic, f"smtp://{host}:{port}", "starttls", ca), max(repeat, 30))
            figures = {"mimic_ms": mimic_ms}
            if sslyze:
                ms, result = median_ms([sslyze, "--certinfo", "--starttls", "smtp", f"{host}:{port}"],
                                       max(1, repeat // 3), timeout=300)
                figures["sslyze_certinfo"] = {"ms": ms, "ratio": ms / mimic_ms, "exit": result.returncode}
            else:
                figures["sslyze_certinfo"] = {"skipped": "sslyze not installed (make setup-monitors)"}
            if testssl:
                ms, result = median_ms([testssl, "--quiet", "--color", "0", "-S", "-t", "smtp", f"{host}:{port}"],
                                       1, timeout=900)
                figures["testssl_S"] = {"ms": ms, "ratio": ms / mimic_ms, "exit": result.returncode}
            else:
                figures["testssl_S"] = {"skipped": "testssl.sh not installed (make setup-monitors)"}
            return figures
        finally:
            serve.stop()


def s_time_rate(host, port, seconds):
    """openssl s_time -new: new handshakes per wall second (its own count over its own real seconds)."""
    result = subprocess.run(["openssl", "s_time", "-connect", f"{host}:{port}", "-new", "-time", str(seconds)],
                            capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"(\d+) connections in (\d+) real seconds", result.stdout)
    if not match or int(match.group(2)) == 0:
        return None
    return int(match.group(1)) / int(match.group(2))


def handshake_rate(mimic, real, seconds, rounds=5):
    """New handshakes per second a mock takes from `openssl s_time -new` (HTTPS, RSA-2048), per server library,
    against nginx with the same kind of key, and the GnuTLS-backed mock against GnuTLS's own server (`gnutls-serv`)
    with the same chain, since nginx's figure is OpenSSL's. Every server is up at once and measured in turn, for
    `seconds` each, `rounds` times; each figure is a server's median. Measured one after the other instead, the
    machine's drift over a minute (a quarter of the rate) went into the ratios."""
    with tempfile.TemporaryDirectory(prefix="mimic-bench-") as folder:
        for backend in ("openssl", "gnutls"):
            scenario(folder, f"bench::https::{backend}", "https", "implicit", backend, "rsa2048-good")
        serve = Serve(mimic, folder)
        try:
            with GnutlsServ(mimic) as gnutls_serv:
                servers = {f"mock_{backend}": (serve.by_id[f"bench::https::{backend}"]["host"],
                                               serve.by_id[f"bench::https::{backend}"]["port"])
                           for backend in ("openssl", "gnutls")}
                if real is not None and ("https", "implicit") in real.ports:
                    servers["nginx"] = ("127.0.0.1", real.ports[("https", "implicit")])
                if gnutls_serv.port is not None:
                    servers["gnutls_serv"] = ("127.0.0.1", gnutls_serv.port)
                samples = {name: [] for name in servers}
                for _ in range(rounds):
                    for name, (host, port) in servers.items():
                        rate = s_time_rate(host, port, seconds)
                        if rate is not None:
                            samples[name].append(rate)
        finally:
            serve.stop()
    figures = {f"{name}_per_s": statistics.median(values) if values else None for name, values in samples.items()}
    figures["rounds"] = rounds
    figures["seconds_each"] = seconds
    nginx = figures.get("nginx_per_s")
    if "nginx" not in servers:
        figures["nginx"] = {"skipped": "the interop servers are not available"}
    for backend in ("openssl", "gnutls"):
        ours = figures.get(f"mock_{backend}_per_s")
        figures[f"ratio_{backend}"] = ours / nginx if ours and nginx else None
    ours, gnutls = figures.get("mock_gnutls_per_s"), figures.get("gnutls_serv_per_s")
    figures["ratio_gnutls_vs_gnutls_serv"] = ours / gnutls if ours and gnutls else None
    return figures


class GnutlsServ:
    """gnutls-serv serving a chain mimic minted (RSA-2048) on loopback; `port` is None without gnutls-serv."""

    def __init__(self, mimic, port=26190):
        self.mimic, self.port, self.server, self.folder = mimic, None, None, None
        self.wanted = port

    def __enter__(self):
        if not shutil.which("gnutls-serv"):
            return self
        self.folder = tempfile.mkdtemp(prefix="mimic-bench-gnutls-")
        certs = os.path.join(self.folder, "certs")
        subprocess.run([self.mimic, "certs", "mint", "rsa2048-good", "--out", certs], check=True,
                       capture_output=True, cwd=REPO)
        self.server = subprocess.Popen(["gnutls-serv", "--http", "--x509certfile", os.path.join(certs, "chain.pem"),
                                        "--x509keyfile", os.path.join(certs, "leaf.key"), "--port", str(self.wanted)],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.wanted}"],
                                   stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
            if probe.returncode == 0:
                self.port = self.wanted
                break
            time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=10)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def big_zoo(mimic, scenarios_dir, count=1000):
    """`mimic serve` of `count` scenarios: copies of the library's files with ids made unique."""
    files = []
    for root, _, names in os.walk(scenarios_dir):
        files += [os.path.join(root, name) for name in sorted(names) if name.endswith((".yaml", ".yml"))]
    files.sort()
    with tempfile.TemporaryDirectory(prefix="mimic-bench-zoo-") as folder:
        written, copy = 0, 0
        library_count = None
        while written < count:
            copy += 1
            for path in files:
                with open(path) as handle:
                    text = handle.read()
                if "matrix:" in text:
                    continue  # a matrix file expands to several; copies of plain files count exactly
                text = re.sub(r'^id:\s*"?([^"\n]+?)"?\s*$', lambda m: f'id: "{m.group(1)}-copy{copy}"', text,
                              count=1, flags=re.M)
                name = os.path.relpath(path, scenarios_dir).replace(os.sep, "-")
                with open(os.path.join(folder, f"c{copy}-{name}"), "w") as handle:
                    handle.write(text)
                written += 1
                if written >= count:
                    break
        serve = Serve(mimic, folder, timeout=300)
        try:
            listening = len(serve.zoo["scenarios"])
            return {"scenarios": listening, "ms": serve.milliseconds, "rss_mib": serve.rss_mib()}
        finally:
            serve.stop()


def many_targets(mimic, count=300, seconds=5):
    """`mimic probe` of `count` mocks at once (both backends) against s_time -new on one of them."""
    with tempfile.TemporaryDirectory(prefix="mimic-bench-") as folder:
        for index in range(count):
            scenario(folder, f"bench::https::{index}", "https", "implicit", "openssl")
        serve = Serve(mimic, folder, timeout=300)
        try:
            ca = serve.zoo["cafile"]
            urls = [f"https://{e['host']}:{e['port']}" for e in serve.zoo["scenarios"]]
            ms, result = timed([mimic, "probe", *urls, "--mode", "implicit", "--servername", NAME, "--ca-file", ca,
                                "--concurrency", "64", "--format", "nagios", "--timeout", "10"], timeout=600)
            handshakes = 2 * len(urls)
            rate = handshakes / (ms / 1000)
            first = serve.zoo["scenarios"][0]
            peer = s_time_rate(first["host"], first["port"], seconds)
            return {"targets": len(urls), "handshakes": handshakes, "ms": ms, "per_s": rate, "s_time_per_s": peer,
                    "ratio": rate / peer if peer else None, "exit": result.returncode}
        finally:
            serve.stop()
