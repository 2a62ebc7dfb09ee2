#!/usr/bin/env python3
"""gen_events.py - realistic bpftrace 0.17 `-f json` output for a benchmark.

Usage: gen_events.py [N]   (N events, default 1000000) > events.jsonl

The program is diagagent's for `sys_read (arg3 > 1024) "read %d bytes", arg3`:
each event is print((nsecs, cpu, pid, tid, uid, comm, 0, args->count)). The
output has what bpftrace 0.17 writes around the events: attached_probes
first, the BEGIN marker ["attached", NSECS], the two blank lines before the
exit-time map dump, then @__hits and @__procs.
"""
import random
import sys

PROCS = [  # (pid, comm, uid, weight)
    (1234, "nginx", 33, 30), (1240, "nginx", 33, 25), (2201, "postgres", 110, 20),
    (2210, "postgres", 110, 10), (3310, "java", 1000, 8), (4410, "cat", 0, 3),
    (4477, "rsync", 0, 2), (5012, "python3", 1000, 1), (6120, "sshd", 0, 1),
]
SIZES = [4096, 4096, 4096, 8192, 16384, 32768, 65536, 131072, 1025, 2048, 262144]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    rnd = random.Random(42)
    weights = [p[3] for p in PROCS]
    out = sys.stdout
    nsecs = 3111918749140
    out.write('{"type": "attached_probes", "data": {"probes": 2}}\n')
    out.write('{"type": "value", "data": ["attached",%d]}\n' % (nsecs - 1000000))
    counts = {}
    chunk = []
    for i in range(n):
        pid, comm, uid, _ = rnd.choices(PROCS, weights)[0]
        tid = pid + rnd.choice((0, 0, 0, 1, 2))
        nsecs += rnd.randint(200, 20000)
        chunk.append('{"type": "value", "data": [%d,%d,%d,%d,%d,"%s",0,%d]}\n'
                     % (nsecs, rnd.randint(0, 7), pid, tid, uid, comm, rnd.choice(SIZES)))
        counts[(pid, comm)] = counts.get((pid, comm), 0) + 1
        if len(chunk) >= 10000:
            out.write("".join(chunk))
            chunk = []
    out.write("".join(chunk))
    out.write("\n\n")
    out.write('{"type": "map", "data": {"@__hits": {"0": %d}}}\n' % n)
    procs = ", ".join('"%d,%s": %d' % (pid, comm, c)
                      for (pid, comm), c in sorted(counts.items(), key=lambda kv: kv[1]))
    out.write('{"type": "map", "data": {"@__procs": {%s}}}\n' % procs)


if __name__ == "__main__":
    main()
