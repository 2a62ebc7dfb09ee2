#!/usr/bin/env bash
# trace_truth.sh - `diagagent trace` with the real bpftrace against workloads
# whose behaviour is known exactly (test/workloads/*.c): every count, pid,
# message and byte of every path must match what the workload really did.
#
# Each trace runs in the background with stderr to a file; the workload starts
# once stderr says "diagagent trace: attached". The loader's own syscalls (ld.so
# reads 832 bytes of each ELF header, opens ld.so.cache and libc) never match:
# the specs filter on 4096/100/1-byte reads, and opens are filtered to a
# private directory here.
. "$(dirname "$0")/../lib.sh"

W="$ROOT/$BUILD/workloads"
ATTACH_TIMEOUT=20
[ -n "$WRAP" ] && ATTACH_TIMEOUT=60

if [ "$(id -u)" -ne 0 ]; then
	skip "trace against ground truth" "not root"
	exit 0
fi
if ! command -v bpftrace >/dev/null; then
	skip "trace against ground truth" "bpftrace not installed"
	exit 0
fi
for w in readloop openfiles openmissing storm; do
	if [ ! -x "$W/$w" ]; then
		nok "workload $W/$w is built (make tests-bin)"
		exit 1
	fi
done
if ! "$DIAG" trace --help >/dev/null 2>&1; then
	nok "diagagent trace --help exits 0"
	exit 1
fi

# The workloads run from copies with a unique suffix (command names of at most
# 15 bytes): `-n NAME` then selects this run's workload alone, even when
# another run of this suite traces at the same time.
SUF=$(printf '%04d' $((RANDOM % 10000)))
for w in readloop openfiles openmissing storm; do
	cp "$W/$w" "$TMP/$w$SUF" && chmod 755 "$TMP/$w$SUF"
done
RL=readloop$SUF OF=openfiles$SUF OM=openmissing$SUF ST=storm$SUF

# ---- helpers -------------------------------------------------------------------

# alive PID: the process exists and is not a zombie
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# trace_bg NAME ARGS...: start `diagagent trace ARGS` in the background (as a
# job of its own, as from an interactive shell: SIGINT not ignored), stdout in
# $TMP/NAME.out, stderr in $TMP/NAME.err; its pid in $tpid.
trace_bg() {
	local name=$1; shift
	set -m
	$WRAP "$DIAG" trace "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	tpid=$!
	set +m
}

# wait_attached NAME: 0 once stderr has the attached line; 1 when the trace
# died or the line did not come within ATTACH_TIMEOUT seconds.
wait_attached() {
	local i
	for ((i = 0; i < ATTACH_TIMEOUT * 20; i++)); do
		grep -q '^diagagent trace: attached' "$TMP/$1.err" && return 0
		alive "$tpid" || break
		sleep 0.05
	done
	nok "$1: 'diagagent trace: attached' on stderr"
	sed 's/^/#   stderr: /' "$TMP/$1.err" | head -n 20
	return 1
}

# finish NAME [SECONDS]: wait for the trace to end by itself (SIGKILL after
# SECONDS, default 30, which fails the test); its exit code in $rc.
finish() {
	local i lim=$(( ${2:-30} * 10 ))
	for ((i = 0; i < lim; i++)); do
		alive "$tpid" || break
		sleep 0.1
	done
	if alive "$tpid"; then
		nok "$1: diagagent trace ended within ${2:-30} s"
		kill -KILL "$tpid" 2>/dev/null
	fi
	wait "$tpid"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		sed 's/^/#   stderr: /' "$TMP/$1.err" | head -n 20
	fi
}

# stop NAME SIG: send SIG to the trace, then finish.
stop() {
	kill -"$2" "$tpid" 2>/dev/null
	finish "$1" 30
}

J=/dev/null
# jtrue JQ FILE: jq -se JQ on FILE is true (nothing printed)
jtrue() { jq -se "$1" "$2" >/dev/null 2>&1; }
q() { jq -r "$1" "$J" 2>/dev/null; }
# qsame DESC JQ EXPECTED: the jq expression on $J gives EXPECTED
qsame() { same "$1" "$(q "$2")" "$3"; }

