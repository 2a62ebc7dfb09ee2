#!/usr/bin/env bash
# seed_corpus.sh DIR - write every spec of the repository's test data to DIR,
# one file per spec (named by the SHA-1 of its bytes, so repeats collapse).
#
# Sources: test/data/spec/{valid,invalid}/*/input (one command line per file,
# one argument per line) and test/data/spec/tracepy/examples.txt (the same,
# with '#' comment lines). Options (lines starting with '-') are left out,
# and so is the line after an option that takes a value. A golden input with
# several specs or with options the code generator reads is also written
# whole, as fuzz_spec.c reads it: TAB-separated fields, each option one word
# (-p 123 as -p123).
set -euo pipefail

dir=${1:?usage: test/fuzz/seed_corpus.sh DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
data=$root/test/data/spec
mkdir -p "$dir"

# extract FILE...: print the spec lines of argument-per-line files.
extract() {
	awk '
	BEGIN { n = split("-p -L --uid -n -c -M -Z -b -d -f -I -s --assume", v, " ")
		for (i = 1; i <= n; i++) takes[v[i]] = 1 }
	FNR == 1 { skip = 0 }
	skip { skip = 0; next }
	/^#/ || /^$/ { next }
	/^-/ { if ($0 in takes) skip = 1; next }
	{ print }
	' "$@"
}

count=0
while IFS= read -r spec; do
	name=$(printf '%s' "$spec" | sha1sum | cut -c1-40)
	printf '%s' "$spec" >"$dir/$name"
	count=$((count + 1))
done < <(
	shopt -s nullglob
	files=("$data"/valid/*/input "$data"/invalid/*/input)
	[ -f "$data/tracepy/examples.txt" ] && files+=("$data/tracepy/examples.txt")
	[ ${#files[@]} -gt 0 ] && extract "${files[@]}"
)
# whole FILE...: each file's specs and codegen options as one TAB-separated line.
whole() {
	awk '
	function flush() { if (n > 1 || opts) print line; line = ""; n = 0; opts = 0 }
	BEGIN { split("-p -L --uid -n -c -M -Z -b -d", v, " "); for (i in v) takes[v[i]] = 1
		short["--uid"] = "-u"; split("-K -U -a -S -A", f, " "); for (i in f) flag[f[i]] = 1 }
	FNR == 1 && NR > 1 { flush() }
	/^#/ || /^$/ { next }
	pending != "" { add(pending $0); opts++; pending = ""; next }
	$0 in takes { pending = ($0 in short) ? short[$0] : $0; next }
	$0 == "-UK" || $0 == "-KU" { add("-U"); add("-K"); opts++; next }
	$0 in flag { add($0); opts++; next }
	/^-/ { if ($0 == "--assume" || $0 == "-I" || $0 == "-f" || $0 == "-s") skip = 1; next }
	skip { skip = 0; next }
	{ add($0); n++ }
	function add(x) { line = line == "" ? x : line "\t" x }
	END { flush() }
	' "$@"
}
while IFS= read -r spec; do
	name=$(printf '%s' "$spec" | sha1sum | cut -c1-40)
	printf '%s' "$spec" >"$dir/$name"
	count=$((count + 1))
done < <(
	shopt -s nullglob
	files=("$data"/valid/*/input "$data"/invalid/*/input)
	[ ${#files[@]} -gt 0 ] && whole "${files[@]}"
)
echo "seed_corpus: $count seeds from $data -> $dir ($(find "$dir" -type f | wc -l) files)"
