#!/usr/bin/python3
"""Proxy RSS with N idle client connections.

Reads VmRSS of PID from /proc, opens N connections with psycopg2 (each completes its startup and one
`SELECT 1`, so the session and its upstream connection are fully set up), holds them idle for a few
seconds, reads VmRSS again, closes them. Prints one line: `before_kib after_kib n per_conn_kib`.
--login-only: no `SELECT 1` (for PgBouncer in session mode, where a query would pin a server connection
to each client and queue all but default_pool_size of them).

usage: idle_conns.py PID DSN N [--login-only] [--hold SECONDS]
"""
import sys
import time

import psycopg2


def vm_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def main() -> int:
    args = sys.argv[1:]
    login_only = "--login-only" in args
    if login_only:
        args.remove("--login-only")
    hold = 3.0
    if "--hold" in args:
        i = args.index("--hold")
        hold = float(args[i + 1])
        del args[i:i + 2]
    pid, dsn, n = int(args[0]), args[1], int(args[2])
    time.sleep(1.0)
    before = vm_rss_kib(pid)
    conns = []
    try:
        for _ in range(n):
            c = psycopg2.connect(dsn)
            c.autocommit = True
            if login_only:
                conns.append(c)
                continue
            with c.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchone()
            conns.append(c)
        time.sleep(hold)  # idle: nothing is sent while RSS settles
        after = vm_rss_kib(pid)
    finally:
        for c in conns:
            c.close()
    print(f"{before} {after} {len(conns)} {(after - before) / max(len(conns), 1):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