# The common shape of a --json result in $J.
result_shape() { # result_shape TAG SPEC
	check "$1: stdout is exactly one JSON object" jtrue 'length == 1 and (.[0] | type) == "object"' "$J"
	qsame "$1: kind" .kind trace
	qsame "$1: status" .status completed
	qsame "$1: success" .success true
	qsame "$1: type" .type bcc_trace
	[ -n "${2:-}" ] && qsame "$1: spec" .spec "$2"
	qsame "$1: no error" '.error // "none"' none
	qsame "$1: malformed_lines" .statistics.malformed_lines 0
	qsame "$1: event_count is the events' length" '.event_count == (.events | length)' true
	qsame "$1: streamed_events is the events' length" '.statistics.streamed_events == (.events | length)' true
}

# to_ns RFC3339: nanoseconds since the epoch
to_ns() { date -d "$1" +%s%N 2>/dev/null || echo 0; }

# The started_at/finished_at of $J bracket [T0, T1] (second resolution), and
# every event's timestamp lies in [T0, T1] (50 ms for the clock conversion).
times_bracket() { # times_bracket TAG T0 T1
	local s f
	s=$(to_ns "$(q .started_at)") f=$(to_ns "$(q .finished_at)")
	check "$1: started_at ($(q .started_at)) is before the workload started" test "$s" -gt 0 -a "$s" -le $(($2 + 1000000000))
	check "$1: finished_at ($(q .finished_at)) is after the workload ended" test "$f" -ge $(($3 - 1000000000))
	qsame "$1: every event's timestamp lies within the workload's run (±50 ms)" \
		"[.events[] | select(.timestamp < ($2 - 50000000) or .timestamp > ($3 + 50000000))] | length" 0
	local t ts d
	t=$(q '.events[0].time') ts=$(grep -oE '"timestamp": *[0-9]+' "$J" | head -n 1 | grep -oE '[0-9]+$')
	d=$(( $(to_ns "$t") - ${ts:-0} ))
	check "$1: the first event's time ($t) is its timestamp ($ts) within 1 ms" [ "${d#-}" -lt 1000000 ]
}

# bytes_of: base64 lines on stdin -> one line of hex per input line
bytes_of() {
	local l
	while IFS= read -r l; do
		printf '%s' "$l" | base64 -d | od -An -v -tx1 | tr -d ' \n'
		echo
	done
}

hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

# ---- readloop: exact counts, messages, pids --------------------------------------

SPEC_BIG='sys_read (arg3 > 1024) "read %d bytes", arg3'
SPEC_100='sys_read (arg3 == 100)'

trace_bg rl -n "$RL" -d 2 --json "$SPEC_BIG"
wpid=0 t0=0 t1=0
if wait_attached rl; then
	t0=$(date +%s%N)
	"$TMP/$RL" 1000 500 &
	wpid=$!
	wait "$wpid"
	same "readloop 1000 500 ran" "$?" 0
	t1=$(date +%s%N)
