#!/usr/bin/env bash
# Startup benchmark (run by `make bench`): "exec -> attached" of a tool
# packed by our launcher against a minimal C libbpf loader (c_loader.c, the
# system libbpf) of the same object, both with a custom BTF: the whole run
# is in a private mount namespace with a tmpfs over /sys/kernel/btf, so the
# packed tool uses its embedded BTF (memfd) and the C loader gets the same
# minimised BTF as a file (btf_custom_path). Prints median, p10 and p90 of
# each, the ratio of the medians, and the stripped launcher stub's size.
# Targets: launcher median <= 1.1 x C loader median, stub <= 3 MB (10^6).
# Missing a target is reported, not an error (STARTUP_STRICT=1 makes it one).
# Needs root (loads BPF, unshare -m); skipped otherwise.
#
# Environment: BPFC_BIN_DIR (default target/<host>/release), BPFC_EXAMPLES_DIR
# (default build/examples), STARTUP_RUNS (25 per loader), CC (cc).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p' || true)
bin=${BPFC_BIN_DIR:-$root/target/${host:-x86_64-unknown-linux-gnu}/release}
examples=${BPFC_EXAMPLES_DIR:-$root/build/examples}
out=$root/build/bench
cc=${CC:-cc}
packer=$bin/packer
launcher=$bin/launcher
object=$examples/execsnoop.bpf.o
native_btf=/sys/kernel/btf/vmlinux

say() { echo "bench/startup/run.sh: $*"; }
skip() { say "$*; skipped"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "loading BPF and unshare -m need root (run sudo make bench)"
[ -x "$packer" ] && [ -x "$launcher" ] || skip "no packer/launcher in $bin (run make build)"
[ -r "$object" ] || skip "no $object (run make examples)"
[ -r "$native_btf" ] || skip "$native_btf is not readable: the host BTF is what both loaders are given"
[ -r /usr/include/bpf/libbpf.h ] || skip "libbpf-dev is not installed (run make deps)"
command -v python3 >/dev/null || skip "python3 not found"
command -v unshare >/dev/null || skip "unshare (util-linux) not found"

mkdir -p "$out"
# Temp name + rename for every output.
"$cc" -O2 -Wall "$root/bench/startup/c_loader.c" -lbpf -lelf -lz -o "$out/c_loader.tmp"
mv "$out/c_loader.tmp" "$out/c_loader"
"$packer" build "$object" --kernels host -o "$out/execsnoop.tmp" >/dev/null
mv "$out/execsnoop.tmp" "$out/execsnoop"
"$packer" min-btf "$native_btf" "$out/host.min.btf.tmp" "$object"
mv "$out/host.min.btf.tmp" "$out/host.min.btf"

# The stub as shipped: the release profile strips symbols; strip a copy
# anyway so the figure is the stripped size whatever the profile says.
strip_tool=$(command -v llvm-strip || command -v strip || true)
stub=$out/launcher.stripped
if [ -n "$strip_tool" ]; then
    "$strip_tool" -o "$stub.tmp" "$launcher"
    mv "$stub.tmp" "$stub"
else
    say "no strip/llvm-strip: measuring the launcher as built"
    stub=$launcher
fi

# tracefs for the C loader's tracepoint attach (the launcher would mount it
# itself); mounted inside the private namespace only.
exec unshare -m sh -c '
    set -e
    mount -t tmpfs none /sys/kernel/btf
    if [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
        mount -t tracefs tracefs /sys/kernel/tracing
    fi
    exec python3 "$@"' sh "$root/bench/startup/run.py" \
    --tool "$out/execsnoop" --c-loader "$out/c_loader" --object "$object" \
    --btf "$out/host.min.btf" --stub "$stub" --launcher "$launcher" \
    --runs "${STARTUP_RUNS:-25}" ${STARTUP_STRICT:+--strict} \
    --c-libbpf "$(pkg-config --modversion libbpf 2>/dev/null || echo unknown)"
