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
them: a function placed anew can bring a neighbour's first call to light).

The zeroed data a probe writes (metadata caches, once-tokens: `.bss`) is listed the same way, from the addresses of
the page faults on it, between two markers of Mimic's own (`hotDataStart`, `hotDataEnd`): lld lays the data out in
that order as well, and `mimic` asks the kernel for the pages between the markers, written, as it starts
(`Sources/mimic/HotData.swift` says why). A page fault says only which datum was first on its page; the rounds after
the first find the rest, as the data they placed first moves their neighbours to pages of their own. Needs perf
(Debian: linux-perf) and the right to trace page faults (root, or kernel.perf_event_paranoid <= -1). The list goes
to OUT (default Tools/probe.order).
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


def symbols(binary):
    """The binary's symbol table, read once (`nm -n`): (address, kind, name), sorted by address, names mangled as
    the linker knows them."""
    out = subprocess.run(["nm", "-n", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    table = []
    for line in out.splitlines():
        fields = line.split(None, 2)
        if len(fields) == 3:
            table.append((int(fields[0], 16), fields[1], fields[2]))
    return table


def functions(table):
    """Sorted (address, name) of the function symbols of `table`."""
    return [(address, name) for address, kind, name in table if kind in "tTwW"]


# Mimic's markers around the zeroed data a probe writes (Sources/mimic/HotDataStart.swift, HotData.swift).
HOT_START = "$s5mimic12hotDataStarts5UInt8Vvp"
HOT_END = "$s5mimic10hotDataEnds5UInt8Vvp"


def zeroed_data(binary, table):
    """(start, end) of the binary's `.bss` and the sorted (address, name) symbols of `table` there."""
    out = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout
    bounds = None
    for line in out.splitlines():
        found = re.search(r"\]\s+\.bss\s+NOBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if found:
            start = int(found.group(1), 16)
            bounds = (start, start + int(found.group(2), 16))
    if not bounds:
        return None, []
    return bounds, [(address, name) for address, kind, name in table
                    if kind in "bB" and bounds[0] <= address < bounds[1]]


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


def first_seen(binary, table, data, bss, bss_table):
    """Function names (of `table`, the binary's functions) in the order a probe first reached them, and the names of
    the zeroed data (of `bss_table`, within `bss`) in the order a probe first faulted on their pages."""
    vaddr, offset = text_segment(binary)
    starts = [address for address, _ in table]
    bss_starts = [address for address, _ in bss_table]
    name = os.path.basename(binary)
    script = subprocess.run(["perf", "script", "-i", data, "--show-mmap-events", "-F", "comm,pid,event,ip,trace"],
                            capture_output=True, text=True, check=True).stdout
    mapping = re.compile(r"\s(\d+)\s+PERF_RECORD_MMAP2 \d+/\d+: \[0x([0-9a-f]+)\(0x[0-9a-f]+\) @ 0x([0-9a-f]+) .*\]: "
                         r"r-xp (\S+)$")
    sample = re.compile(r"\s*\S+\s+(\d+)\s+cpu-clock:u:\s+([0-9a-f]+)")
    fault = re.compile(r"\s*\S+\s+(\d+)\s+exceptions:page_fault_user: address=0x([0-9a-f]+) ip=0x([0-9a-f]+) "
                       r"error_code=0x([0-9a-f]+)")
    bias, order, data_order = {}, {}, {}
    for line in script.splitlines():
        if "PERF_RECORD_MMAP2" in line:
            found = mapping.search(line)
            if found and os.path.basename(found.group(4)) == name and int(found.group(3), 16) == offset:
                bias[found.group(1)] = int(found.group(2), 16) - vaddr
            continue
        found = sample.match(line)
        if found:
            pid, ip = found.group(1), int(found.group(2), 16)
        else:
            found = fault.match(line)
            if not found or found.group(1) not in bias:
                continue
            pid = found.group(1)
            # An instruction fetch (error code bit 4) tells where code ran; any other fault, what data was touched.
            if not int(found.group(4), 16) & 0x10:
                address = int(found.group(2), 16) - bias[pid]
                if bss and bss[0] <= address < bss[1]:
                    index = bisect.bisect_right(bss_starts, address) - 1
                    if index >= 0:
                        data_order.setdefault(bss_table[index][1], len(data_order))
                continue
            ip = int(found.group(3), 16)
        if pid not in bias:
            continue
        index = bisect.bisect_right(starts, ip - bias[pid]) - 1
        if index >= 0:
            order.setdefault(table[index][1], len(order))
    return sorted(order, key=order.get), sorted(data_order, key=data_order.get)


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(peers.REPO, "Tools", "probe.order")
    with tempfile.TemporaryDirectory(prefix="mimic-order-") as folder:
        data = os.path.join(folder, "perf.data")
        record(binary, data)
        symbol_table = symbols(binary)
        table = functions(symbol_table)
        bss, bss_table = zeroed_data(binary, symbol_table)
        names, hot = first_seen(binary, table, data, bss, bss_table)
    if len(names) < 1000:
        raise SystemExit(f"probe-order: only {len(names)} functions seen; is perf allowed to trace page faults?")
    bss_names = {name for _, name in bss_table}
    markers = HOT_START in bss_names and HOT_END in bss_names
    if not markers:
        print("probe-order: no hot-data markers in the binary; the zeroed data is left unordered", file=sys.stderr)
        hot = []
    hot = [name for name in hot if name not in (HOT_START, HOT_END)]
    # What an earlier round saw and this one did not (sampling misses short functions; populated pages do not
    # fault) stays, after this round's names, as long as the binary still has it.
    present = {name for _, name in table}
    seen, seen_hot = set(names), set(hot)
    if os.path.exists(out):
        with open(out) as handle:
            for line in handle:
                name = line.strip()
                if not name or name.startswith("#") or name in (HOT_START, HOT_END):
                    continue
                if name in present and name not in seen:
                    names.append(name)
                    seen.add(name)
                elif markers and name in bss_names and name not in seen_hot:
                    hot.append(name)
                    seen_hot.add(name)
    with open(out, "w") as handle:
        handle.write("# The functions `mimic probe` runs, in the order it first runs them, then the zeroed data it\n"
                     "# writes between two markers: lld lays them out in this order (`make release`). Written by\n"
                     "# Tools/probe-order.py, which says how and why.\n")
        handle.write("\n".join(names) + "\n")
        if markers:
            handle.write("\n".join([HOT_START] + hot + [HOT_END]) + "\n")
    print(f"probe-order: {len(names)} functions and {len(hot)} data to {out}")


if __name__ == "__main__":
    main()
