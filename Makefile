# bpf-compatible: build, test and demo entry points.
#
#   sudo make demo   install what is missing, build, pack execsnoop and run it
#                    with /sys/kernel/btf hidden
#   make test        install what is missing, build, compile the examples and
#                    run every test (the end-to-end tests need root)
#
# Other targets: deps build examples vm-test lint bench fuzz clean distclean help.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

# rustup installs Rust per user and sudo resets PATH: under `sudo make`, use
# the invoking user's toolchains (read-only; downloads go to root's cargo home).
ifneq ($(SUDO_USER),)
ifeq ($(shell command -v cargo 2>/dev/null),)
SUDO_HOME := $(shell getent passwd $(SUDO_USER) | cut -d: -f6)
export PATH := $(SUDO_HOME)/.cargo/bin:$(PATH)
export RUSTUP_HOME ?= $(SUDO_HOME)/.rustup
endif
endif

# One cargo configuration for everyone, so artifacts are shared and the
# launcher is a fully static executable. Position-dependent, like `gcc
# -static` and Go binaries: a static PIE relocates its ~60 KB of pointer
# tables at every start (about 50 us and 16 copy-on-write page faults of a
# packed tool's start-up, bench/startup), for ASLR of an image whose inputs
# are its own checksummed payload and root-owned system files.
HOST := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
export CARGO_BUILD_TARGET := $(HOST)
export RUSTFLAGS := -C target-feature=+crt-static -C relocation-model=static
# Doctests link against the same (position-dependent) libraries.
export RUSTDOCFLAGS := $(RUSTFLAGS)
CARGO ?= cargo
BIN_DIR := $(ROOT)/target/$(HOST)/release
PACKER := $(BIN_DIR)/packer
LAUNCHER := $(BIN_DIR)/launcher

