# Mimic — the two commands a new machine needs are `make demo` and `make test`.
SWIFT ?= swift
BUILD_FLAGS ?=
MIMIC = .build/debug/mimic
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# System packages the build and the tests use: the two TLS libraries' headers, and the real
# openssl / gnutls-cli clients the tests compare against.
APT_PACKAGES = libssl-dev libgnutls28-dev openssl gnutls-bin pkg-config curl python3 python3-jsonschema python3-yaml ca-certificates faketime

.PHONY: release probe-order setup setup-interop setup-monitors build test demo matrix bench clean trust-store grade grade-all builtins schema fuzz-build fuzz

setup:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

build: setup
	$(SWIFT) build $(BUILD_FLAGS)

# The release binary, .build/release/mimic, with the Swift runtime and Foundation linked in statically: a probe is a
# short process, and resolving Foundation's and the runtime's symbols at every launch took about a third of its CPU.
# It exports no symbols (Tools/release-exports.map): the runtime's start-up looked through all 26 000 with dladdr(3).
# OpenSSL, GnuTLS and libstdc++ are linked in from Debian's own static archives of the same build
# (Tools/static-libs.sh says why); where one is missing, the shared objects are linked as in the debug build.
# Generic types are reached through their metadata accessors rather than by mangled name: the runtime answers a
# mangled name by demangling it and checking each generic requirement against the executable's 8 700 protocol
# conformances, a tenth of a probe's CPU (perf, 2026-12-05); the accessors are direct calls.
# Linked by the toolchain's lld with packed relative relocations (DT_RELR, glibc 2.36 and later): the loader reads a
# 28 KB bitmap instead of 3 MB of relocation entries for the 131 000 pointers it adjusts at every start (a probe
# 0.2 ms faster, 50 page faults fewer, in pairs of freshly copied binaries, 2026-12-05). lld also puts the functions
# a probe runs first, in the order it first runs them (Tools/probe.order; Tools/probe-order.py says how it is made),
# each of Mimic's and its packages' functions compiled into a section of its own (`-function-sections`) so that it
# can move alone: the code a probe runs lies on fewer pages (a probe's page faults on code 190 -> 95, the probe
# 0.3-0.6 ms faster in interleaved pairs, 2026-12-05). The same file lists the zeroed data a probe writes between
# two markers, which `mimic` populates at start (Sources/mimic/HotData.swift: 98 scattered pages -> 76 together, no
# copy-on-write of the zero page, 0.5 ms faster quiet). A toolchain without lld links with its default linker, in
# the default layout.
# No $$ORIGIN run path (--disable-local-rpath): the binary needs no library from its own folder, and the loader
# looked for each shared library there first (two dozen failed lookups at every start).
RELEASE_LINK := $(shell [ -x "$$(dirname "$$(readlink -f "$$(command -v $(SWIFT))")")/ld.lld" ] && \
	echo -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs \
	  -Xlinker --symbol-ordering-file=$(CURDIR)/Tools/probe.order -Xlinker --no-warn-symbol-ordering)
release: setup
	@if Tools/static-libs.sh $(CURDIR)/.build/static-libs; then \
	  export PKG_CONFIG_PATH=$(CURDIR)/.build/static-libs/pkgconfig; \
	else echo "release: linking the shared OpenSSL, GnuTLS and libstdc++"; fi; \
	$(SWIFT) build -c release --static-swift-stdlib --disable-local-rpath \
	  -Xlinker --version-script=$(CURDIR)/Tools/release-exports.map \
	  -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors \
	  -Xswiftc -Xfrontend -Xswiftc -function-sections $(RELEASE_LINK) $(BUILD_FLAGS)

