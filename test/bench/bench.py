#!/usr/bin/env python3
"""bench.py - `make bench`: diagagent's speed as ratios against references run
in the same invocation. Prints a table; never fails on a timing (exit 1 only
when something could not run at all).

  scanner    `diagagent trace --replay` of a 1,000,000-event raw output,
             beside `wc -l` and `jq -c .` on the same file
  overhead   a read storm traced by `diagagent trace` and by bpftrace running
             the same program directly: the workload's slowdown under each,
             and diagagent's own CPU time as a share of bpftrace's
  start-up   spec given -> probes attached, against bare bpftrace
  memory     diagagent's peak RSS during the storm
  agent      `diagagent run` idle against the reference control server for
             BENCH_IDLE (60) s of polling: its CPU share and RSS (VmRSS, and
             PSS), beside curl(1) making the same requests; then RSS with 100
             jobs queued, and the time to flush their 100 results on SIGTERM
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", "build")
DIAG = os.path.join(ROOT, BUILD, "diagagent")
STORM = os.path.join(ROOT, BUILD, "workloads", "storm")
SPEC = 'sys_read (arg3 > 1024) "read %d bytes", arg3'
STORM_SPEC = 'sys_read (arg3 == 1) "read %d byte", arg3'
EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
STORM_N = int(os.environ.get("BENCH_STORM", "300000"))
rows = []


def row(name, value, ref, target):
    rows.append((name, value, ref, target))
    print("  %-44s %-22s %-26s %s" % (name, value, ref, target), flush=True)


def timed(cmd, **kw):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, **kw)
    return time.perf_counter() - t0


def best_of(n, cmd, **kw):
    return min(timed(cmd, **kw) for _ in range(n))


def proc_cpu(pid):
    """utime+stime of pid itself, in seconds (children not included)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def bench_scanner(tmp):
    raw = os.path.join(tmp, "events.jsonl")
    with open(raw, "w") as f:
        subprocess.run([sys.executable, os.path.join(ROOT, "test/bench/gen_events.py"), str(EVENTS)],
                       stdout=f, check=True)
    mb = os.path.getsize(raw) / 1e6
    null = subprocess.DEVNULL
    wc = best_of(3, ["wc", "-l", raw], stdout=null)
    diag = best_of(3, [DIAG, "trace", "--replay", raw, "-A", SPEC], stdout=null, stderr=null)
    jq = timed(["jq", "-c", ".", raw], stdout=null) if shutil.which("jq") else None
    print("scanner: %d events, %.0f MB" % (EVENTS, mb))
    row("replay (parse, render, -A count)", "%.3f s (%.0f MB/s)" % (diag, mb / diag),
        "wc -l %.3f s: %.2fx" % (wc, diag / wc), "target <= 3x wc -l")
    if jq:
        row("", "", "jq -c . %.2f s: %.0fx faster" % (jq, jq / diag), "target >= 20x faster")


def run_storm():
    t0 = time.perf_counter()
    subprocess.run([STORM, str(STORM_N)], check=True)
    return time.perf_counter() - t0


