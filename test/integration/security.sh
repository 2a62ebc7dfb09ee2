#!/usr/bin/env bash
# security.sh - each control SECURITY.md lists, attacked for real: hostile
# specs and structured trace jobs that try to smuggle bpftrace code (refused,
# or emitted as nothing but data: the program has its benign twin's shape and
# runs under the real bpftrace without doing anything); every bpftrace started
# (recorded by a wrapper on DIAGAGENT_BPFTRACE, and seen in /proc) without
# --unsafe; commands outside command_allow refused and never run; the token
# in no log, result, spool file, config output or child's argv/environment,
# and not sent after a redirect; the spool 0700/0600 and root's under umask
# 000, in a directory that was 0777, and foreign files in it never trusted;
# the token file's mode and owner. Needs root and bpftrace. Under valgrind
# every 4th hostile spec of section 1 (lib.sh's sampled); the rest all.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/test/agentlib.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v bpftrace >/dev/null; then
	skip "security suite" "needs root and bpftrace"
	exit 0
fi

# A token no other text has by chance; agentlib's server and cli read $TMP/token.
TOKEN="SeCrEt-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')-ToKeN"
WRONG="WrOnG-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')-ToKeN"
printf '%s\n' "$TOKEN" >"$TMP/token"
MARK=$TMP/pwned # every injection attempt tries to create this file
NL=$'\n'

# Every bpftrace diagagent starts goes through this wrapper, which records its
# argv (NUL-separated) and the environment it was given, then becomes the real one.
REAL_BT=$(command -v bpftrace)
REC=$TMP/rec
mkdir -p "$REC" "$TMP/bin"
cat >"$TMP/bin/bpftrace" <<EOF
#!/bin/bash
n=\$(date +%s%N)-\$\$
case "\${1:-}" in --version | --info) ext=probe ;; *) ext=argv ;; esac
printf '%s\0' "\$@" >"$REC/\$n.\$ext"
cat /proc/\$\$/environ >"$REC/\$n.env"
exec "$REAL_BT" "\$@"
EOF
chmod 755 "$TMP/bin/bpftrace"
export DIAGAGENT_BPFTRACE=$TMP/bin/bpftrace
nrec() { find "$REC" -name '*.argv' | wc -l; }

# skel.py skel|banned FILE: a bpftrace program with its comments dropped, each
# string literal as "S" and each number as N (skel); or the calls and maps no
# generated program has, one per line (banned). An unterminated string or
# comment is an error.
cat >"$TMP/skel.py" <<'EOF'
import re, sys

def strip(t):
    out, i, n = [], 0, len(t)
    while i < n:
        if t.startswith("//", i):
            j = t.find("\n", i)
            i = n if j < 0 else j
        elif t.startswith("/*", i):
            j = t.find("*/", i + 2)
            if j < 0:
                sys.exit("unterminated comment")
            i = j + 2
        elif t[i] == '"':
            i += 1
            while i < n and t[i] != '"' and t[i] != "\n":
                i += 2 if t[i] == "\\" else 1
            if i >= n or t[i] != '"':
                sys.exit("unterminated string")
            i += 1
            out.append('"S"')
        else:
            out.append(t[i])
            i += 1
    return "".join(out)

s = strip(open(sys.argv[2], encoding="latin-1").read())
if sys.argv[1] == "skel":
    print(re.sub(r"[0-9]+", "N", s))
else:
    for m in re.finditer(r"\b(system|cat|signal|override)\s*\(|@(?!__)\w*", s):
        print(m.group(0))
EOF
skel() { "$PY" "$TMP/skel.py" skel "$1"; }
banned() { "$PY" "$TMP/skel.py" banned "$1"; }

# clean DESC PROGRAM TWIN: PROGRAM (a file) is TWIN's program but for the
# contents of its strings and numbers, and calls nothing of its own.
clean() {
	local a b
	a=$(skel "$2") || { nok "$1: the program does not lex: $a"; return; }
	b=$(skel "$3")
	if [ -n "$b" ] && [ "$a" == "$b" ]; then ok "$1: the benign twin's shape"; else
		nok "$1: not the benign twin's shape"
		diff <(echo "$b") <(echo "$a") | head -n 10 | sed 's/^/    /'
	fi
	same "$1: no call or map of its own" "$(banned "$2" | tr '\n' ' ')" ""
}

# The checker itself catches an injection: code added to a real program.
diag script 'sys_read (comm == "x")' >"$TMP/twin.bt"
sed 's/^{$/{ system("touch '"${MARK//\//\\/}"'");/' "$TMP/twin.bt" >"$TMP/mutant.bt"
check "checker: an injected call changes the shape" sh -c "[ \"\$(\"$PY\" '$TMP/skel.py' skel '$TMP/mutant.bt')\" != \"\$(\"$PY\" '$TMP/skel.py' skel '$TMP/twin.bt')\" ]"
check "checker: and is named" grep -q '^system(' <(banned "$TMP/mutant.bt")
check "checker: a string broken out of changes the shape" sh -c "sed 's/\"x\"/\"x\") || (1 == \"1\"/' '$TMP/twin.bt' >'$TMP/mutant2.bt'; [ \"\$(\"$PY\" '$TMP/skel.py' skel '$TMP/mutant2.bt')\" != \"\$(\"$PY\" '$TMP/skel.py' skel '$TMP/twin.bt')\" ]"