# Tools/probe.order again, from the release binary as it is now: three rounds of profiling a probe of every protocol
# and relinking with what the round found (a function first seen once its neighbours moved is added). The binary is
# removed before each link: SwiftPM does not know the file is an input of the link. Needs perf, as root.
probe-order: release
	@for round in 1 2 3; do \
	  python3 Tools/probe-order.py .build/release/mimic Tools/probe.order || exit 1; \
	  rm -f .build/release/mimic; $(MAKE) --no-print-directory release >/dev/null || exit 1; \
	done

# The interop tier runs real postfix, dovecot, vsftpd, slapd and nginx on loopback; they are installed here
# (without letting their system services start) unless MIMIC_SKIP_INTEROP=1 skips that tier explicitly.
setup-interop:
	@if [ "$${MIMIC_SKIP_INTEROP:-0}" = 1 ]; then echo "MIMIC_SKIP_INTEROP=1: the real-server tier is skipped"; \
	 else $(SUDO) Tests/Interop/install.sh; fi

# The monitors `mimic grade` is tested with: Monitoring Plugins, check_ssl_cert, blackbox_exporter, testssl.sh
# (Debian) and sslyze (PyPI, into /opt/mimic-venv). Skipped with the interop tier.
setup-monitors:
	@if [ "$${MIMIC_SKIP_INTEROP:-0}" = 1 ]; then echo "MIMIC_SKIP_INTEROP=1: the real-monitor tier is skipped"; \
	 else $(SUDO) Tests/Interop/install-monitors.sh; fi

# The fault matrix (every network fault in every phase, protocol, mode and backend: 468 probes, eight at a time,
# each held to its deadline plus 100 ms) runs on its own after the suite, beside nothing it could slow or be slowed by;
# without MIMIC_FAULT_MATRIX=1 it reports itself skipped.
# Three heavy tiers run after the rest, each on its own: a thousand slow-loris clients against one mock, the
# whole library captured and replayed (and the real servers captured), and the real monitors graded against the
# zoo (every mock at once). The suite's timing-sensitive tests (a reset read as a
# reset, not as the deadline beside it) should not share the two cores with either.
test: setup setup-interop setup-monitors
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(MAKE) fuzz-build
	$(SWIFT) test --skip-build $(BUILD_FLAGS) --skip MonitorScorecardTests --skip MockConnectionLimitTests \
	  --skip CaptureTests --skip CaptureRealServerTests --skip FaultMatrixTests
	MIMIC_FAULT_MATRIX=1 $(SWIFT) test --skip-build $(BUILD_FLAGS) --filter FaultMatrixTests
	$(SWIFT) test --skip-build $(BUILD_FLAGS) --filter MockConnectionLimitTests
	$(SWIFT) test --skip-build $(BUILD_FLAGS) --filter CaptureTests --filter CaptureRealServerTests
	cd Examples/MonitorTests && $(SWIFT) build --build-tests $(BUILD_FLAGS) && $(SWIFT) test --skip-build $(BUILD_FLAGS)
	$(SWIFT) test --skip-build $(BUILD_FLAGS) --filter MonitorScorecardTests

# The main job, end to end: the scenario library through both backends (every mock started, probed, compared),
# then a real monitor (Monitoring Plugins' check_smtp, check_simap, check_ldap, check_http, ...) graded against
# every scenario, with the scorecard printed and its HTML page in out/grade/.
demo: build setup-monitors
	$(MIMIC) run scenarios/
	@mkdir -p out/grade
	$(MIMIC) grade --monitor monitors/monitoring-plugins.yaml scenarios/ --html out/grade/monitoring-plugins.html
	@echo "The scorecard as a page: out/grade/monitoring-plugins.html"

# One monitor graded against the whole library: make grade MONITOR=check_ssl_cert (scorecard in out/grade/).
MONITOR ?= check_ssl_cert
grade: build setup-monitors
	@mkdir -p out/grade
	$(MIMIC) grade --monitor monitors/$(MONITOR).yaml scenarios/ --html out/grade/$(MONITOR).html \
	  --json out/grade/$(MONITOR).json --junit out/grade/$(MONITOR).xml

