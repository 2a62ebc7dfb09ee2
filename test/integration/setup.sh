#!/usr/bin/env bash
# setup.sh - scripts/setup-host mounts tracefs when it is missing, is idempotent,
# and explains itself when it cannot. Runs in a private mount namespace so the
# host's own mounts are never touched.
. "$(dirname "$0")/../lib.sh"
S="$ROOT/scripts/setup-host"

capture twice bash -c "'$S' && '$S'"
same "setup-host twice exits 0" "$rc" 0
capture again "$S"
same "setup-host is quiet when all is mounted" "$(cat "$TMP/again.out" "$TMP/again.err")" ""

if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
	skip "setup-host in a private mount namespace" "needs root and unshare"
	exit 0
fi

# In a namespace of our own: take tracefs away, and see setup-host bring it back.
capture ns unshare -m --propagation private bash -c "
	while t=\$(awk '\$3 == \"tracefs\" { print \$2; exit }' /proc/mounts); [ -n \"\$t\" ]; do umount \"\$t\" || exit 9; done
	'$S' || exit 8
	awk '\$3 == \"tracefs\" { print \$2; exit }' /proc/mounts"
same "in a namespace without tracefs, setup-host exits 0" "$rc" 0
check "it says what it mounted" grep -q 'mounted tracefs on /sys/kernel/tracing' "$TMP/ns.out"
same "tracefs is mounted again afterwards" "$(tail -n1 "$TMP/ns.out")" /sys/kernel/tracing
capture host_after awk '$3 == "tracefs" { print $2; exit }' /proc/mounts
check "the host's own tracefs was never unmounted" [ -n "$(cat "$TMP/host_after.out")" ]

# Without root it cannot mount: a clear reason and the command to run.
capture nr unshare -m --propagation private bash -c "
	while t=\$(awk '\$3 == \"tracefs\" { print \$2; exit }' /proc/mounts); [ -n \"\$t\" ]; do umount \"\$t\" || exit 9; done
	setpriv --reuid=65534 --regid=65534 --clear-groups '$S'"
same "not root and tracefs missing: exit 1" "$rc" 1
check "not root: explains and gives the command" \
	grep -q 'needs root;.*mount -t tracefs nodev /sys/kernel/tracing' "$TMP/nr.err"

# And caps sees the missing tracefs and says how to fix it.
capture capsns unshare -m --propagation private bash -c "
	while t=\$(awk '\$3 == \"tracefs\" { print \$2; exit }' /proc/mounts); [ -n \"\$t\" ]; do umount \"\$t\" || exit 9; done
	while t=\$(awk '\$3 == \"debugfs\" { print \$2; exit }' /proc/mounts); [ -n \"\$t\" ]; do umount \"\$t\" || exit 9; done
	$WRAP '$DIAG' caps --json"
same "caps without tracefs exits 0" "$rc" 0
same "caps without tracefs: mounted false" "$(jq -r .tracefs.mounted "$TMP/capsns.out")" false
same "caps without tracefs: tracepoints not available" "$(jq -r .probes.tracepoint.available "$TMP/capsns.out")" false
check "caps without tracefs: hint names the mount command" grep -q 'mount -t tracefs' <(jq -r .tracefs.hint "$TMP/capsns.out")
