#!/usr/bin/env bash
# Startup benchmark (run by `make bench`): "exec -> attached" of a tool
# packed by our launcher against a minimal C libbpf loader (c_loader.c) of
# the same object, all with a custom BTF: the whole run is in a private mount
# namespace with a tmpfs over /sys/kernel/btf, so the packed tool uses its
# embedded BTF (memfd) and the C loaders get the same minimised BTF as a
# file (btf_custom_path).
#
# c_loader is built twice:
#   c_loader_vendored  the libbpf the launcher links (libbpf-sys, features
#                      vendored + static: libbpf.a, libelf.a, libz.a built
#                      from the crate's sources), linked statically the way
#                      libbpf-bootstrap does. Same libbpf version, so the
#                      comparison is launcher vs C, not libbpf 1.x vs 1.y.
#   c_loader_system    the distribution's libbpf (libbpf-dev, shared), for
#                      information: a different libbpf version.
# Prints median, p10 and p90 of each loader, the ratio of the launcher's
# median to the vendored C loader's (the target) and to the system one, and
# the stripped launcher stub's size.
# Targets: launcher median <= 1.1 x the vendored C loader's median, stub
# <= 3 MB (10^6). When the vendored libbpf build is not found (or does not
# link), only the system loader runs and the ratio target is judged against
# it; the output says so. Missing a target is reported, not an error
# (STARTUP_STRICT=1 makes it one). Needs root (loads BPF, unshare -m);
# skipped otherwise.
#
# Environment: BPFC_BIN_DIR (default target/<host>/release), BPFC_EXAMPLES_DIR
# (default build/examples), STARTUP_RUNS (60 per loader: medians of a shared
# 2-vCPU machine move by several percent between runs of 25), CC (cc).
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
c_source=$root/bench/startup/c_loader.c

say() { echo "bench/startup/run.sh: $*"; }
skip() { say "$*; skipped"; exit 0; }
[ "$(id -u)" -eq 0 ] || skip "loading BPF and unshare -m need root (run sudo make bench)"
[ -x "$packer" ] && [ -x "$launcher" ] || skip "no packer/launcher in $bin (run make build)"
[ -r "$object" ] || skip "no $object (run make examples)"
[ -r "$native_btf" ] || skip "$native_btf is not readable: the host BTF is what both loaders are given"
command -v python3 >/dev/null || skip "python3 not found"
command -v unshare >/dev/null || skip "unshare (util-linux) not found"

# "MAJOR.MINOR" from a libbpf_version.h.
header_version() {
    sed -n -e 's/^#define LIBBPF_MAJOR_VERSION \([0-9][0-9]*\).*/\1/p' \
        -e 's/^#define LIBBPF_MINOR_VERSION \([0-9][0-9]*\).*/.\1/p' "$1" | tr -d '\n'
}