BUILD := $(ROOT)/build
EXAMPLES_OUT := $(BUILD)/examples
EXAMPLES := $(patsubst $(ROOT)/examples/%.bpf.c,$(EXAMPLES_OUT)/%.bpf.o,$(wildcard $(ROOT)/examples/*.bpf.c))
VMLINUX_H := $(BUILD)/vmlinux.h
HOST_BTF := /sys/kernel/btf/vmlinux

CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
BPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror -I$(BUILD)

# The sample btfhub archive lives next to the repository when present.
BTFHUB_ARCHIVE ?= $(wildcard $(abspath $(ROOT)/../shared/btfhub-archive))
ifneq ($(strip $(BTFHUB_ARCHIVE)),)
export BTFHUB_ARCHIVE
endif

APT_PACKAGES := clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev autoconf \
	automake autopoint flex bison gawk libtool make pkg-config xz-utils git \
	qemu-system-x86 busybox-static
RUST_COMPONENTS := clippy rustfmt

.PHONY: help deps toolchain build examples test vm-test lint demo bench fuzz clean distclean tracefs

help:
	@sed -n '1,8s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

## deps: apt-get install the missing packages (root), add missing rustup components.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then \
	  echo "deps: all system packages present"; \
	elif [ "$$(id -u)" -ne 0 ]; then \
	  echo "deps: missing packages:$$missing" >&2; \
	  echo "deps: installing them needs root: run 'sudo make deps' (or sudo apt-get install$$missing)" >&2; \
	  exit 1; \
	else \
	  echo "deps: installing$$missing"; \
	  apt-get update; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi
	@if command -v rustup >/dev/null; then \
	  installed=$$(rustup component list --installed); \
	  for c in $(RUST_COMPONENTS); do \
	    grep -q "^$$c" <<<"$$installed" || rustup component add "$$c"; \
	  done; \
	else \
	  echo "deps: rustup not found; make sure $(RUST_COMPONENTS) are installed" >&2; \
	fi

# A clear message instead of cargo/rustc "command not found".
toolchain:
	@[ -n "$(HOST)" ] || { echo "rustc not found: install Rust with rustup (https://rustup.rs) and open a new shell" >&2; exit 1; }

## build: release packer and launcher (static) into target/$(HOST)/release.
build: toolchain
	$(CARGO) build --release -p packer -p launcher

## examples: the CO-RE BPF objects in build/examples/*.bpf.o.
examples: $(EXAMPLES)

# Regenerated when the running kernel (its BTF file) is newer, e.g. after a reboot.
$(VMLINUX_H): $(wildcard $(HOST_BTF)) | $(BUILD)
	@test -r $(HOST_BTF) || { echo "examples: $(HOST_BTF) is not readable; vmlinux.h is generated from the host's BTF" >&2; exit 1; }
	$(BPFTOOL) btf dump file $(HOST_BTF) format c > $@.tmp
	mv $@.tmp $@

$(EXAMPLES_OUT)/%.bpf.o: $(ROOT)/examples/%.bpf.c $(VMLINUX_H) | $(EXAMPLES_OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp.o
	$(LLVM_STRIP) -g $@.tmp.o
	mv $@.tmp.o $@

$(BUILD) $(EXAMPLES_OUT):
	mkdir -p $@

# libbpf attaches tracepoints through tracefs; hosts without systemd may not
# have it mounted.
tracefs:
	@if [ "$$(id -u)" -eq 0 ] && [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then \
	  mount -t tracefs tracefs /sys/kernel/tracing && echo "tracefs: mounted /sys/kernel/tracing"; \
	fi

## test: everything above, then every test of the workspace (the VM tests,
## tests/vm, included: they skip with a notice when qemu is missing).
test: deps build examples tracefs
	BPFC_BIN_DIR=$(BIN_DIR) BPFC_EXAMPLES_DIR=$(EXAMPLES_OUT) $(CARGO) test --workspace --no-fail-fast

## vm-test: only the VM tests: one packed tool in QEMU guests booting Debian
## 5.10, 6.1 and 6.12 kernels (cached in ~/.cache/bpf-compatible/vm).
vm-test: deps build examples
	BPFC_BIN_DIR=$(BIN_DIR) BPFC_EXAMPLES_DIR=$(EXAMPLES_OUT) $(CARGO) test -p e2e --test vm

## lint: formatting and clippy, warnings are errors.
lint: toolchain
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## demo: pack execsnoop for this kernel and the sample archive, run it with
## /sys/kernel/btf hidden and trigger a few execs (root).
DEMO_TOOL := $(BUILD)/execsnoop
DEMO_SECONDS ?= 4
DEMO_KERNELS := --kernels host $(if $(BTFHUB_ARCHIVE),--btfhub $(BTFHUB_ARCHIVE) --kernels all)

demo: build examples tracefs
	@[ "$$(id -u)" -eq 0 ] || { echo "demo: loading BPF needs root: run 'sudo make demo'" >&2; exit 1; }
	$(PACKER) build $(EXAMPLES_OUT)/execsnoop.bpf.o --source $(ROOT)/examples/execsnoop.bpf.c $(DEMO_KERNELS) -o $(DEMO_TOOL)
	@ls -l $(DEMO_TOOL)
	@echo "demo: what the tool would do here with /sys/kernel/btf hidden:"
	unshare -m sh -c 'mount -t tmpfs none /sys/kernel/btf && exec $(DEMO_TOOL) --check'
	@echo "demo: running $(DEMO_TOOL) for $(DEMO_SECONDS)s with /sys/kernel/btf hidden (embedded BTF is used)"
	@( sleep 1; for i in 1 2 3; do /bin/true; /bin/uname -r >/dev/null; sleep 0.3; done ) &
	unshare -m sh -c 'mount -t tmpfs none /sys/kernel/btf && exec timeout --preserve-status -s INT $(DEMO_SECONDS) $(DEMO_TOOL)'
	@wait

## bench: benchmarks of the btf crate, the BTF pack and the end-to-end bench scripts.
bench: build examples
	$(CARGO) bench -p btf
	$(CARGO) bench -p bundle
	@if [ -f $(ROOT)/bench/run.sh ]; then \
	  BPFC_BIN_DIR=$(BIN_DIR) BPFC_EXAMPLES_DIR=$(EXAMPLES_OUT) bash $(ROOT)/bench/run.sh; \
	else echo "bench: no bench/run.sh"; fi
	BPFC_BIN_DIR=$(BIN_DIR) VMLINUX_H=$(VMLINUX_H) bash $(ROOT)/bench/btfhub.sh
	BPFC_BIN_DIR=$(BIN_DIR) BPFC_EXAMPLES_DIR=$(EXAMPLES_OUT) bash $(ROOT)/bench/startup/run.sh

## fuzz: the fuzz targets (separate cargo-fuzz workspace).
fuzz:
	@if [ -f $(ROOT)/fuzz/Makefile ]; then $(MAKE) -C $(ROOT)/fuzz; else echo "fuzz: no fuzz/Makefile" >&2; exit 1; fi

## clean: remove build/ (the cargo target dir is shared: see distclean).
clean:
	rm -rf $(BUILD)

distclean: clean
	$(CARGO) clean
