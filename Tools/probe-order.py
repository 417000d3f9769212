#!/usr/bin/env python3
"""Tools/probe-order.py MIMIC [OUT] — the order in which `mimic probe` first runs its functions, for the linker.

A probe is a short process, and most of the code it runs it runs once: each first call of a function on a page not
yet mapped costs a page fault (the kernel maps 64 KB around it). In the default layout the code a probe needs lay
scattered over the 29 MB text segment, some 190 such faults a probe. `make release` hands this list to lld
(`--symbol-ordering-file`), which puts the sections of these functions first, in this order: Mimic's and its
packages' code is compiled a function to a section, so it moves function by function; the prebuilt Swift libraries'
and Debian's C archives' code moves as whole object files. About 150 faults are left; a probe is 0.3-0.6 ms
faster (interleaved pairs, 2026-12-05). It is a layout only: what runs, and what it does, is the same with or
without the file, and a name the build no longer has is passed over (the list goes stale gracefully as the code
changes; `make probe-order` writes it again).

How: a release binary probes a mock of every protocol in both modes, good chains and bad ones, through both
backends, under `perf record` (user-space CPU samples and the page faults of instruction fetches); each sampled or
faulting address is mapped to its function through the binary's symbol table (`nm`), in the order first seen,
followed by what an earlier round saw and this one did not (`make probe-order` runs three rounds, relinking between
them: a function placed anew can bring a neighbour's first call to light). Needs perf (Debian: linux-perf) and the
right to trace page faults (root, or kernel.perf_event_paranoid <= -1). The list goes to OUT (default
Tools/probe.order).
"""
import bisect
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Benchmarks"))
import peers  # noqa: E402

# Each protocol with the modes it has; the probe's dialog differs for each.
TARGETS = [("smtp", "starttls"), ("smtp", "implicit"), ("imap", "starttls"), ("imap", "implicit"),
           ("pop3", "starttls"), ("pop3", "implicit"), ("ftp", "starttls"), ("ftp", "implicit"),
           ("ldap", "starttls"), ("ldap", "implicit"), ("https", "implicit")]
PROFILES = ["rsa2048-good", "good", "expired-leaf", "missing-intermediate", "wrong-host"]
ROUNDS = 20


def text_segment(binary):
    """(virtual address, file offset) of the executable segment."""
    out = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        # LOAD offset vaddr paddr filesz memsz flags… align, the flags spelled "R E" (two fields).
        if fields[:1] == ["LOAD"] and "E" in fields[6:-1]:
            return int(fields[2], 16), int(fields[1], 16)
    raise SystemExit("probe-order: no executable segment in " + binary)


def functions(binary):
    """Sorted (address, name) of the binary's function symbols, mangled as the linker knows them."""
    out = subprocess.run(["nm", "-n", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    table = []
    for line in out.splitlines():
        fields = line.split(None, 2)
        if len(fields) == 3 and fields[1] in "tTwW":
            table.append((int(fields[0], 16), fields[2]))
    return table


def record(binary, data):
    """Probes every target, each round through both backends, under perf; the zoo is served by the same binary."""
    with tempfile.TemporaryDirectory(prefix="mimic-order-") as folder:
        for protocol, mode in TARGETS:
            for profile in PROFILES:
                peers.scenario(folder, f"order::{protocol}::{mode}::{profile}", protocol, mode, "openssl", profile)
        serve = peers.Serve(binary, folder)
        try:
            script = os.path.join(folder, "probes.sh")
            with open(script, "w") as handle:
                handle.write("set -u\n")
                for _ in range(ROUNDS):
                    for protocol, mode in TARGETS:
                        for profile in PROFILES:
                            entry = serve.by_id[f"order::{protocol}::{mode}::{profile}"]
                            url = f"{protocol}://{entry['host']}:{entry['port']}"
                            argv = peers.probe_argv(binary, url, mode, serve.zoo["cafile"])
                            handle.write(" ".join(argv) + " >/dev/null\n")
                handle.write("exit 0\n")  # a bad chain's probe exits 2: every status is expected
            subprocess.run(["perf", "record", "-q", "-o", data, "-F", "20000", "-e", "cpu-clock:u",
                            "-e", "exceptions:page_fault_user", "--", "sh", script], check=True)
        finally:
            serve.stop()


def first_seen(binary, table, data):
    """Function names (of `table`, the binary's functions) in the order a probe first reached them."""
    vaddr, offset = text_segment(binary)
    starts = [address for address, _ in table]
    name = os.path.basename(binary)
    script = subprocess.run(["perf", "script", "-i", data, "--show-mmap-events", "-F", "comm,pid,event,ip,trace"],
                            capture_output=True, text=True, check=True).stdout
    mapping = re.compile(r"\s(\d+)\s+PERF_RECORD_MMAP2 \d+/\d+: \[0x([0-9a-f]+)\(0x[0-9a-f]+\) @ 0x([0-9a-f]+) .*\]: "
                         r"r-xp (\S+)$")
    sample = re.compile(r"\s*\S+\s+(\d+)\s+cpu-clock:u:\s+([0-9a-f]+)")
    fault = re.compile(r"\s*\S+\s+(\d+)\s+exceptions:page_fault_user: .*ip=0x([0-9a-f]+) error_code=0x([0-9a-f]+)")
    bias, order = {}, {}
    for line in script.splitlines():
        if "PERF_RECORD_MMAP2" in line:
            found = mapping.search(line)
            if found and os.path.basename(found.group(4)) == name and int(found.group(3), 16) == offset:
                bias[found.group(1)] = int(found.group(2), 16) - vaddr
            continue
        found = sample.match(line)
        if not found:
            found = fault.match(line)
            # Only instruction fetches (error code bit 4): a data fault's address says nothing about code.
            if not found or not int(found.group(3), 16) & 0x10:
                continue
        pid, ip = found.group(1), int(found.group(2), 16)
        if pid not in bias:
            continue
        index = bisect.bisect_right(starts, ip - bias[pid]) - 1
        if index >= 0:
            order.setdefault(table[index][1], len(order))
    return sorted(order, key=order.get)


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(peers.REPO, "Tools", "probe.order")
    with tempfile.TemporaryDirectory(prefix="mimic-order-") as folder:
        data = os.path.join(folder, "perf.data")
        record(binary, data)
        table = functions(binary)
        names = first_seen(binary, table, data)
    if len(names) < 1000:
        raise SystemExit(f"probe-order: only {len(names)} functions seen; is perf allowed to trace page faults?")
    # What an earlier round saw and this one did not (sampling misses short functions) stays, after this round's
    # names, as long as the binary still has it.
    present = {name for _, name in table}
    seen = set(names)
    if os.path.exists(out):
        with open(out) as handle:
            for line in handle:
                name = line.strip()
                if name and not name.startswith("#") and name not in seen and name in present:
                    names.append(name)
                    seen.add(name)
    with open(out, "w") as handle:
        handle.write("# The functions `mimic probe` runs, in the order it first runs them: lld lays them out in this\n"
                     "# order (`make release`). Written by Tools/probe-order.py, which says how and why.\n")
        handle.write("\n".join(names) + "\n")
    print(f"probe-order: {len(names)} functions to {out}")


if __name__ == "__main__":
    main()
