#!/usr/bin/env bash
# agent.sh - `diagagent run` against the reference control server, real HTTP
# and real bpftrace: a trace job checked against a workload with known reads
# (spec and structured forms), command jobs (output, exit codes, head+tail
# truncation, time-outs), rejections naming the field and the range, a job
# delivered twice running once, cancel of a running trace keeping its events,
# the heartbeat's contents, and the spool's permissions.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/test/agentlib.sh"

start_server || exit 0
write_conf a1 allow_commands=true 'command_allow=^echo [a-z ]+$' 'command_allow=^(sh -c .*|sleep [0-9]+|head -c [0-9]+ /dev/zero)$' \
	max_output_bytes=4096
start_agent a1
a1=$apid
wait_log a1 'polling http' || nok "agent a1 started: $(tail -n3 "$TMP/a1.log")"

# ---- a trace job against ground truth -----------------------------------------
"$WL/readloop" 500 300 "$TMP/go1" &
rl=$!
enqueue a1 '{"ebpf_programs": [{"id": "t1", "spec": "sys_read (arg3 == 4096) \"read %d bytes\", arg3", "duration": 3, "pid": '"$rl"'}]}'
if wait_log a1 'job t1: attached' 30; then
	touch "$TMP/go1"
	wait "$rl"
	same "readloop exits 0" "$?" 0
	wait_results a1 1 30
	same "t1: status" "$(result a1 t1 .status)" completed
	same "t1: success" "$(result a1 t1 .success)" true
	same "t1: event_count is the 500 reads of 4096" "$(result a1 t1 .event_count)" 500
	same "t1: kernel total" "$(result a1 t1 .statistics.total_events)" 500
	same "t1: every event is the workload's" "$(result a1 t1 '[.events[] | select(.pid == '"$rl"' and .raw_args.arg3 == "4096" and .message == "read 4096 bytes")] | length')" 500
	same "t1: kind, type, duration asked" "$(result a1 t1 '[.kind, .type, .duration] | join(" ")')" "trace bcc_trace 3"
	same "t1: the spec as sent" "$(result a1 t1 .spec)" 'sys_read (arg3 == 4096) "read %d bytes", arg3'
	check "t1: the program that ran" grep -q 'tracepoint:syscalls:sys_enter_read' <(result a1 t1 .program)
	check "t1: times are RFC 3339 UTC" grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z [0-9]{4}-[0-9-]+T[0-9:.]+Z$' <(result a1 t1 '"\(.started_at) \(.finished_at)"')
else
	nok "t1: the trace attached: $(tail -n3 "$TMP/a1.log")"
	kill "$rl"
fi

# ---- the structured form, through the spec builder ----------------------------
"$WL/readloop" 200 70 "$TMP/go2" &
rl=$!
enqueue a1 '{"ebpf_programs": [{"id": "t2", "name": "small_reads", "type": "tracepoint", "target": "syscalls:sys_enter_read",
	"filter": "args->count == 100", "format": "count %d", "arguments": ["args->count"], "duration": 2,
	"filters": {"pid": '"$rl"'}, "max_events": 50}]}'
if wait_log a1 'job t2: attached' 30; then
	touch "$TMP/go2"
	wait "$rl"
	wait_results a1 2 30
	same "t2: structured form completed" "$(result a1 t2 .status)" completed
	same "t2: the kernel counts all 70 small reads" "$(result a1 t2 .statistics.total_events)" 70
	same "t2: max_events caps the stream at 50" "$(result a1 t2 .event_count)" 50
	same "t2: capped is reported" "$(result a1 t2 .statistics.capped)" true
	same "t2: messages" "$(result a1 t2 '[.events[].message] | unique | join(",")')" "count 100"
	same "t2: canonical spec" "$(result a1 t2 .spec)" 't:syscalls:sys_enter_read (args->count == 100) "count %d", args->count'
else
	nok "t2: the trace attached: $(tail -n3 "$TMP/a1.log")"
	kill "$rl"
fi

# ---- commands ------------------------------------------------------------------
enqueue a1 '{"commands": [
	{"id": "c1", "command": "echo hello world"},
	{"id": "c2", "command": "sh -c \"echo out; echo err >&2; exit 3\""},
	{"id": "c3", "command": "head -c 100000 /dev/zero", "timeout": 10},
	{"id": "c4", "command": "sleep 30", "timeout": 1},
	{"id": "c5", "command": "rm -rf /tmp/nothing"},
	{"id": "c6", "command": "echo hi", "timeout": 301},
	{"id": "c7", "command": 42},
	{"command": "echo no id"}]}'
