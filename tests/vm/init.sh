#!/bin/busybox sh
# /init of a VM test guest (see tests/vm/main.rs). Runs as PID 1 from a
# busybox-only initramfs: no C library, no other programs. /etc/vmtest.conf
# names the tools:
#   TOOL   packed with this kernel's BTF (and others)
#   OTHER  packed without this kernel's BTF
# Every result line starts with "VMTEST " so the host can pick them out of
# the serial console. The guest powers off at the end, whatever happened.

/bin/busybox mkdir -p /bin /proc /sys /dev /tmp
/bin/busybox --install -s /bin
export PATH=/bin

say() { echo "VMTEST $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

. /etc/vmtest.conf

say BOOT release=$(uname -r) machine=$(uname -m) \
    os=$(. /etc/os-release && echo "$ID/$VERSION_ID")
if [ -e /lib ] || [ -e /lib64 ] || [ -e /usr ]; then
    say LIBC present: $(ls -d /lib* /usr 2>/dev/null)
else
    say LIBC none
fi

# Prints the tool's output files, prefixed, one line per VMTEST line.
dump() { # NAME
    while IFS= read -r line; do say STDERR "$1" "$line"; done <"/tmp/$1.err"
    while IFS= read -r line; do say EVENT "$1" "$line"; done <"/tmp/$1.out"
}

# The trigger: a shell (not a child of PID 1, so its parent is not 1) that
# prints its own $$ and $PPID and execs /bin/true.
cat >/tmp/trigger.sh <<'EOF'
echo "pid=$$ ppid=$PPID comm=true"
exec /bin/true
EOF

# Starts the tool, waits until it has attached, then runs the trigger. The
# exec event of that pid for /bin/true must carry exactly the printed pid and
# ppid, uid 0 and comm "true". Up to 5 tries (the guard is against a lost
# trigger, not a timing assertion).
exec_check() { # NAME
    name=$1
    "$TOOL" --json -v >"/tmp/$name.out" 2>"/tmp/$name.err" &
    tool=$!
    n=0
    while ! grep -q 'attached' "/tmp/$name.err"; do
        kill -0 "$tool" 2>/dev/null || break
        n=$((n + 1))
        [ "$n" -gt 1200 ] && break
        sleep 0.1
    done
    result=FAIL
    for try in 1 2 3 4 5; do
        kill -0 "$tool" 2>/dev/null || break
        sh -c 'sh /tmp/trigger.sh; :' >/tmp/trigger
        read -r trigger </tmp/trigger
        say TRIGGER "$name" "$trigger"
        pid=${trigger#pid=}; pid=${pid%% *}
        ppid=${trigger#* ppid=}; ppid=${ppid%% *}
        want="{\"pid\":$pid,\"ppid\":$ppid,\"uid\":0,\"comm\":\"true\",\"filename\":\"/bin/true\"}"
        n=0
        ev=
        while [ "$n" -lt 100 ]; do
            ev=$(grep "^{\"pid\":$pid," "/tmp/$name.out" | grep '"filename":"/bin/true"' | tail -n 1)
            [ -n "$ev" ] && break
            n=$((n + 1))
            sleep 0.1
        done
        if [ -n "$ev" ]; then
            if [ "$ev" = "$want" ]; then result=PASS; else say MISMATCH "$name" "want $want"; fi
            break
        fi
    done
    kill -INT "$tool" 2>/dev/null
    wait "$tool"
    say TOOLEXIT "$name" $?
    dump "$name"
    say RESULT "$name" "$result"
}

# 1. /sys/kernel/btf hidden: the tool must use the BTF it carries for this
#    kernel, and read the right values with it.
mount -t tmpfs none /sys/kernel/btf
"$TOOL" --check >/tmp/check-hidden.out 2>&1
say CHECKEXIT hidden $?
while IFS= read -r line; do say CHECK hidden "$line"; done </tmp/check-hidden.out
exec_check hidden

# 2. A tool without this kernel's BTF: the not-covered error, exit 3.
"$OTHER" --json >/tmp/other.out 2>/tmp/other.err
say OTHEREXIT $?
while IFS= read -r line; do say OTHER "$line"; done </tmp/other.err

# 3. Native BTF visible: the tool must use it.
umount /sys/kernel/btf
"$TOOL" --check >/tmp/check-native.out 2>&1
say CHECKEXIT native $?
while IFS= read -r line; do say CHECK native "$line"; done </tmp/check-native.out
exec_check native

say DONE
poweroff -f