def wait_line(path, needle, proc, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        with open(path, "rb") as f:
            if needle in f.read():
                return True
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    return False


def bench_overhead(tmp):
    prog = os.path.join(tmp, "storm.bt")
    with open(prog, "w") as f:
        subprocess.run([DIAG, "script", "-n", "storm", STORM_SPEC], stdout=f, check=True)
    base = min(run_storm() for _ in range(3))

    # bare bpftrace, its output drained as fast as it comes by a reader thread
    attached = threading.Event()

    def drain(pipe):
        for line in pipe:
            if b'"attached"' in line:
                attached.set()

    bt = subprocess.Popen(["bpftrace", "-f", "json", prog, "0"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL)
    reader = threading.Thread(target=drain, args=(bt.stdout,), daemon=True)
    reader.start()
    if not attached.wait(60):
        print("overhead: bare bpftrace did not attach")
        bt.kill()
        return
    bt_wall = run_storm()
    bt.send_signal(2)
    bt.wait(30)
    reader.join(30)

    print("overhead: storm of %d reads, every one an event" % STORM_N)
    row("storm under bare bpftrace", "%.3f s (x%.2f)" % (bt_wall, bt_wall / base),
        "alone %.3f s" % base, "")
    for mode in ([], ["--jsonl"]):
        label = " ".join(mode) or "columns"
        derr = os.path.join(tmp, "diag.err")
        with open(derr, "w") as e:
            d = subprocess.Popen([DIAG, "trace", "-n", "storm"] + mode + [STORM_SPEC],
                                 stdout=subprocess.DEVNULL, stderr=e)
            if not wait_line(derr, b"attached", d):
                print("overhead: diagagent trace did not attach")
                d.kill()
                return
            d_wall = run_storm()
            kids = children(d.pid)
            d_cpu = proc_cpu(d.pid)
            child_cpu = sum(proc_cpu(k) for k in kids)
            hwm = proc_hwm_kb(d.pid)
            d.send_signal(2)
            d.wait(60)
        row("storm under diagagent trace (%s)" % label, "%.3f s (x%.2f)" % (d_wall, d_wall / base),
            "ratio to bpftrace %.3f" % (d_wall / bt_wall), "target <= 1.05")
        row("  diagagent CPU / its bpftrace's CPU", "%.2f s / %.2f s" % (d_cpu, child_cpu),
            "%.1f%%" % (100 * d_cpu / child_cpu if child_cpu else 0), "target <= 10%")
        row("  diagagent peak RSS (VmHWM)", "%.1f MB" % (hwm / 1024), "", "target < 20 MB")


def bench_startup(tmp):
    prog = os.path.join(tmp, "start.bt")
    with open(prog, "w") as f:
        subprocess.run([DIAG, "script", SPEC], stdout=f, check=True)
    bare, diag = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        bt = subprocess.Popen(["bpftrace", "-f", "json", prog, "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
        for line in bt.stdout:
            if b'"attached"' in line:
                break
        bare.append(time.perf_counter() - t0)
        bt.send_signal(2)
        bt.communicate(timeout=30)

        err = os.path.join(tmp, "start.err")
        with open(err, "w") as e:
            t0 = time.perf_counter()
            d = subprocess.Popen([DIAG, "trace", "--jsonl", SPEC], stdout=subprocess.DEVNULL, stderr=e)
            wait_line(err, b"attached", d)
            diag.append(time.perf_counter() - t0)
            d.send_signal(2)
            d.wait(30)
    b, dg = min(bare), min(diag)
    row("start-up: spec -> attached", "%.0f ms" % (dg * 1000), "bare bpftrace %.0f ms: +%.0f ms" %
        (b * 1000, (dg - b) * 1000), "target <= +50 ms")


def proc_mem_kb(pid, key, path="status"):
    with open("/proc/%d/%s" % (pid, path)) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def bench_agent(tmp):
    idle = int(os.environ.get("BENCH_IDLE", "60"))
    token = os.path.join(tmp, "token")
    with open(token, "w") as f:
        f.write("bench-token\n")
    os.chmod(token, 0o600)
    portf = os.path.join(tmp, "port")
    srv = subprocess.Popen([sys.executable, os.path.join(ROOT, "scripts", "control-server"), "--port", "0",
                            "--port-file", portf, "--token-file", token, "--results-dir",
                            os.path.join(tmp, "results"), "--quiet"])
    agent = None
    try:
        for _ in range(100):
            if os.path.exists(portf) and os.path.getsize(portf):
                break
            time.sleep(0.1)
        url = "http://127.0.0.1:" + open(portf).read().strip()
        conf = os.path.join(tmp, "agent.conf")
        with open(conf, "w") as f:
            f.write("server_url = %s\nagent_id = bench\ntoken_file = %s\nspool_dir = %s\n"
                    "allow_commands = true\ncommand_allow = ^sleep [0-9]+$\nlog_level = warn\n"
                    % (url, token, os.path.join(tmp, "spool")))
        agent = subprocess.Popen([DIAG, "run", "-c", conf], stderr=subprocess.DEVNULL)
        time.sleep(12)  # start-up, first heartbeat and first poll are not idling
        c0, t0 = proc_cpu(agent.pid), time.perf_counter()
        time.sleep(idle)
        cpu, wall = proc_cpu(agent.pid) - c0, time.perf_counter() - t0
        rss, pss = proc_mem_kb(agent.pid, "VmRSS"), proc_mem_kb(agent.pid, "Pss", "smaps_rollup")
        # The same requests by curl(1): a poll every 10 s, a heartbeat every 60 s.
        n = max(1, round(idle / 10))
        ref0 = os.times()
        for i in range(n + max(1, idle // 60)):
            what = "jobs" if i < n else "heartbeat"
            cmd = ["curl", "-s", "-o", "/dev/null", "-H", "Authorization: Bearer bench-token",
                   url + "/api/v1/agents/bench/" + what]
            if what == "heartbeat":
                cmd += ["-H", "Content-Type: application/json", "-d", "{}"]
            subprocess.run(cmd, check=False)
        ref1 = os.times()
        ref_cpu = (ref1.children_user - ref0.children_user) + (ref1.children_system - ref0.children_system)
        print("agent: idle for %d s (poll_interval 10 s, heartbeat 60 s)" % idle)
        row("  agent idle CPU", "%.3f%% (%.0f ms)" % (100 * cpu / wall, cpu * 1000),
            "curl(1), same requests: %.0f ms" % (ref_cpu * 1000), "target < 0.1%")
        row("  agent idle RSS (VmRSS)", "%.1f MB" % (rss / 1024), "PSS %.1f MB" % (pss / 1024), "target < 8 MB")
        batch = {"commands": [{"id": "q%d" % i, "command": "sleep 30"} for i in range(100)]}
        req = ["curl", "-s", "-o", "/dev/null", "-H", "Authorization: Bearer bench-token", "-H",
               "Content-Type: application/json", "--data-binary", "@-", url + "/api/v1/agents/bench/enqueue"]
        subprocess.run(req, input=json.dumps(batch).encode(), check=True)
        time.sleep(13)  # at least one poll (10 s +- 20 %)
        row("  agent RSS with 100 jobs (4 running)", "%.1f MB" % (proc_mem_kb(agent.pid, "VmRSS") / 1024),
            "idle %.1f MB" % (rss / 1024), "")
        t0 = time.perf_counter()
        agent.send_signal(15)
        agent.wait(60)
        row("  SIGTERM: 100 cancelled results flushed", "%.2f s" % (time.perf_counter() - t0), "", "")
    finally:
        if agent and agent.poll() is None:
            agent.kill()
        srv.terminate()
        srv.wait(10)


def main():
    if os.geteuid() != 0:
        print("bench: needs root (bpftrace)")
        return 1
    for p in (DIAG, STORM):
        if not os.access(p, os.X_OK):
            print("bench: %s is missing: run make tests-bin" % p)
            return 1
    print("  %-44s %-22s %-26s %s" % ("measure", "diagagent", "reference", "target"))
    with tempfile.TemporaryDirectory() as tmp:
        bench_scanner(tmp)
        bench_overhead(tmp)
        bench_startup(tmp)
        bench_agent(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
