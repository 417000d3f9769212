#!/usr/bin/env python3
"""Mimic's benchmark: the scenario library's wall time, each scenario's time through both backends, and - as
peers measured in the same run - `openssl s_client`, `gnutls-cli`, real postfix and nginx, sslyze, testssl.sh and
`openssl s_time` against the same mocks (see peers.py for each row), and `mimic probe --enumerate` beside sslyze's
suite scans and `testssl -E` against one modern STARTTLS mock. Prints numbers and ratios and writes them to
Benchmarks/results/latest.json; nothing here asserts a time.

Usage: Benchmarks/bench.py [--mimic .build/release/mimic] [--scenarios scenarios/] [--repeat 10] [--quick]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import peers as rows

# Good handshakes a peer client can do too: (id, protocol, tls mode, mock backend, s_client/gnutls-cli starttls).
PEER_SCENARIOS = [
    ("bench::https::implicit::openssl", "https", "implicit", "openssl", None),
    ("bench::https::implicit::gnutls", "https", "implicit", "gnutls", None),
    ("bench::smtp::starttls::openssl", "smtp", "starttls", "openssl", "smtp"),
    ("bench::imap::implicit::gnutls", "imap", "implicit", "gnutls", None),
]
NAME = "mail.example.test"


def timed(argv, timeout=60):
    started = time.perf_counter()
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, text=True)
    return (time.perf_counter() - started) * 1000, result


def library(mimic, scenarios):
    print(f"== Scenario library: {mimic} run {scenarios}")
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        report_path = handle.name
    try:
        wall, result = timed([mimic, "run", scenarios, "--format", "json", "--output", report_path], timeout=1800)
        if result.returncode == 2:
            print(result.stderr.strip())
            print("(bad input: no timings)")
            return
        with open(report_path) as handle:
            run = json.load(handle)
    finally:
        os.unlink(report_path)
    outcomes = run["outcomes"]
    passed = sum(1 for o in outcomes if o.get("error") is None and all(b["passed"] for b in o["backends"]))
    print(f"{len(outcomes)} scenarios ({passed} as expected) in {wall:.0f} ms wall "
          f"({run['milliseconds']:.0f} ms inside the runner)")
    figures = {"scenarios": len(outcomes), "as_expected": passed, "wall_ms": wall}
    rows = []
    for outcome in outcomes:
        per_backend = {b["backend"]: sum(t["milliseconds"] for t in (b.get("report") or {}).get("timings", []))
                       for b in outcome["backends"]}
        rows.append((outcome["milliseconds"], outcome["id"], per_backend))
    if not rows:
        return figures
    times = [r[0] for r in rows]
    print(f"per scenario: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")
    print(f"{'scenario':60} {'total ms':>9} {'openssl ms':>11} {'gnutls ms':>10}")
    for total, scenario_id, per_backend in sorted(rows, reverse=True):
        o = per_backend.get("openssl")
        g = per_backend.get("gnutls")
        print(f"{scenario_id[:60]:60} {total:9.1f} {'-' if o is None else f'{o:.1f}':>11} "
              f"{'-' if g is None else f'{g:.1f}':>10}")
    return figures


def peer_median(argv, repeat, failures, name):
    """Median wall time of a peer client; a run that did not verify is noted, so a ratio never hides a failure."""
    samples = []
    for _ in range(repeat):
        ms, result = timed(argv)
        samples.append(ms)
        if result.returncode != 0:
            failures.append(f"{name} exited {result.returncode}: {(result.stderr or result.stdout).strip()[:200]}")
            break
    return statistics.median(samples)


def write_peer_scenarios(folder):
    for scenario_id, protocol, mode, backend, _ in PEER_SCENARIOS:
        with open(os.path.join(folder, scenario_id.replace("::", "-") + ".yaml"), "w") as handle:
            handle.write(f"id: {scenario_id}\nsummary: A good handshake for the benchmark\n"
                         f"server: {{ protocol: {protocol}, tls: {mode}, backend: {backend} }}\n"
                         f"pki: {{ profile: good }}\nprobe: {{ servername: {NAME} }}\nexpect: {{ verdict: [] }}\n")


def start_serve(mimic, folder):
    serve = subprocess.Popen([mimic, "serve", folder, "--ca-dir", os.path.join(folder, "ca")],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    served, current = {}, None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = serve.stdout.readline()
        if not line:
            raise RuntimeError("mimic serve ended: " + serve.stderr.read())
        if line.startswith("bench::"):
            current = line.split(" ")[0]
            served[current] = {}
        elif line.strip().startswith("address") and current:
            host, _, port = line.split()[1].rpartition(":")
            served[current]["host"], served[current]["port"] = host, port
        elif line.strip().startswith("trust") and current:
            served[current]["ca"] = line.split(None, 1)[1].strip()
        elif line.startswith("Serving"):
            return serve, served
    raise RuntimeError("mimic serve did not report its addresses in time")


def peers(mimic, repeat):
    print(f"\n== Good handshakes against the same mocks, median of {repeat} (process wall time)")
    have_openssl, have_gnutls = shutil.which("openssl"), shutil.which("gnutls-cli")
    with tempfile.TemporaryDirectory(prefix="mimic-bench-") as folder:
        write_peer_scenarios(folder)
        serve, served = start_serve(mimic, folder)
        try:
            print(f"{'scenario':34} {'mimic/openssl':>14} {'s_client':>9} {'ratio':>6}   "
                  f"{'mimic/gnutls':>13} {'gnutls-cli':>10} {'ratio':>6}   {'in-process o/g':>15}")
            for scenario_id, protocol, mode, _, starttls in PEER_SCENARIOS:
                target = served[scenario_id]
                host, port, ca = target["host"], target["port"], target["ca"]
                results = {}
                failures = []
                inside = {"openssl": [], "gnutls": []}
                for backend in ("openssl", "gnutls"):
                    argv = [mimic, "probe", f"{protocol}://{host}:{port}", "--mode", mode, "--servername", NAME,
                            "--ca-file", ca, "--backend", backend, "--format", "json", "--timeout", "5"]
                    samples = []
                    for _ in range(repeat):
                        ms, result = timed(argv)
                        samples.append(ms)
                        try:
                            reports = json.loads(result.stdout)[0]["reports"]
                            inside[backend].append(sum(t["milliseconds"] for t in reports[0]["timings"]))
                        except (ValueError, KeyError, IndexError):
                            pass
                    results[f"mimic-{backend}"] = statistics.median(samples)
                if have_openssl:
                    argv = ["openssl", "s_client", "-connect", f"{host}:{port}", "-servername", NAME, "-CAfile", ca,
                            "-verify_return_error", "-verify_hostname", NAME, "-brief"]
                    if starttls:
                        argv += ["-starttls", starttls]
                    results["s_client"] = peer_median(argv, repeat, failures, "s_client")
                if have_gnutls:
                    argv = ["gnutls-cli", "--x509cafile", ca, "--port", port, "--sni-hostname", NAME,
                            "--verify-hostname", NAME, host]
                    if starttls:
                        argv += ["--starttls-proto", starttls]
                    results["gnutls-cli"] = peer_median(argv, repeat, failures, "gnutls-cli")

                def cell(key):
                    return f"{results[key]:.1f}" if key in results else "-"

                def ratio(ours, peer):
                    return f"{results[ours] / results[peer]:.2f}" if ours in results and peer in results else "-"

                in_process = "/".join(f"{statistics.median(v):.1f}" if v else "-" for v in inside.values())
                print(f"{scenario_id:34} {cell('mimic-openssl'):>14} {cell('s_client'):>9} "
                      f"{ratio('mimic-openssl', 's_client'):>6}   {cell('mimic-gnutls'):>13} {cell('gnutls-cli'):>10} "
                      f"{ratio('mimic-gnutls', 'gnutls-cli'):>6}   {in_process:>15}")
                for failure in failures:
                    print(f"  note: {failure}")
            print("ratio = mimic probe / peer client; in-process = the probe's own timings (connect..post-TLS), ms")
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(timeout=10)
            except subprocess.TimeoutExpired:
                serve.kill()


def enumeration(mimic, repeat):
    """`mimic probe --enumerate` (both backends) against a modern STARTTLS mock, beside sslyze's cipher-suite scans
    and `testssl -E` against the same mock, in the same run."""
    print(f"\n== Enumerating a modern SMTP STARTTLS server (TLS 1.2 + 1.3), median of {repeat} (process wall time)")
    with tempfile.TemporaryDirectory(prefix="mimic-bench-enum-") as folder:
        with open(os.path.join(folder, "bench-enum.yaml"), "w") as handle:
            handle.write("id: bench::smtp::starttls::enumerate\nsummary: A modern server to enumerate\n"
                         "server: { protocol: smtp, tls: starttls, backend: openssl }\n"
                         f"pki: {{ profile: good }}\nprobe: {{ servername: {NAME} }}\nexpect: {{ verdict: [] }}\n")
        serve, served = start_serve(mimic, folder)
        try:
            target = served["bench::smtp::starttls::enumerate"]
            host, port, ca = target["host"], target["port"], target["ca"]
            runs = {
                "mimic probe --enumerate": [mimic, "probe", f"smtp://{host}:{port}", "--mode", "starttls",
                                            "--servername", NAME, "--ca-file", ca, "--enumerate", "--format", "json",
                                            "--timeout", "5"],
            }
            sslyze = "/opt/mimic-venv/bin/sslyze"
            if os.access(sslyze, os.X_OK):
                runs["sslyze (suite scans)"] = [sslyze, "--starttls", "smtp", "--sslv2", "--sslv3", "--tlsv1",
                                                "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--elliptic_curves",
                                                "--mozilla_config", "disable", f"{NAME}:{port}{{{host}}}"]
            if shutil.which("testssl"):
                runs["testssl -E"] = ["testssl", "--quiet", "--color", "0", "--warnings", "batch", "--nodns", "none",
                                      "--ip", host, "-t", "smtp", "-E", f"{NAME}:{port}"]
            medians = {}
            for name, argv in runs.items():
                samples = []
                count = repeat if name.startswith("mimic") else 1
                for _ in range(count):
                    ms, result = timed(argv, timeout=600)
                    samples.append(ms)
                    if result.returncode not in (0, 1, 2) and name.startswith("mimic"):
                        print(f"  note: {name} exited {result.returncode}: {result.stderr.strip()[:200]}")
                medians[name] = statistics.median(samples)
                if name.startswith("mimic"):
                    try:
                        enum = json.loads(result.stdout)[0]["enumeration"]
                        print(f"  mimic: {enum['connections']} connections, at most {enum['concurrency']} at once, "
                              f"{enum['milliseconds']:.0f} ms inside the process")
                    except (ValueError, KeyError, IndexError):
                        pass
            ours = medians["mimic probe --enumerate"]
            for name, ms in medians.items():
                ratio = "" if name.startswith("mimic") else f"   {ms / ours:6.1f}x mimic's time"
                print(f"  {name:28} {ms:9.0f} ms{ratio}")
            return {name: {"ms": ms, "ratio": ms / ours} for name, ms in medians.items()}
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(timeout=10)
            except subprocess.TimeoutExpired:
                serve.kill()


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def zoo(mimic, scenarios):
    """Every scenario listening at once: time until the manifest is out, and the resident memory then."""
    print(f"== The zoo: {mimic} serve {scenarios} --manifest -")
    started = time.perf_counter()
    serve = subprocess.Popen([mimic, "serve", scenarios, "--manifest", "-"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    count = None
    try:
        lines = []
        deadline = time.monotonic() + 120
        for line in serve.stdout:
            lines.append(line)
            if line.rstrip() == "}":
                break
            if time.monotonic() > deadline:
                break
        wall = (time.perf_counter() - started) * 1000
        rss = rss_kib(serve.pid)
        try:
            count = len(json.loads("".join(lines))["scenarios"])
        except ValueError:
            print("(no manifest: no figures)")
            return
        print(f"{count} scenarios listening in {wall:.0f} ms, {rss / 1024 if rss else float('nan'):.0f} MiB resident")
        return {"scenarios": count, "ms": wall, "rss_mib": rss / 1024 if rss else None}
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=20)
        except subprocess.TimeoutExpired:
            serve.kill()


def grading(mimic, scenarios):
    """Grading's own cost: a monitor that does nothing (/bin/true) over the library, against running /bin/true
    as often by itself (the peer, same run); and mimic probe graded over the whole library."""
    print(f"== Grading: {mimic} grade")
    folder = tempfile.mkdtemp(prefix="mimic-bench-")
    try:
        adapter = os.path.join(folder, "true.yaml")
        with open(adapter, "w") as handle:
            handle.write("name: do-nothing\nsummary: does nothing\nconcurrency: 1\ncases:\n  - argv: [/bin/true]\n")
        wall, result = timed([mimic, "grade", "--no-html", "--monitor", adapter, scenarios, "--format", "json"], timeout=600)
        if result.returncode != 0:
            print(result.stderr.strip()[-500:])
            return
        card = json.loads(result.stdout)
        count = len(card["scenarios"])
        inside = sum(s["milliseconds"] for s in card["scenarios"])
        started = time.perf_counter()
        for _ in range(count):
            subprocess.run(["/bin/true"], stdin=subprocess.DEVNULL)
        alone = (time.perf_counter() - started) * 1000
        overhead = (card["milliseconds"] - alone) / max(count, 1)
        print(f"/bin/true graded on {count} scenarios one at a time: {card['milliseconds']:.0f} ms inside grade, "
              f"{alone:.0f} ms for as many runs alone: {overhead:.2f} ms of Mimic per scenario "
              f"({wall:.0f} ms wall with the zoo's start and stop)")
        # The shipped adapter, pointed at this binary (it prefers the debug build otherwise).
        shipped = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "monitors", "mimic-probe.yaml")
        probe = os.path.join(folder, "mimic-probe.yaml")
        with open(shipped) as source, open(probe, "w") as handle:
            for line in source:
                if line.startswith("path:"):
                    line = f"path: [{json.dumps(os.path.dirname(os.path.abspath(mimic)))}]\n"
                handle.write(line)
        wall, result = timed([mimic, "grade", "--no-html", "--monitor", probe, scenarios, "--format", "json"], timeout=900)
        if result.returncode == 0:
            card = json.loads(result.stdout)
            totals = card["totals"]
            print(f"mimic probe graded on {len(card['scenarios'])} scenarios in {wall:.0f} ms wall: "
                  f"{totals['caught']} caught, {totals['missed']} missed, {totals['false_alarm']} false alarms")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def version(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return None


def fmt(value, unit=""):
    return "-" if value is None else f"{value:.2f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def goals(results):
    """The speed goals as one table: each figure, its peer, the ratio, the goal."""
    print("\n== Goals (each against a peer measured in this run)")
    lines = []
    startup = results.get("startup", {})
    for condition in ("quiet", "busy"):
        row = startup.get(condition)
        if row:
            lines.append((f"probe SMTP STARTTLS mock, both backends, vs s_client ({condition})",
                          f"{row['mimic_ms']:.0f} / {row['s_client_ms']:.0f} ms", f"{row['ratio']:.2f}x", "<= 1.5x"))
    postfix = results.get("postfix", {})
    if "ratio" in postfix:
        lines.append(("probe real postfix vs s_client", f"{postfix['mimic_ms']:.0f} / {postfix['s_client_ms']:.0f} ms",
                      f"{postfix['ratio']:.2f}x", "<= 2x"))
    scanners = results.get("scanners", {})
    for key, goal in (("sslyze_certinfo", ">= 30x faster"), ("testssl_S", ">= 500x faster")):
        row = scanners.get(key, {})
        if "ratio" in row:
            lines.append((f"{key} vs mimic probe", f"{row['ms']:.0f} / {scanners['mimic_ms']:.0f} ms",
                          f"{row['ratio']:.0f}x faster", goal))
        else:
            lines.append((f"{key} vs mimic probe", "not measured", "-",
                          f"{goal} ({row.get('skipped') or scanners.get('skipped') or 'row not run (--quick)'})"))
    rate = results.get("handshake_rate", {})
    for backend in ("openssl", "gnutls"):
        if rate.get(f"ratio_{backend}") is not None:
            lines.append((f"mock ({backend}) new handshakes/s vs nginx",
                          f"{rate[f'mock_{backend}_per_s']:.0f} / {rate['nginx_per_s']:.0f}",
                          f"{rate[f'ratio_{backend}']:.2f}x", ">= 1x"))
    if rate.get("ratio_gnutls_vs_gnutls_serv") is not None:
        lines.append(("mock (gnutls) new handshakes/s vs gnutls-serv", f"{rate['mock_gnutls_per_s']:.0f} / "
                      f"{rate['gnutls_serv_per_s']:.0f}", f"{rate['ratio_gnutls_vs_gnutls_serv']:.2f}x", ">= 1x"))
    zoo_row = results.get("zoo_1000", {})
    if "ms" in zoo_row:
        lines.append((f"mimic serve of {zoo_row['scenarios']} scenarios", f"{zoo_row['ms']:.0f} ms, "
                      f"{fmt(zoo_row['rss_mib'])} MiB", "-", "< 1 s, < 150 MiB"))
    many = results.get("many_targets", {})
    if many.get("ratio") is not None:
        lines.append((f"probe {many['targets']} mocks at once vs s_time -new on one", f"{many['per_s']:.0f} / "
                      f"{many['s_time_per_s']:.0f} handshakes/s", f"{many['ratio']:.2f}x", ">= 0.5x"))
    enum = results.get("enumeration") or {}
    ours = enum.get("mimic probe --enumerate", {}).get("ms")
    for name, goal in (("sslyze (suite scans)", ">= 10x faster"), ("testssl -E", ">= 50x faster")):
        if ours and name in enum:
            lines.append((f"probe --enumerate vs {name}", f"{ours:.0f} / {enum[name]['ms']:.0f} ms",
                          f"{enum[name]['ratio']:.1f}x faster", goal))
        else:
            why = enum.get("skipped") or f"{name.split()[0]} not installed (make setup-monitors)"
            lines.append((f"probe --enumerate vs {name}", "not measured", "-", f"{goal} ({why})"))
    lib = results.get("library", {})
    if "wall_ms" in lib:
        lines.append((f"mimic run of the library ({lib['scenarios']})", f"{lib['wall_ms']:.0f} ms", "-", "< 10 s"))
    width = max((len(line[0]) for line in lines), default=10)
    for what, figures, ratio, goal in lines:
        print(f"{what:{width}}  {figures:>28}  {ratio:>14}  goal {goal}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mimic", default=".build/release/mimic")
    parser.add_argument("--scenarios", default="scenarios")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                                                         "latest.json"))
    parser.add_argument("--quick", action="store_true", help="skip the slow rows (testssl.sh, the 1000-scenario zoo)")
    args = parser.parse_args()
    if not os.access(args.mimic, os.X_OK):
        sys.exit(f"{args.mimic} not found: build it with `swift build -c release`")
    repeat = max(1, args.repeat)
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"cores": os.cpu_count(), "kernel": os.uname().release,
                    "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)},
        "versions": {"mimic": version([args.mimic, "--version"]), "openssl": version(["openssl", "version"]),
                     "gnutls-cli": version(["gnutls-cli", "--version"]), "nginx": version(["nginx", "-v"])},
    }

    def row(name, function, *arguments):
        try:
            results[name] = function(*arguments)
        except Exception as error:  # a row that cannot run says why; the others still run
            results[name] = {"skipped": f"{type(error).__name__}: {error}"}
        figures = results[name]
        if isinstance(figures, dict) and "skipped" in figures:
            print(f"({name} skipped: {figures['skipped']})")

    row("library", library, args.mimic, args.scenarios)
    row("zoo", zoo, args.mimic, args.scenarios)
    grading(args.mimic, args.scenarios)
    peers(args.mimic, repeat)
    row("enumeration", enumeration, args.mimic, max(1, min(repeat, 5)))
    print("\n== Rows against peers (Benchmarks/peers.py)")
    row("startup", rows.startup, args.mimic, repeat)
    try:
        real = rows.RealServers(args.mimic)
    except Exception as error:
        print(f"(real servers not started: {error})")
        real = None
    try:
        row("postfix", rows.real_postfix, args.mimic, real, repeat)
        row("handshake_rate", rows.handshake_rate, args.mimic, real, 2)
    finally:
        if real is not None:
            real.stop()
    if not args.quick:
        row("scanners", rows.scanners, args.mimic, 3)
        row("zoo_1000", rows.big_zoo, args.mimic, args.scenarios, 1000)
    row("many_targets", rows.many_targets, args.mimic)
    goals(results)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as handle:
        json.dump(results, handle, indent=2, sort_keys=True)
        handle.write("\n")
    print(f"\nwritten: {args.output}")


if __name__ == "__main__":
    main()
