#!/usr/bin/env bash
# spec_golden.sh - the data-driven spec suite: test/data/spec/valid/NAME/input
# (the arguments of `diagagent script`, one per line) must print exactly
# expected.bt, which must compile with the real bpftrace (--emit-elf);
# invalid/NAME/input must fail with exactly the stderr in `error` and the exit
# code in `status` (2 when the file is absent).
# UPDATE=1 rewrites the expected files from the current output (then review them).
# Under valgrind every 4th case (sampled in lib.sh): the torture test and the
# fuzz seeds' replay take the same code there case by case.
. "$(dirname "$0")/../lib.sh"
D="$ROOT/test/data/spec"

run_script() { # run_script DIR -> $TMP/out, $TMP/err, $rc
	local args=()
	mapfile -t args <"$1/input"
	diag script "${args[@]}" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

have_bpftrace=false
if [ "$(id -u)" -eq 0 ] && command -v bpftrace >/dev/null; then have_bpftrace=true; fi

for dir in "$D"/valid/*/; do
	sampled || continue
	name=valid/$(basename "$dir")
	run_script "$dir"
	if [ "${UPDATE:-}" = 1 ] && [ $rc -eq 0 ]; then cp "$TMP/out" "$dir/expected.bt"; fi
	if [ $rc -ne 0 ]; then
		nok "$name: exit $rc: $(head -n1 "$TMP/err")"
		continue
	fi
	if diff -u "$dir/expected.bt" "$TMP/out" >"$TMP/diff"; then
		ok "$name: program as expected"
	else
		nok "$name: program differs"; sed 's/^/    /' "$TMP/diff" | head -n 30
	fi
	if [ -f "$dir/no-compile" ]; then
		# Only for probe kinds whose compile bpftrace refuses on a host without them.
		check "$name: says why it is not compiled here" test -s "$dir/no-compile"
	elif $have_bpftrace; then
		if timeout 60 bpftrace --emit-elf "$TMP/prog.o" "$dir/expected.bt" >"$TMP/bt.err" 2>&1; then
			ok "$name: compiles with bpftrace $(bpftrace --version | cut -d' ' -f2)"
		else
			nok "$name: bpftrace does not compile it: $(grep -v RLIMIT "$TMP/bt.err" | head -n3 | tr '\n' ' ')"
		fi
	else
		skip "$name: compile with bpftrace" "needs root and bpftrace"
	fi
done

for dir in "$D"/invalid/*/; do
	sampled || continue
	name=invalid/$(basename "$dir")
	run_script "$dir"
	want=2
	[ -f "$dir/status" ] && want=$(cat "$dir/status")
	if [ "${UPDATE:-}" = 1 ] && [ $rc -ne 0 ] && [ $rc -lt 64 ]; then
		cp "$TMP/err" "$dir/error"
		[ $rc -ne 2 ] && echo $rc >"$dir/status"
		want=$rc
	fi
	same "$name: exit code" "$rc" "$want"
	same "$name: nothing on stdout" "$(cat "$TMP/out")" ""
	if diff -u "$dir/error" "$TMP/err" >"$TMP/diff"; then
		ok "$name: error as expected"
	else
		nok "$name: error differs"; sed 's/^/    /' "$TMP/diff" | head -n 20
	fi
done
