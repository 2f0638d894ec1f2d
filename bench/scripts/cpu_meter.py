#!/usr/bin/python3
"""How much CPU processes other than the benchmark's own used: the machine is shared, so say so.

  cpu_meter.py snap ROOT_PID...         prints a snapshot: `uptime_s busy_ticks ours_ticks`
  cpu_meter.py diff SNAP1 SNAP2         prints the CPU share (percent of all cores) others used in between
  cpu_meter.py proc PID                 prints one process's `utime_ticks stime_ticks context_switches`
                                        (all its threads; switches voluntary and not)
  cpu_meter.py gate MAX_PCT MAX_WAIT ROOT_PID...
                                        waits (up to MAX_WAIT s) until others use < MAX_PCT % over 1 s;
                                        prints the share measured last

`ours` is the CPU time of the given processes and all their descendants, with the time of their reaped
children (cutime, cstime), so backends and pgbench runs that have exited are still counted.
"""
import os
import sys
import time

NCPU = os.cpu_count() or 1


def busy_ticks() -> int:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait
    return sum(v) - v[3] - v[4]


def ours_ticks(roots) -> int:
    stats = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(")") + 2:].split()
        # fields after comm: state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based from pid
        stats[int(d)] = (int(rest[1]), sum(int(x) for x in rest[11:15]))
    children = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo, seen = 0, [r for r in roots if r in stats], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += stats[p][1]
        todo.extend(children.get(p, []))
    return total


def proc(pid: int):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    rest = s[s.rindex(")") + 2:].split()
    switches = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if "ctxt_switches:" in line:
                        switches += int(line.split()[1])
        except OSError:
            continue
    return int(rest[11]), int(rest[12]), switches


def snap(roots):
    with open("/proc/uptime") as f:
        up = float(f.read().split()[0])
    return up, busy_ticks(), ours_ticks(roots)


def share(a, b) -> float:
    hz = os.sysconf("SC_CLK_TCK")
    elapsed = b[0] - a[0]
    if elapsed <= 0:
        return 0.0
    others = max((b[1] - a[1]) - (b[2] - a[2]), 0) / hz
    return min(100.0 * others / (elapsed * NCPU), 100.0)


def main() -> int:
    cmd = sys.argv[1]
    if cmd == "snap":
        print("%.2f %d %d" % snap([int(x) for x in sys.argv[2:]]))
    elif cmd == "diff":
        a = tuple(float(x) for x in sys.argv[2].split())
        b = tuple(float(x) for x in sys.argv[3].split())
        print("%.1f" % share(a, b))
    elif cmd == "proc":
        print("%d %d %d" % proc(int(sys.argv[2])))
    elif cmd == "gate":
        limit, max_wait = float(sys.argv[2]), float(sys.argv[3])
        roots = [int(x) for x in sys.argv[4:]]
        start = time.monotonic()
        while True:
            a = snap(roots)
            time.sleep(1.0)
            s = share(a, snap(roots))
            if s < limit or time.monotonic() - start >= max_wait:
                print("%.1f" % s)
                return 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
