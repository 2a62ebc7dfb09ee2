#!/usr/bin/env bash
# run.sh SECONDS [BUILD_DIR] - build and run the libFuzzer targets, each for
# SECONDS: fuzz_spec.c (the spec parser and code generator, the steps below),
# fuzz_config.c (the agent.conf loader and its print fixed point) and
# fuzz_jobs.c (the job decoder), the last two seeded from test/fuzz/seeds/.
# FUZZ_TARGETS="spec config jobs" picks which.
#
#   1. builds BUILD_DIR/fuzz_spec with clang's libFuzzer + ASan + UBSan (every
#      library source compiled with the target), installing clang's fuzzer
#      runtime with apt-get when it is missing (root only);
#   2. seeds BUILD_DIR/corpus-spec (kept across runs) from the test data;
#   3. fuzzes for SECONDS with test/fuzz/spec.dict, saving generated programs
#      to BUILD_DIR/programs (DIAG_FUZZ_PROGRAMS);
#   4. compiles up to 50 of those programs with `bpftrace --emit-elf`.
#
# Exits non-zero on a crash, leak, timeout, out-of-memory, fixed-point
# violation or a program bpftrace cannot compile. Crash inputs are left in
# BUILD_DIR (crash-*, leak-*, timeout-*, oom-*); the full libFuzzer log is
# BUILD_DIR/fuzz.log. Works without a terminal (CI).
set -uo pipefail

usage() { echo "usage: test/fuzz/run.sh SECONDS [BUILD_DIR]" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
secs=$1
case $secs in '' | *[!0-9]*) usage ;; esac
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
build=${2:-build/fuzz}
mkdir -p "$build" || exit 2
build=$(cd "$build" && pwd)

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
version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' Makefile | head -n1)
[ -n "$version" ] || die "no VERSION in Makefile"
pkgs=$(sed -n 's/^PKGS[[:space:]]*:=[[:space:]]*//p' Makefile | head -n1)
pkgs=${pkgs:-libcurl jansson libpcre2-8 libbpf libelf}
# shellcheck disable=SC2086
pkg_cflags=$(pkg-config --cflags $pkgs) || die "pkg-config cannot find: $pkgs (make deps)"
# shellcheck disable=SC2086
pkg_libs=$(pkg-config --libs $pkgs) || die "pkg-config cannot find: $pkgs (make deps)"
shopt -s nullglob
srcs=()
for f in tracespec/*.c parser/*.c agent/*.c; do
	[ "$f" = agent/main.c ] || srcs+=("$f")
done
shopt -u nullglob
# build_target NAME: $build/fuzz_NAME from test/fuzz/fuzz_NAME.c and every library source.
build_target() {
	local bin=$build/fuzz_$1 stale=1
	if [ -x "$bin" ] && [ -z "$(find "${srcs[@]}" "test/fuzz/fuzz_$1.c" test/fuzz/run.sh tracespec agent parser Makefile \
		-newer "$bin" \( -name '*.c' -o -name '*.h' -o -name Makefile -o -name run.sh \) 2>/dev/null | head -n1)" ]; then
		stale=0
	fi
	[ $stale = 1 ] || return 0
	echo "fuzz: building $bin (${#srcs[@]} library sources)"
	# shellcheck disable=SC2086
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer -std=c11 -D_GNU_SOURCE -DDIAG_VERSION="\"$version\"" -I. $pkg_cflags \
		-o "$bin.tmp" "test/fuzz/fuzz_$1.c" "${srcs[@]}" $pkg_libs || die "build of fuzz_$1 failed"
	mv -f "$bin.tmp" "$bin"
}

# fuzz_other NAME: run a target seeded from test/fuzz/seeds/NAME; 0 when it found nothing.
fuzz_other() {
	local corpus=$build/corpus-$1 log=$build/fuzz-$1.log rc
	build_target "$1"
	mkdir -p "$corpus"
	cp test/fuzz/seeds/"$1"/* "$corpus"/
	echo "fuzz: $1: running for ${secs}s; log in $log"
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$build/fuzz_$1" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -max_total_time="$secs" \
		-print_final_stats=1 -artifact_prefix="$build/$1-" "$corpus" </dev/null >"$log" 2>&1
	rc=$?
	echo "fuzz: $1: $(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log" | tail -n1) executions," \
		"cov $(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2), exit $rc"
	if [ $rc != 0 ]; then
		echo "fuzz: FAILED: fuzz_$1 exited with $rc; the input is in $build/ ($1-crash-*)" >&2
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fixed-point violation|accepted trace)' "$log" >&2
	fi
	return $rc
}

targets=${FUZZ_TARGETS:-spec config jobs}
other_fail=0
for t in $targets; do
	case $t in
	spec) ;;
	config | jobs) fuzz_other "$t" || other_fail=1 ;;
	*) die "unknown fuzz target '$t' (spec, config, jobs)" ;;
	esac
done
case " $targets " in *" spec "*) ;; *) exit $other_fail ;; esac
bin=$build/fuzz_spec
build_target spec

# ---- corpus --------------------------------------------------------------------
corpus=$build/corpus-spec
programs=$build/programs
log=$build/fuzz.log
mkdir -p "$corpus"
rm -rf "$programs" && mkdir -p "$programs"
# Seeds are named by SHA-1 as libFuzzer names its corpus files: the merge is a copy.
test/fuzz/seed_corpus.sh "$corpus" || die "seeding the corpus failed"

# ---- fuzz ----------------------------------------------------------------------
echo "fuzz: running for ${secs}s; log in $log"
DIAG_FUZZ_PROGRAMS=$programs \
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$bin" -dict=test/fuzz/spec.dict -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
	-max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$build/" \
	"$corpus" </dev/null >"$log" 2>&1 &
fpid=$!
trap 'kill "$fpid" 2>/dev/null; exit 130' INT TERM
# Progress without the per-input NEW/REDUCE lines and the recommended
# dictionary (the log has everything).
tail -n +1 --pid=$fpid -f "$log" 2>/dev/null |
	grep --line-buffered -Ev '^#[0-9]+[[:space:]]+(NEW|REDUCE)[[:space:]]|^".*" # Uses: [0-9]+$'
wait $fpid
frc=$?
trap - INT TERM

# Minimise the corpus for the next run: libFuzzer keeps the files of loaded
# units it has since reduced, so the directory only grows otherwise.
fuzz_corp=$(grep -o 'corp: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
if [ $frc = 0 ]; then
	rm -rf "$corpus.min" && mkdir -p "$corpus.min"
	if ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$bin" -merge=1 -max_len=4096 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$build/" \
		"$corpus.min" "$corpus" </dev/null >"$build/merge.log" 2>&1; then
		rm -rf "$corpus" && mv "$corpus.min" "$corpus"
	else
		echo "fuzz: minimising the corpus failed (see $build/merge.log); kept it as it was" >&2
		rm -rf "$corpus.min"
	fi
fi

final_stat() { sed -n "s/^stat::$1:[[:space:]]*//p" "$log" | tail -n1; }
execs=$(final_stat number_of_executed_units)
eps=$(final_stat average_exec_per_sec)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
ncorpus=$(find "$corpus" -type f | wc -l)
fail=0
if [ $frc != 0 ]; then
	fail=1
	echo "fuzz: FAILED: the fuzzer exited with $frc; the input is in $build/ (see the log above)" >&2
	grep -E '^(==[0-9]+==ERROR|SUMMARY|fixed-point violation|artifact_prefix|Test unit written)' "$log" >&2
