#!/usr/bin/env bash
# control_server.sh - the reference control server (scripts/control-server)
# and its client (scripts/control-client), driven with curl and the client:
# bearer auth, job queueing and merging, heartbeats and the configured reply,
# result validation, storage and delivery counts, fault rules (status, drop,
# reset mid-body, huge body, delay, a delay the client does not wait for), keep-alive, results surviving a restart on the same port,
# and a clean exit 0 on SIGTERM and SIGINT.
. "$(dirname "$0")/../lib.sh"

SERVER_QUIET= # the server's log lines are checked below
. "$ROOT/test/agentlib.sh"
RESULTS=$TMP/results

# signal_server SIGNAL: send it, wait at most 5 s for the exit; $src is its code
# (999 when it had to be killed).
signal_server() {
	local i
	kill -"$1" "$spid"
	for i in $(seq 100); do
		alive "$spid" || break
		sleep 0.05
	done
	if alive "$spid"; then
		kill -KILL "$spid"
		wait "$spid" 2>/dev/null
		src=999
	else
		wait "$spid"
		src=$?
	fi
	spid=
}

# api NAME METHOD PATH [CURL ARGS]: one request with the token. The answer's
# body is in $TMP/NAME.body, its status in $code, curl's exit code in $crc.
api() {
	local name=$1 method=$2 path=$3
	shift 3
	code=$(curl -s --noproxy '*' -m 10 -o "$TMP/$name.body" -w '%{http_code}' -X "$method" \
		-H "Authorization: Bearer $TOKEN" -A diagagent/test "$@" "$URL$path")
	crc=$?
}

body() { jq -c . "$TMP/$1.body" 2>/dev/null; }
jqt() { jq -e "$@" >/dev/null; }
AG=/api/v1/agents/web-1

# result ID KIND STATUS [ERROR]: one result object.
result() {
	local success=false err=
	[ "$3" = completed ] && success=true
	[ -n "${4:-}" ] && err=", \"error\": \"$4\""
	printf '{"id": "%s", "kind": "%s", "status": "%s", "success": %s, "started_at": "2026-11-22T10:00:00Z", "finished_at": "2026-11-22T10:00:01.25Z"%s}' \
		"$1" "$2" "$3" "$success" "$err"
}

# ---- start ---------------------------------------------------------------------

if ! start_server; then
	nok "the server starts and writes its port file within 10 s"
	sed 's/^/# /' "$TMP/server.log"
	exit 1
fi
ok "the server starts on port 0 and writes its port file ($PORT)"

# ---- auth ----------------------------------------------------------------------

code=$(curl -s --noproxy '*' -o "$TMP/noauth.body" -w '%{http_code}' "$URL$AG/jobs")
same "no token: 401" "$code" 401
check "no token: a JSON error body" jqt '.error | length > 0' "$TMP/noauth.body"
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' -H "Authorization: Bearer nope" \
	-d '{}' "$URL$AG/heartbeat")
same "wrong token: 401" "$code" 401
code=$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "$URL/api/v1/_control/stats")
same "control endpoints need the token too" "$code" 401

# ---- heartbeats ----------------------------------------------------------------

api hb1 POST "$AG/heartbeat" -d '{"agent_id": "web-1", "hostname": "web-1", "version": "0.1.0"}'
same "heartbeat: 200" "$code" 200
same "heartbeat: answers {} by default" "$(body hb1)" "{}"
"$CLIENT" --url "$URL" --token "$TOKEN" heartbeat-reply '{"poll_interval": 1}' >/dev/null
same "heartbeat-reply: client (run as a command, --token) exits 0" "$?" 0
api hb2 POST "$AG/heartbeat" -d '{"agent_id": "web-1", "hostname": "web-1", "outbox_pending": 3}'
same "heartbeat: answers the configured reply" "$(body hb2)" '{"poll_interval":1}'
cli heartbeats web-1 >"$TMP/hbs.json"
same "heartbeats: counted" "$(jq .count "$TMP/hbs.json")" 2
same "heartbeats: the last body is stored" "$(jq .last.outbox_pending "$TMP/hbs.json")" 3
same "heartbeats: the agent's User-Agent is recorded" "$(jq -r .user_agent "$TMP/hbs.json")" diagagent/test
api hbbad POST "$AG/heartbeat" -d '[1]'
same "heartbeat: a body that is not an object is 400" "$code" 400

