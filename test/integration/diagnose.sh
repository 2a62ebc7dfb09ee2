#!/usr/bin/env bash
# diagnose.sh - `diagagent diagnose` with the real bpftrace against workloads
# with known problems (test/workloads/*.c): each must be found, with the
# right figures, for the right process, and flagged; a second copy of each
# workload runs beside it and must not show with -p.
#
# A workload started with -w waits for a byte on stdin; the test writes it
# once stderr says "diagagent diagnose: attached", so the whole workload
# falls inside the window and its pid is known before. Reports are read
# from --json (the same object the terminal report is printed from).
. "$(dirname "$0")/../lib.sh"

W="$ROOT/$BUILD/workloads"
ATTACH_TIMEOUT=30
[ -n "$WRAP" ] && ATTACH_TIMEOUT=120

if [ "$(id -u)" -ne 0 ]; then
	skip "diagnose against ground truth" "not root"
	exit 0
fi
if ! command -v bpftrace >/dev/null; then
	skip "diagnose against ground truth" "bpftrace not installed"
	exit 0
fi
for w in openmissing fdleak fsyncer connrefused resolver spawner spin; do
	if [ ! -x "$W/$w" ]; then
		nok "workload $W/$w is built (make tests-bin)"
		exit 1
	fi
done

# ---- helpers -------------------------------------------------------------------

# diag_bg NAME ARGS...: `diagagent diagnose ARGS` in the background, stdout
# in $TMP/NAME.out, stderr in $TMP/NAME.err, its pid in $dpid.
diag_bg() {
	local name=$1; shift
	set -m
	$WRAP "$DIAG" diagnose "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	dpid=$!
	set +m
}

