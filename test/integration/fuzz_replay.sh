#!/usr/bin/env bash
# fuzz_replay.sh - every fuzz target, built without libFuzzer (BUILD/fuzz/,
# test/fuzz/replay.c as main), replays its seeds and every finding kept in
# test/fuzz/findings/TARGET/: each property the target checks holds again,
# and under make asan / make valgrind no read, leak or UB comes back. The
# spec findings' generated programs are compiled with bpftrace --emit-elf.
# ~3 s; ~30 s under valgrind (its start-up, once per target and kind).
# shellcheck source=test/lib.sh
. "$(dirname "$0")/../lib.sh"

fuzz=$ROOT/test/fuzz
targets="spec scan config jobs kb"

# Every findings folder belongs to a target (a typo would leave its files unreplayed).
for d in "$fuzz"/findings/*/; do
	[ -d "$d" ] || continue
	t=$(basename "$d")
	case " $targets " in
	*" $t "*) ;;
	*) nok "test/fuzz/findings/$t/ names no fuzz target ($targets)" ;;
	esac
done

# replay NAME BIN DESC FILE...: run BIN on the files; one line for all of them.
replay() {
	local name=$1 bin=$2 desc=$3
	shift 3
	# shellcheck disable=SC2086 # WRAP is a command line
	capture "$name" $WRAP "$bin" "$@"
	local n
	n=$(sed -n 's/^replay: \([0-9]*\) inputs$/\1/p' "$TMP/$name.out")
	if [ "$rc" = 0 ] && [ "${n:-x}" = $# ]; then
		ok "$desc: $n inputs"
	else
		nok "$desc: exit $rc after $(grep '^replay: /' "$TMP/$name.out" | tail -n1 | sed "s|^replay: $ROOT/||")"
		grep -E 'property violated|violation|ERROR|SUMMARY|runtime error|Invalid|definitely|==[0-9]+== ' "$TMP/$name.err" | head -n 15
	fi
}

# files DIR...: the regular files in DIR, sorted, one a line (README.md left out).
files() { find "$@" -maxdepth 1 -type f ! -name '*.md' 2>/dev/null | sort; }

for t in $targets; do
	bin=$ROOT/$BUILD/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		nok "fuzz_$t is built ($BUILD/fuzz/fuzz_$t: make tests-bin)"
		continue
	fi
	if [ "$t" = spec ]; then
		seeds=$TMP/seeds-spec
		"$fuzz/seed_corpus.sh" "$seeds" >/dev/null || nok "seed_corpus.sh writes the spec seeds"
	else
		seeds=$fuzz/seeds/$t
	fi
	mapfile -t s < <(files "$seeds")
	if [ ${#s[@]} = 0 ]; then
		nok "fuzz_$t has seeds ($seeds)"
		continue
	fi
	replay "$t-seeds" "$bin" "fuzz_$t replays its seeds" "${s[@]}"

	mapfile -t f < <(files "$fuzz/findings/$t")
	[ ${#f[@]} -gt 0 ] || continue
	progs=$TMP/programs-$t
	mkdir -p "$progs"
	DIAG_FUZZ_PROGRAMS=$progs replay "$t-findings" "$bin" "fuzz_$t replays test/fuzz/findings/$t/" "${f[@]}"
	# The spec findings were programs bpftrace could not compile: what is
	# generated from them now must compile.
	[ "$t" = spec ] || continue
	if [ "$(id -u)" != 0 ] || ! command -v bpftrace >/dev/null; then
		skip "programs generated from the spec findings compile with bpftrace" "needs root and bpftrace"
		continue
	fi
	n=0 bad=0
	for p in "$progs"/*.bt; do
		[ -f "$p" ] || continue
		n=$((n + 1))
		if ! timeout 60 bpftrace --emit-elf "$TMP/prog.o" "$p" 1 >"$TMP/bt.err" 2>&1; then
			bad=$((bad + 1))
			echo "# $p:" && sed 's/^/#   /' "$p" && grep -v RLIMIT "$TMP/bt.err" | sed 's/^/#   /'
		fi
	done
	if [ $bad = 0 ]; then ok "the $n programs generated from the spec findings compile with bpftrace"; else nok "$bad of the $n programs generated from the spec findings do not compile with bpftrace"; fi
done
