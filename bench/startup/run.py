#!/usr/bin/env python3
"""Time "exec -> attached" of a packed tool and of the C libbpf loaders.

Run by bench/startup/run.sh inside a mount namespace where /sys/kernel/btf
is an empty tmpfs. The loaders: the packed tool (launcher, libbpf vendored
by libbpf-sys, static), c_loader built against that same vendored libbpf
(static, libbpf-bootstrap style) and c_loader built against the system's
shared libbpf (another libbpf version); either C loader may be absent, as
run.sh decides. Each run starts one process, reads its stderr until a line
containing "attached" (the launcher prints "<obj>: N program(s) attached;
...", c_loader prints "attached"), records the elapsed time, then sends
SIGINT and waits for exit status 0. Every round runs each loader once, the
rounds cycling through all orders of the loaders (for two: A B, B A), so
each one goes first, last, and after each other one equally often and the
noise of a shared machine is spread evenly.

The target ratio is the launcher's median over that of the C loader with
the same libbpf (vendored): libbpf versions differ in the work they do at
load (1.7 probes more kernel features than 1.1), which is not the
launcher's doing. The ratio to the system-libbpf loader is printed for
information. Without the vendored loader, the target is judged against the
system one, and the output says so.
"""

import argparse
import itertools
import os
import select
import signal
import statistics
import subprocess
import sys
import time

MARKER = b"attached"
NATIVE_BTF = "/sys/kernel/btf/vmlinux"
WARMUP_RUNS = 2
TIMEOUT_S = 30.0
RATIO_TARGET = 1.10
STUB_TARGET_BYTES = 3_000_000


class RunError(Exception):
    """A loader did not reach "attached" or did not exit cleanly."""


def read_until(fd, deadline, stop_at_marker):
    """Read fd until EOF, or until a complete line with MARKER when
    stop_at_marker; returns (all bytes read, marker seen)."""
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return data, False
        data += chunk
        if stop_at_marker:
            complete = data[: data.rfind(b"\n") + 1]
            if MARKER in complete:
                return data, True


def one_run(argv):
    """Start argv; return (ns until the "attached" line, CPU seconds of the
    whole process, stderr text)."""
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    fd = proc.stderr.fileno()
    try:
        head, seen = read_until(fd, time.monotonic() + TIMEOUT_S, True)
        elapsed = time.perf_counter_ns() - t0
        if seen:
            proc.send_signal(signal.SIGINT)
        else:
            proc.kill()
        # Drain so the process never blocks or fails writing to a full pipe.
        tail, _ = read_until(fd, time.monotonic() + TIMEOUT_S, False)
    except BaseException:
        proc.kill()
        raise
    finally:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stderr.close()
    text = (head + tail).decode(errors="replace")
    if not seen:
        raise RunError(f"{argv[0]} never printed a line with 'attached':\n{text}")
    if proc.returncode != 0:
        raise RunError(f"{argv[0]} exited with {proc.returncode} after SIGINT:\n{text}")
    return elapsed, usage.ru_utime + usage.ru_stime, text


def stats_ms(samples_ns):
    """(median, p10, p90) in milliseconds."""
    ms = [s / 1e6 for s in samples_ns]
    deciles = statistics.quantiles(ms, n=10, method="inclusive")
    return statistics.median(ms), deciles[0], deciles[-1]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tool", required=True, help="packed tool (launcher + payload)")
    p.add_argument("--c-vendored", help="c_loader linked against the launcher's (vendored) libbpf")
    p.add_argument("--c-vendored-libbpf", default="?",
                   help="libbpf version of --c-vendored and of the launcher (MAJOR.MINOR)")
    p.add_argument("--c-vendored-link", default="static",
                   help="how --c-vendored is linked, for the table")
    p.add_argument("--c-vendored-missing",
                   help="why there is no --c-vendored (printed with the results)")
    p.add_argument("--c-system", help="c_loader linked against the system libbpf")
    p.add_argument("--c-system-libbpf", default="?", help="libbpf version of --c-system")
    p.add_argument("--object", required=True, help="the BPF object packed in --tool")
    p.add_argument("--btf", required=True, help="minimised BTF file for the C loaders")
    p.add_argument("--stub", required=True, help="stripped launcher to measure")
    p.add_argument("--launcher", required=True, help="launcher as built")
    p.add_argument("--runs", type=int, default=25, help="measured runs per loader")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return p.parse_args()