fi
finish rl
J="$TMP/rl.out"
same "rl: exit 0" "$rc" 0
result_shape rl "$SPEC_BIG"
qsame "rl: name" .name sys_read
qsame "rl: target" .target syscalls:sys_enter_read
qsame "rl: program is the bpftrace program" '.program | test("tracepoint:syscalls:sys_enter_read")' true
qsame "rl: event_count" .event_count 1000
qsame "rl: every message is 'read 4096 bytes'" '[.events[] | select(.message == "read 4096 bytes")] | length' 1000
qsame "rl: every raw_args.arg3 is \"4096\"" '[.events[] | select(.raw_args.arg3 == "4096")] | length' 1000
qsame "rl: every event is the workload's pid" "[.events[] | select(.pid == $wpid)] | length" 1000
qsame "rl: every tid is the pid" '[.events[] | select(.tid == .pid)] | length' 1000
qsame "rl: every process_name is $RL" "[.events[] | select(.process_name == \"$RL\")] | length" 1000
qsame "rl: every uid is 0" '[.events[] | select(.uid == 0)] | length' 1000
qsame "rl: every function is sys_read" '[.events[] | select(.function == "sys_read")] | length' 1000
qsame "rl: every cpu is a CPU number" "[.events[] | select(.cpu >= 0 and .cpu < $(nproc --all))] | length" 1000
qsame "rl: no b64 (all text is UTF-8)" '[.events[] | select(has("b64"))] | length' 0
qsame "rl: no latency on an entry probe without strings" '[.events[] | select(has("latency_ns"))] | length' 0
qsame "rl: total_events" .statistics.total_events 1000
qsame "rl: streamed_events" .statistics.streamed_events 1000
qsame "rl: lost_events" .statistics.lost_events 0
qsame "rl: capped" .statistics.capped false
qsame "rl: top_processes is the workload alone" '.statistics.top_processes | length' 1
qsame "rl: top_processes[0].process_name" '.statistics.top_processes[0].process_name' "$RL"
qsame "rl: top_processes[0].pid" '.statistics.top_processes[0].pid' "$wpid"
qsame "rl: top_processes[0].event_count" '.statistics.top_processes[0].event_count' 1000
qsame "rl: one probe in statistics.probes" '.statistics.probes | length' 1
qsame "rl: probes[0].function" '.statistics.probes[0].function' sys_read
qsame "rl: probes[0].total_events" '.statistics.probes[0].total_events' 1000
qsame "rl: probes[0].streamed_events" '.statistics.probes[0].streamed_events' 1000
qsame "rl: no latency statistics" '.statistics.latency // "none"' none
times_bracket rl "$t0" "$t1"

# Two specs in one trace, ended by SIGINT (as Ctrl-C) after the workload: each
# probe keeps its own exact counts.
trace_bg rl2 -n "$RL" -d 60 --json "$SPEC_100" "$SPEC_BIG"
wpid=0
if wait_attached rl2; then
	"$TMP/$RL" 1000 500 &
	wpid=$!
	wait "$wpid"
	sleep 0.5
fi
stop rl2 INT
J="$TMP/rl2.out"
same "rl2 (SIGINT): exit 0" "$rc" 0
result_shape rl2 ""
qsame "rl2: event_count 500 + 1000" .event_count 1500
qsame "rl2: 500 events of arg3 == 100, with no message" '[.events[] | select(.message == "")] | length' 500
qsame "rl2: 1000 events of 'read 4096 bytes'" '[.events[] | select(.message == "read 4096 bytes")] | length' 1000
qsame "rl2: every event is the workload's" "[.events[] | select(.pid == $wpid)] | length" 1500
qsame "rl2: total_events" .statistics.total_events 1500
qsame "rl2: two probes" '.statistics.probes | length' 2
qsame "rl2: probes[0] (arg3 == 100) total_events" '.statistics.probes[0].total_events' 500
qsame "rl2: probes[0] streamed_events" '.statistics.probes[0].streamed_events' 500
qsame "rl2: probes[1] (arg3 > 1024) total_events" '.statistics.probes[1].total_events' 1000
qsame "rl2: probes[1] streamed_events" '.statistics.probes[1].streamed_events' 1000
qsame "rl2: top_processes[0].event_count" '.statistics.top_processes[0].event_count' 1500

# -p PID: two readloops, both wait for a file so their pids are known first.
trace_p() { # trace_p TAG: $pa and $pb wait for $TMP/TAG.go
	"$TMP/$RL" 1000 0 "$TMP/$1.go" &
	pa=$!
	"$TMP/$RL" 1000 0 "$TMP/$1.go" &
	pb=$!
}
trace_p pp
trace_bg pp -p "$pa" -d 60 --json "$SPEC_BIG"
if wait_attached pp; then
	touch "$TMP/pp.go"
	sleep 0.3
