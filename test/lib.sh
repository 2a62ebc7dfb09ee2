# lib.sh - helpers for integration tests: results as "ok - ", "not ok - ",
# "skip - " lines that test/run counts, a private temp dir, and `diag` to run
# the binary under test (with $WRAP, e.g. valgrind, in front).
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-build}
DIAG=${DIAG:-$ROOT/$BUILD/diagagent}
WRAP=${WRAP:-}
# An absolute wrapper path, so tests may run diagagent with another PATH.
if [ -n "$WRAP" ]; then
	read -r wrap_cmd wrap_args <<<"$WRAP"
	WRAP="$(command -v "$wrap_cmd") $wrap_args"
fi
TMP=$(mktemp -d /tmp/diagtest.XXXXXX)
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT

ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; }

# check DESC CMD...: the command must succeed.
check() {
	local desc=$1; shift
	if "$@"; then ok "$desc"; else nok "$desc"; fi
}

# same DESC ACTUAL EXPECTED
same() {
	if [ "$2" == "$3" ]; then ok "$1"; else nok "$1: got '$2', expected '$3'"; fi
}

# skip DESC REASON: a feature is truly missing here. Never allowed in CI.
skip() {
	if [ "${CI:-}" = true ]; then nok "$1 (would skip, but CI=true: $2)"; else echo "skip - $1 ($2)"; fi
}

diag() { $WRAP "$DIAG" "$@"; }

# sampled: under a wrapper (valgrind: each diagagent start takes seconds) true
# for the 1st, then every WRAP_STRIDE-th (4) call; true for every call
# otherwise. For a table of cases: `sampled || continue`; make test and make
# asan still run them all. Say so in the suite's header.
sampled_n=0
sampled() {
	sampled_n=$((sampled_n + 1))
	[ -z "$WRAP" ] || [ $(((sampled_n - 1) % ${WRAP_STRIDE:-4})) -eq 0 ]
}

# capture NAME CMD...: run, leaving stdout in $TMP/NAME.out, stderr in
# $TMP/NAME.err and the exit code in $rc.
capture() {
	local name=$1; shift
	"$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	rc=$?
}