wait_results a1 10 30
same "c1: completed" "$(result a1 c1 '[.status, .success, .exit_code] | join(" ")')" "completed true 0"
same "c1: stdout" "$(result a1 c1 .stdout)" "hello world"
same "c2: exit 3 is failed with the code" "$(result a1 c2 '[.status, .success, .exit_code, .error] | join("|")')" "failed|false|3|exited with status 3"
same "c2: stdout and stderr apart" "$(result a1 c2 '[.stdout, .stderr] | @json')" '["out\n","err\n"]'
same "c3: output cut, head and tail kept" "$(result a1 c3 '[.stdout_truncated, .stdout_bytes] | join(" ")')" "true 100000"
same "c3: marker says how much was cut" "$(result a1 c3 '.stdout | test("\\[\\.\\.\\. 95904 bytes cut \\.\\.\\.\\]")')" true
same "c4: time-out" "$(result a1 c4 '[.status, .signal, .error] | join("|")')" "timeout|SIGTERM|timed out after 1 s"
check "c4: stopped within the grace" test "$(result a1 c4 .duration_ms)" -lt 4000
same "c5: not allow-listed" "$(result a1 c5 '[.status, .success] | join(" ")')" "rejected false"
check "c5: says why" grep -q 'no command_allow pattern' <(result a1 c5 .error)
same "c6: timeout out of range names the range" "$(result a1 c6 .error)" "'timeout' is 301, out of range: seconds must be 1..300"
same "c7: wrong type names the field" "$(result a1 c7 .error)" "'command' must be a string"
check "a job without an id gets a stable derived one" grep -q '^job-[0-9a-f]\{16\}$' <(jq -r '.results[] | select(.command == "echo no id") | .id' "$TMP/a1.res")
check "no command output in the log" sh -c "! grep -q 'hello world\|^out$' '$TMP/a1.log'"

# ---- rejections ------------------------------------------------------------------
enqueue a1 '{"ebpf_programs": [
	{"id": "r1", "spec": "sys_read", "duration": 601},
	{"id": "r2", "spec": "sys_read", "duration": 2.5},
	{"id": "r3", "spec": "sys_read (arg3 >", "duration": 1},
	{"id": "r4", "type": "kprobe", "target": "vfs_read", "library": "/bin/ls"},
	{"id": "r5", "spec": "sys_read", "max_events": 0},
	{"id": "r6", "program": "BEGIN { exit(); }"},
	{"id": "r7", "spec": "sys_read", "filters": {"pid": "12"}}],
	"suggestions": [{"id": "s1", "query": "file not found"}, {"id": "s2", "query": "x", "max": 51}],
	"diagnostics": [{"id": "d1", "preset": "disk"}]}'
wait_results a1 20 30
same "r1: duration out of range" "$(result a1 r1 '[.status, .error] | join("|")')" "rejected|'duration' is 601, out of range: seconds must be 1..600"
same "r2: fractional duration" "$(result a1 r2 .error)" "'duration' must be a whole number of seconds (1..600)"
check "r3: a bad spec says where" grep -q "^'spec': " <(result a1 r3 .error)
same "r4: library on a kprobe" "$(result a1 r4 .error)" "'library' is only for uprobe, uretprobe and usdt, not kprobe"
same "r5: max_events range" "$(result a1 r5 .error)" "'max_events' is 0, out of range: events must be 1..10000"
same "r6: raw programs are off" "$(result a1 r6 .error)" "raw bpftrace programs are disabled on this agent (allow_raw_programs = false in agent.conf)"
same "r7: pid must be a number" "$(result a1 r7 .error)" "'pid' must be a whole number of process ids (1..2147483647)"
same "s1: answered" "$(result a1 s1 '[.kind, .status, .query, .matched] | join("|")')" "suggestion|completed|file not found|true"
same "s1: openat first, with the ENOENT spec" "$(result a1 s1 '.suggestions[0] | [.target, .spec] | join("|")')" 'openat|r::sys_openat ((int)retval == -2) "ENOENT: %s", arg2'
same "s1: at most five suggestions by default, queued_at kept" "$(result a1 s1 '[(.suggestions | length | . >= 1 and . <= 5), (.queued_at | type)] | map(tostring) | join(" ")')" "true string"
same "s2: max out of range" "$(result a1 s2 '[.status, .error] | join("|")')" "rejected|'max' is 51, out of range: suggestions must be 1..50"
same "d1: an unknown preset, named with the ones there are" "$(result a1 d1 '[.kind, .status, .error] | join("|")')" "diagnostic|rejected|no preset 'disk': one of all, dns, errors, exec, fdleak, fs, net, sched"