# Every shipped monitor against the whole library (testssl.sh alone takes about an hour): a page each in out/grade/.
grade-all: build setup-monitors
	@mkdir -p out/grade
	@for m in monitors/*.yaml; do n=$$(basename $$m .yaml); \
	  $(MIMIC) grade --monitor $$m scenarios/ --html out/grade/$$n.html --json out/grade/$$n.json \
	    --junit out/grade/$$n.xml > out/grade/$$n.txt || exit 1; \
	  echo "$$n: $$(tail -1 out/grade/$$n.txt)"; done

# Every certificate profile hand-shaken in memory, OpenSSL <-> GnuTLS in both directions.
matrix: build
	$(MIMIC) certs matrix

# Release build; the library's wall time and per-scenario times, and openssl s_client / gnutls-cli timed on the
# same good handshakes against the same mocks. Prints ratios; nothing asserts a time.
bench: release
	python3 Benchmarks/bench.py --mimic .build/release/mimic --scenarios scenarios

clean:
	rm -rf .build

# Refreshes the bundled trust store from Debian's ca-certificates (Mozilla's roots), dated, so a probe of a
# real server never consults the OS store at run time.
trust-store:
	@dpkg -s ca-certificates >/dev/null 2>&1 || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q ca-certificates
	@{ echo "# Mozilla's root certificates as shipped by Debian's ca-certificates $$(dpkg-query -W -f='$${Version}' ca-certificates)"; \
	   echo "# Bundled by 'make trust-store' on $$(date -u +%Y-%m-%d). Mimic reads this file, never the OS store."; \
	   for f in /usr/share/ca-certificates/mozilla/*.crt; do echo "# $$(basename $$f .crt)"; cat "$$f"; done; \
	 } > certs/trust/mozilla-roots.pem
	@echo "certs/trust/mozilla-roots.pem: $$(grep -c 'BEGIN CERTIFICATE' certs/trust/mozilla-roots.pem) roots"

# The chain profiles and the scenario library compiled into MimicCerts and MimicTesting (for packages that use
# Mimic without this repository on disk); a test fails while they are stale.
builtins:
	python3 Tools/builtins.py

# scenarios/schema.json, generated from the scenario key declarations (a test fails when it is stale).
schema: build
	"$$($(SWIFT) build $(BUILD_FLAGS) --show-bin-path)/mimic" schema > scenarios/schema.json

# libFuzzer targets, one per parser that reads peer or user bytes (Fuzz/, a package of its own that depends on this
# one by path, so the sanitizer flags never reach the ordinary build). `make test` builds them so they cannot rot;
# `make fuzz` runs each for FUZZ_SECONDS (default 60), or to FUZZ_RUNS executions when that is given (FUZZ_SECONDS
# then caps the time, if given too), and prints executions, seconds and results: exit 1 on any crash, leak, timeout
# or out-of-memory, with the input in Fuzz/.build/artifacts/<target>/. FUZZ_TARGETS picks some.
FUZZ_SECONDS ?=
FUZZ_RUNS ?=
FUZZ_TARGETS ?=
# Optimised (-c release), as fuzzing is run: a debug build executes several times fewer inputs a second.
# Product by product: a plain `swift build` in Fuzz/ would also link the main package's `mimic` with libFuzzer.
FUZZ_FLAGS = -c release -Xswiftc -sanitize=fuzzer,address
fuzz-build: setup
# gold warns about every ASan symbol it cannot export; those lines are left out.
	cd Fuzz && mkdir -p .build && for product in $$(./run.sh --list); do \
	  $(SWIFT) build $(FUZZ_FLAGS) --product $$product >.build/fuzz-build.log 2>&1; status=$$?; \
	  grep -v "Cannot export local symbol" .build/fuzz-build.log; [ $$status = 0 ] || exit 1; done

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) Fuzz/run.sh $(FUZZ_TARGETS)
