#!/usr/bin/env bash
# agent_children.sh - `diagagent run` and `diagagent diagnose` when bpftrace
# misbehaves. bpftrace is replaced by PATH with test/data/fakebpftrace/bpftrace,
# which runs one of the fakes there, picked by a case number the job carries
# (see that script): bpftrace fails at once (exit 1, exit 255 at attach, exit 0
# before attaching), hangs ignoring SIGINT and SIGTERM, ignores SIGINT while it
# keeps printing, dies of SIGSEGV or of someone's SIGKILL, prints endlessly,
# prints garbage or one endless line, writes to stderr endlessly, says its
# error in bytes that are not UTF-8, prints file and command names that are
# not UTF-8 (to the exec preset), leaves a child holding its pipe, or leaves
# a grandchild (not its child, holding no pipe) running in its group.
# For each: the result's status and error say what happened; the agent keeps
# running and takes the next job; and nothing of the fake is left running
# (no process with the fake's marker in its command line, none in its
# process group, no zombie of the agent).
. "$(dirname "$0")/../lib.sh"
. "$ROOT/test/agentlib.sh"
# Time limits stretch under a wrapper such as valgrind (~10x slower).
SLOW=1
[ -n "$WRAP" ] && SLOW=10
unset DIAGAGENT_BPFTRACE

