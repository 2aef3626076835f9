# fieldpoll: the single entry point. `make run` shows the demo; `make test` runs every test.
# Both install what is missing on a fresh Debian machine (apt-get for C libraries and peer
# tools, a Python venv for pymodbus), then build.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

SWIFT        ?= swift
CONFIG       ?= debug
BIN          := .build/$(CONFIG)/fieldpoll
VENV         := .build-venv
PYMODBUS     := pymodbus==3.16.1
DEMO_PORT    ?= 1502
PREFIX       ?= /usr/local
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_ENV      := DEBIAN_FRONTEND=noninteractive

# Debian packages each goal needs, and the command (or pkg-config module) that proves each present.
RUN_PACKAGES  := pkg-config:pkg-config libmodbus-dev:pc=libmodbus
TEST_PACKAGES := $(RUN_PACKAGES) mbpoll:mbpoll python3-venv:py-venv

.PHONY: run test build deps-run deps-test venv lint clean help

help:
	@echo "make run    build, start the simulator on fixtures/demo.json and poll it (Ctrl-C stops)"
	@echo "make test   build and run every test"
	@echo "make lint   check the layering rules (C types stay in ModbusTransport)"

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
	FIELDPOLL_VENV=$(CURDIR)/$(VENV) $(SWIFT) test --skip-build

# C types and pointers stay inside ModbusTransport (and the C shim); the executable stays thin.
lint:
	@bad=$$(grep -rnE 'OpaquePointer|Unsafe(Mutable)?(Raw)?(Buffer)?Pointer<modbus|timeval|modbus_[a-z_]+\(' Sources \
	  --include=*.swift | grep -v '^Sources/ModbusTransport/' || true); \
	if [ -n "$$bad" ]; then echo "C types outside ModbusTransport:"; echo "$$bad"; exit 1; fi; \
	bad=$$(grep -rln 'import CModbus' Sources --include=*.swift | grep -v '^Sources/ModbusTransport/' || true); \
	if [ -n "$$bad" ]; then echo "CModbus imported outside ModbusTransport: $$bad"; exit 1; fi; \
	echo "lint: ok"

clean:
	rm -rf .build $(VENV)
