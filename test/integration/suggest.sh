#!/usr/bin/env bash
# suggest.sh - `diagagent suggest`: the symptom corpus (expected target in the
# top 3 for at least 95 % of texts), PIDs and names carried as -p / -n, the
# answer's shape and stable ranking, no-match answers, errors for bad input
# and a broken knowledge base (with its line), the nearest alternative where
# a spec cannot attach here, and every spec the engine can emit: each one
# compiles with `diagagent script`, and all that attach run for a second
# under `diagagent trace` without error.
. "$(dirname "$0")/../lib.sh"
PY=${PY:-python3}
DATA=$ROOT/test/data/suggest

# ---- the headline answer ----------------------------------------------------------
capture fnf diag suggest "file not found error"
same "file not found: exit 0" "$rc" 0
same "file not found: openat first" "$(sed -n 1p "$TMP/fnf.out" | awk '{print $2, $3}')" "openat (syscall)"
same "file not found: a runnable spec first" "$(sed -n 3p "$TMP/fnf.out")" \
	"   \$ diagagent trace 'r::sys_openat ((int)retval == -2) \"ENOENT: %s\", arg2'"
check "file not found: the reason names the words that matched" grep -q "^   matched 'file not found'" "$TMP/fnf.out"

capture j diag suggest --json "file not found error"
same "--json: exit 0" "$rc" 0
same "--json: the protocol's suggestion result" "$(jq -r '[.kind, .status, .success, .query, .matched] | map(tostring) | join("|")' "$TMP/j.out")" \
	"suggestion|completed|true|file not found error|true"
same "--json: each suggestion has target, spec, score, reason" \
	"$(jq 'all(.suggestions[]; (.target|type) == "string" and (.spec|type) == "string" and (.score|type) == "number" and (.reason|type) == "string")' "$TMP/j.out")" true
same "--json: scores in (0, 1], best first" "$(jq '[.suggestions[].score] as $s | ($s == ($s | sort | reverse)) and all($s[]; . > 0 and . <= 1)' "$TMP/j.out")" true
same "--json: first spec and its command" "$(jq -r '.suggestions[0] | [.spec, .command] | join("|")' "$TMP/j.out")" \
	"r::sys_openat ((int)retval == -2) \"ENOENT: %s\", arg2|diagagent trace 'r::sys_openat ((int)retval == -2) \"ENOENT: %s\", arg2'"
check "--json: times are RFC 3339 UTC" grep -Eq '^[0-9-]+T[0-9:.]+Z [0-9-]+T[0-9:.]+Z$' <(jq -r '"\(.started_at) \(.finished_at)"' "$TMP/j.out")
capture j2 diag suggest --json "file not found error"
same "ranking is stable: the same answer twice" "$(jq -c '.suggestions' "$TMP/j2.out")" "$(jq -c '.suggestions' "$TMP/j.out")"

capture n2 diag suggest --json -n 2 "connection refused"
same "-n 2: two suggestions" "$(jq '.suggestions | length' "$TMP/n2.out")" 2
same "connection refused: connect first, for ECONNREFUSED" "$(jq -r '.suggestions[0] | [.target, .spec] | join("|")' "$TMP/n2.out")" \
	'connect|r::sys_connect ((int)retval == -111) "connect ECONNREFUSED on fd %d", arg1'

# ---- what is read from the text ----------------------------------------------------
capture pid diag suggest --json 'nginx[1234]: accept4() failed (24: Too many open files)'
same "syslog line: pid, process and errno read" "$(jq -r '.read | [.pid, .process, (.errnos | join(","))] | map(tostring) | join("|")' "$TMP/pid.out")" \
	"1234|nginx|EMFILE"
same "syslog line: the PID goes into the command as -p" "$(jq -r '.suggestions[0].command' "$TMP/pid.out")" \
	"diagagent trace -p 1234 'r::sys_openat ((int)retval == -24) \"EMFILE: %s\", arg2'"
same "syslog line: and into filters" "$(jq -c '.suggestions[0].filters' "$TMP/pid.out")" '{"pid":1234}'
capture nm diag suggest --json "postgres is slow on fsync"
same "a daemon's name goes in as -n" "$(jq -r '.suggestions[0].command' "$TMP/nm.out")" \
	"diagagent trace -n 'postgres' 'r::sys_fsync \"fsync fd %d: %d\", arg1, retval'"