# The fakes are copied under a unique name: every process of theirs has it
# in its command line ($0, or `exec -a "$0 ..."` for their children).
MARK="fakebt-$$-$RANDOM"
FAKE="$TMP/$MARK"
cp -r "$ROOT/test/data/fakebpftrace" "$FAKE"
chmod 755 "$FAKE"/*.sh "$FAKE/bpftrace"
export FAKEBT_PIDS="$TMP/pids"
mkdir -p "$FAKEBT_PIDS"

# The case numbers of test/data/fakebpftrace/bpftrace.
declare -A CASE=([fail]=917301 [attachfail]=917302 [hang]=917303 [stubborn]=917304 [segv]=917305
	[kill9]=917306 [endless]=917307 [longline]=917308 [garbage]=917309 [linger]=917310
	[grandchild]=917311 [quiet]=917312 [badbytes]=917313 [noisy]=917314 [badexec]=917315)

# nothing_left TAG: no process of the fakes runs (by the marker in its command
# line, and by the process group of every bpftrace the fakes recorded); those
# found are SIGKILLed, so later checks start clean. A zombie is not running:
# an orphan's is init's to reap.
nothing_left() {
	local left f pg=
	for f in "$FAKEBT_PIDS"/*; do
		[ -e "$f" ] || continue
		pg+=$(ps -eo pid=,pgid=,stat= | awk -v g="${f##*.}" '$2 == g && $3 !~ /^Z/ { printf "%s ", $1 }')
	done
	left=$(pgrep -f -- "$MARK" | tr '\n' ' ')
	same "$1: no process with the fakes' marker is left" "${left:-none}" none
	same "$1: no process is left in a fake bpftrace's process group" "${pg:-none}" none
	for f in $left $pg; do ps -o pid=,pgid=,ppid=,lstart=,args= -p "$f" | sed 's/^/# left: /'; done
	# shellcheck disable=SC2086
	[ -n "$left$pg" ] && kill -KILL $left $pg 2>/dev/null
}

# no_zombies PID DESC: PID has no zombie child.
no_zombies() {
	local z
	z=$(ps -o pid=,stat= --ppid "$1" | awk '$2 ~ /^Z/ { printf "%s ", $1 }')
	same "$2" "${z:-none}" none
}

# ---- through the agent ------------------------------------------------------------

start_server || exit 0
write_conf c1 kill_grace=1 max_concurrent_jobs=4 allow_commands=true 'command_allow=^echo [a-z0-9-]+$'
PATH="$FAKE:$PATH" start_agent c1
c1=$apid
if ! wait_log c1 'polling http' $((20 * SLOW)); then
	nok "the agent started: $(tail -n3 "$TMP/c1.log")"
	exit 1
fi
for ((i = 0; i < 100 * SLOW; i++)); do
	[ "$(cli heartbeats c1 | jq .count)" -ge 1 ] && break
	sleep 0.1
done
same "the agent found the fake bpftrace by PATH" \
	"$(cli heartbeats c1 | jq -r .last.capabilities.bpftrace.path)" "$FAKE/bpftrace"

# tr NAME: a trace job of that fake, 1 s, at most 100 events.
tr_job() {
	local n=${CASE[$1]:-1024}
	printf '{"id": "t-%s", "spec": "sys_read (arg3 > %s) \\"read %%d bytes\\", arg3", "duration": 1, "max_events": 100}' "$1" "$n"
}
# dg NAME: a diagnostics job (preset exec) of that fake, 1 s.
dg_job() {
	local n=${CASE[$1]:-}
	printf '{"id": "d-%s", "preset": "exec", "duration": 1%s}' "$1" "${n:+, \"slow_threshold\": $n}"
}
TRACES="fail attachfail quiet badbytes hang stubborn segv kill9 endless longline garbage noisy linger grandchild good"
DIAGS="fail badbytes hang stubborn segv endless garbage badexec grandchild good"
batch='{"ebpf_programs": ['
sep=
for f in $TRACES; do batch+="$sep$(tr_job "$f")"; sep=,; done
batch+='], "diagnostics": ['
sep=
for f in $DIAGS; do batch+="$sep$(dg_job "$f")"; sep=,; done
batch+='], "commands": [{"id": "c-first", "command": "echo first"}]}'
total=$(($(wc -w <<<"$TRACES $DIAGS") + 1))
t0=$(date +%s%N)
enqueue c1 "$batch"
# The agent's peak memory, sampled while the fakes run (the endless ones
# write as fast as they can).
hwm=0
for ((i = 0; i < 600 * SLOW; i++)); do
	h=$(awk '/^VmRSS:/ { print $2 }' "/proc/$c1/status" 2>/dev/null)
	[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
	[ "$(grep -c 'job [td]-[a-z0-9]*: \(trace\|diagnostic\) ' "$TMP/c1.log")" -ge $((total - 1)) ] && break
	sleep 0.1
done
wait_results c1 "$total" $((30 * SLOW))
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# $total jobs (4 at a time) answered in $ms ms; agent VmRSS peak ${hwm} kB"
same "every job has its result" "$(jq '.results | length' "$TMP/c1.res")" "$total"
same "each delivered once" "$(jq '[.deliveries[]] | max' "$TMP/c1.res")" 1
check "the agent is still running" alive "$c1"

# rs ID JQ: a field of job ID's result.
rs() { result c1 "$1" "$2"; }
# st ID STATUS PATTERN: the job's status, and its one-line error (grep -E).
st() {
	local e
	same "$1: status" "$(rs "$1" '[.status, .success] | join(" ")')" "$2 $([ "$2" = completed ] && echo true || echo false)"
	[ -z "${3:-}" ] && return
	e=$(rs "$1" '.error // ""')
	check "$1: the error ($e) says what happened" grep -qE "$3" <<<"$e"
	same "$1: the error is one line" "$(rs "$1" '.error // "" | split("\n") | length')" 1
	check "$1: no RLIMIT_MEMLOCK noise in the error" test -z "$(grep -i memlock <<<"$e")"
}

st t-fail failed '^bpftrace exited with code 1 before attaching: stdin:7:2-10: ERROR: Unknown function: fakebt_nosuchfn$'
st t-attachfail failed "^bpftrace exited with code 255 \(probes could not attach\): ERROR: Error attaching probe: 'tracepoint:syscalls:sys_enter_fakebt'$"
st t-quiet failed '^bpftrace exited with code 0 before attaching'
# Not UTF-8, and a NUL: U+FFFD and a space (without them the result had no
# error at all, and the server refused it).
st t-badbytes failed '^bpftrace exited with code 1 before attaching: stdin:1:1-4: ERROR: Unknown identifier: café_���_ x$'
same "t-quiet: no events" "$(rs t-quiet .event_count)" 0
# Ignores SIGINT: 1 s traced, SIGINT 1 s later (the backstop), SIGKILL after
# kill_grace (1 s) plus 100 ms for each of its 2 probes.
st t-hang timeout '^bpftrace did not stop within 1200 ms of SIGINT and was killed$'
same "t-hang: the two events printed before survive" "$(rs t-hang .event_count)" 2
st t-stubborn timeout '^bpftrace did not stop within 1200 ms of SIGINT and was killed$'
check "t-stubborn: its events until the SIGKILL ($(rs t-stubborn .event_count))" \
	test "$(rs t-stubborn .event_count)" -ge 10
st t-segv failed '^bpftrace was killed by signal 11 \(Segmentation fault\)$'
same "t-segv: the two events printed before the crash survive" "$(rs t-segv .event_count)" 2
st t-kill9 failed '^bpftrace was killed by signal 9 \(Killed\)$'
same "t-kill9: its two events survive" "$(rs t-kill9 .event_count)" 2
st t-endless completed
same "t-endless: max_events held (100), capped, the kernel's total" \
	"$(rs t-endless '[.event_count, (.events | length), .statistics.capped, .statistics.total_events] | join(" ")')" \
	"100 100 true 123456789"
st t-longline completed
same "t-longline: its event, the endless line malformed" \
	"$(rs t-longline '[.event_count, (.statistics.malformed_lines >= 1)] | join(" ")')" "1 true"
st t-garbage completed
same "t-garbage: five good events, four malformed lines" \
	"$(rs t-garbage '[.event_count, .statistics.malformed_lines] | join(" ")')" "5 4"
st t-noisy completed
same "t-noisy: its events, and no error from the warnings" "$(rs t-noisy '[.event_count, .error] | @json')" '[2,null]'
st t-linger completed
same "t-linger: its event" "$(rs t-linger .event_count)" 1
st t-grandchild completed
same "t-grandchild: its event and maps" "$(rs t-grandchild '[.event_count, .statistics.total_events] | join(" ")')" "1 1"
st t-good completed
same "t-good: its four events" "$(rs t-good .event_count)" 4

st d-fail failed '^bpftrace exited with code 1 before attaching: stdin:7:2-10: ERROR: Unknown function: fakebt_nosuchfn$'
st d-hang timeout '^bpftrace did not stop within 1200 ms of SIGINT and was killed$'
st d-stubborn timeout '^bpftrace did not stop within 1200 ms of SIGINT and was killed$'
st d-segv failed '^bpftrace was killed by signal 11 \(Segmentation fault\)$'
st d-endless completed
st d-garbage completed
st d-badbytes failed '^bpftrace exited with code 1 before attaching: stdin:1:1-4: ERROR: Unknown identifier: café_���_ x$'
# File and command names that are not UTF-8 are in the report, as U+FFFD;
# an argument cut to what is kept is cut between characters.
st d-badexec completed
same "d-badexec: the executions, names not UTF-8 included" \
	"$(rs d-badexec '[.report.sections[] | select(.id == "exec") | .tables[0].rows[] | .command] | sort | join("|")')" \
	"/bin/true|/tmp/bad�name arg�1 $(printf 'é%.0s' $(seq 63))"
st d-grandchild completed
st d-good completed
same "diagnostics: each has a report" "$(jq '[.results[] | select(.kind == "diagnostic" and (.report | type) == "object")] | length' "$TMP/c1.res")" 10
same "c-first ran" "$(rs c-first '[.status, .stdout] | @json')" '["completed","first\n"]'
# The fakes that ignore SIGINT took their time (1 s, the 1 s backstop, 1.2 s grace).
check "the stuck fakes were killed on time (all $total jobs in $ms ms)" test "$ms" -lt $((25000 * SLOW))

nothing_left agent
no_zombies "$c1" "the agent has no zombie child"
same "the agent has no child left" "$(pgrep -P "$c1" | tr '\n' ' ')" ""
check "one log line per job's end" test "$(grep -c 'job [td]-[a-z0-9]*: \(trace\|diagnostic\) \(completed\|failed\|timeout\)' "$TMP/c1.log")" -eq $((total - 1))
if [ -z "$WRAP" ] && [[ $BUILD != *asan* ]]; then
	check "the agent's memory stayed bounded with endless output (VmRSS peak ${hwm} kB < 100 MB)" test "$hwm" -lt 102400
fi

# ... and takes the next job.
enqueue c1 '{"commands": [{"id": "c-next", "command": "echo next"}], "ebpf_programs": ['"$(tr_job good | sed 's/t-good/t-next/')"']}'
wait_results c1 $((total + 2)) $((20 * SLOW))
same "after all that, the next command runs" "$(rs c-next '[.status, .stdout] | @json')" '["completed","next\n"]'
same "... and the next trace" "$(rs t-next '[.status, .event_count] | join(" ")')" "completed 4"

# SIGTERM while stuck fakes run (ignoring SIGINT, printing endlessly) and
# one more waits for a slot: each is cancelled (the running ones killed
# after the grace if they must be), its result flushed; exit 0; nothing left.
stuck='{"ebpf_programs": ['
sep=
for f in hang stubborn endless; do
	stuck+="$sep$(tr_job "$f" | sed "s/\"t-$f\"/\"s-$f\"/; s/\"duration\": 1/\"duration\": 60/")"
	sep=,
done
stuck+='], "diagnostics": ['"$(dg_job stubborn | sed 's/"d-stubborn"/"s-dstubborn"/; s/"duration": 1/"duration": 60/')"']}'
enqueue c1 "$stuck"
for id in s-hang s-stubborn s-endless s-dstubborn; do
	wait_log c1 "job $id: attached" $((20 * SLOW)) || nok "$id attached"
done
enqueue c1 '{"ebpf_programs": ['"$(tr_job grandchild | sed 's/"t-grandchild"/"s-grandchild"/')"']}'
wait_log c1 "job s-grandchild: trace queued" $((20 * SLOW)) || nok "s-grandchild queued"
t0=$(date +%s%N)
stop_agent "$c1" TERM
ms=$((($(date +%s%N) - t0) / 1000000))
same "SIGTERM with stuck fakes running: exit 0" "$arc" 0
# Their SIGINT, kill_grace (1 s) and 100 ms a probe; then the upload.
check "... within the grace and the upload (${ms} ms)" test "$ms" -lt $((6000 * SLOW))
wait_results c1 $((total + 7)) $((10 * SLOW))
for id in s-hang s-stubborn s-endless s-dstubborn; do
	st "$id" cancelled '^cancelled after [0-9.]+ s of tracing$'
done
st s-grandchild cancelled '^the agent shut down before the job started$'
nothing_left "after the agent's exit"

# ---- through diagagent diagnose ------------------------------------------------------
# Every case at once, each its own process (the CLI's grace is 5 s). Under a
# wrapper such as valgrind, twelve at once take minutes of CPU: then four of
# them (the agent's diagnostics jobs above ran the same code for all), unless
# AGENT_CHILDREN_ALL=1.

DX="fail attachfail quiet badbytes hang stubborn segv endless garbage badexec grandchild good"
if [ -n "$WRAP" ] && [ -z "${AGENT_CHILDREN_ALL:-}" ]; then
	DX="fail hang badexec grandchild"
	echo "# under a wrapper: diagnose runs $DX only (AGENT_CHILDREN_ALL=1: all)"
fi
rm -f "$FAKEBT_PIDS"/*
declare -A dpid drc
t0=$(date +%s%N)
for f in $DX; do
	n=${CASE[$f]:-}
	PATH="$FAKE:$PATH" $WRAP "$DIAG" diagnose -d 1 --json ${n:+--slow-threshold "${n}ms"} exec \
		>"$TMP/dx-$f.out" 2>"$TMP/dx-$f.err" &
	dpid[$f]=$!
done
for f in "${!dpid[@]}"; do
	for ((i = 0; i < 300 * SLOW; i++)); do
		alive "${dpid[$f]}" || break
		sleep 0.1
	done
	if alive "${dpid[$f]}"; then
		nok "diagnose $f: ended within $((30 * SLOW)) s"
		kill -KILL "${dpid[$f]}"
	fi
	wait "${dpid[$f]}"
	drc[$f]=$?
done
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# diagnose: $(wc -w <<<"$DX") fakes at once in $ms ms"

# dx NAME EXIT STATUS [PATTERN] (nothing when NAME did not run)
dx() {
	local e
	[ -n "${drc[$1]:-}" ] || return 0
	same "diagnose $1: exit $2" "${drc[$1]}" "$2"
	same "diagnose $1: status" "$(jq -r .status "$TMP/dx-$1.out" 2>/dev/null)" "$3"
	[ -z "${4:-}" ] && return
	e=$(jq -r '.error // ""' "$TMP/dx-$1.out" 2>/dev/null)
	check "diagnose $1: the error ($e) says what happened" grep -qE "$4" <<<"$e"
}
dx fail 1 failed '^bpftrace exited with code 1 before attaching: .*Unknown function: fakebt_nosuchfn$'
dx attachfail 1 failed '^bpftrace exited with code 255 \(probes could not attach\): ERROR: Error attaching probe'
dx quiet 1 failed '^bpftrace exited with code 0 before attaching'
dx badbytes 1 failed '^bpftrace exited with code 1 before attaching: .*Unknown identifier: café_���_ x$'
dx hang 1 timeout '^bpftrace did not stop within 5200 ms of SIGINT and was killed$'
dx stubborn 1 timeout '^bpftrace did not stop within 5200 ms of SIGINT and was killed$'
dx segv 1 failed '^bpftrace was killed by signal 11 \(Segmentation fault\)$'
dx endless 0 completed
dx garbage 0 completed
dx badexec 0 completed
[ -n "${drc[badexec]:-}" ] && same "diagnose badexec: the executions, names not UTF-8 included" \
	"$(jq -r '[.report.sections[] | select(.id == "exec") | .tables[0].rows[] | .command] | sort | join("|")' "$TMP/dx-badexec.out")" \
	"/bin/true|/tmp/bad�name arg�1 $(printf 'é%.0s' $(seq 63))"
dx grandchild 0 completed
dx good 0 completed
nothing_left diagnose
no_zombies $$ "diagnose: no zombie child of the test shell"