fi
touch "$TMP/pp.go"
wait "$pa"; same "-p: first readloop ran" "$?" 0
wait "$pb"; same "-p: second readloop ran" "$?" 0
sleep 0.5
stop pp TERM
J="$TMP/pp.out"
same "-p (SIGTERM): exit 0 (status $(q .status), error: $(q .error))" "$rc" 0
result_shape "-p" "$SPEC_BIG"
qsame "-p: event_count is one readloop's 1000" .event_count 1000
qsame "-p: every event is that pid" "[.events[] | select(.pid == $pa)] | length" 1000
qsame "-p: total_events" .statistics.total_events 1000
qsame "-p: top_processes is that pid alone" '[.statistics.top_processes[] | .pid] | map(tostring) | join(",")' "$pa"

# --uid: the same workload as root and as nobody; only nobody's reads.
if command -v setpriv >/dev/null; then
	mkdir -p "$TMP/uidgo" && chmod 777 "$TMP/uidgo"
	"$TMP/$RL" 1000 0 "$TMP/uidgo/go" &
	pa=$!
	setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/$RL" 1000 0 "$TMP/uidgo/go" &
	pb=$!
	trace_bg uid --uid 65534 -n "$RL" -d 60 --json "$SPEC_BIG"
	wait_attached uid && sleep 0.2
	touch "$TMP/uidgo/go"
	wait "$pa"; wait "$pb"; same "--uid: nobody's readloop ran" "$?" 0
	sleep 0.5
	stop uid TERM
	J="$TMP/uid.out"
	same "--uid: exit 0 (status $(q .status), error: $(q .error))" "$rc" 0
	qsame "--uid: event_count is nobody's 1000" .event_count 1000
	qsame "--uid: every event is uid 65534 and nobody's pid" "[.events[] | select(.uid == 65534 and .pid == $pb)] | length" 1000
	qsame "--uid: total_events" .statistics.total_events 1000
else
	skip "--uid against a workload run as nobody" "setpriv not installed"
fi

# ---- hostile file names: every byte exact ---------------------------------------
#
# The workload prints the hex of each path it opened. Events are kept when
# their pid is the workload's and their path starts with its directory (the
# loader opens ld.so.cache and libc too). A path's bytes are b64.message when
# present (the text had invalid UTF-8), else the message's UTF-8.
#
# The long name: bpftrace's str(ptr, Z) reads at most Z-1 bytes and a NUL (so
# does trace.py's -Z: char buf[Z] filled by bpf_probe_read_user_str), so the
# truth for a path longer than that is its first Z-1 bytes, exactly: neither
# the whole path (the kernel never copied it) nor anything shorter.

# expected_hex Z: the workload's hex lines cut to Z-1 bytes, sorted
expected_hex() {
	local l max=$(( ($1 - 1) * 2 ))
	while IFS= read -r l; do echo "${l:0:$max}"; done <"$OFOUT" | sort
}