def main():
    args = parse_args()
    if args.runs < 2:
        sys.exit("bench/startup: --runs must be at least 2")
    if not args.c_vendored and not args.c_system:
        sys.exit("bench/startup: no C loader to compare with (--c-vendored, --c-system)")
    if os.path.exists(NATIVE_BTF):
        sys.exit(f"bench/startup: {NATIVE_BTF} is visible; run through bench/startup/run.sh "
                 "(it hides /sys/kernel/btf in a private mount namespace)")
    vendored = f"libbpf {args.c_vendored_libbpf} vendored by libbpf-sys"
    system = f"system libbpf {args.c_system_libbpf}"
    tool = f"packed tool (launcher, {vendored}, static; embedded BTF via memfd)"
    loaders = {tool: [args.tool]}
    c_vendored = c_system = None
    if args.c_vendored:
        c_vendored = (f"C loader ({vendored} = the launcher's, {args.c_vendored_link}; "
                      "btf_custom_path file)")
        loaders[c_vendored] = [args.c_vendored, args.object, args.btf]
    if args.c_system:
        c_system = f"C loader ({system}, shared; btf_custom_path file)"
        loaders[c_system] = [args.c_system, args.object, args.btf]
    names = list(loaders)

    # The packed tool must really use its embedded BTF.
    _, _, text = one_run([args.tool, "-v"])
    if "using BTF: embedded" not in text:
        sys.exit(f"bench/startup: the packed tool did not use its embedded BTF:\n{text}")
    for _ in range(WARMUP_RUNS):
        for name in names:
            one_run(loaders[name])

    orders = list(itertools.permutations(names))
    times = {name: [] for name in names}
    cpu = {name: [] for name in names}
    for i in range(args.runs):
        for name in orders[i % len(orders)]:
            elapsed, cpu_s, _ = one_run(loaders[name])
            times[name].append(elapsed)
            cpu[name].append(cpu_s)

    print()
    print(f"exec -> attached, execsnoop, /sys/kernel/btf hidden, {args.runs} runs each "
          f"(order cycled), {os.cpu_count()} CPUs")
    if args.c_vendored_missing:
        print(f"NOTE: no C loader with the launcher's libbpf: {args.c_vendored_missing}")
    print("| loader | median ms | p10 ms | p90 ms | CPU ms (median, whole run) |")
    print("|---|---:|---:|---:|---:|")
    medians = {}
    for name in names:
        med, p10, p90 = stats_ms(times[name])
        medians[name] = med
        print(f"| {name} | {med:.2f} | {p10:.2f} | {p90:.2f} | "
              f"{statistics.median(cpu[name]) * 1e3:.2f} |")

    # The target is against the same libbpf; the system one only stands in
    # when there is no vendored build.
    baseline = c_vendored or c_system
    ratio = medians[tool] / medians[baseline]
    ratio_ok = ratio <= RATIO_TARGET
    if c_vendored:
        print(f"| ratio of medians launcher / C, same libbpf {args.c_vendored_libbpf} "
              f"[target] | {medians[tool] / medians[c_vendored]:.2f}x | | | |")
    if c_system:
        note = "target, FALLBACK" if baseline == c_system else "information"
        print(f"| ratio of medians launcher / C, {system} [{note}] "
              f"| {medians[tool] / medians[c_system]:.2f}x | | | |")
    if c_vendored and c_system:
        print(f"| ratio of medians C libbpf {args.c_vendored_libbpf} / C {system} "
              "[information: libbpf version and linking] "
              f"| {medians[c_vendored] / medians[c_system]:.2f}x | | | |")

    stub = os.stat(args.stub).st_size
    built = os.stat(args.launcher).st_size
    stub_ok = stub <= STUB_TARGET_BYTES
    print(f"launcher stub, stripped: {stub} bytes ({stub / 1e6:.2f} MB; as built {built} bytes)")
    if baseline == c_vendored:
        against = f"the C loader with the same libbpf ({args.c_vendored_libbpf})"
    else:
        against = (f"the C loader with the {system} (FALLBACK: not the "
                   "launcher's libbpf, see NOTE above)")
    print(f"target startup <= {RATIO_TARGET:.2f}x {against}: "
          f"{'met' if ratio_ok else 'NOT met'} ({ratio:.2f}x)")
    print(f"target stub <= {STUB_TARGET_BYTES / 1e6:.0f} MB: "
          f"{'met' if stub_ok else 'NOT met'} ({stub / 1e6:.2f} MB)")
    if args.strict and not (ratio_ok and stub_ok):
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except RunError as e:
        sys.exit(f"bench/startup: {e}")
