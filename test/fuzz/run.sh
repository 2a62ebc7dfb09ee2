#!/usr/bin/env bash
# run.sh SECONDS [BUILD_DIR] - build the libFuzzer targets and run each for
# SECONDS on its corpus. FUZZ_TARGETS="spec scan config jobs kb" (the
# default: all five) picks which:
#   spec    fuzz_spec.c: the spec parser, its print fixed point, lowering and
#           the code generator; a sample of the programs it generated is
#           compiled with `bpftrace --emit-elf` afterwards
#   scan    fuzz_scan.c: bpftrace's JSON-lines output through the scanner,
#           both event renderers and the statistics
#   config  fuzz_config.c: the agent.conf loader and its print fixed point
#   jobs    fuzz_jobs.c: the job batch decoder
#   kb      fuzz_kb.c: the suggestion knowledge base loader, and queries
#
# Steps:
#   1. clang and its fuzzer runtime: installed with apt-get when missing
#      (root, or passwordless sudo);
#   2. the targets, built by the Makefile (make LIBFUZZER=1) with clang,
#      libFuzzer, ASan and UBSan into BUILD_DIR/fuzz/ (default
#      build/libfuzzer; every library object instrumented too);
#   3. each target's corpus, BUILD_DIR/corpus-NAME (kept across runs and
#      minimised after each), seeded from the test data (spec:
#      seed_corpus.sh; the others: test/fuzz/seeds/NAME/) and from the kept
#      findings (test/fuzz/findings/NAME/);
#   4. each target for SECONDS with its dictionary (test/fuzz/NAME.dict, the
#      scanner's bpftrace.dict), its log in BUILD_DIR/fuzz-NAME.log;
#   5. spec: the minimised corpus replayed once more to write every program
#      it generates to BUILD_DIR/programs, and FUZZ_COMPILE of them (default
#      50; "all") compiled with bpftrace --emit-elf.
#
# Exits non-zero on any crash, leak, timeout, out-of-memory, property
# violation (each target's own checks) or program bpftrace cannot compile.
# The input that did it is left as BUILD_DIR/NAME-crash-* (leak-, timeout-,
# oom-); replay it with BUILD_DIR/fuzz/fuzz_NAME FILE, or build/fuzz/fuzz_NAME
# FILE (gcc, make tests-bin). Works without a terminal (CI).
set -uo pipefail

usage() { echo "usage: test/fuzz/run.sh SECONDS [BUILD_DIR]" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
secs=$1
case $secs in '' | *[!0-9]*) usage ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
build=${2:-build/libfuzzer}
mkdir -p "$build" || exit 2
build=$(cd "$build" && pwd)
targets=${FUZZ_TARGETS:-spec scan config jobs kb}
for t in $targets; do
	case $t in spec | scan | config | jobs | kb) ;; *) echo "fuzz: unknown target '$t' (spec, scan, config, jobs, kb)" >&2; exit 2 ;; esac
done