# attached NAME: 0 once NAME's stderr says the probes are attached.
attached() {
	local i
	for ((i = 0; i < ATTACH_TIMEOUT * 20; i++)); do
		grep -q '^diagagent diagnose: attached' "$TMP/$1.err" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# go NAME: write the start byte once NAME is attached (for a workload's stdin).
go() { attached "$1" && echo go; }

# finish NAME: wait for the diagnosis to end (at most 90 s); exit code in $rc.
finish() {
	local i
	for ((i = 0; i < 900; i++)); do
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$dpid" 2>/dev/null; then
		kill -KILL "$dpid"
		nok "$1: the diagnosis ended by itself"
	fi
	wait "$dpid"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		sed 's/^/#   stderr: /' "$TMP/$1.err" | head -n 20
		jq -r '"#   result: \(.status): \(.error)"' "$TMP/$1.out" 2>/dev/null | head -n 1
	fi
}

# q NAME JQ: a value from NAME's JSON result.
q() { jq -r "$2" "$TMP/$1.out"; }

# rows NAME SECTION [TABLE]: the rows of a report table, one JSON object per line.
rows() { jq -c --arg s "$2" --argjson t "${3:-0}" '.report.sections[] | select(.id == $s) | .tables[$t].rows[]' "$TMP/$1.out"; }

# issue NAME KIND JQ: a field of the first issue of that kind ("" when none).
issue() { jq -r --arg k "$2" "[.report.issues[] | select(.kind == \$k)][0] | $3 // empty" "$TMP/$1.out"; }

# ---- list and bad input ------------------------------------------------------------
capture list diag diagnose list
same "list: exit 0" "$rc" 0
same "list: every preset" "$(grep -c '^[a-z]' "$TMP/list.out")" 8
same "list: each runs here" "$(grep -c 'runs here' "$TMP/list.out")" 8
capture listj diag diagnose list --json
same "list --json: names, probes within the budget" \
	"$(jq -r '[.[] | select(.runs_here and .probes > 0 and .probes <= 64) | .name] | join(" ")' "$TMP/listj.out")" \
	"all dns errors exec fdleak fs net sched"
check "list --json: dns names the libc it attaches to" jq -e >/dev/null '.[] | select(.name == "dns") | .library | test("libc")' "$TMP/listj.out"

capture unknown diag diagnose disk
same "an unknown preset: exit 2" "$rc" 2
check "an unknown preset: names the ones there are" grep -q "no preset 'disk' (there are: all, dns, errors, exec, fdleak, fs, net, sched)" "$TMP/unknown.err"
capture nopreset diag diagnose
same "no preset: exit 2" "$rc" 2
capture baddur diag diagnose fs -d 0
same "-d 0: exit 2, says the range" "$rc $(grep -c 'bad duration' "$TMP/baddur.err")" "2 1"
capture badthr diag diagnose fs --slow-threshold 10parsecs
same "a bad threshold: exit 2" "$rc" 2
capture badcg diag diagnose fs -c /nonexistent-cgroup
same "a cgroup that is not there: exit 2" "$rc" 2
check "a cgroup that is not there: a hint" grep -q "is not a directory (hint: a cgroup v2 directory" "$TMP/badcg.err"
if command -v setpriv >/dev/null; then
	capture notroot setpriv --reuid=65534 --regid=65534 --clear-groups "$DIAG" diagnose fs -d 1
	same "not root: exit 3" "$rc" 3
fi

# A preset this host cannot run, and a broken one, from $DIAGAGENT_PRESETS.
mkdir -p "$TMP/presets"
sed 's/sys_enter_fsync,/sys_enter_nosuchcall,/' "$ROOT/scripts/presets/fs.bt" >"$TMP/presets/fs.bt"
sed 's|^//@record 70 sample nr err a0:str a1:str|//@record 70 sample nr err a0:str|' "$ROOT/scripts/presets/errors.bt" >"$TMP/presets/errors.bt"
capture missingtp env DIAGAGENT_PRESETS="$TMP/presets" $WRAP "$DIAG" diagnose fs -d 1
same "a tracepoint this kernel lacks: exit 3" "$rc" 3
check "a tracepoint this kernel lacks: named" grep -q "this kernel has no tracepoint syscalls:sys_enter_nosuchcall" "$TMP/missingtp.err"
capture badrec env DIAGAGENT_PRESETS="$TMP/presets" $WRAP "$DIAG" diagnose errors -d 1
same "a print that does not match its //@record: exit 2" "$rc" 2
check "a print that does not match its //@record: file and line" grep -q "errors.bt: line [0-9]*: record 70 (sample) prints 4 values; //@record says 3" "$TMP/badrec.err"

# ---- errors: 500 ENOENT on openat, that process ---------------------------------------
mkdir -p "$TMP/om" "$TMP/om2"
capture pid0 diag diagnose errors -p 0
same "-p 0 is refused" "$rc" 2
{ go err; } | "$W/openmissing" -w "$TMP/om" 500 &
om=$!
{ go err; } | "$W/openmissing" -w "$TMP/om2" 77 &
noise=$!
diag_bg err errors -d 3 --json -p "$om"
wait "$om"
same "openmissing: 500 failed opens" "$?" 0
wait "$noise"
finish err
same "errors: exit 0, completed" "$rc $(q err .status)" "0 completed"
same "errors: openat ENOENT, exactly 500" "$(rows err errors | jq -r 'select(.syscall == "openat" and .errno == "ENOENT") | .count')" 500
same "errors: only that process" "$(rows err errors | jq -r 'select(.syscall == "openat") | .processes')" "openmissing[$om] 500"
check "errors: a sample path of its own" grep -q "^$TMP/om/missing-[0-9]*$" <(rows err errors | jq -r 'select(.syscall == "openat") | .sample')
same "errors: flagged" "$(issue err syscall_errors .title)" "openat failed 500 times with ENOENT (No such file or directory)"
same "errors: the next trace, for that pid, runs here" "$(issue err syscall_errors '.next | [.runs_here, .command] | map(tostring) | join("|")')" \
	"true|diagagent trace -p $om -d 10 'r::sys_openat ((int)retval == -2) \"ENOENT: %s\", arg2'"
check "errors: the other process's 77 are not counted" sh -c "! grep -q '$noise' '$TMP/err.out'"

# ---- errors again, by cgroup: only the process moved into it -----------------------------
cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -z "$cg2" ]; then
	skip "errors by cgroup" "no cgroup v2 mounted"