capture oom diag suggest --json "Out of memory: Killed process 4242 (java)"
same "OOM: system-wide, no -p of the dead process" "$(jq -r '.suggestions[0] | [.target, .command] | join("|")' "$TMP/oom.out")" \
	"oom:mark_victim|diagagent trace 't:oom:mark_victim \"OOM victim pid %d\", args->pid'"
capture typo diag suggest --json "permision denied"
same "typos: read as the word they miss" "$(jq -c '.read.corrections' "$TMP/typo.out")" '[{"from":"permision","to":"permission"}]'
check "typos: the reason says so" grep -q "(read 'permision' as 'permission')" <(jq -r '.suggestions[0].reason' "$TMP/typo.out")
capture sc diag suggest --json "getdents64 returns -EINVAL"
same "a syscall named with an errno: that syscall first" "$(jq -r '.suggestions[0].spec' "$TMP/sc.out")" \
	'r::sys_getdents64 ((int)retval == -22) "getdents64: EINVAL"'

# ---- no match ----------------------------------------------------------------------
capture none diag suggest "lorem ipsum dolor sit amet"
same "no match: exit 0" "$rc" 0
check "no match: said plainly" grep -q '^No symptom I know matched "lorem ipsum dolor sit amet".' "$TMP/none.out"
capture nonej diag suggest --json "lorem ipsum dolor sit amet"
same "no match: three starting points, no scores" "$(jq -c '[.matched, (.suggestions | length), ([.suggestions[].score] | unique)]' "$TMP/nonej.out")" '[false,3,[0]]'
same "no match: failing syscalls first" "$(jq -r '.suggestions[0].target' "$TMP/nonej.out")" "raw_syscalls:sys_exit"

# ---- input from stdin, and bad input -------------------------------------------------
echo 'OSError: [Errno 28] No space left on device' >"$TMP/line"
capture stdin diag suggest --json - <"$TMP/line"
same "'-' reads the text from stdin" "$(jq -r '[.query, .suggestions[0].target] | join("|")' "$TMP/stdin.out")" \
	"OSError: [Errno 28] No space left on device|write"
capture notext diag suggest
same "no text: exit 2" "$rc" 2
same "no text: one line with an example" "$(head -n1 "$TMP/notext.err")" \
	'diagagent suggest: describe the symptom, e.g. diagagent suggest "file not found error"'
capture badn diag suggest -n 0 x
same "-n 0: exit 2" "$rc" 2
same "-n 0: the range" "$(head -n1 "$TMP/badn.err")" "diagagent suggest: -n takes a number from 1 to 50, not '0'"
head -c 20000 /dev/zero | tr '\0' a >"$TMP/big"
capture big diag suggest - <"$TMP/big"
same "a 20 kB text: exit 2" "$rc" 2
same "a 20 kB text: one line saying the limit" "$(cat "$TMP/big.err")" \
	"diagagent suggest: the text is longer than 16384 bytes: quote the key line"
capture blank diag suggest "   "
same "a blank text: exit 2" "$rc" 2

# ---- a broken knowledge base is refused with its line ------------------------------------
sed '0,/^match 0.9 /s//match 1.9 /' "$ROOT/tracespec/symptoms.kb" >"$TMP/bad1.kb"
line=$(grep -n '^match 1.9 ' "$TMP/bad1.kb" | head -n1 | cut -d: -f1)
capture kb1 diag suggest --kb "$TMP/bad1.kb" x
same "bad weight: exit 2" "$rc" 2
same "bad weight: file, line and the range" "$(head -n1 "$TMP/kb1.err")" \
	"diagagent suggest: $TMP/bad1.kb:$line: match weight '1.9' must be a number in (0, 1]"
printf 'family f\ntitle t\nmatch 0.5 (unclosed\nsuggest 1 sys_read\nreason r\n' >"$TMP/bad2.kb"
capture kb2 diag suggest --kb "$TMP/bad2.kb" x
same "bad pattern: file, line and PCRE2's message" "$(head -n1 "$TMP/kb2.err")" \
	"diagagent suggest: $TMP/bad2.kb:3: bad pattern at offset 9: missing closing parenthesis"