# ---- jobs ----------------------------------------------------------------------

api j0 GET "$AG/jobs"
same "jobs: nothing queued is 204" "$code" 204
same "jobs: 204 has no body" "$(wc -c <"$TMP/j0.body")" 0
q1=$(echo '{"commands": [{"id": "c1", "command": "ps aux"}], "cancel": ["t9"]}' | cli enqueue web-1 | jq -c .)
same "enqueue: counts jobs and cancels" "$q1" '{"queued":2}'
echo '{"commands": [{"id": "c2", "command": "uptime"}], "ebpf_programs": [{"id": "t1", "spec": "sys_read"}], "diagnostics": []}' >"$TMP/b2.json"
same "enqueue from a file" "$(cli enqueue web-1 "$TMP/b2.json" | jq -c .)" '{"queued":2}'
api j1 GET "$AG/jobs"
same "jobs: 200 once something is queued" "$code" 200
same "jobs: two enqueues merge into one batch, empty lists left out" "$(body j1)" \
	'{"commands":[{"id":"c1","command":"ps aux"},{"id":"c2","command":"uptime"}],"ebpf_programs":[{"id":"t1","spec":"sys_read"}],"cancel":["t9"]}'
api j2 GET "$AG/jobs"
same "jobs: the batch is delivered once, then 204" "$code" 204
api j3 GET /api/v1/agents/web-2/jobs
same "jobs: queues are per agent" "$code" 204
echo '[1, 2]' | cli enqueue web-1 >/dev/null 2>"$TMP/enq.err"
same "enqueue: a batch that is not an object fails (exit 1)" "$?" 1
same "enqueue: one line with the server's error" "$(wc -l <"$TMP/enq.err")" 1

# ---- results -------------------------------------------------------------------

bad=$(printf '{"agent_id": "web-1", "results": [%s, %s]}' "$(result r0 command completed)" \
	'{"id": "r1", "kind": "command", "status": "failed", "success": true, "started_at": "2026-11-22T10:00:00Z", "finished_at": "2026-11-22T10:00:01Z"}')
api rbad POST "$AG/results" -d "$bad"
same "results: success true with status failed is 400" "$code" 400
check "results: the error names the index and the field" grep -q 'results\[1\]\.success' "$TMP/rbad.body"
same "results: an invalid body stores nothing" "$(cli results web-1 | jq '.results | length')" 0
for c in '"kind": "probe"|kind' '"started_at": "2026-11-22 10:00:00"|started_at' \
	'"finished_at": "2026-11-22T10:00:00+02:00"|finished_at' '"success": 1|success'; do
	j=$(result rx command completed | jq -c ". + {${c%|*}}")
	api rbad2 POST "$AG/results" -d "{\"agent_id\": \"web-1\", \"results\": [$j]}"
	same "results: invalid ${c#*|} is 400" "$code:$(jq -r .error "$TMP/rbad2.body" | cut -d: -f1)" "400:results[0].${c#*|}"
done
api rbad3 POST "$AG/results" -d "{\"agent_id\": \"web-1\", \"results\": [$(result rx trace timeout)]}"
same "results: a failure without error is 400" "$code:$(jq -r .error "$TMP/rbad3.body" | cut -d: -f1)" "400:results[0].error"

good=$(printf '{"agent_id": "web-1", "results": [%s, %s]}' "$(result r1 command completed)" \
	"$(result 't/1' trace failed 'bpftrace failed to attach')")
api rgood POST "$AG/results" -d "$good"
same "results: valid results are accepted" "$code $(body rgood)" '200 {"accepted":2}'
check "results: stored as files, ids made filesystem-safe" \
	test -f "$RESULTS/web-1/results/r1.json" -a -f "$RESULTS/web-1/results/t%2F1.json"
cli results web-1 >"$TMP/list1.json"
same "results: listed in arrival order" "$(jq -c '[.results[].id]' "$TMP/list1.json")" '["r1","t/1"]'
same "results: the stored result is what was sent" "$(jq -c '.results[1]' "$TMP/list1.json")" \
	"$(result 't/1' trace failed 'bpftrace failed to attach' | jq -c .)"
