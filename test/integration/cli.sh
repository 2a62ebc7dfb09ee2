#!/usr/bin/env bash
# cli.sh - the command-line skeleton: help, version, usage errors and exit codes.
. "$(dirname "$0")/../lib.sh"

version=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
capture v diag --version
same "--version exits 0" "$rc" 0
same "--version prints the Makefile's version" "$(cat "$TMP/v.out")" "diagagent $version"

capture h diag --help
same "--help exits 0" "$rc" 0
check "--help lists caps" grep -q '^  caps ' "$TMP/h.out"
check "--help explains exit codes" grep -q 'exit codes' "$TMP/h.out"

capture none diag
same "no command exits 2" "$rc" 2
same "no command: usage on stderr" "$(head -n1 "$TMP/none.err")" "usage: diagagent [--version] [--help] COMMAND [ARGS]"

capture bad diag frobnicate
same "unknown command exits 2" "$rc" 2
same "unknown command: one-line error" "$(head -n1 "$TMP/bad.err")" "diagagent: unknown command 'frobnicate'"
check "unknown command: usage follows" grep -q '^usage: diagagent' "$TMP/bad.err"

capture badopt diag --frobnicate
same "unknown global option exits 2" "$rc" 2
same "unknown global option: one-line error" "$(head -n1 "$TMP/badopt.err")" "diagagent: unknown option '--frobnicate'"

capture copt diag caps --bogus
same "unknown command option exits 2" "$rc" 2
same "unknown command option: one-line error" "$(head -n1 "$TMP/copt.err")" "diagagent caps: unknown option '--bogus'"
check "unknown command option: usage follows" grep -q '^usage: diagagent caps' "$TMP/copt.err"

capture cshort diag caps -z
same "unknown short option exits 2" "$rc" 2
same "unknown short option: one-line error" "$(head -n1 "$TMP/cshort.err")" "diagagent caps: unknown option '-z'"

capture extra diag caps extra
same "stray argument exits 2" "$rc" 2

capture hc diag help caps
same "help caps exits 0" "$rc" 0
check "help caps shows examples" grep -q '^examples:' "$TMP/hc.out"
capture ch diag caps --help
same "caps --help is help caps" "$(cat "$TMP/ch.out")" "$(cat "$TMP/hc.out")"

capture hn diag help nope
same "help of an unknown command exits 2" "$rc" 2