else
	cg="$cg2/diagtest-$$"
	mkdir -p "$TMP/om5" "$TMP/om6" && mkdir "$cg"
	{ go cg; } | "$W/openmissing" -w "$TMP/om5" 40 &
	om5=$!
	{ go cg; } | "$W/openmissing" -w "$TMP/om6" 25 &
	om6=$!
	echo "$om5" >"$cg/cgroup.procs"
	diag_bg cg errors -d 3 --json -c "diagtest-$$"
	wait "$om5" "$om6"
	finish cg
	same "cgroup: exit 0" "$rc" 0
	same "cgroup: the path as resolved" "$(q cg .report.filters.cgroup)" "$cg"
	same "cgroup: only the process in it" "$(rows cg errors | jq -r 'select(.syscall == "openat") | .processes')" "openmissing[$om5] 40"
	rmdir "$cg"
fi

# ---- fdleak: +200 for that pid, flagged -----------------------------------------------
mkdir -p "$TMP/lk" "$TMP/lk2"
{ go leak; } | "$W/fdleak" -w "$TMP/lk" 200 60 &
lk=$!
{ go leak; } | "$W/fdleak" -w "$TMP/lk2" 30 60 &
lk2=$!
diag_bg leak fdleak -d 3 --json -p "$lk"
finish leak
same "fdleak: exit 0" "$rc" 0
same "fdleak: opened 200, closed 0, net +200, 200 still open" \
	"$(rows leak descriptors | jq -r "select(.process == \"fdleak[$lk]\") | [.opened, .closed, .net, .open_now, .state] | join(\" \")")" \
	"200 0 200 200 running"
same "fdleak: /proc agrees: 200 more at the end" "$(rows leak descriptors | jq -r "select(.process == \"fdleak[$lk]\") | .end - .start")" 200
same "fdleak: what they are" "$(rows leak descriptors 1 | jq -r '[.target, .count] | join(" ")')" "$TMP/lk/leak-N 200"
same "fdleak: flagged" "$(issue leak fd_leak .title)" \
	"descriptor leak: fdleak[$lk] opened 200 and closed 0 descriptors: +200 in 3.0 s (66.7/s)"
same "fdleak: the next trace runs here" "$(issue leak fd_leak .next.runs_here)" true
same "fdleak: only that process" "$(rows leak descriptors | wc -l)" 1
kill "$lk" "$lk2" 2>/dev/null
wait "$lk" "$lk2" 2>/dev/null

# ---- fs: 100 writes and fsyncs, exact, with latency -------------------------------------
mkdir -p "$TMP/fs"
{ go fs; } | "$W/fsyncer" -w "$TMP/fs/data" 100 &
fsy=$!
{ go fs; } | "$W/fsyncer" -w "$TMP/fs/other" 20 &
fsy2=$!
diag_bg fs fs -d 3 --json -p "$fsy" --slow-threshold 1us
wait "$fsy"
same "fsyncer: done" "$?" 0
wait "$fsy2"
finish fs
same "fs: exit 0" "$rc" 0
same "fs: 100 fsyncs, 100 writes of 409600 bytes, counted exactly" \
	"$(rows fs operations | jq -r 'select(.op == "fsync" or .op == "write") | [.op, .count, .bytes, .errors] | join(" ")' | sort | tr '\n' ';')" \
	"fsync 100 0 0;write 100 409600 0;"
