# fieldpoll: the single entry point. `make run` shows the demo; `make test` runs every test.
# Both install what is missing on a fresh Debian machine (apt-get for C libraries and peer
# tools, a Python venv for pymodbus), then build.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

SWIFT        ?= swift
CONFIG       ?= debug
BIN           = .build/$(CONFIG)/fieldpoll
VENV         := .build-venv
PYMODBUS     := pymodbus==3.16.1
BENCH_VENV   := .build-bench-venv
MODPOLL      := modpoll==1.6.0
DEMO_PORT    ?= 1502
PREFIX       ?= /usr/local
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_ENV      := DEBIAN_FRONTEND=noninteractive

# Debian packages each goal needs, and the command (or pkg-config module) that proves each present.
RUN_PACKAGES  := pkg-config:pkg-config libmodbus-dev:pc=libmodbus
TEST_PACKAGES := $(RUN_PACKAGES) mbpoll:mbpoll python3-venv:py-venv jq:jq mosquitto:mosquitto \
                 mosquitto-clients:mosquitto_pub systemd:systemd-analyze

.PHONY: run test build deps-run deps-test venv lint fuzz tsan asan soak bench install install-files clean help

FUZZ_SECONDS ?= 60
FUZZ_HARNESSES := maps fixtures decoder frames
MINUTES      ?= 10

help:
	@echo "make run    build, start the simulator on fixtures/demo.json and poll it (Ctrl-C stops)"
	@echo "make test   build and run every test"
	@echo "make lint   check the layering rules (C types stay in ModbusTransport)"
	@echo "make fuzz   libFuzzer + AddressSanitizer on the map, fixture, decoder and frame harnesses (FUZZ_SECONDS each)"
	@echo "make tsan   scheduler, engine and transport tests under ThreadSanitizer"
	@echo "make asan   the test suite under AddressSanitizer"
	@echo "make soak   100 devices, random faults, MINUTES minutes; fails on lost cycles, RSS growth or fd leaks"
	@echo "make bench  decode, encode, plan, the C loop, a 1,000-device fleet and the peers; writes BENCHMARKS.md"

# Installs the Debian packages in $(1) whose probe fails: pc=MODULE asks pkg-config,
# py-venv asks /usr/bin/python3 for venv and ensurepip, anything else is a command name.
define ensure_packages
	@missing=""; \
	for entry in $(1); do \
	  package=$${entry%%:*}; probe=$${entry#*:}; \
	  case "$$probe" in \
	    pc=*) pkg-config --exists "$${probe#pc=}" 2>/dev/null || missing="$$missing $$package" ;; \
	    py-venv) /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing $$package" ;; \
	    *) command -v "$$probe" >/dev/null 2>&1 || missing="$$missing $$package" ;; \
	  esac; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) $(APT_ENV) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps-run:
	$(call ensure_packages,$(RUN_PACKAGES))

deps-test:
	$(call ensure_packages,$(TEST_PACKAGES))

# pymodbus, in a venv of Debian's python (the python3 on PATH may be a pyenv shim that forks).
venv: $(VENV)/.installed
$(VENV)/.installed: | deps-test
	/usr/bin/python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PYMODBUS)
	touch $@

build: deps-run
	$(SWIFT) build -c $(CONFIG) --product fieldpoll

# Starts the simulator on the demo fixture, waits (at most 10 s) for it to listen, then polls
# the demo maps until Ctrl-C; the simulator stops with the poller.
run: build
	@$(BIN) simulate --listen 127.0.0.1:$(DEMO_PORT) fixtures/demo.json & sim=$$!; \
	trap 'kill $$sim 2>/dev/null; wait $$sim 2>/dev/null || true' EXIT; \
	for i in $$(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$(DEMO_PORT)) 2>/dev/null && break; \
	  kill -0 $$sim 2>/dev/null || exit 1; sleep 0.1; done; \
	$(BIN) run device-maps/demo.yaml device-maps/demo-meter.yaml || true

test: deps-test venv lint
	$(SWIFT) build --build-tests
	$(SWIFT) build --product generate-manual
	FIELDPOLL_VENV=$(CURDIR)/$(VENV) $(SWIFT) test --skip-build

# C types and pointers stay inside ModbusTransport (and the C shim); the executable stays thin.
lint:
	@bad=$$(grep -rnE 'OpaquePointer|Unsafe(Mutable)?(Raw)?(Buffer)?Pointer<modbus|timeval|modbus_[a-z_]+\(' Sources \
	  --include=*.swift | grep -v '^Sources/ModbusTransport/' || true); \
	if [ -n "$$bad" ]; then echo "C types outside ModbusTransport:"; echo "$$bad"; exit 1; fi; \
	bad=$$(grep -rln 'import CModbus' Sources --include=*.swift | grep -v '^Sources/ModbusTransport/' || true); \
	if [ -n "$$bad" ]; then echo "CModbus imported outside ModbusTransport: $$bad"; exit 1; fi; \
	echo "lint: ok"