# ==== 1. injection through the spec language (CLI) ====================================
# Each is refused by `script` and by `trace` with exit 2 and a one-line error,
# and `trace` starts no bpftrace for it.
long=$(printf '1%.0s' $(seq 20000))
deep="$(printf '(%.0s' $(seq 3000))1$(printf ')%.0s' $(seq 3000))"
# shellcheck disable=SC2016 # the $ are bpftrace's, not the shell's
hostile=(
	'sys_read (arg1 > 0) { system("touch M") }'
	'sys_read (arg1 > 0)) { system("touch M") } (1'
	'sys_read (arg1 > 0); system("touch M")'
	'sys_read (arg1 > 0) } BEGIN { system("touch M") } tracepoint:syscalls:sys_enter_read { ('
	'sys_read (system("touch M"))'
	'sys_read (signal(9))'
	'sys_read (signal("KILL"))'
	'sys_read (override(0))'
	'sys_read (cat("/etc/shadow"))'
	'sys_read (exit())'
	'sys_read (printf("x"))'
	'sys_read (arg1 > 0 ? system("touch M") : 0)'
	'sys_read (args->count; exit())'
	'sys_read (args->count > 0, system("touch M"))'
	'sys_read (@m = 1)'
	'sys_read (@m[1] > 0)'
	'sys_read (@)'
	'sys_read ($1 == 0)'
	'sys_read ($x = 1)'
	'sys_read (arg1 = 0)'
	'sys_read (arg1++ > 0)'
	'sys_read (arg1 > 0 // x)'
	'sys_read (arg1 /* x */ > 0)'
	'sys_read (arg1 > 0) /* x */'
	'sys_read (arg1 > 0) # x'
	'sys_read (kptr(arg1))'
	'sys_read (str(arg2) == "x")'
	'sys_read (reg("ip") > 0)'
	'sys_read (uaddr("x") > 0)'
	'sys_read (curtask > 0)'
	'sys_read (nsecs > 0)'
	'sys_read (ustack > 0)'
	'sys_read (cgroup == cgroupid("/sys/fs/cgroup"))'
	'sys_read "%d", arg1, system("touch M")'
	'sys_read "%d", arg1); system("touch M"'
	'sys_read "%d"); system("touch M"); printf("%d", arg1'
	'sys_read "%s %s", arg1'
	'sys_read "%d", arg1, arg2'
	'sys_read "%n", arg1'
	'sys_read "x" "y"'
	'sys_read "x"; system("touch M")'
	'sys_read "%s", str(arg2)'
	'sys_read "%d", @m'
	'sys_read "%d", $1'
	'sys_read (comm == "x\") { system(\"touch M\") }'
	'sys_read (comm == "x\q")'
	'sys_read (comm == "x'
	'sys_read (comm == '"'"'x'"'"')'
	'sys_read (arg1 > 0 \)'
	'p::vfs_read{system("touch M")}'
	'p::vfs_read;system("touch M")'
	'p::vfs_read/1/{system("touch M")}'
	'p:/bin/sh;touch M:main'
	'p:/bin/sh touch:main'
	'p:"/bin/sh":main'
	'r:/bin/true{x}:main'
	't:syscalls:sys_enter_read/1/{system("touch M")}'
	't:syscalls } BEGIN { system("touch M") } t:x:sys_enter_read'
	't:syscalls:sys_enter_read;BEGIN'
	'u:/bin/sh:main"x"'
	'BEGIN { system("touch M") }'
	'interval:s:1 { system("touch M") }'
	"sys_read (arg1 > 0${NL}) { system(\"touch M\") }"
	"sys_read (arg1 > 0)${NL}{ system(\"touch M\") }"
	"sys_read${NL}BEGIN { system(\"touch M\") }"
	$'sys_read (arg1 > 0)\r{ system("touch M") }'
	$'sys_read (arg1 > 0)\t{ system("touch M") }'
	$'sys_read (arg1 > 0)\xc0\xbb system("touch M")'
	'sys_read (arg1 > 0)； system("touch M")'
	$'sys_read (arg1 > 0)\u2028{ system("touch M") }'
	'sys_read (аrg1 > 0)'
	"sys_read (arg1 > $long)"
	"sys_read (comm == \"$(printf 'a%.0s' $(seq 300))\")"
	"sys_read ($deep)"
	"sys_read ($(printf -- '-%.0s' $(seq 3000))1)"
)
n_hostile=0
for s in "${hostile[@]}"; do
	n_hostile=$((n_hostile + 1))
	sampled || continue # under valgrind every 4th: each is two diagagent starts
	s=${s//touch M/touch $MARK}
	d="spec $n_hostile ($(printf '%s' "$s" | head -c 50 | tr '\n\r\t' '   '))"
	capture sc diag script "$s"
	err1=$(head -n1 "$TMP/sc.err")
	if [ "$rc" = 2 ] && [ ! -s "$TMP/sc.out" ] && [[ $err1 == "diagagent script: "* ]]; then
		ok "$d: script refuses it (exit 2, an error)"
	else
		nok "$d: script: exit $rc, stdout $(wc -c <"$TMP/sc.out") bytes, error '$err1'"
	fi
	before=$(nrec)
	capture tr diag trace -d 1 --json "$s"
	if [ "$rc" = 2 ] && [ ! -s "$TMP/tr.out" ] && [ "$(nrec)" = "$before" ]; then
		ok "$d: trace refuses it (exit 2), no bpftrace started"
	else
		nok "$d: trace: exit $rc, $(($(nrec) - before)) bpftrace started: $(head -n1 "$TMP/tr.err")"
	fi
done

# Hostile text that is data (a string literal, a format, -n, -c) is taken as
# data: the program is its benign twin's but for that string, bpftrace
# compiles and runs it as it is (a real trace completes), and nothing runs.
mkdir -p "$TMP/cg" "$TMP/cg\") { system(\"touch $MARK\") } //" "$TMP/cg\\"
pair() { # pair DESC -- HOSTILE ARGS... -- TWIN ARGS...
	local d=$1 h=() t=()
	shift 2
	while [ "$1" != -- ]; do h+=("$1"); shift; done
	shift
	t=("$@")
	capture ph diag script "${h[@]}"
	same "data $d: script accepts it" "$rc" 0
	diag script "${t[@]}" >"$TMP/pt.out" 2>&1
	clean "data $d" "$TMP/ph.out" "$TMP/pt.out"
	capture pr diag trace -d 1 --json "${h[@]}"
	same "data $d: the real bpftrace runs it" "$rc $(jq -r .status "$TMP/pr.out" 2>/dev/null)" "0 completed"
}
pair 'a filter string with code in it' -- "sys_read (comm == \"x\\\") { system(\\\"touch $MARK\\\") } //\")" \
	-- 'sys_read (comm == "x")'
pair 'a filter string ending in a backslash' -- 'sys_read (comm == "x\\")' -- 'sys_read (comm == "x")'
pair 'a filter string with a newline' -- "sys_read (comm == \"x${NL}} BEGIN { system(\\\"touch $MARK\\\") }${NL}\")" \
	-- 'sys_read (comm == "x")'
pair 'a filter string with a right-to-left override' -- $'sys_read (comm == "\u202e}{ ;system")' -- 'sys_read (comm == "x")'
pair 'STRCMP with code in its literal' -- "sys_read (STRCMP(\"\\\") { system(\\\"touch $MARK\\\") }\", comm))" \
	-- 'sys_read (STRCMP("x", comm))'
pair 'a format with a newline and code' -- "sys_read \"x${NL}} BEGIN { system(\\\"touch $MARK\\\") }${NL}// %d */ %d\", arg1, arg3" \
	-- 'sys_read "x %d %d", arg1, arg3'
pair '-n with code (15 bytes: compared byte by byte)' -- -n 'x");system("i' sys_read -- -n aaaaaaaaaaaaa sys_read
pair '-n with code (long: compared as a string)' -- -n "x\") { system(\"touch $MARK\") } //" sys_read \
	-- -n aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa sys_read
pair '-c, a cgroup directory whose name holds code' -- -c "$TMP/cg\") { system(\"touch $MARK\") } //" sys_read \
	-- -c "$TMP/cg" sys_read
pair '-c, a directory name ending in a backslash' -- -c "$TMP/cg\\" sys_read -- -c "$TMP/cg" sys_read
for o in "-p 1;system" "-p 1)" "-L x" "--uid -1" "-M 1}" "-Z 64;" "-b 1{"; do
	read -r opt val <<<"$o"
	capture opt diag script "$opt" "$val" sys_read
	same "option $opt '$val': refused with exit 2" "$rc" 2
done
capture opt diag script -c "/nonexistent\") { system(\"touch $MARK\") }" sys_read
same "-c, not a directory: exit 2" "$rc" 2

# The last line of defence: without --unsafe, bpftrace itself refuses system().
printf 'BEGIN { system("touch %s"); exit(); }\n' "$MARK" >"$TMP/unsafe.bt"
"$REAL_BT" "$TMP/unsafe.bt" >"$TMP/unsafe.out" 2>&1
check "bpftrace without --unsafe refuses system()" grep -q 'unsafe function' "$TMP/unsafe.out"

# ==== 2. injection through structured trace jobs (the agent) ==========================
start_server || exit 0
cp "$TMP/token" "$TMP/tok.token"
write_conf inj log_level=debug "token_file=$TMP/tok.token" max_concurrent_jobs=4
start_agent inj
inj=$apid
wait_log inj 'polling http' || nok "agent inj started: $(tail -n3 "$TMP/inj.log")"
cp /bin/true "$TMP/lib\"{x}"
ln -s "$TMP/lib\"{x}" "$TMP/plainlib" # a plain name that resolves to one bpftrace cannot take
# Each job says what it expects: "expect" (the status) and "why" (a regex of
# the error), or "twin" (diag script's arguments for the benign program).
# Fields a job does not use are ignored by the agent.
sed -e "s|@M@|$MARK|g" -e "s|@TMP@|$TMP|g" >"$TMP/jobs.json" <<'EOF'
{"ebpf_programs": [
 {"id": "s-target-brace", "type": "kprobe", "target": "sys_read{system(\"touch @M@\")}", "expect": "rejected", "why": "^'target/filter/format/arguments': bad function name 'sys_read\\{system"},
 {"id": "s-target-semi", "type": "kprobe", "target": "read; system(\"touch @M@\")", "expect": "rejected", "why": "bad function name"},
 {"id": "s-target-newline", "type": "kprobe", "target": "read\n} BEGIN { system(\"touch @M@\") }", "expect": "rejected", "why": "bad function name"},
 {"id": "s-target-filter", "type": "tracepoint", "target": "syscalls:sys_enter_read /1/ { system(\"touch @M@\") }", "expect": "rejected", "why": "bad tracepoint"},
 {"id": "s-category", "type": "tracepoint", "target": "sys_enter_read", "category": "syscalls:x } BEGIN { system(\"touch @M@\") } t:syscalls", "expect": "rejected", "why": "."},
 {"id": "s-type", "type": "kprobe:sys_read { system(\"touch @M@\") }", "target": "sys_read", "expect": "rejected", "why": "^'type' is 'kprobe:sys_read"},
 {"id": "s-filter-block", "type": "kprobe", "target": "sys_read", "filter": "arg1 > 0) { system(\"touch @M@\") } (1", "expect": "rejected", "why": "^'target/filter/format/arguments': unexpected"},
 {"id": "s-filter-semi", "type": "kprobe", "target": "sys_read", "filter": "arg1; system(\"touch @M@\")", "expect": "rejected", "why": "';' is not allowed"},
 {"id": "s-filter-system", "type": "kprobe", "target": "sys_read", "filter": "system(\"touch @M@\")", "expect": "rejected", "why": "unknown name 'system'"},
 {"id": "s-filter-signal", "type": "kprobe", "target": "sys_read", "filter": "signal(9)", "expect": "rejected", "why": "unknown name 'signal'"},
 {"id": "s-filter-override", "type": "kprobe", "target": "sys_read", "filter": "override(0)", "expect": "rejected", "why": "unknown name 'override'"},
 {"id": "s-filter-cat", "type": "kprobe", "target": "sys_read", "filter": "cat(\"/etc/shadow\")", "expect": "rejected", "why": "unknown name 'cat'"},
 {"id": "s-filter-exit", "type": "tracepoint", "target": "syscalls:sys_enter_read", "filter": "args->count; exit()", "expect": "rejected", "why": "';' is not allowed"},
 {"id": "s-filter-map", "type": "kprobe", "target": "sys_read", "filter": "@x = 1", "expect": "rejected", "why": "'@' is not allowed"},
 {"id": "s-filter-comment", "type": "kprobe", "target": "sys_read", "filter": "arg1 /* */ > 0", "expect": "rejected", "why": "comments are not allowed"},
 {"id": "s-filter-line-comment", "type": "kprobe", "target": "sys_read", "filter": "arg1 > 0 // x", "expect": "rejected", "why": "comments are not allowed"},
 {"id": "s-filter-dollar", "type": "kprobe", "target": "sys_read", "filter": "$1 == 0", "expect": "rejected", "why": "unknown name '\\$1'"},
 {"id": "s-filter-assign", "type": "kprobe", "target": "sys_read", "filter": "arg1 = 0", "expect": "rejected", "why": "assignment"},
 {"id": "s-filter-quote", "type": "kprobe", "target": "sys_read", "filter": "comm == \"x\") { system(\"touch @M@\") } (\"", "expect": "rejected", "why": "."},
 {"id": "s-format-noargs", "type": "kprobe", "target": "sys_read", "format": "%s\"); system(\"touch @M@\"); print((\"", "expect": "rejected", "why": "conversion"},
 {"id": "s-format-unknown", "type": "kprobe", "target": "sys_read", "format": "%n", "arguments": ["arg1"], "expect": "rejected", "why": "."},
 {"id": "s-args-extra", "type": "kprobe", "target": "sys_read", "format": "%d", "arguments": ["arg1", "system(\"touch @M@\")"], "expect": "rejected", "why": "."},
 {"id": "s-args-paren", "type": "kprobe", "target": "sys_read", "format": "%d", "arguments": ["arg1); system(\"touch @M@\"); print((1"], "expect": "rejected", "why": "."},
 {"id": "s-args-map", "type": "kprobe", "target": "sys_read", "format": "%d", "arguments": ["@x"], "expect": "rejected", "why": "'@' is not allowed"},
 {"id": "s-args-object", "type": "kprobe", "target": "sys_read", "format": "%d", "arguments": [{"code": "system()"}], "expect": "rejected", "why": "^'arguments'\\[0\\] must be a string"},
 {"id": "s-library-semi", "type": "uprobe", "target": "main", "library": "/bin/sh;touch @M@", "expect": "rejected", "why": "."},
 {"id": "s-library-quote", "type": "uprobe", "target": "main", "library": "@TMP@/lib\"{x}", "expect": "rejected", "why": "bad library name"},
 {"id": "s-library-link", "type": "uprobe", "target": "main", "library": "@TMP@/plainlib", "expect": "rejected", "why": "has characters bpftrace cannot take"},
 {"id": "s-library-kprobe", "type": "kprobe", "target": "sys_read", "library": "/bin/sh", "expect": "rejected", "why": "^'library' is only for"},
 {"id": "s-process-empty", "type": "kprobe", "target": "sys_read", "filters": {"process": ""}, "expect": "rejected", "why": "^'filters.process' is empty$"},
 {"id": "s-cgroup-relative", "type": "kprobe", "target": "sys_read", "filters": {"cgroup": "x\") { system(\"touch @M@\") }"}, "expect": "rejected", "why": "^'filters.cgroup' must be"},
 {"id": "s-cgroup-missing", "type": "kprobe", "target": "sys_read", "filters": {"cgroup": "/nonexistent\") { system(\"touch @M@\") }"}, "expect": "failed|rejected", "why": "is not a directory"},
 {"id": "s-pid-code", "type": "kprobe", "target": "sys_read", "filters": {"pid": "1) { system(\"touch @M@\") }"}, "expect": "rejected", "why": "^'pid' must be a whole number"},
 {"id": "s-uid-negative", "type": "kprobe", "target": "sys_read", "filters": {"uid": -1}, "expect": "rejected", "why": "^'uid' is -1, out of range"},
 {"id": "s-filters-string", "type": "kprobe", "target": "sys_read", "filters": "pid == 1 || system(\"touch @M@\")", "expect": "rejected", "why": "^'filters' must be an object"},
 {"id": "s-program", "program": "BEGIN { system(\"touch @M@\") }", "expect": "rejected", "why": "^raw bpftrace programs are disabled"},
 {"id": "s-spec-block", "spec": "sys_read (arg1 > 0) { system(\"touch @M@\") }", "expect": "rejected", "why": "^'spec': unexpected '\\{'"},
 {"id": "s-spec-newline", "spec": "sys_read\nBEGIN { system(\"touch @M@\") }", "expect": "rejected", "why": "^'spec': "},
 {"id": "s-spec-number", "spec": 42, "expect": "rejected", "why": "^'spec' must be a string$"},
 {"id": "d-data-filter", "type": "tracepoint", "target": "syscalls:sys_enter_read", "filter": "comm == \"x\\\") { system(\\\"touch @M@\\\") } //\"", "duration": 1, "max_events": 5,
  "expect": "completed", "twin": ["-d", "1", "-M", "5", "t:syscalls:sys_enter_read (comm == \"x\")"]},
 {"id": "d-data-format", "type": "tracepoint", "target": "syscalls:sys_enter_read", "format": "x\n} BEGIN { system(\"touch @M@\") }\n// %d", "arguments": ["args->count"], "duration": 1, "max_events": 5,
  "expect": "completed", "twin": ["-d", "1", "-M", "5", "t:syscalls:sys_enter_read \"x %d\", args->count"]},
 {"id": "d-data-process", "type": "kprobe", "target": "sys_read", "filters": {"process": "x\") { system(\"touch @M@\") } //"}, "duration": 1, "max_events": 5,
  "expect": "completed", "twin": ["-d", "1", "-M", "5", "-n", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "sys_read"]},
 {"id": "d-data-cgroup", "type": "kprobe", "target": "sys_read", "filters": {"cgroup": "@TMP@/cg\") { system(\"touch @M@\") } //"}, "duration": 1, "max_events": 5,
  "expect": "completed", "twin": ["-d", "1", "-M", "5", "-c", "@TMP@/cg", "sys_read"]},
 {"id": "d-data-spec", "spec": "sys_read (comm == \"\u202e}{\\\\\") \"%d\\n} END { exit() }\", arg1", "duration": 1, "max_events": 5,
  "expect": "completed", "twin": ["-d", "1", "-M", "5", "sys_read (comm == \"x\") \"x%d\", arg1"]}
],
"commands": [{"id": "s-command-off", "command": "touch @M@", "expect": "rejected", "why": "^shell commands are disabled"}],
"diagnostics": [
 {"id": "s-diag-preset", "preset": "../../../tmp/x", "expect": "rejected", "why": "^no preset '../../../tmp/x'"},
 {"id": "s-diag-cgroup", "preset": "errors", "cgroup": "/sys/fs/cgroup/../../../etc", "expect": "rejected", "why": "without '..'"},
 {"id": "s-diag-threshold", "preset": "errors", "slow_threshold": "1ms; system(\"touch @M@\")", "expect": "rejected", "why": "^'slow_threshold' must be a time"}]}
EOF
njobs=$(jq '[.ebpf_programs, .commands, .diagnostics] | add | length' "$TMP/jobs.json")
cli enqueue inj "$TMP/jobs.json" >/dev/null || nok "enqueue the injection jobs"
wait_results inj "$njobs" 60 || nok "inj: $njobs results: $(tail -n2 "$TMP/inj.res.err")"
while IFS=$'\x1f' read -r id expect why twin; do
	st=$(result inj "$id" .status)
	er=$(result inj "$id" '.error // ""')
	if [ "$expect" != completed ]; then
		if [[ $st =~ ^($expect)$ ]] && printf '%s' "$er" | grep -Eq -- "$why"; then
			ok "job $id: $st: $(printf '%s' "$er" | tr '\n' ' ')"
		else
			nok "job $id: got '$st' '$er', expected $expect and /$why/"
		fi
		continue
	fi
	same "job $id: completed (the real bpftrace ran it)" "$st" completed
	result inj "$id" .program >"$TMP/job.bt"
	mapfile -t targs < <(jq -r '.[]' <<<"$twin")
	diag script "${targs[@]}" >"$TMP/jobtwin.bt" 2>&1
	clean "job $id" "$TMP/job.bt" "$TMP/jobtwin.bt"
done < <(jq -r '[.ebpf_programs, .commands, .diagnostics] | add | .[] | [.id, .expect, (.why // ""), (.twin // [] | tojson)] | join("\u001f")' "$TMP/jobs.json")
check "a job id that is a path stays a ledger hash" sh -c "! find '$TMP/inj.spool' -type f | grep -Ev '/(ledger/[0-9a-f]{16}\.json|outbox/[0-9]+\.json|outbox/dropped)$'"

# ==== 3. bpftrace is never run with --unsafe ===========================================
# The argv of every bpftrace started so far (CLI traces and the agent's jobs):
# --version, --info, or `-f json PROGRAM PID` and whole numbers; never --unsafe.
# Then a real one seen in /proc while it runs.
bad=0 progs=0
for f in "$REC"/*.argv; do
	mapfile -d '' -t av <"$f"
	progs=$((progs + 1))
	shape=ok
	[ "${#av[@]}" -ge 4 ] && [ "${av[0]}" = -f ] && [ "${av[1]}" = json ] && [[ ${av[2]} == */diagagent-* ]] || shape=bad
	for a in "${av[@]:3}"; do [[ $a =~ ^[0-9]+$ ]] || shape=bad; done
	for a in "${av[@]}"; do [ "$a" = --unsafe ] && shape=bad; done
	[ $shape = ok ] || { bad=$((bad + 1)); echo "# bpftrace argv: ${av[*]}"; }
