# common.sh - sourced by every fake bpftrace here. A fake is run as
# `bpftrace -f json PROGRAM PID` (PID: its own), or with --version / --info.
#
# What the fakes print follows bpftrace 0.17's `-f json` output and the layout
# of the program diagagent generates for the spec
#   sys_read (arg3 > 1024) "read %d bytes", arg3
# whose events are print((nsecs, cpu, pid, tid, uid, comm, 0, args->count)),
# with BEGIN { print(("attached", nsecs)); } once the probes are attached, and
# the maps @__hits[probe] and @__procs[pid, comm] printed at exit.
#
# FAKEBT_LOG=FILE (from the test, through diagagent's environment): the fake
# writes its argv, pid and bpftrace environment to FILE and copies the
# program to FILE.prog.
case "${1:-}" in
--version)
	echo "bpftrace v0.17.0"
	exit 0
	;;
--info)
	printf 'System\n  OS: Linux\n  Kernel: 6.1\nBuild\n  version: v0.17.0\n  LLVM: 14.0.6\n'
	exit 0
	;;
esac

if [ -n "${FAKEBT_LOG:-}" ]; then
	{
		echo "pid=$$"
		echo "argc=$#"
		i=1
		for a in "$@"; do echo "arg$i=$a"; i=$((i + 1)); done
		echo "BPFTRACE_STRLEN=${BPFTRACE_STRLEN:-}"
		echo "BPFTRACE_MAX_STRLEN=${BPFTRACE_MAX_STRLEN:-}"
		echo "BPFTRACE_PERF_RB_PAGES=${BPFTRACE_PERF_RB_PAGES:-}"
		echo "DEBUGINFOD_URLS=${DEBUGINFOD_URLS-(unset)}"
	} >"$FAKEBT_LOG"
	[ -n "${3:-}" ] && [ -f "$3" ] && cp "$3" "$FAKEBT_LOG.prog"
fi

# What the real one always says first, here (harmless noise).
echo 'ERROR: Unknown error -1: couldn'"'"'t set RLIMIT_MEMLOCK for bpftrace. If your program is not loading, you can try "ulimit -l 8192" to fix the problem' >&2

# A CLOCK_MONOTONIC-like nsecs (from /proc/uptime, 10 ms resolution).
T0=$(($(cut -d' ' -f1 /proc/uptime | tr -d .) * 10000000))

attached() {
	echo '{"type": "attached_probes", "data": {"probes": 2}}'
	echo "{\"type\": \"value\", \"data\": [\"attached\",$T0]}"
}

# ev US PID TID COMM COUNT: an event US microseconds after T0, on CPU 1, uid 1000.
# COMM is written as is (bpftrace's \uffffffXX escapes included).
ev() {
	printf '{"type": "value", "data": [%d,1,%d,%d,1000,"%s",0,%d]}\n' $((T0 + $1 * 1000)) "$2" "$3" "$4" "$5"
}

# maps HITS PROCS_JSON: the exit-time map dump (after bpftrace's two blank lines).
maps() {
	printf '\n\n{"type": "map", "data": {"@__hits": {"0": %d}}}\n' "$1"
	printf '{"type": "map", "data": {"@__procs": %s}}\n' "$2"
}
