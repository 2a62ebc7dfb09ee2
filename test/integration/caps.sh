#!/usr/bin/env bash
# caps.sh - every answer of `diagagent caps --json` against an independent look
# at the host: /proc and /sys read here, and bpftrace itself asked to attach
# each probe kind (the ground truth for "can it attach").
. "$(dirname "$0")/../lib.sh"

capture caps diag caps --json
same "caps --json exits 0" "$rc" 0
check "caps --json prints valid JSON" jq -e . "$TMP/caps.out" >/dev/null
J="$TMP/caps.out"
q() { jq -r "$1" "$J"; }

same "kernel release is uname -r" "$(q .kernel.release)" "$(uname -r)"
same "machine is uname -m" "$(q .kernel.machine)" "$(uname -m)"
same "euid is id -u" "$(q .privileges.euid)" "$(id -u)"

if [ -r /sys/kernel/btf/vmlinux ]; then want=true; else want=false; fi
same "btf.available matches /sys/kernel/btf/vmlinux" "$(q .btf.available)" "$want"
[ "$want" = true ] && check "btf has many types" [ "$(q .btf.types)" -gt 1000 ]

tracefs=$(awk '$3 == "tracefs" { print $2; exit }' /proc/mounts)
if [ -n "$tracefs" ]; then want=true; else want=false; fi
same "tracefs.mounted matches /proc/mounts" "$(q .tracefs.mounted)" "$want"
same "tracefs.path matches /proc/mounts" "$(q '.tracefs.path // ""')" "$tracefs"
if [ -n "$tracefs" ]; then
	n=$(ls "$tracefs/events/syscalls" | grep -c '^sys_enter_')
	same "syscall tracepoint count matches tracefs" "$(q .probes.tracepoint.syscall_tracepoints)" "$n"
fi

if [ -r /sys/kernel/security/lockdown ]; then
	want=$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/security/lockdown)
else
	want=null
fi
same "lockdown matches securityfs" "$(q .lockdown)" "$want"
same "unprivileged_bpf_disabled matches sysctl" "$(q .unprivileged_bpf_disabled)" \
	"$(cat /proc/sys/kernel/unprivileged_bpf_disabled)"

if command -v bpftrace >/dev/null; then
	same "bpftrace.found" "$(q .bpftrace.found)" true
	same "bpftrace.path is the one in PATH" "$(q .bpftrace.path)" "$(command -v bpftrace)"
	want=$(bpftrace --version | sed -n 's/^bpftrace v\([0-9]*\.[0-9]*\.[0-9]*\).*/\1/p')
	same "bpftrace.version matches bpftrace --version" "$(q .bpftrace.version)" "$want"
else
	same "bpftrace.found" "$(q .bpftrace.found)" false
fi

for k in tracepoint kprobe kretprobe uprobe uretprobe usdt kfunc; do
	check "probes.$k.available is a boolean" jq -e ".probes.$k.available | type == \"boolean\"" "$J" >/dev/null
done

# Ground truth: bpftrace attaches a probe of each kind, or cannot.
libc=$(ldd /bin/true | awk '/libc\.so/ { print $3; exit }')
attaches() { # attaches PROBE: 0 when bpftrace attached it and ran
	timeout 30 bpftrace -e "$1 { @ = count(); } interval:ms:200 { exit(); }" >/dev/null 2>&1
}
if [ "$(id -u)" -ne 0 ]; then
	skip "probe kinds against bpftrace" "not root"
elif ! command -v bpftrace >/dev/null; then
	skip "probe kinds against bpftrace" "bpftrace not installed"
else
	for pair in "tracepoint=tracepoint:syscalls:sys_enter_getpid" "kprobe=kprobe:vfs_read" \
		    "kretprobe=kretprobe:vfs_read" "uprobe=uprobe:$libc:getpid" \
		    "uretprobe=uretprobe:$libc:getpid" "kfunc=kfunc:vfs_read"; do
		kind=${pair%%=*} probe=${pair#*=}
		if attaches "$probe"; then want=true; else want=false; fi
		same "probes.$kind.available agrees with bpftrace attaching $probe" "$(q .probes.$kind.available)" "$want"
	done
	same "usdt follows uprobe" "$(q .probes.usdt.available)" "$(q .probes.uprobe.available)"
fi

# Not root: nothing is claimed that could not be proven.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	cp "$DIAG" "$TMP/diagagent" && chmod 755 "$TMP/diagagent"
	capture nobody setpriv --reuid=65534 --regid=65534 --clear-groups $WRAP "$TMP/diagagent" caps --json
	same "caps as nobody exits 0" "$rc" 0
	J="$TMP/nobody.out"
	same "as nobody: euid 65534" "$(q .privileges.euid)" 65534
	same "as nobody: CAP_BPF false" "$(q .privileges.cap_bpf)" false
	same "as nobody: tracepoint not claimed" "$(q .probes.tracepoint.available)" false
	same "as nobody: uprobe unknown, not no" "$(q .probes.uprobe.state)" unknown
	same "as nobody: prog type probes unknown" "$(q .bpf.prog_types.tracepoint.state)" unknown
	check "as nobody: the hint says to run as root" grep -q 'run as root' <(q .probes.uprobe.hint)
	J="$TMP/caps.out"
fi

# bpftrace missing, or another version: found by PATH, never assumed.
capture nobt env PATH=/nonexistent $WRAP "$DIAG" caps --json
same "no bpftrace in PATH: found false" "$(jq -r .bpftrace.found "$TMP/nobt.out")" false
check "no bpftrace in PATH: the error has a hint" grep -q 'apt-get install bpftrace' <(jq -r .bpftrace.error "$TMP/nobt.out")
capture nobth env PATH=/nonexistent $WRAP "$DIAG" caps
check "no bpftrace: the table says so" grep -q '^  bpftrace *no' "$TMP/nobth.out"

mkdir -p "$TMP/fakebin"
printf '#!/bin/sh\ncase "$1" in --version) echo "bpftrace v0.26.1-12-gabcdef";; --info) printf "Build\\n  LLVM: 18.1.0\\nProbe types\\n  kprobe: no\\n";; esac\n' >"$TMP/fakebin/bpftrace"
chmod +x "$TMP/fakebin/bpftrace"
capture fake env PATH="$TMP/fakebin:$PATH" $WRAP "$DIAG" caps --json
same "a newer bpftrace's version is read" "$(jq -r .bpftrace.version "$TMP/fake.out")" 0.26.1
same "its --info highlights are kept" "$(jq -r .bpftrace.info.LLVM "$TMP/fake.out")" 18.1.0
same "its --info booleans are booleans" "$(jq -r .bpftrace.info.kprobe "$TMP/fake.out")" false
