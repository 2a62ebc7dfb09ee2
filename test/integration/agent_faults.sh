#!/usr/bin/env bash
# agent_faults.sh - `diagagent run` when things go wrong, against the real
# control server and real bpftrace: the server down for 20 s while jobs
# finish (every result arrives, once per id); SIGKILL during a trace and a
# restart (an "interrupted" result, no bpftrace left, not run again);
# garbage, truncated, huge and wrongly typed replies (clear log lines, the
# agent keeps working, memory stays bounded); refused uploads retried;
# a refused token logged once; SIGTERM with jobs running (cancelled results
# flushed, exit 0, no children left); SIGHUP reloads; --once.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/test/agentlib.sh"

start_server || exit 0

# ---- the server down for 20 s while jobs finish --------------------------------
write_conf a2 allow_commands=true 'command_allow=^sleep [0-9]+; echo [a-z]+$'
start_agent a2
a2=$apid
"$WL/readloop" 400 0 "$TMP/go2" &
rl=$!
enqueue a2 '{"ebpf_programs": [{"id": "t1", "spec": "sys_read (arg3 == 4096)", "duration": 4, "pid": '"$rl"'}],
	"commands": [{"id": "c1", "command": "sleep 2; echo one"}, {"id": "c2", "command": "sleep 3; echo two"}]}'
if wait_log a2 'job t1: attached' 30; then
	touch "$TMP/go2"
	wait "$rl"
	stop_server
	sleep 20
	check "the agent kept running while the server was down" alive "$a2"
	check "failures were logged with the backoff" grep -q 'results: .*failure [0-9]* in a row; next try in' "$TMP/a2.log"
	same "the results waited in the outbox" "$(find "$TMP/a2.spool/outbox" -maxdepth 1 -name '*.json' | wc -l)" 3
	start_server "$PORT"
	wait_results a2 3 30
	same "after the outage every result arrived" "$(jq -r '[.results[].id] | sort | join(" ")' "$TMP/a2.res")" "c1 c2 t1"
	same "once per id" "$(jq '[.deliveries[]] | max' "$TMP/a2.res")" 1
	same "t1 counted the 400 reads" "$(result a2 t1 .event_count)" 400
	same "c2 finished while the server was down" "$(result a2 c2 '[.status, .stdout] | @json')" '["completed","two\n"]'
else
	nok "t1 attached: $(tail -n3 "$TMP/a2.log")"
	kill "$rl"
fi
stop_agent "$a2" TERM
same "a2: SIGTERM exit 0" "$arc" 0

# ---- SIGKILL during a trace, then a restart ----------------------------------------
write_conf a3
start_agent a3
a3=$apid
enqueue a3 '{"ebpf_programs": [{"id": "k1", "spec": "sys_read", "duration": 60}]}'
if wait_log a3 'job k1: attached' 30; then
	kill -KILL "$a3"
	wait "$a3" 2>/dev/null
	no_bpftrace "SIGKILL of the agent: its bpftrace dies with it"
	mv "$TMP/a3.log" "$TMP/a3.first.log"
	start_agent a3
	a3=$apid
	wait_results a3 1 30
	same "k1: failed after the restart" "$(result a3 k1 '[.status, .success, .kind] | join(" ")')" "failed false trace"
	check "k1: says it was interrupted" grep -q '^interrupted by agent restart' <(result a3 k1 .error)
	check "k1: is not run again" sh -c "! grep -q 'job k1: trace started' '$TMP/a3.log'"
	enqueue a3 '{"ebpf_programs": [{"id": "k1", "spec": "sys_read", "duration": 60}]}'
	wait_log a3 'job k1: already done here' 10
	check "k1 delivered again after the restart: still not run" sh -c "! grep -q 'job k1: trace started' '$TMP/a3.log'"
else
	nok "k1 attached: $(tail -n3 "$TMP/a3.log")"
fi
stop_agent "$a3" TERM

# ---- bad replies from the server --------------------------------------------------
write_conf a4 http_timeout=2 allow_commands=true 'command_allow=^echo [a-z]+$'
cli faults '[{"path": "/agents/a4/jobs", "body": "<<<not json>>>"},
	{"path": "/agents/a4/jobs", "body": "{\"commands\": [{\"id\": \"x\", \"comm"},
	{"path": "/agents/a4/jobs", "body": "y", "size": 20000000},
	{"path": "/agents/a4/jobs", "body": "[1, 2, 3]"},
	{"path": "/agents/a4/jobs", "body": "{\"commands\": \"echo hi\", \"ebpf_programs\": [5, \"x\"], \"cancel\": 7}"},
	{"path": "/agents/a4/jobs", "delay": 4},
	{"path": "/agents/a4/heartbeat", "body": "zzz"}]' >/dev/null