done
check "bpftrace was started for the data cases and jobs ($progs times)" test "$progs" -ge 15
same "every bpftrace argv is -f json PROGRAM PID, no --unsafe" "$bad" 0
enqueue inj '{"ebpf_programs": [{"id": "live", "spec": "sys_nanosleep", "duration": 30}], "diagnostics": [{"id": "dlive", "preset": "errors", "duration": 30}]}'
wait_log inj 'job dlive: attached' 60
wait_log inj 'job live: attached' 60
seen=0 unsafe=0
for p in $(pgrep -P "$inj"); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = bpftrace ] || continue
	seen=$((seen + 1))
	tr '\0' '\n' <"/proc/$p/cmdline" >"$TMP/live.cmdline"
	grep -qx -- --unsafe "$TMP/live.cmdline" && unsafe=1
	grep -qx json "$TMP/live.cmdline" || unsafe=1
	tr '\0' '\n' <"/proc/$p/environ" >>"$TMP/children.env"
	check "the running bpftrace $p is in its own process group" test "$(ps -o pgid= -p "$p" | tr -d ' ')" = "$p"
done
same "two bpftrace children of the agent seen in /proc" "$seen" 2
same "their cmdline: -f json, no --unsafe" "$unsafe" 0
enqueue inj '{"cancel": ["live", "dlive"]}'
wait_results inj $((njobs + 2)) 60