same "fs: fsync latency from every call" "$(rows fs operations | jq -r 'select(.op == "fsync") | [.source, (.p50 > 0 and .p50 <= .p99 and .p99 <= .max)] | map(tostring) | join(" ")')" "exact true"
same "fs: the top file by bytes is the one written" "$(rows fs files | head -n1 | jq -r '[.file, .type, .written] | join(" ")')" "$TMP/fs/data file 409600"
same "fs: every fsync is slow at a 1 us threshold" "$(rows fs slow | jq -r 'select(.op == "fsync") | .file' | sort -u)" "$TMP/fs/data"
check "fs: slow operations flagged" grep -q '^[0-9]* file operations took 1 us or more' <(issue fs slow_io .title)
check "fs: the other process is not counted" sh -c "! grep -q '$TMP/fs/other' '$TMP/fs.out'"

# ---- net: 100 ECONNREFUSED to 127.0.0.1:PORT, flagged -----------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
{ go net; } | "$W/connrefused" -w "$port" 100 &
cr=$!
{ go net; } | "$W/connrefused" -w "$port" 30 &
cr2=$!
diag_bg net net -d 3 --json -p "$cr"
wait "$cr"
same "connrefused: 100 refused" "$?" 0
wait "$cr2"
finish net
same "net: exit 0" "$rc" 0
same "net: 100 ECONNREFUSED to 127.0.0.1:$port" \
	"$(rows net net_failures | jq -r '[.destination, .errno, .count, .process] | join(" ")')" \
	"127.0.0.1:$port ECONNREFUSED 100 connrefused[$cr]"
same "net: flagged" "$(issue net connect_failures .title)" "100 connections to 127.0.0.1:$port failed: ECONNREFUSED (Connection refused)"
same "net: 100 connect() calls, 100 handshakes that failed" "$(rows net destinations | jq -r '[.destination, .connects, .handshakes, .failed] | join(" ")')" \
	"127.0.0.1:$port 100 100 100"

# ---- dns: the names and counts --------------------------------------------------------
{ go dns; } | "$W/resolver" -w gai:localhost:5 num:localhost:3 ghbn:localhost:2 ghbnr:localhost:4 num:no-such-name.invalid:6 >"$TMP/res.out" &
rs=$!
{ go dns; } | "$W/resolver" -w gai:localhost:9 >/dev/null &
rs2=$!
diag_bg dns dns -d 3 --json -p "$rs" --error-threshold 5
wait "$rs" "$rs2"
finish dns
same "dns: exit 0" "$rc" 0
same "resolver: what it saw" "$(tr '\n' ';' <"$TMP/res.out")" "gai localhost 5 0;num localhost 0 3;ghbn localhost 2 0;ghbnr localhost 4 0;num no-such-name.invalid 0 6;"
same "dns: per name, lookups and failures" "$(rows dns dns 1 | jq -r '[.name, .lookups, .failed] | join(" ")' | tr '\n' ';')" \
	"no-such-name.invalid 6 6;localhost 14 3;"
same "dns: every lookup's latency, exact" "$(rows dns dns | jq -r '[.count, .source] | join(" ")')" "20 exact"
check "dns: by function" grep -q 'getaddrinfo 14, gethostbyname 2, gethostbyname2 0, gethostbyname_r 4' <(q dns '.report.sections[0].notes[0]')
same "dns: the failing name flagged" "$(issue dns dns_failures .title)" "6 of 6 lookups of 'no-such-name.invalid' failed: EAI_NONAME (Name or service not known)"

# ---- exec: 300 short-lived processes, a storm ------------------------------------------
{ go exec; } | "$W/spawner" -w 300 /bin/true &
sp=$!
{ go exec; } | "$W/spawner" -w 40 /bin/true &
sp2=$!
diag_bg exec exec -d 4 --json -p "$sp"
wait "$sp"
same "spawner: 300 children" "$?" 0
wait "$sp2"
finish exec
same "exec: exit 0" "$rc" 0
check "exec: 300 executions, none failed" grep -q '^300 executions (.*), 0 failed attempts' <(q exec '.report.sections[] | select(.id == "exec") | .notes[0]')
same "exec: the command line, 300 times" "$(rows exec exec | jq -r 'select(.command == "/bin/true") | .count')" 300
same "exec: 300 exits of true, code 0" "$(rows exec exits | jq -r 'select(.comm == "true") | [.how, .count] | join(" ")')" "exit 0 300"
check "exec: flagged as a storm" grep -q '^process storm: 30[01] short-lived processes' <(issue exec process_storm .title)
same "exec: the parent named" "$(issue exec process_storm '.evidence[0]')" "spawner[$sp] started 300 of the 300 executions"
same "exec: the other spawner is not counted" "$(rows exec forks | jq -r .process)" "spawner[$sp]"

