#!/usr/bin/env bash
# agent_disk.sh - `diagagent run` when spool_dir cannot be written, on a real
# small filesystem (a tmpfs mounted for the test), against the real control
# server and real bpftrace: a full disk (a trace of a known workload and a
# command still reach the server, uploaded from memory; one log line with
# the path, the error and a hint; a job delivered twice runs once; the
# memory bound drops the oldest and the heartbeat counts them; when space
# returns the results kept in memory go to disk and survive a crash and a
# restart); a read-only disk (the same, and files acknowledged meanwhile
# are removed once it is writable again); an agent started on a read-only
# spool; what a stop while it is read-only loses, said.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/test/agentlib.sh"

mounts=()
hbpids=()
# The mounts go before agent_cleanup removes $TMP; every process before the
# wait (the server too, or it never returns).
disk_cleanup() {
	local m p
	for p in "${hbpids[@]}" "${apids[@]}" $spid; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	for m in "${mounts[@]}"; do umount -l "$m" 2>/dev/null; done
	agent_cleanup
}
trap disk_cleanup EXIT

# smallfs DIR SIZE: a tmpfs of SIZE on DIR.
smallfs() {
	mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" || return 1
	mounts+=("$1")
}

# fill DIR: no byte of a new file fits in DIR's filesystem any more.
fill() { dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null; true; }

# watch_hb NAME: what each heartbeat the server got said about the spool, one
# JSON line per look (every 0.2 s) in $TMP/NAME.hb, until the test ends.
watch_hb() {
	while :; do
		cli heartbeats "$1" 2>/dev/null |
			jq -c '{n: .count} + (.last // {} | {outbox_pending, outbox_memory, outbox_dropped, spool_error})'
		sleep 0.2
	done >>"$TMP/$1.hb" &
	hbpids+=($!)
}

# wait_hb NAME JQ [SECONDS]: 0 once the latest heartbeat seen matches JQ.
wait_hb() {
	for _ in $(seq $((${3:-20} * 5))); do
		[ "$(tail -n1 "$TMP/$1.hb" 2>/dev/null | jq "$2" 2>/dev/null)" = true ] && return 0
		sleep 0.2
	done
	echo "last heartbeat seen: $(tail -n1 "$TMP/$1.hb")"
	return 1
}

# results_on_disk DIR: how many result files the outbox holds.
results_on_disk() { find "$1/outbox" -maxdepth 1 -name '*.json' | wc -l; }

start_server || exit 0
if ! smallfs "$TMP/d1.spool" 1m; then
	skip "spool_dir on a small filesystem" "cannot mount a tmpfs here: needs root"
	exit 0
fi

# ---- a full disk ------------------------------------------------------------------
write_conf d1 allow_commands=true 'command_allow=^echo [a-z0-9]+$' heartbeat_interval=1 outbox_max_results=3 \
	max_concurrent_jobs=1
start_agent d1
d1=$apid
wait_log d1 'polling http' || nok "agent d1 started: $(tail -n3 "$TMP/d1.log")"
watch_hb d1
enqueue d1 '{"commands": [{"id": "c0", "command": "echo zero"}]}'
wait_results d1 1 30
check "the disk is fine: no spool_dir line" sh -c "! grep -q 'spool_dir:' '$TMP/d1.log'"

fill "$TMP/d1.spool"
"$WL/readloop" 300 0 "$TMP/go1" &
rl=$!
enqueue d1 '{"ebpf_programs": [{"id": "t1", "spec": "sys_read (arg3 == 4096)", "duration": 3, "pid": '"$rl"'}],
	"commands": [{"id": "c1", "command": "echo one"}]}'
if wait_log d1 'job t1: attached' 30; then
	touch "$TMP/go1"
	wait "$rl"
	wait_results d1 3 30
	same "full: the trace reached the server, with the workload's 300 reads" \
		"$(result d1 t1 '[.status, .event_count] | join(" ")')" "completed 300"
	same "full: the command's result too" "$(result d1 c1 '[.status, .stdout] | @json')" '["completed","one\n"]'
else
	nok "t1 attached: $(tail -n3 "$TMP/d1.log")"
	kill "$rl"