start_agent a4
a4=$apid
wait_log a4 'jobs: .*failure' 30
check "garbage: not valid JSON, said once with where" wait_log a4 "jobs: the job batch is not valid JSON \(.*near '<<<not json>>>'\)" 30
check "truncated JSON: said" wait_log a4 'jobs: the job batch is not valid JSON .*(premature end|unexpected end|end of file)' 30
check "huge body: said, with the cap" wait_log a4 'jobs: the reply is larger than 16777216 bytes' 30
check "wrong type: said" wait_log a4 'jobs: the job batch is not a JSON object' 30
check "a list that is not a list: said" wait_log a4 "jobs: 'commands' is not a list: ignored; 'cancel' is not a list: ignored" 30
check "a slow server: the time-out said" wait_log a4 'jobs: no complete answer within 2 s' 30
check "a heartbeat answer that is not JSON: said" grep -q 'heartbeat: the answer is not a JSON object' "$TMP/a4.log"
cli faults '[{"path": "/agents/a4/results", "status": 503, "count": 2}]' >/dev/null
enqueue a4 '{"commands": [{"id": "ok1", "command": "echo fine"}]}'
wait_results a4 3 40
same "after all that, a job still runs" "$(result a4 ok1 '[.status, .stdout] | @json')" '["completed","fine\n"]'
same "jobs that are not objects are rejected, each with its own id" "$(jq -r '[.results[] | select(.error == "a job must be a JSON object") | .id | test("^job-[0-9a-f]{16}$")] | join(" ")' "$TMP/a4.res")" "true true"
same "503s on upload: delivered once in the end" "$(jq -r '.deliveries.ok1' "$TMP/a4.res")" 1
check "the agent is alive" alive "$a4"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$a4/status")
# valgrind and ASan (its quarantine keeps freed memory) make RSS meaningless.
if [ -z "$WRAP" ] && [[ $BUILD != *asan* ]]; then
	check "memory bounded after a 20 MB reply (VmRSS ${rss} kB < 40 MB)" test "${rss:-999999}" -lt 40960
fi
check "no token in the log" sh -c "! grep -q '$TOKEN' '$TMP/a4.log'"
stop_agent "$a4" TERM

# ---- a refused token -------------------------------------------------------------
echo wrong-token >"$TMP/wrong"
chmod 600 "$TMP/wrong"
write_conf a6 "token_file=$TMP/wrong"
start_agent a6
a6=$apid
wait_log a6 'jobs: the server refused the token' 60
wait_log a6 'heartbeat: the server refused the token' 60
sleep 3 # a few retries more: still logged once
same "401 logged once per request kind" "$(grep -c 'the server refused the token (HTTP 401)' "$TMP/a6.log")" 2
check "with a hint" grep -q "check token_file '$TMP/wrong'" "$TMP/a6.log"
check "the agent keeps running" alive "$a6"
stop_agent "$a6" TERM

# ---- SIGTERM with jobs running --------------------------------------------------
write_conf a5 allow_commands=true 'command_allow=^sleep [0-9]+$' max_concurrent_jobs=2
start_agent a5
a5=$apid
"$WL/readloop" 250 0 "$TMP/go5" &
rl=$!
enqueue a5 '{"ebpf_programs": [{"id": "s1", "spec": "sys_read (arg3 == 4096)", "duration": 120, "pid": '"$rl"'}],
	"commands": [{"id": "s2", "command": "sleep 60", "timeout": 120}]}'
if wait_log a5 'job s1: attached' 30 && wait_log a5 'job s2: command started' 10; then
	enqueue a5 '{"commands": [{"id": "s3", "command": "sleep 61"}]}'
	wait_log a5 'job s3: command queued' 10
	touch "$TMP/go5"
	wait "$rl"
	sleep 0.5
	stop_agent "$a5" TERM
	same "SIGTERM with jobs running: exit 0" "$arc" 0
	wait_results a5 3 10
	same "s1: cancelled, with the 250 events so far" "$(result a5 s1 '[.status, .event_count] | join(" ")')" "cancelled 250"
	same "s2: the running command cancelled" "$(result a5 s2 .status)" cancelled
	same "s3: the queued one cancelled before it started" "$(result a5 s3 '[.status, .error] | join("|")')" "cancelled|the agent shut down before the job started"
	no_bpftrace "no bpftrace left"
	check "no command left" sh -c "! pgrep -f '^sleep 6[01]$'"
	same "the outbox is empty: all flushed" "$(find "$TMP/a5.spool/outbox" -maxdepth 1 -name '*.json' | wc -l)" 0
else
	nok "s1 attached and s2 started: $(tail -n3 "$TMP/a5.log")"
	kill "$rl"
	stop_agent "$a5" KILL
fi

# ---- SIGHUP reloads ------------------------------------------------------------------
write_conf a7
start_agent a7
a7=$apid
wait_log a7 'polling http' 60
write_conf a7 poll_interval=2 log_level=debug
kill -HUP "$a7"
check "SIGHUP: reloaded" wait_log a7 'configuration reloaded' 60
echo 'pol_interval = 3' >>"$TMP/a7.conf"
kill -HUP "$a7"
check "a bad file on SIGHUP keeps the old configuration" wait_log a7 "reload failed: keeping the configuration in use" 60
check "and says where" grep -q "a7.conf:[0-9]*: unknown key 'pol_interval'" "$TMP/a7.log"
check "still alive" alive "$a7"
stop_agent "$a7" INT
same "SIGINT: exit 0" "$arc" 0

# ---- --once ------------------------------------------------------------------------
write_conf a8 allow_commands=true 'command_allow=^echo [a-z]+$'
enqueue a8 '{"commands": [{"id": "o1", "command": "echo once"}]}'
capture once1 diag run -c "$TMP/a8.conf" --once
same "--once: exit 0 when all was delivered" "$rc" 0
wait_results a8 1 5
same "--once: the result" "$(result a8 o1 '.stdout | @json')" '"once\n"'
stop_server
capture once2 diag run -c "$TMP/a8.conf" --once
same "--once with the server down: exit 1" "$rc" 1
check "--once: says why" grep -q 'jobs: .*Connection refused\|jobs: .*connect' "$TMP/once2.err"

# ---- configuration errors ---------------------------------------------------------
capture bad diag run -c "$TMP/nope.conf"
same "a missing config: exit 2" "$rc" 2
check "names the file" grep -q "cannot open '$TMP/nope.conf'" "$TMP/bad.err"