# ---- sched: three spinners on fewer CPUs wait in the run queue ---------------------------
ncpu=$(nproc)
spins=()
for ((i = 0; i <= ncpu; i++)); do
	{ go sched; } | "$W/spin" -w 1500 &
	spins+=($!)
done
diag_bg sched sched -d 3 --json -p "${spins[0]}" --slow-threshold 1ms
wait "${spins[@]}"
finish sched
same "sched: exit 0" "$rc" 0
same "sched: only that process waits in the table" "$(rows sched runq_procs | jq -r .process)" "spin[${spins[0]}]"
check "sched: it waited for a CPU" test "$(rows sched runq_procs | jq -r .waits)" -gt 0
same "sched: percentiles say they are estimated" "$(rows sched runq | jq -r .source)" histogram
check "sched: waits over 1 ms flagged" grep -q 'run-queue waits of 1 ms or more' <(issue sched runq_latency .title)

# ---- all: the overview finds them together ------------------------------------------------
mkdir -p "$TMP/om3" "$TMP/lk3"
# 1000 failed opens: the overview is host-wide, so they must outnumber what
# anything else running fails (a compiler's include search fails hundreds)
{ go all; } | "$W/openmissing" -w "$TMP/om3" 1000 &
a1=$!
{ go all; } | "$W/fdleak" -w "$TMP/lk3" 150 60 &
a2=$!
{ go all; } | "$W/spawner" -w 200 /bin/true &
a3=$!
diag_bg all all -d 4 --json
wait "$a1" "$a3"
finish all
same "all: exit 0" "$rc" 0
check "all: the failed opens" grep -q "openmissing\[$a1\] 1000" <(jq -r '.report.issues[] | select(.kind == "syscall_errors") | .evidence | join(" ")' "$TMP/all.out")
check "all: the storm" grep -q '^process storm' <(issue all process_storm .title)
same "all: the descriptor growth, from /proc" "$(rows all fd_growth | jq -r "select(.process == \"fdleak[$a2]\") | .net")" 150
check "all: its next step is the fdleak diagnosis" grep -q "diagagent diagnose fdleak -p $a2" <(jq -r '.report.issues[].next.command' "$TMP/all.out")
kill "$a2" 2>/dev/null
wait "$a2" 2>/dev/null

# ---- the terminal report, and a replay of the same output ---------------------------------
mkdir -p "$TMP/om4"
{ go txt; } | "$W/openmissing" -w "$TMP/om4" 60 &
om4=$!
diag_bg txt errors -d 2 -p "$om4" --raw-out "$TMP/raw.jsonl"
wait "$om4"
finish txt
same "terminal: exit 0" "$rc" 0
check "terminal: the table" grep -q "^    openat  *ENOENT  *60 " "$TMP/txt.out"
check "terminal: the issue, numbered" grep -q "^  1\. \[notice\] openat failed 60 times with ENOENT" "$TMP/txt.out"
check "terminal: with its next trace" grep -q "^     next: diagagent trace -p $om4 -d 10 'r::sys_openat" "$TMP/txt.out"
check "terminal: the timeline" grep -q "^  failed syscalls  *|" "$TMP/txt.out"
capture replay diag diagnose errors -d 2 -p "$om4" --replay "$TMP/raw.jsonl" --json
same "replay: exit 0" "$rc" 0
same "replay: the same count" "$(rows replay errors | jq -r 'select(.syscall == "openat") | .count')" 60

no_left() { ! pgrep -x bpftrace >/dev/null; }
check "no bpftrace left" no_left