printf 'family f\ntitle t\nmatch 0.5 x\nsuggest 1 sys_read (arg3 >\nreason r\n' >"$TMP/bad3.kb"
capture kb3 diag suggest --kb "$TMP/bad3.kb" x
check "bad spec: its line" grep -q "^diagagent suggest: $TMP/bad3.kb:4: bad spec: " "$TMP/kb3.err"
printf 'family f\ntitle t\nmach 0.5 x\n' >"$TMP/bad4.kb"
capture kb4 diag suggest --kb "$TMP/bad4.kb" x
same "unknown directive: did you mean" "$(cat "$TMP/kb4.err")" \
	"diagagent suggest: $TMP/bad4.kb:3: unknown directive 'mach'
  hint: did you mean 'match'?"
capture kb5 diag suggest --kb "$TMP/missing.kb" x
same "missing file: exit 2, one line" "$(cat "$TMP/kb5.err")" "diagagent suggest: $TMP/missing.kb: cannot read: No such file or directory"
DIAGAGENT_KB="$TMP/bad4.kb" capture kb6 diag suggest x
same "DIAGAGENT_KB is read too" "$(head -n1 "$TMP/kb6.err")" "diagagent suggest: $TMP/bad4.kb:3: unknown directive 'mach'"

# ---- the nearest alternative where the best cannot attach ---------------------------------
cat >"$TMP/alt.kb" <<'EOF'
family tcp-connect
title slow TCP connects
match 0.9 \bslow connects?\b
suggest 1.0 r::tcp_v4_connect "tcp_v4_connect returned %d", retval
instead t:sock:inet_sock_set_state (args->oldstate == 2) "port %d: SYN_SENT -> %d", args->dport, args->newstate
reason the kernel's connect path
EOF
capture alt diag suggest --json --kb "$TMP/alt.kb" "slow connects"
if [ "$(diag caps --json | jq -r .probes.kprobe.state)" = yes ]; then
	same "kprobes attach here: the kprobe is offered" "$(jq -r '.suggestions[0].target_type' "$TMP/alt.out")" kprobe
else
	same "no kprobes here: the nearest tracepoint instead" "$(jq -r '.suggestions[0] | [.target, .instead_of] | join("|")' "$TMP/alt.out")" \
		'sock:inet_sock_set_state|r::tcp_v4_connect "tcp_v4_connect returned %d", retval'
	check "no kprobes here: the reason says why" grep -q "cannot attach here: " <(jq -r '.suggestions[0].reason' "$TMP/alt.out")
fi

# ---- the corpus --------------------------------------------------------------------------
# Under a slow wrapper (valgrind) every 10th text: the rate needs them all, and
# test_suggest's unit run covers the engine there.
step=1
[ -n "$WRAP" ] && step=10
WRAP="$WRAP" "$PY" "$ROOT/test/integration/suggest_corpus.py" "$DIAG" "$DATA/corpus.tsv" "$DATA/filters.tsv" "$step" ||
	nok "suggest_corpus.py exited $?"

# ---- every spec the engine can emit compiles, and runs where it attaches ----------------------
capture list diag suggest --list --json
same "--list: exit 0" "$rc" 0
jq -r '.families[].specs[].spec' "$TMP/list.out" | sort -u >"$TMP/specs"
jq -r '.families[].specs[] | select(.attaches) | .spec' "$TMP/list.out" | sort -u >"$TMP/run"
check "--list: at least 40 families" test "$(jq '.families | length' "$TMP/list.out")" -ge 40
bad=0 n=0
while IFS= read -r spec; do
	n=$((n + 1))
	[ -n "$WRAP" ] && [ $((n % 10)) != 1 ] && continue
	if ! diag script "$spec" >/dev/null 2>"$TMP/script.err"; then
		grep -q "cannot attach\|no kprobe\|not available" "$TMP/script.err" && continue
		nok "script compiles '$spec': $(head -n1 "$TMP/script.err")"
		bad=$((bad + 1))
	fi
done <"$TMP/specs"
[ $bad = 0 ] && ok "every one of the $n specs the knowledge base can emit compiles with script"

mapfile -t specs <"$TMP/run"
for ((i = 0; i < ${#specs[@]}; i += 32)); do
	chunk=("${specs[@]:i:32}")
	capture run diag trace -d 1 -M 5 "${chunk[@]}"
	if [ "$rc" = 0 ] && grep -q 'attached' "$TMP/run.err"; then
		ok "specs $((i + 1))..$((i + ${#chunk[@]})) of ${#specs[@]} run for a second under trace"
	else
		nok "specs $((i + 1))..$((i + ${#chunk[@]})) under trace: exit $rc: $(grep -v '^$' "$TMP/run.err" | tail -n3)"
	fi
done