# names_check TAG Z FILTERED_JSON_EVENTS_FILE(one JSON event per line)
names_check() {
	local tag=$1 z=$2 ev=$3 want got
	want=$(expected_hex "$z")
	got=$(jq -r '.b64.message // (.message | @base64)' "$ev" | bytes_of | sort)
	same "$tag: events under the directory" "$(wc -l <"$ev")" "$(wc -l <"$OFOUT")"
	same "$tag: every path's bytes exact, each exactly once" "$got" "$want"
	got=$(jq -r '.b64["raw_args.arg2"] // (.raw_args.arg2 | @base64)' "$ev" | bytes_of | sort)
	same "$tag: raw_args.arg2 has the same bytes" "$got" "$want"
	same "$tag: every event is the workload's openfiles" \
		"$(jq -r "select(.pid == $ofpid and .process_name == \"$OF\" and .function == \"sys_openat\") | 1" "$ev" | wc -l)" "$(wc -l <"$OFOUT")"
	same "$tag: every open succeeded (retval >= 0)" "$(jq -r 'select(.retval >= 0) | 1' "$ev" | wc -l)" "$(wc -l <"$OFOUT")"
	same "$tag: every event has latency_ns > 0" "$(jq -r 'select(.latency_ns > 0) | 1' "$ev" | wc -l)" "$(wc -l <"$OFOUT")"
	# b64 exactly where the bytes are not UTF-8, and U+FFFD for each bad byte
	same "$tag: b64 only on the three non-UTF-8 names" "$(jq -r 'select(has("b64")) | 1' "$ev" | wc -l)" 3
	local d="$OFDIR"
	for pair in "bad$(printf '\xff')byte=bad�byte" "bad$(printf '\xc3')alone=bad�alone" "bad$(printf '\x80')cont=bad�cont"; do
		local raw=${pair%%=*} text=${pair#*=}
		same "$tag: '$text' has U+FFFD for its bad byte in message" \
			"$(jq -r --arg b "$(printf '%s' "$d/$raw" | base64 -w0)" 'select(.b64.message == $b) | .message' "$ev")" "$d/$text"
	done
	same "$tag: café-日本 is text, not b64" \
		"$(jq -r --arg m "$d/café-日本" 'select(.message == $m and (has("b64") | not)) | 1' "$ev")" 1
	same "$tag: control characters are text" \
		"$(jq -r --arg m "$d/ctl$(printf '\x01\x1b\x7f')chars" 'select(.message == $m) | 1' "$ev")" 1
}

# run_openfiles TAG Z MODE(json|jsonl)
run_openfiles() {
	local tag=$1 z=$2 mode=$3
	OFDIR="$TMP/of-$tag" OFOUT="$TMP/of-$tag.hex"
	mkdir -p "$OFDIR"
	ofpid=0
	trace_bg "$tag" -n "$OF" -Z "$z" -d 2 "--$mode" 'sys_openat "%s", arg2'
	if wait_attached "$tag"; then
		"$TMP/$OF" "$OFDIR" >"$OFOUT" &
		ofpid=$!
		wait "$ofpid"
		same "$tag: openfiles ran" "$?" 0
	else
		finish "$tag"
		same "$tag: exit 0" "$rc" 0
		J="$TMP/$tag.out"
		[ "$mode" = json ] && echo "#   $tag: status $(q .status), error: $(q .error)"
		return
	fi
	finish "$tag"
	same "$tag: exit 0" "$rc" 0
	if [ "$mode" = json ]; then
		J="$TMP/$tag.out"
		qsame "$tag: status" .status completed
		qsame "$tag: malformed_lines" .statistics.malformed_lines 0
		qsame "$tag: nothing lost" .statistics.lost_events 0
		qsame "$tag: total_events == event_count (nothing split or dropped)" '.statistics.total_events == .event_count' true
		jq -c '.events[]' "$J" >"$TMP/$tag.all"
	else
		check "$tag: every line is a JSON object" jtrue 'all(type == "object")' "$TMP/$tag.out"
		J="$TMP/$tag.stats"
		tail -n 1 "$TMP/$tag.out" >"$J"
		qsame "$tag: the last line is the statistics" 'keys | join(",")' statistics
		qsame "$tag: malformed_lines" .statistics.malformed_lines 0
		qsame "$tag: streamed_events counts the event lines" .statistics.streamed_events "$(($(wc -l <"$TMP/$tag.out") - 1))"
		qsame "$tag: total_events == streamed_events" '.statistics.total_events == .statistics.streamed_events' true
		head -n -1 "$TMP/$tag.out" >"$TMP/$tag.all"
	fi
	# the events under the directory (ASCII, so U+FFFD never touches it)
	jq -c --arg ps "$OFDIR/" "select(.pid == $ofpid and (.message | startswith(\$ps)))" \
		"$TMP/$tag.all" >"$TMP/$tag.ev"
	names_check "$tag" "$z" "$TMP/$tag.ev"
}

# -Z 160: the most one string read at a syscall's exit fits in bpftrace 0.17's
# 512-byte BPF stack (the saved tuple, the string and the event tuple); then
# the default (64). -Z 200 on this spec must fail with a hint, not mysteriously.
run_openfiles of160 160 json
run_openfiles of160l 160 jsonl
run_openfiles of64 64 json
capture z200 diag trace -Z 200 -d 1 --json 'sys_openat "%s", arg2'
same "-Z 200 on a string read at exit: exit 1" "$rc" 1
check "-Z 200: the error says to lower -Z" grep -q 'lower -Z' <(jq -r .error "$TMP/z200.out")

# ---- r::sys_openat with a filter on retval: ENOENT ---------------------------------

SPEC_R='r::sys_openat ((int)retval == -2) "%s", arg2'
mkdir -p "$TMP/missing"
trace_bg om -n "$OM" -d 2 --json "$SPEC_R"
ompid=0
if wait_attached om; then
	"$TMP/$OM" "$TMP/missing" 300 &
	ompid=$!
	wait "$ompid"
	same "openmissing 300 ran (every open ENOENT)" "$?" 0
fi
finish om
J="$TMP/om.out"
same "om: exit 0" "$rc" 0
result_shape om "$SPEC_R"
jq -c --arg ps "$TMP/missing/" ".events[] | select(.pid == $ompid and (.message | startswith(\$ps)))" "$J" >"$TMP/om.ev"
same "om: exactly 300 events of the workload under its directory" "$(wc -l <"$TMP/om.ev")" 300
same "om: every retval is -2" "$(jq -r 'select(.retval == -2) | 1' "$TMP/om.ev" | wc -l)" 300
same "om: every latency_ns > 0" "$(jq -r 'select(.latency_ns > 0) | 1' "$TMP/om.ev" | wc -l)" 300
same "om: every raw_args.arg2 is the message" "$(jq -r 'select(.raw_args.arg2 == .message) | 1' "$TMP/om.ev" | wc -l)" 300
same "om: the paths, in time order, are missing-0..299" \
	"$(jq -sr 'sort_by(.timestamp) | .[].message' "$TMP/om.ev")" \
	"$(for ((k = 0; k < 300; k++)); do echo "$TMP/missing/missing-$k"; done)"
qsame "om: every event failed with -2 (none other passed the filter)" '[.events[] | select(.retval != -2)] | length' 0
qsame "om: total_events == event_count" '.statistics.total_events == .event_count' true
qsame "om: latency.count is the events with latency" '.statistics.latency.count == ([.events[] | select(.latency_ns)] | length)' true
# 300, plus any ENOENT of the loader's own (none here; counted, not assumed)
qsame "om: latency.count is the 300 opens (+ the loader's ENOENTs)" .statistics.latency.count \
	"$((300 + $(jq --arg ps "$TMP/missing/" "[.events[] | select(.pid == $ompid and (.message | startswith(\$ps) | not))] | length" "$J")))"
qsame "om: latency.max is the largest latency_ns" '.statistics.latency.max == ([.events[].latency_ns] | max)' true
qsame "om: p50 <= p90 <= p99 <= max" '.statistics.latency | .p50 <= .p90 and .p90 <= .p99 and .p99 <= .max' true
qsame "om: p50 within the events' latencies" \
	'([.events[].latency_ns] | min) as $lo | .statistics.latency.p50 >= $lo and .statistics.latency.p50 <= .statistics.latency.max' true
qsame "om: top_processes[0] is the workload" '.statistics.top_processes[0].pid' "$ompid"

# ---- a storm of 2,000,000 reads -----------------------------------------------------

N=2000000
SPEC_1='sys_read (arg3 == 1)'

# bpftrace 0.17 once failed to exit within the 5 s grace after SIGINT on a
# heavily loaded host (two test suites and a fuzzer on 2 CPUs): diagagent then
# kills it, its maps are lost and the totals cannot be exact. That is the host,
# not a wrong count: it is said below and the run is retried once.
not_stopped() { # not_stopped TAG: the trace failed because bpftrace was killed
	[ "$rc" -ne 0 ] && grep -q 'did not stop' "$TMP/$1.err"
}

# -M 1000: 1000 streamed, every one counted in the kernel.
storm_capped() { # storm_capped TAG
	trace_bg "$1" -M 1000 -n "$ST" -d 60 --json "$SPEC_1"
	smpid=0
	if wait_attached "$1"; then
		"$TMP/$ST" "$N" &
		smpid=$!
		wait "$smpid"
		same "$1: storm $N ran" "$?" 0
		sleep 0.5
	fi
	stop "$1" TERM
	J="$TMP/$1.out"
}
storm_capped sm
if not_stopped sm; then
	echo "# -M 1000: bpftrace did not exit within the grace after SIGINT; retrying once"
	storm_capped sm1
fi
same "-M 1000: exit 0" "$rc" 0
result_shape "-M 1000" "$SPEC_1"
qsame "-M 1000: event_count" .event_count 1000
qsame "-M 1000: streamed_events" .statistics.streamed_events 1000
qsame "-M 1000: capped" .statistics.capped true
qsame "-M 1000: total_events is every read" .statistics.total_events "$N"
qsame "-M 1000: probes[0].total_events" '.statistics.probes[0].total_events' "$N"
qsame "-M 1000: every event is the storm's" "[.events[] | select(.pid == $smpid)] | length" 1000
qsame "-M 1000: top_processes[0]" '.statistics.top_processes[0] | "\(.process_name) \(.pid) \(.event_count)"' "$ST $smpid $N"

# A one-page perf buffer and no -M: bpftrace must lose events, and the
# in-kernel count must stay exact anyway. A storm of 2,000,000 one-byte reads
# overflows one page (about 50 events) per CPU many times over; if nothing was
# lost (a machine fast enough to drain it), retry once with 4x the reads.
storm_lost() { # storm_lost TAG N
	trace_bg "$1" -b 1 -n "$ST" -d 120 --jsonl "$SPEC_1"
	slpid=0
	if wait_attached "$1"; then
		"$TMP/$ST" "$2" &
		slpid=$!
		wait "$slpid"
		same "$1: storm $2 ran" "$?" 0
		sleep 0.5
	fi
	stop "$1" TERM
	J="$TMP/$1.stats"
	tail -n 1 "$TMP/$1.out" >"$J"
}
storm_lost sl "$N"
if not_stopped sl; then
	echo "# -b 1: bpftrace did not exit within the grace after SIGINT; retrying once"
	storm_lost sl1 "$N"
fi
n_sl=$N
if [ "$(q '.statistics.lost_events // 0')" = 0 ] && [ "$rc" = 0 ]; then
	diag_note="no event lost with $N reads; retrying with $((4 * N))"
	echo "# $diag_note"
	n_sl=$((4 * N))
	storm_lost sl2 "$n_sl"
fi
same "-b 1: exit 0" "$rc" 0
qsame "-b 1: the last line is the statistics" 'keys | join(",")' statistics
qsame "-b 1: lost_events > 0" '.statistics.lost_events > 0' true
qsame "-b 1: total_events is still every read" .statistics.total_events "$n_sl"
qsame "-b 1: not capped" .statistics.capped false
qsame "-b 1: top_processes is the storm alone" \
	'[.statistics.top_processes[] | "\(.process_name) \(.pid) \(.event_count)"] | join(",")' "$ST $slpid $n_sl"
qsame "-b 1: streamed + lost <= total" '.statistics | .streamed_events + .lost_events <= .total_events' true
qsame "-b 1: streamed_events counts the event lines" .statistics.streamed_events \
	"$(($(wc -l <"$TMP/$(basename "$J" .stats).out") - 1))"
echo "# -b 1: $(q '.statistics | "total \(.total_events), streamed \(.streamed_events), lost \(.lost_events)"')"
