#!/usr/bin/env bash
# btfhub at scale (run by `make bench`): every kernel of the sample btfhub
# archive, and of $BTFHUB_ARCHIVE too when it points to another (bigger)
# archive, packed for one CO-RE object with a few kilobytes of BTF per kernel,
# in one run:
#   baseline  time to xz-decode every input (xz -dc, one after another) / cores
#   script    per kernel `tar -xJf` to disk + `bpftool gen min_core_btf`,
#             then `tar -czf` of btfhub-archive/ (what btfgen scripts ship)
#   cold      `packer build` with an empty build cache
#   warm      `packer build` again, same object
#   changed   `packer build` of a changed object (kernels from the cache)
# and the payload's BTF share (what the BTF pack adds to the default lz4
# payload) against the script's tar.gz (and the whole payload, whose object
# is stored raw for a fast start, against a tar.gz of package.json + BTFs). Times are the best of
# BENCH_RUNS (3) runs, with CPU times beside them: the machine may be
# shared. Targets: cold <= 1.1 x baseline, warm >= 20x faster than the
# script, BTFs <= half the tar.gz.
# Missing a target is reported, not an error.
#
# Environment: BTFHUB_ARCHIVE, BPFC_BIN_DIR (default target/<host>/release),
# BENCH_RUNS, BPFTOOL, CLANG, VMLINUX_H (default build/vmlinux.h).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
host=$(rustc -vV 2>/dev/null | sed -n 's/^host: //p')
bin=${BPFC_BIN_DIR:-$root/target/${host:-x86_64-unknown-linux-gnu}/release}
runs=${BENCH_RUNS:-3}
packer=$bin/packer
launcher=$bin/launcher
bpftool=${BPFTOOL:-$(command -v bpftool || echo /usr/sbin/bpftool)}
clang=${CLANG:-clang}
vmlinux_h=${VMLINUX_H:-$root/build/vmlinux.h}
sample=$root/../shared/btfhub-archive
cores=$(nproc)

say() { echo "bench/btfhub.sh: $*"; }
skip() { say "$*; skipped"; exit 0; }
[ -x "$packer" ] && [ -x "$launcher" ] || skip "no packer/launcher in $bin (run make build)"
[ -x "$bpftool" ] || skip "bpftool not found (run make deps)"
command -v xz >/dev/null || skip "xz not found (run make deps)"
command -v "$clang" >/dev/null || skip "clang not found (run make deps)"
[ -r "$vmlinux_h" ] || skip "no $vmlinux_h (run make examples)"

archives=()
[ -d "$sample" ] && archives+=("$(cd "$sample" && pwd)")
if [ -n "${BTFHUB_ARCHIVE:-}" ] && [ -d "$BTFHUB_ARCHIVE" ]; then
    other=$(cd "$BTFHUB_ARCHIVE" && pwd)
    [ "${#archives[@]}" -gt 0 ] && [ "$other" = "${archives[0]}" ] || archives+=("$other")
fi
[ "${#archives[@]}" -gt 0 ] || skip "no btfhub archive (../shared/btfhub-archive or BTFHUB_ARCHIVE)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The object: CO-RE reads of ~60 long-standing fields across a dozen kernel
# structs, so each kernel's minimised BTF is a few kilobytes. -DCHANGED adds
# one more read: the "changed object" of an edit-rebuild cycle.
cat > "$work/bench.bpf.c" <<'EOF'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct event { unsigned long long v[72]; };
const volatile struct event *__eunomia_dummy_event_ptr __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events SEC(".maps");

#define R(...) e->v[i++] = (unsigned long long)BPF_CORE_READ(__VA_ARGS__)

