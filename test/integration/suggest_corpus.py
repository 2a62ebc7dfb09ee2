#!/usr/bin/env python3
"""suggest_corpus.py DIAG CORPUS FILTERS [STEP] - score `diagagent suggest` against
the symptom corpus: a line is a hit when one of its targets is among the top 3
answers ('-': the answer must say nothing matched). Prints "ok - " / "not ok - "
lines for test/run, the misses, and the hit rate; fails below 95 %. STEP > 1
takes every STEP-th line only (for slow wrappers such as valgrind), and then
checks only that every answer is well formed."""
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

diag, corpus, filters = sys.argv[1:4]
step = int(sys.argv[4]) if len(sys.argv) > 4 else 1
wrap = shlex.split(os.environ.get("WRAP", ""))


def ask(text):
    p = subprocess.run(wrap + [diag, "suggest", "--json", "-n", "5", text],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        return None, p.stderr.strip()
    try:
        return json.loads(p.stdout), None
    except ValueError as e:
        return None, "bad JSON: %s" % e


def lines(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                want, text = line.split("\t", 1)
                yield n, want, text


def sample(items):
    return [x for i, x in enumerate(items) if i % step == 0]


def ask_all(path):
    """The sampled (line, expected, text) cases of path, and an answer for each."""
    cases = sample(list(lines(path)))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return cases, list(pool.map(lambda c: ask(c[2]), cases))


bad = 0
cases, answers = ask_all(corpus)
hits = 0
for (n, want, text), (res, err) in zip(cases, answers):
    if res is None:
        print("not ok - corpus line %d: %r: %s" % (n, text, err))
        bad += 1
        continue
    top = [s["target"] for s in res["suggestions"][:3]]
    if want == "-":
        hit = res["matched"] is False and len(res["suggestions"]) == 3
    else:
        hit = res["matched"] and any(t in top for t in want.split(","))
    hits += hit
    if not hit:
        print("# miss line %d: %r wants %s, got %s" % (n, text, want, top if res["matched"] else "no match"))
rate = 100.0 * hits / len(cases) if cases else 0
if step == 1:
    line = "corpus: %d of %d symptoms have an expected target in the top 3 (%.1f %%, at least 95 %%)" % (
        hits, len(cases), rate)
    print(("ok - " if rate >= 95 else "not ok - ") + line)
    bad += rate < 95
else:
    print("ok - corpus sample: %d answers, %d hits (every %dth line; the rate needs the whole corpus)" % (
        len(cases), hits, step))

fcases, fanswers = ask_all(filters)
fhits = 0
for (n, want, text), (res, err) in zip(fcases, fanswers):
    if res is None:
        print("not ok - filters line %d: %r: %s" % (n, text, err))
        bad += 1
        continue
    got = {}
    read = res["read"]
    if "pid" in read:
        got["pid"] = str(read["pid"])
    if "process" in read:
        got["process"] = read["process"]
    exp = {} if want == "-" else dict(kv.split("=", 1) for kv in want.split(","))
    if got == exp:
        fhits += 1
    else:
        print("not ok - filters line %d: %r: read %s, expected %s" % (n, text, got, exp))
        bad += 1
    # what was read must reach the commands: -p for a pid, else -n for a name
    for s in res["suggestions"]:
        f = s["filters"]
        if f.get("pid") and "-p %d " % f["pid"] not in s["command"]:
            print("not ok - filters line %d: pid %d not in %r" % (n, f["pid"], s["command"]))
            bad += 1
if fhits == len(fcases):
    print("ok - filters: the PID and process name of all %d texts read right" % len(fcases))
sys.exit(1 if bad else 0)
