#!/usr/bin/env bash
# End-to-end archive benchmark (run by `make bench` after `cargo bench -p btf`):
# minimise every kernel of the sample btfhub archive for the example objects
#   a) with `packer btfgen` (one process, pure Rust, xz decoding included), and
#   b) the btfhub way: per kernel `tar -xJOf` then `bpftool gen min_core_btf`,
# print the wall times and check that both produce the same bytes for every kernel.
#
# Environment: BTFHUB_ARCHIVE (default ../shared/btfhub-archive), BPFC_EXAMPLES_DIR
# (default build/examples), BPFC_BIN_DIR (default target/<host>/release), BENCH_RUNS (3).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')
archive=${BTFHUB_ARCHIVE:-$root/../shared/btfhub-archive}
examples=${BPFC_EXAMPLES_DIR:-$root/build/examples}
bin=${BPFC_BIN_DIR:-$root/target/${host:-x86_64-unknown-linux-gnu}/release}
runs=${BENCH_RUNS:-3}
packer=$bin/packer
bpftool=${BPFTOOL:-$(command -v bpftool || echo /usr/sbin/bpftool)}

skip() { echo "bench/run.sh: $*; skipped"; exit 0; }
[ -d "$archive" ] || skip "no btfhub archive at $archive (set BTFHUB_ARCHIVE)"
[ -x "$packer" ] || skip "no packer at $packer (run make build)"
[ -x "$bpftool" ] || skip "bpftool not found (run make deps)"
shopt -s nullglob
objects=("$examples"/*.bpf.o)
[ ${#objects[@]} -gt 0 ] || skip "no example objects in $examples (run make examples)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t kernels < <(cd "$archive" && find . -name '*.btf.tar.xz' | sed 's|^\./||' | sort)
[ ${#kernels[@]} -gt 0 ] || skip "no .btf.tar.xz under $archive"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

obj_args=()
for o in "${objects[@]}"; do obj_args+=(--obj "$o"); done
# Measure real work, not packer's build cache.
if "$packer" btfgen --help 2>/dev/null | grep -q -- --no-cache; then obj_args+=(--no-cache); fi

packer_times=()
for _ in $(seq "$runs"); do
    rm -rf "$work/packer"
    t0=$(now)
    "$packer" btfgen --inputdir "$archive" --outputdir "$work/packer" "${obj_args[@]}" >/dev/null
    packer_times+=("$(elapsed "$t0" "$(now)")")
done

bpftool_times=()
for _ in $(seq "$runs"); do
    rm -rf "$work/bpftool"
    t0=$(now)
    for k in "${kernels[@]}"; do
        rel=${k%.tar.xz}
        mkdir -p "$work/bpftool/$(dirname "$rel")"
        tar -xJOf "$archive/$k" > "$work/raw.btf"
        "$bpftool" gen min_core_btf "$work/raw.btf" "$work/bpftool/$rel" "${objects[@]}" 2>/dev/null ||
            echo "bpftool refused $k" >&2
    done
    bpftool_times+=("$(elapsed "$t0" "$(now)")")
done

same=0; differ=0
for k in "${kernels[@]}"; do
    rel=${k%.tar.xz}
    if cmp -s "$work/packer/$rel" "$work/bpftool/$rel"; then same=$((same + 1)); else differ=$((differ + 1)); echo "differs: $rel" >&2; fi
done

p=$(printf '%s\n' "${packer_times[@]}" | median)
b=$(printf '%s\n' "${bpftool_times[@]}" | median)
echo
echo "Whole archive: ${#kernels[@]} kernels x ${#objects[@]} objects ($(basename -a "${objects[@]}" | tr '\n' ' ')), median of $runs"
echo "| pipeline | seconds |"
echo "|---|---:|"
printf '| packer btfgen --no-cache (one process, Rust xz + minimise) | %.2f |\n' "$p"
printf '| tar -xJOf + bpftool gen min_core_btf per kernel | %.2f |\n' "$b"
printf '| ratio bpftool/packer | %.2fx |\n' "$(awk -v a="$b" -v b="$p" 'BEGIN { print a / b }')"
echo "outputs byte-identical: $same of ${#kernels[@]} kernels ($differ differ)"
[ "$differ" -eq 0 ]