fi

# ---- compile a sample of the generated programs with bpftrace -------------------
nprog=$(find "$programs" -name '*.bt' | wc -l)
compiled=0 failed=0 host=0
if ! command -v bpftrace >/dev/null; then
	echo "fuzz: bpftrace not installed: the $nprog generated programs are not compiled" >&2
else
	tmp=$(mktemp -d) || die "mktemp failed"
	# Errors that only say this host lacks a kernel feature are not findings.
	host_re='not supported by (this|the|your) kernel|kernel does not support|[Kk]ernel (version|lacks|has no)|BTF (is )?not available|no BTF|vmlinux.*not found|missing kernel'
	while IFS= read -r p; do
		[ -n "$p" ] || continue
		compiled=$((compiled + 1))
		if timeout 120 bpftrace --emit-elf "$tmp/x.o" "$p" 1 >"$tmp/out" 2>&1; then
			continue
		fi
		if grep -Eq "$host_re" "$tmp/out"; then
			host=$((host + 1))
			echo "fuzz: $p: not compiled for want of a kernel feature: $(grep -E "$host_re" "$tmp/out" | head -n1)" >&2
			continue
		fi
		failed=$((failed + 1))
		echo "fuzz: FAILED: bpftrace cannot compile generated program $p:" >&2
		sed 's/^/    /' "$p" >&2
		echo "  bpftrace says:" >&2
		grep -v 'RLIMIT_MEMLOCK' "$tmp/out" | sed 's/^/    /' >&2
	done < <(find "$programs" -name '*.bt' | shuf -n 50)
	rm -rf "$tmp"
	[ $failed = 0 ] || fail=1
fi

echo "fuzz: summary: ${execs:-?} executions (${eps:-?}/s) in ${secs}s, cov ${cov:-?} ft ${ft:-?}," \
	"corpus ${fuzz_corp:-?} units ($ncorpus files kept), programs saved $nprog compiled $compiled failed $failed" \
	"(host-only $host), fuzzer exit $frc"
[ $other_fail = 0 ] || fail=1
exit $fail