# The libbpf release libbpf-sys vendors, from Cargo.lock: its version is
# "<crate version>+v<libbpf version>" (e.g. 1.7.0+v1.7.0). Empty if unknown.
locked_libbpf_sys=$(awk '/^name = "libbpf-sys"$/ { found = 1; next }
    found && /^version = / { gsub(/"/, "", $3); print $3; exit }' "$root/Cargo.lock" 2>/dev/null || true)
locked_libbpf=$(printf '%s\n' "$locked_libbpf_sys" | sed -n 's/^[^+]*+v\([0-9]*\.[0-9]*\).*/\1/p')

# Which libbpf-sys build output the launcher links. Cargo runs libbpf-sys's
# build script into $bin/build/libbpf-sys-<hash>/out (the same target dir
# and profile as the launcher measured here); a new hash appears when the
# build configuration changes (libbpf-sys version, features, flags), and old
# ones stay until `cargo clean`. The choice, deterministic for a given
# target dir:
#   1. only complete vendored + static runs: the script's `output` asks
#      cargo to link static=bpf, and libbpf.a, libelf.a, libz.a and the
#      headers are all there;
#   2. only those whose libbpf_version.h is the libbpf Cargo.lock pins
#      (the "+vX.Y" of libbpf-sys's version): that is the version the
#      launcher was built with, so a stale output of another libbpf-sys
#      version can never be picked;
#   3. of what is left (the same libbpf sources, built under other flags),
#      the newest libbpf.a, i.e. the last build, the one `make build` just
#      linked; equal times fall back to the path order.
# Sets vendored_dir / vendored_version, or vendored_missing to the reason.
vendored_dir=
vendored_version=
vendored_missing=
find_vendored() {
    local dir version mtime best_mtime=-1 seen=0
    for dir in "$bin"/build/libbpf-sys-*/out; do
        [ -f "$dir/libbpf.a" ] && [ -f "$dir/libelf.a" ] && [ -f "$dir/libz.a" ] \
            && [ -f "$dir/include/bpf/libbpf.h" ] && [ -f "$dir/include/bpf/libbpf_version.h" ] \
            && grep -qx 'cargo:rustc-link-lib=static=bpf' "$dir/../output" 2>/dev/null || continue
        seen=$((seen + 1))
        version=$(header_version "$dir/include/bpf/libbpf_version.h")
        [ -z "$locked_libbpf" ] || [ "$version" = "$locked_libbpf" ] || continue
        mtime=$(stat -c %Y "$dir/libbpf.a")
        if [ "$mtime" -gt "$best_mtime" ]; then
            best_mtime=$mtime
            vendored_dir=$dir
            vendored_version=$version
        fi
    done
    if [ -z "$vendored_dir" ]; then
        if [ "$seen" -eq 0 ]; then
            vendored_missing="no vendored static libbpf-sys build in $bin/build/libbpf-sys-*/out (run make build)"
        else
            vendored_missing="no libbpf-sys build in $bin/build has libbpf $locked_libbpf, the version Cargo.lock pins (run make build)"
        fi
    fi
}
find_vendored

mkdir -p "$out"
rm -f "$out/c_loader" # the name of the single (system) loader before there were two
# Temp name + rename for every output.
c_loaders=()
if [ -n "$vendored_dir" ]; then
    say "vendored libbpf $vendored_version (libbpf-sys ${locked_libbpf_sys:-?}): $vendored_dir"
    # Fully static like the launcher if the C library allows it, else only
    # libbpf/libelf/zlib static (they are archives either way).
    vendored_cc() {
        "$cc" -O2 -Wall -I"$vendored_dir/include" "$c_source" "$@" \
            "$vendored_dir/libbpf.a" "$vendored_dir/libelf.a" "$vendored_dir/libz.a" \
            -o "$out/c_loader_vendored.tmp"
    }
    vendored_link=
    if vendored_cc -static 2>"$out/c_loader_vendored.log"; then
        rm -f "$out/c_loader_vendored.log"
        vendored_link="static executable"
    elif vendored_cc; then
        say "c_loader_vendored: -static does not link (see $out/c_loader_vendored.log); libbpf/libelf/zlib static, libc shared"
        vendored_link="static libbpf/libelf/zlib, shared libc"
    fi
    if [ -n "$vendored_link" ]; then
        # The library linked in must be the one whose headers were read.
        runtime=$("$out/c_loader_vendored.tmp" --libbpf-version)
        if [ "$runtime" != "v$vendored_version" ]; then
            say "c_loader_vendored runs with libbpf $runtime, expected v$vendored_version from $vendored_dir" >&2
            exit 1
        fi
        mv "$out/c_loader_vendored.tmp" "$out/c_loader_vendored"
        c_loaders+=(--c-vendored "$out/c_loader_vendored" --c-vendored-link "$vendored_link")
    else
        rm -f "$out/c_loader_vendored.tmp"
        vendored_missing="c_loader.c does not link against $vendored_dir/libbpf.a (see $out/c_loader_vendored.log and the errors above)"
    fi
fi
if [ -n "$vendored_missing" ]; then
    say "WARNING: $vendored_missing; comparing with the system libbpf only (another libbpf version than the launcher's)" >&2
    c_loaders+=(--c-vendored-missing "$vendored_missing")
fi

if [ -r /usr/include/bpf/libbpf.h ]; then
    "$cc" -O2 -Wall "$c_source" -lbpf -lelf -lz -o "$out/c_loader_system.tmp"
    mv "$out/c_loader_system.tmp" "$out/c_loader_system"
    system_version=$(pkg-config --modversion libbpf 2>/dev/null \
        || "$out/c_loader_system" --libbpf-version)
    c_loaders+=(--c-system "$out/c_loader_system" --c-system-libbpf "${system_version#v}")
elif [ -n "$vendored_missing" ]; then
    skip "libbpf-dev is not installed (run make deps) and $vendored_missing"
else
    say "libbpf-dev is not installed (run make deps): no system-libbpf loader" >&2
fi

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

strict=()
[ -z "${STARTUP_STRICT:-}" ] || strict=(--strict)

# tracefs for the C loaders' tracepoint attach (the launcher would mount it
# itself); mounted inside the private namespace only.
exec unshare -m sh -c '
    set -e
    mount -t tmpfs none /sys/kernel/btf
    if [ ! -d /sys/kernel/tracing/events ] && [ ! -d /sys/kernel/debug/tracing/events ]; then
        mount -t tracefs tracefs /sys/kernel/tracing
    fi
    exec python3 "$@"' sh "$root/bench/startup/run.py" \
    --tool "$out/execsnoop" --object "$object" \
    --btf "$out/host.min.btf" --stub "$stub" --launcher "$launcher" \
    --c-vendored-libbpf "${vendored_version:-${locked_libbpf:-?}}" \
    --runs "${STARTUP_RUNS:-60}" "${c_loaders[@]}" "${strict[@]}"