SEC("tp/sched/sched_process_exec")
int bench_exec(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	int i = 0;

	if (!e)
		return 0;
	R(t, pid); R(t, tgid); R(t, flags); R(t, prio); R(t, static_prio);
	R(t, normal_prio); R(t, policy); R(t, exit_code); R(t, exit_signal);
	R(t, pdeath_signal); R(t, personality); R(t, nvcsw); R(t, nivcsw);
	R(t, min_flt); R(t, maj_flt); R(t, utime); R(t, stime); R(t, start_time);
	R(t, real_parent, tgid); R(t, parent, pid); R(t, group_leader, pid);
	R(t, mm, mmap_base); R(t, mm, task_size); R(t, mm, total_vm);
	R(t, mm, locked_vm); R(t, mm, data_vm); R(t, mm, exec_vm);
	R(t, mm, stack_vm); R(t, mm, start_code); R(t, mm, end_code);
	R(t, mm, start_data); R(t, mm, end_data); R(t, mm, start_brk);
	R(t, mm, brk); R(t, mm, start_stack); R(t, mm, arg_start);
	R(t, mm, arg_end); R(t, mm, env_start); R(t, mm, env_end);
	R(t, mm, map_count); R(t, mm, exe_file, f_flags);
	R(t, mm, exe_file, f_path.dentry, d_inode, i_ino);
	R(t, cred, uid.val); R(t, cred, gid.val); R(t, cred, euid.val);
	R(t, cred, egid.val); R(t, cred, fsuid.val); R(t, cred, user_ns, level);
	R(t, real_cred, suid.val);
	R(t, files, next_fd); R(t, files, fdt, max_fds);
	R(t, fs, pwd.dentry, d_name.len); R(t, fs, root.mnt, mnt_flags);
	R(t, fs, pwd.dentry, d_parent, d_inode, i_mode);
	R(t, fs, pwd.dentry, d_inode, i_size);
	R(t, fs, pwd.dentry, d_inode, i_sb, s_dev);
	R(t, fs, pwd.dentry, d_inode, i_sb, s_magic);
	R(t, nsproxy, uts_ns, name.nodename[0]);
	R(t, nsproxy, pid_ns_for_children, level);
	R(t, nsproxy, net_ns, ns.inum); R(t, nsproxy, mnt_ns, ns.inum);
	R(t, nsproxy, ipc_ns, ns.inum);
	R(t, signal, nr_threads); R(t, signal, tty, index);
	R(t, signal, leader);
#ifdef CHANGED
	R(t, signal, tty, name[0]);
#endif
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
EOF
arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
for variant in bench changed; do
    defs=(); [ "$variant" = changed ] && defs=(-DCHANGED)
    "$clang" -g -O2 -target bpf "-D__TARGET_ARCH_$arch" "${defs[@]}" -I"$(dirname "$vmlinux_h")" \
        -c "$work/bench.bpf.c" -o "$work/$variant.tmp.o"
    llvm-strip -g "$work/$variant.tmp.o" 2>/dev/null || true
    mv "$work/$variant.tmp.o" "$work/$variant.bpf.o"
done
obj=$work/bench.bpf.o
changed=$work/changed.bpf.o

# "wall cpu" seconds of a command: wall time and the user + system CPU time
# of it and its children (stdout/stderr discarded; failure aborts). `times`
# runs in this shell, never in a subshell of its own, which would see none
# of these children.
seconds() {
    local t0 t1
    times >"$work/times0"
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; say "failed: $*"; exit 1; }
    t1=$(date +%s.%N)
    times >"$work/times1"
    awk -v a="$t0" -v b="$t1" '
        FNR == 2 { for (i = 1; i <= 2; i++) { split($i, p, "m"); c[FILENAME] += p[1] * 60 + p[2] } }
        END { printf "%.3f %.3f", b - a, c[ARGV[2]] - c[ARGV[1]] }' "$work/times0" "$work/times1"
}
# The best (smallest) wall time of "wall cpu" pairs, with its CPU time.
min() { printf '%s\n' "$@" | sort -g | head -1; }
wall() { echo "${1%% *}"; }
cpu() { echo "${1##* }"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
payload_len() { tail -c 24 "$1" | head -c 8 | od -An -t u8 | tr -d ' '; }

xz_all() { for k in "${kernels[@]}"; do xz -dc "$archive/$k" >/dev/null; done; }

script_pipeline() {
    local out=$work/script tmp=$work/script-tmp k rel
    rm -rf "$out" "$tmp"
    mkdir -p "$out/btfhub-archive" "$tmp"
    for k in "${kernels[@]}"; do
        rel=${k%.tar.xz}
        mkdir -p "$out/btfhub-archive/$(dirname "$rel")"
        tar -xJf "$archive/$k" -C "$tmp"
        "$bpftool" gen min_core_btf "$tmp/$(basename "$rel")" "$out/btfhub-archive/$rel" "$obj"
        rm -f "$tmp/$(basename "$rel")"
    done
    cp "$work/package.json" "$out/package.json"
    tar -czf "$work/script.tar.gz" -C "$out" btfhub-archive
}

build() { "$packer" build "$1" --btfhub "$archive" --kernels all --launcher "$launcher" -o "$work/tool"; }

echo
say "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), load average $(cut -d' ' -f1-3 /proc/loadavg), best of $runs runs"
for archive in "${archives[@]}"; do
    mapfile -t kernels < <(cd "$archive" && find . -name '*.btf.tar.xz' | sed 's|^\./||' | sort)
    [ "${#kernels[@]}" -gt 0 ] || { say "no .btf.tar.xz under $archive"; continue; }
    input_mb=$(cd "$archive" && du -cb "${kernels[@]}" | tail -1 | awk '{ printf "%.1f", $1 / 1048576 }')
    export XDG_CACHE_HOME=$work/xdg

    # package.json for the script's tarball (what ecc would have made).
    "$packer" build "$obj" --btfhub "$archive" --kernels "${kernels[0]%.btf.tar.xz}" --tar "$work/pkg.tar" --no-cache >/dev/null
    tar -xf "$work/pkg.tar" -C "$work" package.json

    xz_t=(); script_t=(); cold_t=(); warm_t=(); changed_t=()
    for _ in $(seq "$runs"); do
        xz_t+=("$(seconds xz_all)")
        script_t+=("$(seconds script_pipeline)")
        rm -rf "$XDG_CACHE_HOME"
        cold_t+=("$(seconds build "$obj")")
        warm_t+=("$(seconds build "$obj")")
        changed_t+=("$(seconds build "$changed")")
        build "$obj" >/dev/null # leave the tool of the benchmarked object
    done
    xz_p=$(min "${xz_t[@]}"); script_p=$(min "${script_t[@]}"); cold_p=$(min "${cold_t[@]}")
    xz_s=$(wall "$xz_p"); script_s=$(wall "$script_p"); cold_s=$(wall "$cold_p")
    warm_s=$(wall "$(min "${warm_t[@]}")"); changed_s=$(wall "$(min "${changed_t[@]}")")
    base_s=$(awk -v a="$xz_s" -v c="$cores" 'BEGIN { printf "%.3f", a / c }')
    payload=$(payload_len "$work/tool")
    btf_share=$("$packer" inspect "$work/tool" | sed -n 's/^  BTF share: \([0-9]*\) bytes.*/\1/p')
    targz=$(stat -c %s "$work/script.tar.gz")
    (cd "$work/script" && tar -czf "$work/whole.tar.gz" package.json btfhub-archive)
    whole=$(stat -c %s "$work/whole.tar.gz")
    btf_bytes=$(find "$work/script/btfhub-archive" -name '*.btf' -printf '%s\n' | awk '{ s += $1 } END { print s }')
    cold_r=$(ratio "$cold_s" "$base_s"); warm_r=$(ratio "$script_s" "$warm_s"); size_r=$(ratio "$btf_share" "$targz")
    cpu_r=$(ratio "$(cpu "$cold_p")" "$(cpu "$xz_p")")
    verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = (op == "le") ? (v <= t) : (v >= t); print ok ? "met" : "MISSED" }'; }

    echo
    echo "Archive $archive: ${#kernels[@]} kernels, $input_mb MiB of .btf.tar.xz; object: $(basename "$obj") ($(( btf_bytes / ${#kernels[@]} )) bytes of minimised BTF per kernel)"
    echo "| step | wall s | CPU s | ratio | target |"
    echo "|---|---:|---:|---:|---|"
    printf '| xz -dc of every input, one after another | %.2f | %.2f | | |\n' "$xz_s" "$(cpu "$xz_p")"
    printf '| baseline: that / %d cores | %.2f | | | |\n' "$cores" "$base_s"
    printf '| script: tar -xJf + bpftool gen min_core_btf per kernel, tar -czf | %.2f | %.2f | | |\n' "$script_s" "$(cpu "$script_p")"
    printf '| packer build, cold (empty cache) | %.2f | %.2f | %sx baseline (CPU %sx xz) | <= 1.10x: %s |\n' "$cold_s" "$(cpu "$cold_p")" "$cold_r" "$cpu_r" "$(verdict "$cold_r" 1.10 le)"
    printf '| packer build, warm (same object) | %.3f | | %sx faster than the script | >= 20x: %s |\n' "$warm_s" "$warm_r" "$(verdict "$warm_r" 20 ge)"
    printf '| packer build, changed object (kernel cache) | %.3f | | %sx faster than the script | |\n' "$changed_s" "$(ratio "$script_s" "$changed_s")"
    echo "| BTFs: their share of the payload (the BTF pack member, canonical order, delta form, LZMA) vs the script's tar.gz of them | $btf_share vs $targz bytes | | ${size_r}x | <= 0.50x: $(verdict "$size_r" 0.50 le) |"
    echo "| whole: payload (lz4, raw object) vs tar.gz of package.json + BTFs | $payload vs $whole bytes | | $(ratio "$payload" "$whole")x | |"
    "$packer" inspect "$work/tool" | sed -n 's/^  kernels: */kernels: /p'
done