# ---- the same id twice runs once ------------------------------------------------
enqueue a1 '{"commands": [{"id": "c1", "command": "echo hello world"}, {"command": "echo no id"}]}'
wait_log a1 'job c1: already done here' 10
wait_log a1 'job job-[0-9a-f]+: already done here' 10
sleep 1.5 # one more poll: nothing new may arrive
wait_results a1 20 10
same "redelivered jobs ran once: one result each" "$(jq '[.deliveries[]] | max' "$TMP/a1.res")" 1
same "no new results" "$(jq '.results | length' "$TMP/a1.res")" 20

# ---- cancel of a running trace keeps its events ---------------------------------
"$WL/readloop" 300 0 "$TMP/go3" &
rl=$!
enqueue a1 '{"ebpf_programs": [{"id": "t3", "spec": "sys_read (arg3 == 4096)", "duration": 120, "pid": '"$rl"'}]}'
if wait_log a1 'job t3: attached' 30; then
	touch "$TMP/go3"
	wait "$rl"
	sleep 0.5
	enqueue a1 '{"cancel": ["t3"]}'
	wait_results a1 21 30
	same "t3: cancelled" "$(result a1 t3 '[.status, .success] | join(" ")')" "cancelled false"
	same "t3: with the 300 events so far" "$(result a1 t3 .event_count)" 300
	check "t3: stopped long before its 120 s" test "$(result a1 t3 '.elapsed | floor')" -lt 30
else
	nok "t3 attached: $(tail -n3 "$TMP/a1.log")"
	kill "$rl"
fi

# ---- a diagnostics job: the same diagnosis as `diagagent diagnose` ---------------
mkdir -p "$TMP/om"
{ wait_log a1 'job d2: attached' 60 && echo go; } | "$WL/openmissing" -w "$TMP/om" 200 &
om=$!
enqueue a1 '{"diagnostics": [{"id": "d2", "preset": "errors", "duration": 4, "pid": '"$om"', "error_threshold": 50}]}'
wait "$om"
same "d2: the workload's 200 failed opens" "$?" 0
wait_results a1 22 60
same "d2: completed, kind and preset" "$(result a1 d2 '[.kind, .status, .preset, (.queued_at | type)] | join(" ")')" "diagnostic completed errors string"
same "d2: the issue, with the kernel's exact count" "$(result a1 d2 '.report.issues[0].title')" "openat failed 200 times with ENOENT (No such file or directory)"
same "d2: only that process" "$(result a1 d2 '[.report.sections[0].tables[0].rows[] | .processes | test("^openmissing\\['"$om"'\\] [0-9]+$")] | all')" true
same "d2: a next trace that runs here" "$(result a1 d2 '.report.issues[0].next | [.runs_here, .spec] | map(tostring) | join("|")')" 'true|r::sys_openat ((int)retval == -2) "ENOENT: %s", arg2'

# ---- the heartbeat ---------------------------------------------------------------
cli heartbeats a1 >"$TMP/hb.json"
same "heartbeat: agent id and version" "$(jq -r '.last | "\(.agent_id) \(.version)"' "$TMP/hb.json")" "a1 $(diag --version | cut -d' ' -f2)"
same "heartbeat: the caps object of diagagent caps --json" "$(jq -c '.last.capabilities | keys' "$TMP/hb.json")" "$(diag caps --json | jq -c keys)"
check "heartbeat: kernel and time" jq -e >/dev/null '.last.kernel == "'"$(uname -r)"'" and (.last.time | test("Z$"))' "$TMP/hb.json"
check "heartbeat: outbox and running jobs" jq -e >/dev/null '.last.outbox_pending >= 0 and (.last.running_jobs | type == "array")' "$TMP/hb.json"
same "User-Agent" "$(jq -r .user_agent "$TMP/hb.json")" "diagagent/$(diag --version | cut -d' ' -f2)"

# ---- the spool -------------------------------------------------------------------
same "spool_dir is 0700" "$(stat -c %a "$TMP/a1.spool")" 700
same "outbox and ledger are 0700" "$(stat -c %a "$TMP/a1.spool/outbox") $(stat -c %a "$TMP/a1.spool/ledger")" "700 700"
same "ledger files are 0600" "$(find "$TMP/a1.spool/ledger" -type f ! -perm 600 | wc -l)" 0
same "the outbox is empty once all is acknowledged" "$(find "$TMP/a1.spool/outbox" -name '*.json' | wc -l)" 0
check "the token is never logged" sh -c "! grep -q '$TOKEN' '$TMP/a1.log'"

stop_agent "$a1" TERM
same "SIGTERM: exit 0" "$arc" 0
no_bpftrace "no bpftrace left"
