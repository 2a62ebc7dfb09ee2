#!/usr/bin/env bash
# agent_network.sh - `diagagent run` while the control server misbehaves
# with jobs in flight: traces of a known workload (readloop, real bpftrace)
# and commands that each append their id to a file. The reference server's
# fault switches go on one after another, for heartbeats, job polls and
# result uploads alike: a delay past http_timeout, a reset in the middle of
# the body, 500s, 401s, garbage, a 100 MB body, a dropped connection, and
# last the server stopped (connection refused). Jobs are queued meanwhile.
# Then the server answers again, and: every result arrives exactly once, no
# job ran twice (jobs sent again are not run again), each trace counted its
# workload's reads exactly, the agent's memory stayed bounded, each fault
# gave one log line per request kind (not one per retry), and the agent never
# exited.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/test/agentlib.sh"
SLOW=1
[ -n "$WRAP" ] && SLOW=10
# The traces' durations must outlast the faults (about 30 s, more under a
# wrapper such as valgrind, mostly the jobs' slower start), and not by much:
# the recovery waits for the last one.
LONGER=0
[ -n "$WRAP" ] && LONGER=20

start_server || exit 0
RAN=$TMP/ran
: >"$RAN"
write_conf n1 http_timeout=2 connect_timeout=1 poll_interval=1 heartbeat_interval=1 max_backoff=1 \
	kill_grace=1 max_concurrent_jobs=16 allow_commands=true \
	"command_allow=^sleep [0-9]+; echo [a-z0-9-]+ >>$RAN\$"
start_agent n1
n1=$apid
if ! wait_log n1 'polling http' $((20 * SLOW)); then
	nok "the agent started: $(tail -n3 "$TMP/n1.log")"
	exit 1
fi

# cmd ID SECONDS: a command job that sleeps, then appends its id to $RAN.
cmd() { printf '{"id": "%s", "command": "sleep %d; echo %s >>%s", "timeout": 120}' "$1" "$2" "$1" "$RAN"; }
# trace ID PID SECONDS: a trace of readloop PID's 4096-byte reads.
trace() { printf '{"id": "%s", "spec": "sys_read (arg3 == 4096)", "pid": %d, "duration": %d}' "$1" "$2" "$3"; }

# Three readloops, each traced by its own job and started at another time
# (each before its trace ends: the faults take about 30 s, longer under a
# wrapper such as valgrind).
declare -A rl nreads=([t1]=200 [t2]=300 [t3]=400)
for t in t1 t2 t3; do
	"$WL/readloop" "${nreads[$t]}" 0 "$TMP/go-$t" &
	rl[$t]=$!
done
trap 'kill "${rl[@]}" 2>/dev/null; agent_cleanup' EXIT
# go T: start readloop T's reads, which its trace must still be there to see.
go() {
	grep -Eq "job $1: trace (completed|failed|timeout|cancelled)" "$TMP/n1.log" && nok "$1 ended before its workload started: the faults took too long"
	touch "$TMP/go-$1"
}
jobs='{"ebpf_programs": ['"$(trace t1 "${rl[t1]}" 6),$(trace t2 "${rl[t2]}" $((20 + LONGER))),$(trace t3 "${rl[t3]}" $((32 + LONGER)))"'], "commands": ['
sep=
for i in 1 2 3 4 5 6 7 8 9 10; do
	jobs+="$sep$(cmd "c$i" $((2 * i)))"
	sep=,
done
jobs+=']}'
enqueue n1 "$jobs"
wait_log n1 'job t1: attached' $((30 * SLOW)) && go t1
if ! wait_log n1 'job t3: attached' $((30 * SLOW)) || ! wait_log n1 'job c10: command started' 10; then
	nok "the jobs started: $(tail -n3 "$TMP/n1.log")"
	exit 1
fi
hwm0=$(awk '/^VmHWM:/ { print $2 }' "/proc/$n1/status")