die() { echo "fuzz: $*" >&2; exit 2; }
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
	else return 1; fi
}
apt_install() {
	command -v apt-get >/dev/null || return 1
	echo "fuzz: installing $* with apt-get" >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# ---- toolchain ---------------------------------------------------------------
if ! command -v clang >/dev/null; then
	apt_install clang || die "clang is not installed (apt-get install clang)"
fi
clang_major=$(clang --version | sed -n 's/.*clang version \([0-9]*\)\..*/\1/p' | head -n1)
echo "fuzz: $(clang --version | head -n1)"

# Does -fsanitize=fuzzer link? Debian ships the runtime in libclang-rt-N-dev.
fuzzer_links() {
	local t
	t=$(mktemp -d) || return 1
	printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$t/t.c"
	clang -fsanitize=fuzzer,address,undefined -o "$t/t" "$t/t.c" >"$t/log" 2>&1
	local rc=$?
	[ $rc = 0 ] || sed 's/^/  /' "$t/log" >&2
	rm -rf "$t"
	return $rc
}
if ! fuzzer_links; then
	pkg=libclang-rt-${clang_major}-dev
	echo "fuzz: clang -fsanitize=fuzzer does not link; the runtime comes with $pkg" >&2
	apt_install "$pkg" || die "cannot install $pkg (run as root: apt-get update && apt-get install $pkg)"
	fuzzer_links || die "clang -fsanitize=fuzzer still does not link after installing $pkg"
fi

# ---- build ---------------------------------------------------------------------
# The Makefile builds the library and the targets; -fsanitize=fuzzer-no-link
# instruments every object for coverage, LIBFUZZER=1 links libFuzzer's main.
bins=()
for t in $targets; do bins+=("$build/fuzz/fuzz_$t"); done
echo "fuzz: building ${bins[*]#"$root/"}"
make --no-print-directory -j"$(nproc)" BUILD="$build" CC=clang SAN=1 LIBFUZZER=1 \
	CFLAGS='-g -O1 -fsanitize=fuzzer-no-link' "${bins[@]}" || die "the build failed"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fpid=
trap '[ -n "$fpid" ] && kill "$fpid" 2>/dev/null; exit 130' INT TERM

# ---- one target ------------------------------------------------------------------
summaries=()
fail=0
final_stat() { sed -n "s/^stat::$2:[[:space:]]*//p" "$1" | tail -n1; }
# fuzz_one NAME: seed, fuzz for $secs, minimise the corpus; 0 when nothing was found.
fuzz_one() {
	local name=$1 bin=$build/fuzz/fuzz_$1 corpus=$build/corpus-$1 log=$build/fuzz-$1.log
	local dict=test/fuzz/$1.dict maxlen=8192 frc opts=()

	[ "$name" = scan ] && dict=test/fuzz/bpftrace.dict
	[ "$name" = spec ] && maxlen=4096
	[ -f "$dict" ] && opts+=("-dict=$dict")
	mkdir -p "$corpus"
	# Seeds are copied in whole; libFuzzer names its own files by SHA-1.
	if [ "$name" = spec ]; then
		test/fuzz/seed_corpus.sh "$corpus" >/dev/null || die "seeding the spec corpus failed"
	else
		cp test/fuzz/seeds/"$name"/* "$corpus"/ || die "no seeds in test/fuzz/seeds/$name"
	fi
	if [ -d "test/fuzz/findings/$name" ]; then
		find "test/fuzz/findings/$name" -type f ! -name '*.md' -exec cp {} "$corpus"/ \;
	fi
	echo "fuzz: $name: running for ${secs}s on $(find "$corpus" -type f | wc -l) files; log in $log"
	"$bin" "${opts[@]}" -max_len=$maxlen -timeout=10 -rss_limit_mb=2048 -max_total_time="$secs" \
		-print_final_stats=1 -artifact_prefix="$build/$name-" "$corpus" </dev/null >"$log" 2>&1 &
	fpid=$!
	# Progress without the per-input NEW/REDUCE lines and the recommended
	# dictionary (the log has everything).
	tail -n +1 --pid=$fpid -f "$log" 2>/dev/null |
		grep --line-buffered -E '^#[0-9]+[[:space:]]+(INITED|pulse|DONE)|^(==[0-9]+==ERROR|SUMMARY|.*property violated|fixed-point violation|accepted trace)' |
		sed -u "s/^/  $name: /"
	wait $fpid
	frc=$?
	fpid=

	# Minimise the corpus for the next run: libFuzzer keeps the files of
	# units it has since reduced, so the directory only grows otherwise.
	local units
	units=$(grep -o 'corp: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
	if [ $frc = 0 ]; then
		rm -rf "$corpus.min" && mkdir -p "$corpus.min"
		if "$bin" -merge=1 -max_len=$maxlen -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/$name-" \
			"$corpus.min" "$corpus" </dev/null >"$build/merge-$name.log" 2>&1; then
			rm -rf "$corpus" && mv "$corpus.min" "$corpus"
		else
			echo "fuzz: $name: minimising the corpus failed (see $build/merge-$name.log); kept it as it was" >&2
			rm -rf "$corpus.min"
		fi
	fi
	summaries+=("$(printf '%-7s %10s %8s %6s %6s %7s %6s  %s' "$name" "$(final_stat "$log" number_of_executed_units)" \
		"$(final_stat "$log" average_exec_per_sec)" "$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)" \
		"$(grep -o 'ft: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)" "${units:-?}" \
		"$(find "$corpus" -type f | wc -l)" "$([ $frc = 0 ] && echo ok || echo "FAILED (exit $frc)")")")
	if [ $frc != 0 ]; then
		echo "fuzz: FAILED: fuzz_$name exited with $frc; the input is in $build/ ($name-crash-*, -leak-, -timeout-, -oom-):" >&2
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*property violated|fixed-point violation|accepted trace|artifact_prefix|Test unit written)' "$log" | head -n 20 >&2
		return 1
	fi
	return 0
}

# ---- spec: compile a sample of the generated programs with bpftrace ----------------
compile_programs() {
	local programs=$1 sample=${FUZZ_COMPILE:-50} nprog compiled=0 failed=0 host=0 tmp p
	rm -rf "$programs" && mkdir -p "$programs"
	DIAG_FUZZ_PROGRAMS=$programs DIAG_FUZZ_PROGRAMS_MAX=1000000 "$build/fuzz/fuzz_spec" -runs=0 -max_len=4096 \
		"$build/corpus-spec" </dev/null >"$build/programs.log" 2>&1 || {
		echo "fuzz: FAILED: replaying the spec corpus for its programs (see $build/programs.log)" >&2
		return 1
	}
	nprog=$(find "$programs" -name '*.bt' | wc -l)
	if ! command -v bpftrace >/dev/null; then
		echo "fuzz: spec: bpftrace not installed: the $nprog generated programs are not compiled" >&2
		return 0
	fi
	tmp=$(mktemp -d) || die "mktemp failed"
	# Errors that only say this host lacks a kernel feature are not findings.
	local host_re='not supported by (this|the|your) kernel|kernel does not support|[Kk]ernel (version|lacks|has no)|BTF (is )?not available|no BTF|vmlinux.*not found|missing kernel'
	while IFS= read -r p; do
		[ -n "$p" ] || continue
		compiled=$((compiled + 1))
		if timeout 120 bpftrace --emit-elf "$tmp/x.o" "$p" 1 >"$tmp/out" 2>&1; then
			continue
		fi
		if grep -Eq "$host_re" "$tmp/out"; then
			host=$((host + 1))
			echo "fuzz: spec: $p: not compiled for want of a kernel feature: $(grep -E "$host_re" "$tmp/out" | head -n1)" >&2
			continue
		fi
		failed=$((failed + 1))
		echo "fuzz: FAILED: bpftrace cannot compile generated program $p:" >&2
		sed 's/^/    /' "$p" >&2
		echo "  bpftrace says:" >&2
		grep -v 'RLIMIT_MEMLOCK' "$tmp/out" | sed 's/^/    /' >&2
	done < <(find "$programs" -name '*.bt' | if [ "$sample" = all ]; then cat; else shuf -n "$sample"; fi)
	rm -rf "$tmp"
	echo "fuzz: spec: the corpus generates $nprog programs; compiled with bpftrace $compiled, failed $failed (host-only $host)"
	[ $failed = 0 ]
}

# ---- run -------------------------------------------------------------------------
start=$SECONDS
for t in $targets; do
	if fuzz_one "$t"; then
		[ "$t" = spec ] && { compile_programs "$build/programs" || fail=1; }
	else
		fail=1
	fi
done

echo "fuzz: summary (${secs}s per target, $((SECONDS - start))s in all):"
printf '  %-7s %10s %8s %6s %6s %7s %6s  %s\n' target execs exec/s cov ft units files result
for s in "${summaries[@]}"; do echo "  $s"; done
exit $fail
