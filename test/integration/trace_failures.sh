#!/usr/bin/env bash
# trace_failures.sh - `diagagent trace` when bpftrace misbehaves: fake
# bpftraces (test/data/fakebpftrace/, run through DIAGAGENT_BPFTRACE) that fail
# to compile, fail to attach, hang ignoring SIGINT, crash, never stop
# printing, print garbage, or leave a child holding the pipe; and a real
# bpftrace that cannot attach. For each: the exit code, the status and error,
# what survives, and that nothing of the fake is left running afterwards.
. "$(dirname "$0")/../lib.sh"
# Time limits stretch under a wrapper such as valgrind, which slows diagagent ~10x.
SLOW=1
[ -n "$WRAP" ] && SLOW=10

SPEC='sys_read (arg3 > 1024) "read %d bytes", arg3'
if ! "$DIAG" trace --help >/dev/null 2>&1; then
	nok "diagagent trace --help exits 0"
	exit 1
fi

# The fakes are copied under a unique name: every process of theirs (their
# children are exec'd with `exec -a "$0 ..."`) has it in its command line.
MARK="fakebt-$$-$RANDOM"
FAKE="$TMP/$MARK"
cp -r "$ROOT/test/data/fakebpftrace" "$FAKE"
chmod 755 "$FAKE"/*.sh

# ---- helpers -------------------------------------------------------------------

alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# fake_trace TAG FAKE LIMIT ARGS...: run `diagagent trace ARGS` with the fake
# as bpftrace, as a job of its own (SIGINT not ignored, as from a shell), and
# wait at most LIMIT seconds (then SIGKILL: a failure). Sets $rc, $ms (wall
# time) and $hwm (peak RSS in kB, sampled). Output in $TMP/TAG.out/.err.
fake_trace() {
	local tag=$1 fake=$2 lim=$3 t0 i pid h
	shift 3
	t0=$(date +%s%N)
	hwm=0
	set -m
	DIAGAGENT_BPFTRACE="$FAKE/$fake" $WRAP "$DIAG" trace "$@" >"$TMP/$tag.out" 2>"$TMP/$tag.err" &
	pid=$!
	set +m
	for ((i = 0; i < lim * 20; i++)); do
		alive "$pid" || break
		h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
		sleep 0.05
	done
	if alive "$pid"; then
		nok "$tag: diagagent trace ended within $lim s"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	J="$TMP/$tag.out"
}

q() { jq -r "$1" "$J" 2>/dev/null; }
qsame() { same "$1" "$(q "$2")" "$3"; }

# nothing_left TAG: no process of the fakes runs any more (SIGKILLed here if
# one does, so later cases start clean), and the test shell has no zombie.
nothing_left() {
	local left z
	sleep 0.2
	left=$(pgrep -f -- "$MARK" | tr '\n' ' ')
	same "$1: no process of the fake is left running" "${left:-none}" none
	[ -n "$left" ] && kill -KILL $left 2>/dev/null
	z=$(ps -o pid=,stat= --ppid $$ | awk '$2 ~ /^Z/ { printf "%s ", $1 }')
	same "$1: no zombie child of the test shell" "${z:-none}" none
}

# jtrue JQ FILE: jq -se JQ on FILE is true (nothing printed)
jtrue() { jq -se "$1" "$2" >/dev/null 2>&1; }
one_json() { check "$1: stdout is exactly one JSON object" jtrue 'length == 1 and (.[0] | type) == "object"' "$J"; }

# failed TAG PATTERN: a failed result whose one-line error matches PATTERN
# (grep -E) and carries none of bpftrace's RLIMIT_MEMLOCK noise.
failed() {
	same "$1: exit 1" "$rc" 1
	one_json "$1"
	qsame "$1: status" .status failed
	qsame "$1: success" .success false
	local e
	e=$(q '.error // ""')
	check "$1: the error ($e) says why" grep -qE "$2" <<<"$e"
	check "$1: the error has no RLIMIT_MEMLOCK noise" test -z "$(grep -i memlock <<<"$e")"
	same "$1: the error is one line" "$(q '.error // "" | split("\n") | length')" 1
}

# ---- a well-behaved fake: every field exact --------------------------------------

export FAKEBT_LOG="$TMP/good.log"
DEBUGINFOD_URLS=https://debuginfod.invalid fake_trace good good.sh 20 -Z 100 -b 4 -d 5 --json --raw-out "$TMP/good.raw" "$SPEC"
unset FAKEBT_LOG
same "good: exit 0" "$rc" 0
one_json good
qsame "good: status" .status completed
qsame "good: success" .success true
qsame "good: event_count" .event_count 4
qsame "good: events[0] pid/tid/uid/cpu" '.events[0] | "\(.pid) \(.tid) \(.uid) \(.cpu)"' "4242 4243 1000 1"
qsame "good: events[0] process_name" '.events[0].process_name' fakeproc
qsame "good: events[0] function" '.events[0].function' sys_read
qsame "good: events[0] message" '.events[0].message' "read 4096 bytes"
qsame "good: events[0] raw_args.arg3" '.events[0].raw_args.arg3' 4096
qsame "good: the messages" '[.events[].message] | join("|")' "read 4096 bytes|read 8192 bytes|read 2048 bytes|read 1500 bytes"
qsame "good: a comm that is not UTF-8 has U+FFFD" '.events[2].process_name' "bad�"
qsame "good: ... and its bytes in b64.process_name" '.events[2].b64.process_name' "$(printf 'bad\xff' | base64)"
qsame "good: a UTF-8 comm written as bpftrace's byte escapes is text" '.events[3].process_name' "café"
qsame "good: ... with no b64" '.events[3] | has("b64")' false
qsame "good: no retval or latency on an entry probe" '[.events[] | select(has("retval") or has("latency_ns"))] | length' 0
ts=($(grep -oE '"timestamp": *[0-9]+' "$J" | grep -oE '[0-9]+$'))
same "good: the timestamps are 10 us apart, to the ns" \
	"$((ts[1] - ts[0])) $((ts[2] - ts[1])) $((ts[3] - ts[2]))" "10000 10000 10000"
now=$(date +%s%N)
d=$((now - ${ts[0]:-0}))
check "good: the timestamps are wall-clock time (within 60 s of now)" test "${d#-}" -lt 60000000000
qsame "good: total_events from @__hits" .statistics.total_events 11
qsame "good: streamed_events" .statistics.streamed_events 4
qsame "good: lost_events from the lost record" .statistics.lost_events 7
qsame "good: capped" .statistics.capped false
qsame "good: malformed_lines" .statistics.malformed_lines 0
qsame "good: top_processes from @__procs" \
	'[.statistics.top_processes[] | "\(.process_name):\(.pid):\(.event_count)"] | join(" ")' "fakeproc:4242:8 other:5151:3"
qsame "good: probes[0]" '.statistics.probes[0] | "\(.function) \(.total_events) \(.streamed_events)"' "sys_read 11 4"
L="$TMP/good.log"
check "good: the fake ran and logged its argv" test -s "$L"
same "good: bpftrace ran as -f json PROGRAM PID" "$(sed -n 's/^arg[12]=//p' "$L" | tr '\n' ' ')" "-f json "
same "good: PID is bpftrace's own" "$(sed -n 's/^arg4=//p' "$L")" "$(sed -n 's/^pid=//p' "$L")"
same "good: -Z 100 gives BPFTRACE_STRLEN=100 to 0.17" "$(sed -n 's/^BPFTRACE_STRLEN=//p' "$L")" 100
same "good: -b 4 gives BPFTRACE_PERF_RB_PAGES=4" "$(sed -n 's/^BPFTRACE_PERF_RB_PAGES=//p' "$L")" 4
same "good: bpftrace gets an empty DEBUGINFOD_URLS (no debug info downloads)" "$(sed -n 's/^DEBUGINFOD_URLS=//p' "$L")" ""
check "good: the result's program is the program bpftrace ran" cmp -s <(jq -j .program "$J") "$TMP/good.log.prog"
check "good: --raw-out kept bpftrace's output" grep -q '"attached"' "$TMP/good.raw"
nothing_left good

# --replay: the saved output gives the same events and statistics again.
cp "$J" "$TMP/good.json"
capture replay $WRAP "$DIAG" trace --replay "$TMP/good.raw" --json "$SPEC"
same "replay: exit 0" "$rc" 0
J="$TMP/replay.out"
one_json replay
same "replay: the same events (timestamps aside)" \
	"$(jq -c '[.events[] | del(.timestamp, .time)]' "$TMP/replay.out")" \
	"$(jq -c '[.events[] | del(.timestamp, .time)]' "$TMP/good.json")"
same "replay: the same statistics counts" \
	"$(jq -c '.statistics | [.total_events, .streamed_events, .lost_events, .top_processes]' "$TMP/replay.out")" \
	"$(jq -c '.statistics | [.total_events, .streamed_events, .lost_events, .top_processes]' "$TMP/good.json")"

# --jsonl: one event per line as they come, then the statistics line.
fake_trace goodl good.sh 20 -d 5 --jsonl "$SPEC"
same "jsonl: exit 0" "$rc" 0
same "jsonl: 4 event lines and 1 statistics line" "$(wc -l <"$J")" 5
same "jsonl: the event lines" "$(head -n 4 "$J" | jq -r .message | tr '\n' '|')" "read 4096 bytes|read 8192 bytes|read 2048 bytes|read 1500 bytes|"
same "jsonl: the last line" "$(tail -n 1 "$J" | jq -c '.statistics | [.total_events, .streamed_events, .lost_events]')" "[11,4,7]"
nothing_left goodl

# ---- failures ---------------------------------------------------------------------

fake_trace fail fail.sh 20 -d 5 --json "$SPEC"
failed fail '^bpftrace exited with code 1 before attaching: stdin:7:2-10: ERROR: Unknown function: fakebt_nosuchfn$'
qsame "fail: no events" .event_count 0
check "fail: ended at once (${ms} ms)" test "$ms" -lt $((5000 * SLOW))
nothing_left fail

# Exit 0 before attaching: nothing was traced, so no "completed" with 0 events.
fake_trace quiet quiet.sh 20 -d 5 --json "$SPEC"
failed quiet '^bpftrace exited with code 0 before attaching$'
nothing_left quiet

fake_trace attachfail attachfail.sh 20 -d 5 --json "$SPEC"
failed attachfail '^bpftrace exited with code 255 \(probes could not attach\): ERROR: Error attaching probe'
check "attachfail: ended at once (${ms} ms)" test "$ms" -lt $((5000 * SLOW))
nothing_left attachfail

# Ignores SIGINT and SIGTERM: ended at the deadline (-d 1) by SIGINT, then
# SIGKILL to its group after the grace (kill_grace, 5 s): well within 15 s.
fake_trace hang hang.sh 30 -d 1 --json "$SPEC"
check "hang: ended by the deadline plus the grace (${ms} ms)" test "$ms" -lt $((15000 * SLOW))
check "hang: exit 0 or 1 (got $rc)" test "$rc" -eq 0 -o "$rc" -eq 1
one_json hang
# A bpftrace killed after the grace is the protocol's "timeout" (exit 1).
if [ "$rc" -eq 0 ]; then want=completed; else want=timeout; fi
qsame "hang: status matches the exit code" .status "$want"
qsame "hang: the two events printed before survive" .event_count 2
if [ "$rc" -eq 1 ]; then
	check "hang: the error ($(q .error)) says bpftrace did not stop and was killed" \
		grep -qE 'did not stop|killed|SIGKILL' <<<"$(q .error)"
fi
echo "# hang: exit $rc, status $(q .status), error: $(q '.error // "-"'), $ms ms"
nothing_left hang

fake_trace segv segv.sh 20 -d 5 --json "$SPEC"
failed segv 'SIGSEGV|[Ss]egmentation|signal 11'
qsame "segv: the two events printed before the crash survive" .event_count 2
nothing_left segv

# Endless valid events: -M 100 holds in user space too (the fake ignores the
# in-kernel cap); the deadline ends it; memory stays bounded.
fake_trace endless endless.sh 30 -d 1 -M 100 --json "$SPEC"
same "endless: exit 0" "$rc" 0
one_json endless
qsame "endless: status" .status completed
check "endless: ended by the deadline (${ms} ms)" test "$ms" -lt $((10000 * SLOW))
qsame "endless: at most 100 events kept" '.event_count <= 100 and (.events | length) <= 100' true
qsame "endless: capped" .statistics.capped true
qsame "endless: total_events from @__hits" .statistics.total_events 123456789
if [ -z "$WRAP" ]; then
	check "endless: peak RSS bounded (${hwm} kB < 200 MB)" test "$hwm" -lt 204800
fi
nothing_left endless

# One endless line with no newline: dropped as malformed, memory bounded.
fake_trace longline longline.sh 30 -d 1 --json "$SPEC"
same "longline: exit 0" "$rc" 0
one_json longline
qsame "longline: status" .status completed
check "longline: ended by the deadline (${ms} ms)" test "$ms" -lt $((10000 * SLOW))
qsame "longline: the event before it survives" .event_count 1
qsame "longline: the endless line is malformed" '.statistics.malformed_lines >= 1' true
if [ -z "$WRAP" ]; then
	check "longline: peak RSS bounded (${hwm} kB < 200 MB)" test "$hwm" -lt 204800
fi
nothing_left longline

fake_trace garbage garbage.sh 20 -d 5 --json "$SPEC"
same "garbage: exit 0" "$rc" 0
one_json garbage
qsame "garbage: status" .status completed
qsame "garbage: the five good events survive" .event_count 5
qsame "garbage: every message" '[.events[] | select(.message == "read 4096 bytes")] | length' 5
qsame "garbage: malformed_lines counts the four bad lines" .statistics.malformed_lines 4
qsame "garbage: total_events" .statistics.total_events 5
nothing_left garbage

# bpftrace exits 0 but a child of it keeps the pipe open (and ignores SIGINT):
# the trace still ends, by the deadline at the latest, and the child is killed.
fake_trace linger linger.sh 30 -d 1 --json "$SPEC"
same "linger: exit 0" "$rc" 0
one_json linger
qsame "linger: status" .status completed
check "linger: ended by the deadline plus the grace (${ms} ms)" test "$ms" -lt $((15000 * SLOW))
qsame "linger: its event" .event_count 1
qsame "linger: total_events" .statistics.total_events 1
nothing_left linger

# ---- the host cannot do it; bad usage -----------------------------------------------

capture nobt env DIAGAGENT_BPFTRACE="$TMP/no/such/bpftrace" $WRAP "$DIAG" trace -d 1 --json "$SPEC"
same "a missing DIAGAGENT_BPFTRACE: exit 3" "$rc" 3
capture nopath env -u DIAGAGENT_BPFTRACE PATH=/nonexistent $WRAP "$DIAG" trace -d 1 --json "$SPEC"
same "no bpftrace in PATH: exit 3" "$rc" 3
check "no bpftrace in PATH: says so" grep -qi bpftrace "$TMP/nopath.err"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	cp "$DIAG" "$TMP/diagagent" && chmod 755 "$TMP/diagagent"
	capture nobody setpriv --reuid=65534 --regid=65534 --clear-groups $WRAP "$TMP/diagagent" trace -d 1 --json "$SPEC"
	same "as nobody: exit 3" "$rc" 3
	check "as nobody: the hint says to run as root" grep -qi root "$TMP/nobody.err" "$TMP/nobody.out"
fi
capture badspec $WRAP "$DIAG" trace -d 1 --json 'sys_read ('
same "a bad spec: exit 2" "$rc" 2
capture nospec $WRAP "$DIAG" trace -d 1 --json
same "no spec: exit 2" "$rc" 2
capture badb $WRAP "$DIAG" trace -b 3 -d 1 --json "$SPEC"
same "-b 3 (not a power of two): exit 2" "$rc" 2
capture badz $WRAP "$DIAG" trace -Z 0 -d 1 --json "$SPEC"
same "-Z 0: exit 2" "$rc" 2

# ---- a real bpftrace that cannot attach -------------------------------------------
#
# Kprobes cannot attach on this kernel, but diagagent refuses those itself
# (exit 3) before bpftrace runs. bpftrace 0.17 as built here refuses every
# uprobe at func+offset when it attaches ("Can't check if uprobe is in proper
# place (compiled without (k|u)probe offset support)", exit 255): a real,
# deterministic attach failure. Used when bpftrace behaves so; skipped where
# a bpftrace built with that support would attach.
libc=$(ldd /bin/true | awk '/libc\.so/ { print $3; exit }')
if [ "$(id -u)" -ne 0 ] || ! command -v bpftrace >/dev/null; then
	skip "a real attach failure" "needs root and bpftrace"
elif timeout 30 bpftrace -e "uprobe:$libc:getpid+4 { @ = count(); } interval:ms:100 { exit(); }" >/dev/null 2>"$TMP/ra.bt.err"
	[ $? -ne 255 ] || ! grep -q "proper place" "$TMP/ra.bt.err"; then
	skip "a real attach failure" "this bpftrace attaches uprobes at func+offset"
else
	capture realattach env -u DIAGAGENT_BPFTRACE $WRAP "$DIAG" trace -d 2 --json 'p:c:getpid+4 "x"'
	J="$TMP/realattach.out"
	failed realattach "proper place|attach"
fi