# ---- the faults, one after another -----------------------------------------------
#
# phase NAME RULES REGEX: replace the rules (one request, so no request slips
# through between two faults), then wait until the heartbeat, the poll and
# (when results wait in the outbox) the upload have each failed with REGEX in
# their log line, and 2 s longer (2 or 3 retries each: max_backoff is 1).
# Each request kind must have said so in one warn or error line, not one per
# retry (a request of the fault before may still end in this phase: that
# fault was said already).
pending() { [ -n "$(find "$TMP/n1.spool/outbox" -maxdepth 1 -name '*.json' 2>/dev/null | head -n 1)" ]; }
faulted() { cli stats | jq .faulted; }
phase() {
	local name=$1 rules=$2 re=$3 from k i n t0 f0 lines
	from=$(($(wc -l <"$TMP/n1.log") + 1))
	t0=$(date +%s%N)
	if [ -n "$rules" ]; then
		f0=$(faulted)
		cli faults "{\"clear\": true, \"faults\": $rules}" >/dev/null || nok "$name: the rules were taken"
	fi
	for ((i = 0; i < 100 * SLOW; i++)); do
		n=0
		for k in heartbeat jobs results; do
			tail -n +"$from" "$TMP/n1.log" | grep -Eq "(warn|error) +$k: .*($re)" && n=$((n + 1))
		done
		if [ "$n" -eq 3 ] || { [ "$n" -eq 2 ] && ! pending; }; then break; fi
		sleep 0.1
	done
	sleep 2
	# A result that came out just now: its upload is due at once.
	for ((i = 0; i < 50 * SLOW; i++)); do
		pending || break
		tail -n +"$from" "$TMP/n1.log" | grep -Eq "(warn|error) +results: " && break
		sleep 0.1
	done
	tail -n +"$from" "$TMP/n1.log" | grep -E ' (warn|error) +(heartbeat|jobs|results): ' >"$TMP/phase-$name"
	local bad=0
	for k in heartbeat jobs results; do
		lines=$(grep -c " $k: " "$TMP/phase-$name")
		if [ "$k" != results ] || pending || [ "$lines" -gt 0 ]; then
			same "$name: $k said it in one line: $(grep " $k: " "$TMP/phase-$name" | head -n 1 | cut -c 26-150)" "$lines" 1
			check "$name: ... that says what failed" grep -Eq " $k: .*($re)" "$TMP/phase-$name"
			[ "$lines" = 1 ] && grep -Eq " $k: .*($re)" "$TMP/phase-$name" || bad=1
		fi
	done
	[ "$bad" = 1 ] && tail -n +"$from" "$TMP/n1.log" | tail -n 30 | sed 's/^/# log: /'
	echo "# $name: $((($(date +%s%N) - t0) / 1000000)) ms, ${f0:+$(($(faulted) - f0)) requests faulted, }$(wc -l <"$TMP/phase-$name") lines"
	check "$name: the agent is alive" alive "$n1"
}

# The agent's peak memory is read from VmHWM at the end; its RSS is sampled
# too, to show it comes back down.
(
	while alive "$n1"; do
		awk '/^VmRSS:/ { print $2 }' "/proc/$n1/status" 2>/dev/null
		sleep 0.1
	done >"$TMP/rss"
) &
sampler=$!

phase delay '[{"delay": 3, "count": 1000}]' 'no complete answer within 2 s'
enqueue n1 '{"commands": ['"$(cmd late1 0)"']}'
phase reset '[{"reset": true, "count": 1000}]' 'reset by peer|transfer closed'
go t2
phase 500 '[{"status": 500, "count": 1000}]' 'HTTP 500 from the server'
enqueue n1 '{"commands": ['"$(cmd late2 0)"']}'
phase 401 '[{"status": 401, "count": 1000}]' 'the server refused the token \(HTTP 401\)'
# Garbage: a 200 the poll and the heartbeat cannot read; for the upload a
# 502 page (a 200 acknowledges the results, whatever its body).
phase garbage '[{"path": "/results", "status": 502, "body": "<html>bad gateway\u0000\u00ff</html>", "content_type": "text/html", "count": 1000},
	{"body": "<html>\u0000\u00ff garbage", "count": 1000}]' 'not valid JSON|not a JSON object|HTTP 502'