fi
check "full: one log line with the path, the error and a hint" \
	grep -Eq "error spool_dir: cannot write '$TMP/d1.spool/(outbox|ledger)': No space left on device; the agent goes on and keeps in memory .*at most 3 of them.*; hint: free space" "$TMP/d1.log"
same "full: said once, not once per result" "$(grep -c 'spool_dir: ' "$TMP/d1.log")" 1
same "full: uploaded from memory, nothing on disk" "$(results_on_disk "$TMP/d1.spool")" 0
check "full: the heartbeat says why (spool_error)" \
	wait_hb d1 '.spool_error | test("^cannot write .*/d1.spool/(outbox|ledger).: No space left on device$")' 10
enqueue d1 '{"commands": [{"id": "c1", "command": "echo one"}]}'
wait_log d1 'job c1: already done here' 10
same "full: c1 delivered twice runs once (the ledger in memory)" "$(grep -c 'job c1: command started' "$TMP/d1.log")" 1

# The server takes no result for a while: five more, three kept (outbox_max_results).
cli faults '{"path": "/agents/d1/results", "method": "POST", "status": 503, "count": 100000}' >/dev/null
enqueue d1 '{"commands": [{"id": "m1", "command": "echo mone"}, {"id": "m2", "command": "echo mtwo"},
	{"id": "m3", "command": "echo mthree"}, {"id": "m4", "command": "echo mfour"}, {"id": "m5", "command": "echo mfive"}]}'
wait_log d1 'job m5: command completed' 30
check "bound: the heartbeat shows 3 results waiting, all in memory" \
	wait_hb d1 '.outbox_pending == 3 and .outbox_memory == 3' 10
same "bound: the two oldest dropped, each said" "$(grep -c 'outbox: full (3 results, [0-9]* bytes, some in memory): dropped the 1 oldest' "$TMP/d1.log")" 2
sleep 1.5 # one more heartbeat: the count is reported once, then lowered
same "bound: the heartbeats counted 2 dropped" "$(jq -s 'unique_by(.n) | map(.outbox_dropped // 0) | add' "$TMP/d1.hb")" 2
# A retry may write a result or two into what the full disk frees (a stale
# ledger file it removed), and keeps the rest in memory: the bound is on all.
check "bound: still 3 waiting in all, on disk and in memory" \
	wait_hb d1 '.outbox_pending == 3 and (.outbox_memory == 3 - '"$(results_on_disk "$TMP/d1.spool")"')' 5
same "bound: still said once" "$(grep -c 'spool_dir: ' "$TMP/d1.log")" 1

# Space returns: the three go to disk, and survive a crash and a restart.
rm -f "$TMP/d1.spool/fill"
check "recovery: said once, with what was written" \
	wait_log d1 "info  spool_dir: '$TMP/d1.spool' can be written again after [0-9.]+ s: [0-3] results and [0-9]+ job states kept in memory are on disk" 20
same "recovery: the three results are on disk" "$(results_on_disk "$TMP/d1.spool")" 3
check "recovery: the heartbeat has no spool_error and nothing in memory" \
	wait_hb d1 '.spool_error == null and .outbox_memory == 0 and .outbox_pending == 3' 10
kill -KILL "$d1"
wait "$d1" 2>/dev/null
cli faults clear >/dev/null
mv "$TMP/d1.log" "$TMP/d1.first.log"
start_agent d1
d1=$apid
wait_results d1 6 30
same "after a crash and a restart the results kept in memory arrived, the dropped ones did not" \
	"$(jq -r '[.results[].id] | sort | join(" ")' "$TMP/d1.res")" "c0 c1 m3 m4 m5 t1"
same "once per id" "$(jq '[.deliveries[]] | max' "$TMP/d1.res")" 1
same "m5's output" "$(result d1 m5 .stdout)" "mfive"
enqueue d1 '{"commands": [{"id": "m4", "command": "echo mfour"}, {"id": "t1", "command": "echo x"}]}'
wait_log d1 'job t1: already done here' 10
check "the ledger written on recovery survived: m4 and t1 not run again" \
	sh -c "grep -q 'job m4: already done here' '$TMP/d1.log' && ! grep -q 'command started' '$TMP/d1.log'"
check "no spool_dir line after the restart" sh -c "! grep -q 'spool_dir: ' '$TMP/d1.log'"
stop_agent "$d1" TERM
same "d1: SIGTERM exit 0" "$arc" 0