api rdup POST "$AG/results" -d "{\"agent_id\": \"web-1\", \"results\": [$(result r1 command completed)]}"
cli results web-1 >"$TMP/list2.json"
same "results: a second delivery is counted" "$(jq -c .deliveries "$TMP/list2.json")" '{"r1":2,"t/1":1}'
same "results: a second delivery adds no result" "$(jq '.results | length' "$TMP/list2.json")" 2
cli results web-1 --wait 2 --timeout 5 >/dev/null
same "client results --wait: exits 0 once enough are stored" "$?" 0
cli results web-1 --wait 5 --timeout 0.3 >"$TMP/wait.out" 2>"$TMP/wait.err"
same "client results --wait: exits 1 on time-out" "$?" 1
same "client results --wait: still prints the listing" "$(jq '.results | length' "$TMP/wait.out")" 2
check "client results --wait: says it timed out" grep -q 'timed out' "$TMP/wait.err"

# ---- faults --------------------------------------------------------------------

same "faults: a rule is added" "$(cli faults '{"path": "/heartbeat", "status": 503, "count": 2}' | jq -c .)" '{"faults":1}'
codes=
for i in 1 2 3; do
	api hbf POST "$AG/heartbeat" -d '{"agent_id": "web-1"}'
	codes="$codes $code"
	[ "$i" = 1 ] && cp "$TMP/hbf.body" "$TMP/hbf1.body"
done
same "faults: status 503 with count 2 applies twice, then stops" "$codes" " 503 503 200"
check "faults: the injected status has a JSON error body" jqt .error "$TMP/hbf1.body"

cli faults '{"path": "/jobs", "drop": true}' >/dev/null
api jdrop GET "$AG/jobs"
same "faults: drop closes the connection without an answer (curl 52)" "$crc" 52
api jafter GET "$AG/jobs"
same "faults: after the drop, answers are normal again" "$code" 204

echo '{"commands": [{"id": "c3", "command": "true"}]}' | cli enqueue web-1 >/dev/null
cli faults '{"path": "/jobs", "body": "{\"commands\": [", "size": 3000000}' >/dev/null
size=$(curl -s --noproxy '*' -m 10 -o "$TMP/huge.body" -w '%{http_code} %{size_download}' \
	-H "Authorization: Bearer $TOKEN" "$URL$AG/jobs")
same "faults: body + size answers a body of exactly that size" "$size" "200 3000000"
same "faults: the huge body repeats the text" "$(head -c 28 "$TMP/huge.body")" '{"commands": [{"commands": ['
api jkept GET "$AG/jobs"
same "faults: a faulted poll leaves the queue alone" "$(body jkept | jq -c '[.commands[].id]')" '["c3"]'

cli faults '{"path": "/heartbeat", "delay": 0.4}' >/dev/null
t=$(curl -s --noproxy '*' -m 10 -o "$TMP/slow.body" -w '%{http_code} %{time_total}' \
	-H "Authorization: Bearer $TOKEN" -d '{"agent_id": "web-1"}' "$URL$AG/heartbeat")
same "faults: delay answers normally afterwards" "${t% *}:$(body slow)" '200:{"poll_interval":1}'
check "faults: delay 0.4 delays the answer by at least 0.4 s (${t#* } s)" \
	awk -v t="${t#* }" 'BEGIN { exit !(t >= 0.4) }'

# A reset in the middle of the body: the headers and half of it, then RST.
echo '{"commands": [{"id": "c3r", "command": "true"}]}' | cli enqueue web-1 >/dev/null
cli faults '[{"path": "/jobs", "reset": true}, {"path": "/jobs", "reset": true, "body": "{\"commands\": [", "size": 100000}]' >/dev/null
api jreset GET "$AG/jobs"
same "faults: reset cuts the body (1024 bytes by default) with an RST (curl 56)" "$crc:$(stat -c %s "$TMP/jreset.body")" 56:512
check "faults: ... logged" grep -q "GET $AG/jobs reset" "$TMP/server.log"
api jreset2 GET "$AG/jobs"
same "faults: reset with body + size: half of that size" "$crc:$(stat -c %s "$TMP/jreset2.body")" 56:50000
same "faults: ... the body repeats the text" "$(head -c 28 "$TMP/jreset2.body")" '{"commands": [{"commands": ['
api jkept2 GET "$AG/jobs"
same "faults: a reset poll leaves the queue alone" "$(body jkept2 | jq -c '[.commands[].id]')" '["c3r"]'