go t3
phase huge '[{"body": "x", "size": 100000000, "count": 1000}]' 'larger than 16777216 bytes'
enqueue n1 '{"commands": ['"$(cmd late3 2)"']}' # ends while the server is down
phase drop '[{"drop": true, "count": 1000}]' 'Empty reply|nothing|Server returned'
# A moment of calm, so the jobs queued during the faults are polled (the
# server's queue is in its memory, gone when it stops).
cli faults clear >/dev/null
check "the jobs queued during the faults arrive" wait_log n1 'job late3: command started' $((20 * SLOW))
# Stop the server with no upload in flight: killed after storing results
# but before its answer, it would get them again (as a real one would: the
# ids are there for that). From this rule on, no upload is stored; then
# either nothing waits in the outbox (so no upload is in flight), or one
# more upload has been answered 503 (so the one before it has ended).
from=$(($(wc -l <"$TMP/n1.log") + 1))
cli faults '{"path": "/results", "status": 503, "count": 1000}' >/dev/null
for ((i = 0; i < 100 * SLOW; i++)); do
	pending || break
	tail -n +"$from" "$TMP/n1.log" | grep -q 'results: HTTP 503' && break
	sleep 0.1
done
stop_server
phase refused '' 'Connection refused|Could not connect|Couldn.t connect|Failed to connect'
check "while the server was down, results waited in the outbox" pending

# ---- recovery -------------------------------------------------------------------

t0=$(date +%s%N)
start_server "$PORT"
TOTAL=16
wait_results n1 $TOTAL $((60 * SLOW))
ms=$((($(date +%s%N) - t0) / 1000000))
kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null
echo "# all $TOTAL results $ms ms after the server came back"
same "every result arrived" "$(jq -r '[.results[].id] | sort | join(" ")' "$TMP/n1.res")" \
	"$(echo c1 c10 c2 c3 c4 c5 c6 c7 c8 c9 late1 late2 late3 t1 t2 t3 | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
same "each exactly once" "$(jq -c '[.deliveries[]] | unique' "$TMP/n1.res")" '[1]'
for t in t1 t2 t3; do
	same "$t: counted its readloop's ${nreads[$t]} reads" "$(result n1 $t '[.status, .event_count] | join(" ")')" "completed ${nreads[$t]}"
done
same "every command completed" "$(jq -r '[.results[] | select(.kind == "command") | .status] | unique | join(" ")' "$TMP/n1.res")" completed
same "each command ran once" "$(sort "$RAN" | tr '\n' ' ')" "$(jq -r '[.results[] | select(.kind == "command") | .id] | sort | join(" ")' "$TMP/n1.res") "

# Sent again (a server that did not see the results would): not run again.
enqueue n1 '{"commands": ['"$(cmd c1 0),$(cmd late1 0)"'], "ebpf_programs": ['"$(trace t1 "${rl[t1]}" 6)"']}'
for id in c1 late1 t1; do
	check "$id sent again: not run again" wait_log n1 "job $id: already done here; not run again" $((10 * SLOW))
done
sleep 1
same "... and the commands left one line each" "$(sort "$RAN" | uniq -d | tr '\n' ' ')" ""
enqueue n1 '{"commands": ['"$(cmd after 0)"']}'
wait_results n1 $((TOTAL + 1)) $((10 * SLOW))
same "... and the agent still takes new jobs: after ran once" "$(grep -c '^after$' "$RAN")" 1
same "every request kind said the server answers again" \
	"$(grep -oE '(heartbeat|jobs|results): the server answers again' "$TMP/n1.log" | sort -u | wc -l)" 3

# Memory: the 16 MiB cap on a reply keeps a 100 MB body out; peak and after.
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$n1/status")
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$n1/status")
peak=$(sort -n "$TMP/rss" | tail -n 1)
echo "# VmHWM ${hwm0} kB before the faults, ${hwm} kB after; VmRSS sampled peak ${peak} kB, now ${rss} kB"
if [ -z "$WRAP" ] && [[ $BUILD != *asan* ]]; then
	# At most what one capped reply (16 MiB) could take: a reply that says
	# it is larger is refused before any of it is read.
	check "memory bounded through the faults (VmHWM ${hwm0} -> ${hwm} kB: + < 16 MB)" test $((hwm - hwm0)) -lt 16384
	check "... and back down after (VmRSS ${rss} kB < 32 MB)" test "$rss" -lt 32768
fi
check "no token in the log" sh -c "! grep -qF '$TOKEN' '$TMP/n1.log'"
same "the agent has no child left" "$(pgrep -P "$n1" | tr '\n' ' ')" ""
check "the agent never exited" alive "$n1"
stop_agent "$n1" TERM
same "SIGTERM: exit 0" "$arc" 0
echo "# log: $(grep -c '' "$TMP/n1.log") lines, $(grep -Ec ' (warn|error) ' "$TMP/n1.log") warn/error"