# libFuzzer with AddressSanitizer (SwiftPM's two --sanitize flags together silently lose
# coverage, so the second sanitizer goes to swiftc). Crashers land in fixtures/fuzz/HARNESS/,
# where `make test` replays them once fixed.
fuzz: deps-run
	$(SWIFT) build --scratch-path .build-fuzz -c release --product fieldpoll-fuzz \
	  --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
	@for harness in $(FUZZ_HARNESSES); do \
	  corpus=.build-fuzz/corpus/$$harness; mkdir -p $$corpus; \
	  case $$harness in \
	    maps) seeds="device-maps fixtures/maps fixtures/maps/invalid" ;; \
	    fixtures) seeds="fixtures" ;; \
	    *) seeds="" ;; \
	  esac; \
	  echo "== fuzzing $$harness for $(FUZZ_SECONDS) s"; \
	  SWIFT_BACKTRACE=enable=no FIELDPOLL_FUZZ_TARGET=$$harness .build-fuzz/release/fieldpoll-fuzz \
	    $$corpus fixtures/fuzz/$$harness $$seeds -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -artifact_prefix=fixtures/fuzz/$$harness/crash- -print_final_stats=1 2>&1 | grep -E '^(Done|stat::|==[0-9]+==|SUMMARY|artifact)' || exit 1; \
	done

TSAN_TESTS := PollSchedulingTests|ReliabilityTests|ModbusTransportTests|JSONLinesTests

tsan: deps-test
	$(SWIFT) build --build-tests --scratch-path .build-tsan --sanitize=thread
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --skip-build --scratch-path .build-tsan --filter '$(TSAN_TESTS)'

# Swift Testing only: XCTest reports a leak of its own under LeakSanitizer.
asan: deps-test venv
	$(SWIFT) build --build-tests --scratch-path .build-asan --sanitize=address
	SWIFT_BACKTRACE=enable=no FIELDPOLL_VENV=$(CURDIR)/$(VENV) FIELDPOLL_BIN=$(CURDIR)/.build-asan/debug/fieldpoll \
	  $(SWIFT) test --skip-build --scratch-path .build-asan --disable-xctest

soak: deps-run
	$(SWIFT) build --product fieldpoll
	$(SWIFT) build --product fieldpoll-soak
	FIELDPOLL_BIN=$(CURDIR)/.build/debug/fieldpoll MINUTES=$(MINUTES) .build/debug/fieldpoll-soak

# modpoll, the PyPI peer of the benchmarks, in a venv of its own (it pins its own pymodbus).
$(BENCH_VENV)/.installed: | deps-test
	/usr/bin/python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check $(MODPOLL)
	touch $@

# Release builds of the poller, the bench and its two C programs, then every row of issue 8
# (about 15 minutes; BENCH_ROWS=decode,encode,plan for the quick ones). The report goes to
# BENCHMARKS.md only after a full run.
bench: deps-test $(BENCH_VENV)/.installed
	for product in fieldpoll fieldpoll-bench bench-read-loop bench-modbus-server; do \
	  $(SWIFT) build -c release --product $$product; done
	BENCH_COMMIT="$$(git describe --always --dirty 2>/dev/null || echo unknown)" FIELDPOLL_MODPOLL=$(CURDIR)/$(BENCH_VENV)/bin/modpoll \
	  .build/release/fieldpoll-bench --output BENCHMARKS.md

# The binary, shell completions and a man page generated from the argument definitions
# (swift-argument-parser's generate-manual), and the documentation, under $(DESTDIR)$(PREFIX).
install: CONFIG = release
install: deps-run
	$(SWIFT) build -c $(CONFIG) --product fieldpoll
	$(SWIFT) build -c $(CONFIG) --product generate-manual
	$(MAKE) install-files CONFIG=$(CONFIG)

# Copies what install builds; the tests call it on the debug build.
install-files:
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d $(DESTDIR)$(PREFIX)/share/doc/fieldpoll
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/fieldpoll
	manual=$$(mktemp -d); .build/$(CONFIG)/generate-manual $(BIN) --output-directory $$manual; \
	  install -m 644 $$manual/fieldpoll.1 $(DESTDIR)$(PREFIX)/share/man/man1/fieldpoll.1; rm -rf $$manual
	$(BIN) --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/fieldpoll
	$(BIN) --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_fieldpoll
	$(BIN) --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/fieldpoll.fish
	cp -R README.md docs $(DESTDIR)$(PREFIX)/share/doc/fieldpoll/

clean:
	rm -rf .build .build-fuzz .build-tsan .build-asan $(VENV) $(BENCH_VENV)