# A delay the client does not wait for: a drop, so the queue stays.
echo '{"commands": [{"id": "c4", "command": "true"}]}' | cli enqueue web-1 >/dev/null
cli faults '{"path": "/jobs", "delay": 1}' >/dev/null
curl -s --noproxy '*' -m 0.3 -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL$AG/jobs"
same "faults: the client gave up before the delay's end (curl 28)" "$?" 28
for i in $(seq 30); do grep -q 'hung up during the delay' "$TMP/server.log" && break; sleep 0.1; done
check "faults: the server saw it hung up" grep -q "GET $AG/jobs dropped (the client hung up during the delay)" "$TMP/server.log"
api jkept3 GET "$AG/jobs"
same "faults: ... and consumed nothing" "$(body jkept3 | jq -c '[.commands[].id]')" '["c4"]'

cli faults '{"path": "/results", "status": 500}' >/dev/null
api rfault POST "$AG/results" -d "{\"agent_id\": \"web-1\", \"results\": [$(result r9 command completed)]}"
same "faults: a faulted results POST gets the status" "$code" 500
same "faults: ... and stores nothing" "$(cli results web-1 | jq -c '[.results[].id]')" '["r1","t/1"]'

cli faults '[{"status": 418}, {"status": 418}]' >/dev/null
api ctl GET "$AG/results"
same "faults: never apply to development endpoints" "$code" 200
same "faults: clear removes every rule" "$(cli faults clear | jq -c .)" '{"faults":0}'
api hbok POST "$AG/heartbeat" -d '{"agent_id": "web-1"}'
same "faults: after clear, answers are normal" "$code" 200
cli faults '{"path": "/jobs", "stauts": 503}' >/dev/null 2>"$TMP/fbad.err"
same "faults: an unknown rule field is refused (exit 1)" "$?" 1
check "faults: the error names the field" grep -q 'faults\[0\]\.stauts' "$TMP/fbad.err"

# ---- keep-alive, stats, log ----------------------------------------------------

curl -sv --noproxy '*' -m 10 -H "Authorization: Bearer $TOKEN" -o /dev/null -o /dev/null -o /dev/null \
	"$URL$AG/heartbeats" "$URL$AG/jobs" "$URL$AG/results" 2>"$TMP/ka.err"
same "keep-alive: one connection serves 3 requests (one a 204)" \
	"$(grep -ciE 're-?using existing connection' "$TMP/ka.err")" 2

cli stats >"$TMP/stats.json"
same "stats: heartbeats counted (with the 401 and faulted ones)" "$(jq .heartbeat "$TMP/stats.json")" 9
same "stats: 401 answers counted" "$(jq .unauthorized "$TMP/stats.json")" 3
same "stats: faulted requests counted" "$(jq .faulted "$TMP/stats.json")" 9
check "log: one line per request with method, path and status" \
	grep -q "^control-server: POST $AG/heartbeat 503\$" "$TMP/server.log"
check "log: never the token" bash -c "! grep -qF '$TOKEN' '$TMP/server.log'"

# ---- restart -------------------------------------------------------------------

signal_server TERM
same "SIGTERM: the server exits 0" "$src" 0
if start_server "$PORT"; then ok "restart: listens again on the same port at once"; else nok "restart on port $PORT"; fi
cli results web-1 >"$TMP/list3.json"
same "restart: results survive in order" "$(jq -c '[.results[].id]' "$TMP/list3.json")" '["r1","t/1"]'
same "restart: delivery counts survive" "$(jq -c .deliveries "$TMP/list3.json")" '{"r1":2,"t/1":1}'
api rre POST "$AG/results" -d "{\"agent_id\": \"web-1\", \"results\": [$(result r1 command completed)]}"
same "restart: counting goes on" "$(cli results web-1 | jq -c .deliveries)" '{"r1":3,"t/1":1}'
signal_server INT
same "SIGINT: the server exits 0" "$src" 0
cli stats >/dev/null 2>"$TMP/refused.err"
same "client: a refused connection exits 1" "$?" 1
same "client: ... with one line on stderr" "$(wc -l <"$TMP/refused.err")" 1