# ==== 4. the command allow-list =======================================================
cmds=(
	"ls; touch $MARK"
	"ls && touch $MARK"
	"ls || touch $MARK"
	"ls${NL}touch $MARK"
	"ls${NL}"
	"ls -l${NL}touch $MARK"
	"ls \$(touch $MARK)"
	"ls \`touch $MARK\`"
	"ls | sh -c 'touch $MARK'"
	"ls & touch $MARK"
	"ls > $MARK"
	"ls #; touch $MARK"
	"ls	-l"
	" ls"
	"ls "
	"LS"
	"echo hi; touch $MARK"
	"touch $MARK; echo hi"
	"echo hi${NL}touch $MARK"
	"echo \$(touch $MARK)"
	"echo hé"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"
)
{
	printf '{"commands": ['
	i=0
	for c in "${cmds[@]}"; do
		[ $i -gt 0 ] && printf ','
		jq -n --arg id "x$i" --arg c "$c" '{id: $id, command: $c}'
		i=$((i + 1))
	done
	# a long command is not cut to fit
	printf ','
	jq -n --arg c "ls $(printf 'a%.0s' $(seq 70000))" '{id: "x-long", command: $c}'
	printf ',{"id": "ok-ls", "command": "ls -l"}, {"id": "ok-touch", "command": "touch %s"}' "$TMP/allowed"
	printf ',{"id": "ok-env", "command": "cat /proc/self/cmdline /proc/self/environ"}]}'
} >"$TMP/cmds.json"
ncmds=$((${#cmds[@]} + 4))
write_conf cmd "token_file=$TMP/tok.token" allow_commands=true 'command_allow=ls( -l)?' 'command_allow=echo [a-z]+' \
	"command_allow=touch ${TMP//./\\.}/allowed" 'command_allow=cat /proc/self/cmdline /proc/self/environ' \
	'command_allow=(a+)+$'
start_agent cmd
cmdpid=$apid
cli enqueue cmd "$TMP/cmds.json" >/dev/null || nok "enqueue the commands"
wait_results cmd "$ncmds" 60 || nok "cmd: $ncmds results: $(tail -n2 "$TMP/cmd.res.err")"
for ((i = 0; i < ${#cmds[@]}; i++)); do
	d=$(printf '%s' "${cmds[$i]}" | head -c 40 | tr '\n\t' '  ')
	same "command '$d': rejected, not allowed" "$(result cmd "x$i" '[.status, .error] | join("|")')" \
		"rejected|command not allowed: no command_allow pattern in agent.conf matches the whole command"
done
same "a command of 70003 bytes: rejected" "$(result cmd x-long '[.status, .error] | join("|")')" "rejected|'command' is 70003 bytes, more than 65536"
same "the allowed ls -l ran" "$(result cmd ok-ls .status)" completed
same "the allowed touch ran" "$(result cmd ok-touch .status)" completed
check "and made its file (so a rejected one would have too)" test -e "$TMP/allowed"
x_started=$(grep -c 'job x[0-9-]*[a-z]*: command started' "$TMP/cmd.log")
same "no rejected command was started" "$x_started" 0
# Without PCRE2's match limit, (a+)+$ against 97 a's and a '!' would take
# 2^97 steps and the agent would never answer.
same "the catastrophic pattern gave up (match limit): rejected" "$(result cmd x$((${#cmds[@]} - 1)) .status)" rejected

# A NUL byte anywhere (a spec, a filter, a command) makes the whole batch
# invalid: nothing in it runs, not even the harmless suggestion beside it.
# (One batch at a time: the server merges what is queued between two polls.)
nul=0
for f in '"ebpf_programs": [{"id": "n1", "spec": "sys_read\u0000 { system(\"touch @M@\") }"}]' \
	'"ebpf_programs": [{"id": "n2", "type": "kprobe", "target": "sys_read", "filter": "arg1\u0000; system(\"touch @M@\")"}]' \
	'"commands": [{"id": "n3", "command": "ls\u0000; touch @M@"}]'; do
	nul=$((nul + 1))
	enqueue cmd "{${f//@M@/$MARK}, \"suggestions\": [{\"id\": \"n-ok$nul\", \"query\": \"file not found\"}]}"
	for i in $(seq 100); do
		[ "$(grep -c 'the job batch is not valid JSON (\\u0000 is not allowed' "$TMP/cmd.log")" -ge $nul ] && break
		sleep 0.1
	done
	same "a batch with a NUL byte in a $(cut -d' ' -f$nul <<<'spec filter command'): refused whole, logged" \
		"$(grep -c 'the job batch is not valid JSON (\\u0000 is not allowed' "$TMP/cmd.log")" $nul
done
same "nothing of those batches ran" "$(grep -Ec 'job (n[0-9]|n-ok)' "$TMP/cmd.log")" 0

write_conf off "token_file=$TMP/tok.token" allow_commands=false 'command_allow=ls( -l)?'
start_agent off
offpid=$apid
enqueue off '{"commands": [{"id": "o1", "command": "ls -l"}, {"id": "o2", "command": "touch '"$MARK"'"}]}'
wait_results off 2 30
same "allow_commands = false: even an allowed command is rejected" "$(result off o1 '[.status, .error] | join("|")')" \
	"rejected|shell commands are disabled on this agent (allow_commands = false in agent.conf)"
same "allow_commands = false: o2 too" "$(result off o2 .status)" rejected
stop_agent "$offpid" TERM

# ==== 5. the token =====================================================================
# A full cycle on agent tok: heartbeats, a trace, commands (one prints its own
# environment), refused and retried uploads, a result the server refuses
# (kept in rejected/), a SIGHUP with a token file that is then refused, debug
# logging, SIGTERM. Then agents with a wrong token (401) and behind a redirect,
# and start-ups that fail. The token, raw or in base64, must be nowhere.
write_conf tok "token_file=$TMP/tok.token" log_level=debug allow_commands=true \
	'command_allow=cat /proc/self/cmdline /proc/self/environ' 'command_allow=tr .*'
start_agent tok
tokpid=$apid
wait_log tok 'polling http'
cli faults '{"path": "/agents/tok/results", "method": "POST", "status": 422, "count": 1}' >/dev/null
enqueue tok '{"diagnostics": [{"id": "d1", "preset": "nonesuch"}]}'
wait_log tok 'set aside in the outbox' 30 || nok "tok: a refused result set aside: $(tail -n2 "$TMP/tok.log")"
cli faults '{"path": "/agents/tok/results", "method": "POST", "status": 503, "count": 2}' >/dev/null
enqueue tok '{"ebpf_programs": [{"id": "t1", "spec": "sys_read \"%s\", arg2", "duration": 1, "max_events": 5}],
	"commands": [{"id": "e1", "command": "cat /proc/self/cmdline /proc/self/environ"}, {"id": "e2", "command": "tr \"\\\\0\" \"\\\\n\" < /proc/'"$tokpid"'/environ"}]}'
wait_results tok 3 60 # d1 stays in rejected/
same "tok: the trace and the commands completed" "$(jq -r '[.results[] | .status] | join(" ")' "$TMP/tok.res")" "completed completed completed"
check "one result was refused and kept in rejected/" test "$(find "$TMP/tok.spool/outbox/rejected" -type f | wc -l)" -ge 1
check "a command printed its environment (PATH) into its result" grep -q 'PATH=' "$TMP/results/tok/results/"*.json
chmod 644 "$TMP/tok.token"
kill -HUP "$tokpid"
check "SIGHUP with a 0644 token file: refused, logged without the token" wait_log tok "token file .* is readable by group or others" 10
chmod 600 "$TMP/tok.token"
kill -HUP "$tokpid"
sleep 1
cli heartbeats tok >"$TMP/tok.hb"
stop_agent "$tokpid" TERM
same "tok: SIGTERM exit 0" "$arc" 0

# A wrong token: refused with 401, logged without it.
printf '%s\n' "$WRONG" >"$TMP/wrong.token"
chmod 600 "$TMP/wrong.token"
write_conf bad "token_file=$TMP/wrong.token" log_level=debug
start_agent bad
badpid=$apid
wait_log bad 'the server refused the token \(HTTP 401\)' 20 || nok "wrong token: the 401 is logged"
check "the server counted the 401s" test "$(cli stats | jq .unauthorized)" -ge 1
stop_agent "$badpid" TERM

# A redirect is not followed: the token never reaches the other host.
cat >"$TMP/redirect.py" <<'EOF'
import http.server, sys, threading
log = open(sys.argv[1], "a")
class Sink(http.server.BaseHTTPRequestHandler):
    def handle_one_request(self):
        log.write("request\n"); log.flush()
        super().handle_one_request()
    def do_GET(self):
        log.write(str(self.headers)); log.flush(); self.send_response(204); self.end_headers()
    do_POST = do_GET
    def log_message(self, *a): pass
sink = http.server.HTTPServer(("127.0.0.1", 0), Sink)
class Redirect(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(307)
        self.send_header("Location", "http://127.0.0.1:%d%s" % (sink.server_port, self.path))
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_POST = do_GET
    def log_message(self, *a): pass
red = http.server.HTTPServer(("127.0.0.1", 0), Redirect)
threading.Thread(target=sink.serve_forever, daemon=True).start()
open(sys.argv[2], "w").write(str(red.server_port))
red.serve_forever()
EOF
"$PY" "$TMP/redirect.py" "$TMP/sink.log" "$TMP/redirect.port" &
rpid=$!
for i in $(seq 50); do [ -s "$TMP/redirect.port" ] && break; sleep 0.1; done
: >>"$TMP/sink.log"
write_conf redir "token_file=$TMP/tok.token" "server_url=http://127.0.0.1:$(cat "$TMP/redirect.port")"
capture redir diag run -c "$TMP/redir.conf" --once
cat "$TMP/redir.err" >>"$TMP/redir.log"
same "behind a redirect: --once fails" "$rc" 1
check "behind a redirect: the 307 is logged" grep -q '307' "$TMP/redir.log"
same "the redirect's target got no request" "$(cat "$TMP/sink.log")" ""
kill "$rpid" 2>/dev/null
wait "$rpid" 2>/dev/null

# Start-ups that fail: no token in what they print.
cp "$TMP/tok.token" "$TMP/open.token"
chmod 644 "$TMP/open.token"
write_conf fail1 "token_file=$TMP/open.token"
capture fail1 diag run -c "$TMP/fail1.conf" --once
same "a 0644 token file: run exits 2" "$rc" 2
printf '%s %s\n' "$TOKEN" "$TOKEN" >"$TMP/space.token"
chmod 600 "$TMP/space.token"
write_conf fail2 "token_file=$TMP/space.token"
capture fail2 diag run -c "$TMP/fail2.conf" --once
same "a token with a blank: run exits 2" "$rc" 2
for i in $(seq 200); do printf '%s' "$TOKEN"; done >"$TMP/big.token"
chmod 600 "$TMP/big.token"
write_conf fail3 "token_file=$TMP/big.token"
capture fail3 diag run -c "$TMP/fail3.conf" --once
same "a token file over 4096 bytes: run exits 2" "$rc" 2
write_conf fail4 "server_url=http://agent:$TOKEN@127.0.0.1:$PORT"
capture fail4 diag run -c "$TMP/fail4.conf" --once
same "credentials in server_url: run exits 2" "$rc" 2
check "credentials in server_url: said so" grep -q 'server_url' "$TMP/fail4.err"
DIAGAGENT_LOG_LEVEL=debug capture cfgchk diag config check -c "$TMP/tok.conf"
same "config check of tok.conf: exit 0" "$rc" 0

# Where the token must not be: as written, and in base64 at each of the three
# alignments (standard and URL-safe alphabets).
"$PY" - "$TOKEN" "$WRONG" >"$TMP/forms" <<'EOF'
import base64, sys
for t in sys.argv[1:]:
    t = t.encode()
    print(t.decode())
    for k in range(3):
        e = base64.b64encode(b"\0" * k + t).decode()
        core = e[(4 * k + 2) // 3:((k + len(t)) // 3) * 4]
        print(core)
        print(core.replace("+", "-").replace("/", "_"))
EOF
for f in "$REC"/*.env; do tr '\0' '\n' <"$f" >>"$TMP/children.env"; done
check "the children's environments were recorded" grep -q '^PATH=' "$TMP/children.env"
for p in "$inj" "$cmdpid"; do
	tr '\0' '\n' <"/proc/$p/cmdline" >"$TMP/agent-$p.cmdline"
	tr '\0' '\n' <"/proc/$p/environ" >"$TMP/agent-$p.environ"
done
where=("$TMP"/*.log "$TMP"/*.err "$TMP"/*.out "$TMP"/*.res "$TMP/tok.hb" "$TMP/results" "$TMP"/*.spool
	"$REC" "$TMP/children.env" "$TMP"/agent-*.cmdline "$TMP"/agent-*.environ)
leaks=$(grep -rlaF -f "$TMP/forms" "${where[@]}" 2>/dev/null | grep -v -e '/[a-z]*\.token$' -e "$TMP/forms")
same "the token is in no log, result, spool file, output, argv or environment" "$leaks" ""
check "... and grep does find it where it is (the token file)" grep -qaF -f "$TMP/forms" "$TMP/tok.token"
for pre in '' x xy; do
	check "... and the forms find its base64 after '$pre'" sh -c "printf '%s' '$pre$TOKEN' | base64 -w0 | grep -qF -f '$TMP/forms'"
done
nfiles=$(find "$TMP/results" "$TMP"/*.spool -type f | wc -l)
check "... having looked at $nfiles result and spool files" test "$nfiles" -ge 20

# ==== 6. the spool =====================================================================
# spool_of NAME: files not 0600, directories not 0700, anything not root's.
spool_bad() { find "$1" \( -type f ! -perm 600 \) -o \( -type d ! -perm 700 \) -o ! -user root -o ! -type f ! -type d | sed "s|^$1|.|"; }
for a in inj cmd off tok bad; do
	same "spool of $a: files 0600, directories 0700, all root's" "$(spool_bad "$TMP/$a.spool")" ""
done
check "tok's spool has a rejected result, a ledger and an outbox" test -d "$TMP/tok.spool/outbox/rejected" -a -d "$TMP/tok.spool/ledger"

# umask 000 and a spool_dir three levels down that does not exist yet.
write_conf um "spool_dir=$TMP/um/a/b/spool"
(umask 000 && exec $WRAP "$DIAG" run -c "$TMP/um.conf" >/dev/null 2>>"$TMP/um.log") &
umpid=$!
apids+=("$umpid")
cli faults '{"path": "/agents/um/results", "method": "POST", "status": 422, "count": 1}' >/dev/null
enqueue um '{"commands": [{"id": "u1", "command": "true"}], "suggestions": [{"id": "u2", "query": "file not found"}]}'
wait_results um 1 30
wait_log um 'rejected' 10
stop_agent "$umpid" TERM
same "umask 000: the new spool and its parents are 0700, files 0600" "$(spool_bad "$TMP/um")" ""
check "umask 000: there were files to look at" test "$(find "$TMP/um" -type f | wc -l)" -ge 2

# A spool_dir that was 0777 (subdirectories too), with files left 0644, and
# files planted by another user (uid 65534): a queued command job in the
# ledger and a result in the outbox. The agent tightens what is its own and
# trusts nothing that is not.
P=$TMP/pre.spool
mkdir -p "$P/outbox/rejected" "$P/ledger"
chmod 777 "$P" "$P/outbox" "$P/outbox/rejected" "$P/ledger"
printf '{"id": "old", "kind": "command", "status": "completed", "success": true, "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:00Z", "command": "x", "exit_code": 0, "signal": null, "stdout": "", "stderr": "", "stdout_truncated": false, "stderr_truncated": false, "duration_ms": 1}' >"$P/outbox/00000000000000000001.json"
cp "$P/outbox/00000000000000000001.json" "$P/outbox/rejected/00000000000000000000.json"
chmod 644 "$P/outbox/00000000000000000001.json" "$P/outbox/rejected/00000000000000000000.json"
now=$(date +%s)
printf '{"id": "planted", "kind": "command", "state": "queued", "order": 1, "updated": %s, "started_ns": 0, "job": {"id": "planted", "command": "touch %s"}}' \
	"$now" "$MARK" >"$P/ledger/00000000000000aa.json"
sed 's/"old"/"forged"/' "$P/outbox/00000000000000000001.json" >"$P/outbox/00000000000000000002.json"
chown 65534:65534 "$P/ledger/00000000000000aa.json" "$P/outbox/00000000000000000002.json"
write_conf pre "spool_dir=$P" allow_commands=true "command_allow=touch .*"
(umask 000 && exec $WRAP "$DIAG" run -c "$TMP/pre.conf" >/dev/null 2>>"$TMP/pre.log") &
prepid=$!
apids+=("$prepid")
enqueue pre '{"commands": [{"id": "p1", "command": "touch '"$TMP/p1"'"}]}'
wait_results pre 2 30
stop_agent "$prepid" TERM
same "a 0777 spool: now 0700, files 0600, all root's" "$(spool_bad "$P")" ""
same "its own old result was delivered" "$(result pre old .status)" completed
same "the forged result was not" "$(result pre forged .status)" ""
check "the planted job was not run" sh -c "! grep -q 'job planted' '$TMP/pre.log'"

# A spool_dir another user owns is refused.
mkdir -m 700 "$TMP/theirs"
chown 65534:65534 "$TMP/theirs"
write_conf theirs "spool_dir=$TMP/theirs"
capture theirs diag run -c "$TMP/theirs.conf" --once
same "a spool_dir owned by another user: run exits 1" "$rc" 1
check "and says who owns it" grep -q "owned by uid 65534" "$TMP/theirs.err"
same "nothing was created in it" "$(ls -A "$TMP/theirs")" ""

# ==== 7. the token file ================================================================
for m in 640 604 620 602 660 666 644; do
	cp "$TMP/tok.token" "$TMP/m.token"
	chmod "$m" "$TMP/m.token"
	DIAGAGENT_TOKEN_FILE="$TMP/m.token" capture mode diag config check -c "$TMP/tok.conf"
	same "token file mode $m: refused (exit 2)" "$rc" 2
	check "token file mode $m: says why" grep -Eq "token file '$TMP/m.token' is (readable|writable) by group or others \\(mode 0$m\\)" "$TMP/mode.err"
done
for m in 600 400; do
	chmod "$m" "$TMP/m.token"
	DIAGAGENT_TOKEN_FILE="$TMP/m.token" capture mode diag config check -c "$TMP/tok.conf"
	same "token file mode $m: accepted" "$rc" 0
done
chmod 644 "$TMP/open.token"
ln -s "$TMP/open.token" "$TMP/link.token"
DIAGAGENT_TOKEN_FILE="$TMP/link.token" capture mode diag config check -c "$TMP/tok.conf"
same "a symlink to a 0644 token file: refused" "$rc" 2
chmod 600 "$TMP/m.token"
chown 65534 "$TMP/m.token"
DIAGAGENT_TOKEN_FILE="$TMP/m.token" capture mode diag config check -c "$TMP/tok.conf"
same "a 0600 token file another user owns: refused" "$rc" 2
check "a token file another user owns: says who" grep -q "token file '$TMP/m.token' is owned by uid 65534" "$TMP/mode.err"
mkdir "$TMP/dir.token"
DIAGAGENT_TOKEN_FILE="$TMP/dir.token" capture mode diag config check -c "$TMP/tok.conf"
same "a directory as token file: refused" "$rc" 2

# ==== the end ===========================================================================
check "no injection, rejected command or planted job ever ran" test ! -e "$MARK"
stop_agent "$cmdpid" TERM
stop_agent "$inj" TERM
same "inj: SIGTERM exit 0" "$arc" 0
