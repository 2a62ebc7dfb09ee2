#!/usr/bin/env bash
# spec_tracepy.sh - every example of trace.py's help text, man page and example
# file (test/data/spec/tracepy/examples.txt) gives either a program that
# bpftrace compiles, or a clear error (one line naming the problem, exit 2 or
# 3); never a crash. Run once as this host lowers, once with --assume kprobes.
. "$(dirname "$0")/../lib.sh"
EX="$ROOT/test/data/spec/tracepy/examples.txt"
compiled=0 refused=0

try_example() { # try_example LABEL ARGS...
	local label=$1; shift
	diag script "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	case $rc in
	0)
		if [ "$(id -u)" -ne 0 ]; then
			skip "$label: compile" "needs root"
		elif timeout 60 bpftrace --emit-elf "$TMP/o" "$TMP/out" >"$TMP/bt" 2>&1; then
			ok "$label: compiles"; compiled=$((compiled + 1))
		else
			nok "$label: generated program does not compile: $(grep -v RLIMIT "$TMP/bt" | head -n2 | tr '\n' ' ')"
		fi ;;
	2|3)
		if head -n1 "$TMP/err" | grep -q '^diagagent script: [a-z-]' && [ ! -s "$TMP/out" ]; then
			ok "$label: refused ($rc): $(head -n1 "$TMP/err" | cut -c19-)"; refused=$((refused + 1))
		else
			nok "$label: unclear error: $(head -n2 "$TMP/err" | tr '\n' ' ')"
		fi ;;
	*) nok "$label: exit $rc: $(head -n2 "$TMP/err" | tr '\n' ' ')" ;;
	esac
}

n=0 args=()
flush() {
	[ ${#args[@]} -eq 0 ] && return
	n=$((n + 1))
	try_example "example $n: ${args[*]}" "${args[@]}"
	try_example "example $n (--assume kprobes): ${args[*]}" --assume kprobes "${args[@]}"
	args=()
}
while IFS= read -r line; do
	case $line in
	'#'*) continue ;;
	'') flush ;;
	*) args+=("$line") ;;
	esac
done <"$EX"
flush
echo "# $n examples: $compiled programs compiled, $refused refused with a clear error"
check "every trace.py example was tried" [ "$n" -ge 40 ]