# ---- a read-only disk --------------------------------------------------------------
smallfs "$TMP/d2.spool" 1m || nok "mount a tmpfs on $TMP/d2.spool"
write_conf d2 allow_commands=true 'command_allow=^echo [a-z0-9]+$' heartbeat_interval=1
cli faults '{"path": "/agents/d2/results", "method": "POST", "status": 503, "count": 100000}' >/dev/null
start_agent d2
d2=$apid
wait_log d2 'polling http' || nok "agent d2 started: $(tail -n3 "$TMP/d2.log")"
watch_hb d2
enqueue d2 '{"commands": [{"id": "r1", "command": "echo rone"}]}'
wait_log d2 'job r1: command completed' 30
same "r1 waits on disk" "$(results_on_disk "$TMP/d2.spool")" 1
mount -o remount,ro "$TMP/d2.spool"
enqueue d2 '{"commands": [{"id": "r2", "command": "echo rtwo"}]}'
wait_log d2 'job r2: command completed' 30
check "read-only: one log line with the path, the error and a hint" \
	wait_log d2 "error spool_dir: cannot write '$TMP/d2.spool/(outbox|ledger)': Read-only file system; .*hint: the filesystem is read-only .*remount it read-write" 10
check "read-only: the heartbeat says why" wait_hb d2 '.spool_error | test("Read-only file system$")' 10
check "read-only: r1 on disk, r2 in memory" wait_hb d2 '.outbox_pending == 2 and .outbox_memory == 1' 10
enqueue d2 '{"commands": [{"id": "r2", "command": "echo rtwo"}]}'
wait_log d2 'job r2: already done here' 10
same "read-only: r2 delivered twice runs once" "$(grep -c 'job r2: command started' "$TMP/d2.log")" 1
cli faults clear >/dev/null
wait_results d2 2 30
same "read-only: both delivered (from disk and from memory)" "$(jq -r '[.results[].id] | sort | join(" ")' "$TMP/d2.res")" "r1 r2"
check "read-only: the heartbeat shows nothing waiting" wait_hb d2 '.outbox_pending == 0' 10
same "read-only: r1's file cannot be removed yet" "$(results_on_disk "$TMP/d2.spool")" 1
same "read-only: said once" "$(grep -c 'spool_dir: ' "$TMP/d2.log")" 1
mount -o remount,rw "$TMP/d2.spool"
check "read-write again: said" wait_log d2 "info  spool_dir: '$TMP/d2.spool' can be written again" 20
same "read-write again: the delivered result's file is gone" "$(results_on_disk "$TMP/d2.spool")" 0
stop_agent "$d2" TERM
same "d2: SIGTERM exit 0" "$arc" 0

# ---- started on a read-only spool; stopped while it still is ------------------------
mount -o remount,ro "$TMP/d2.spool"
mv "$TMP/d2.log" "$TMP/d2.first.log"
start_agent d2
d2=$apid
check "started read-only: said at start" \
	wait_log d2 "error spool_dir: cannot write '$TMP/d2.spool/outbox': Read-only file system" 30
wait_log d2 'polling http'
enqueue d2 '{"commands": [{"id": "r3", "command": "echo rthree"}, {"id": "r1", "command": "echo rone"}]}'
wait_results d2 3 30
same "started read-only: a job runs and its result arrives" "$(result d2 r3 .stdout)" "rthree"
check "started read-only: r1, done before, is still not run again" grep -q 'job r1: already done here' "$TMP/d2.log"
cli faults '{"path": "/agents/d2/results", "method": "POST", "status": 503, "count": 100000}' >/dev/null
enqueue d2 '{"commands": [{"id": "r4", "command": "echo rfour"}]}'
wait_log d2 'job r4: command completed' 30
stop_agent "$d2" TERM
same "d2: SIGTERM exit 0 with a result it could not keep" "$arc" 0
check "stopped read-only: what is lost is said" \
	grep -q "1 results kept in memory are lost: spool_dir '$TMP/d2.spool' still cannot be written (Read-only file system)" "$TMP/d2.log"
check "stopped read-only: and which job states" grep -q "job states kept in memory are lost" "$TMP/d2.log"
check "the agent never crashed" sh -c "! grep -qiE 'AddressSanitizer|runtime error|Segmentation' '$TMP'/d*.log"
