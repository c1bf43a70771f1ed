#!/usr/bin/env python3
"""Starts a server and times start → first HTTP 200 from its readiness URL.

usage: launch.py --ready-url URL --log FILE [--timeout SECONDS] -- COMMAND [ARGS...]

The clock starts just before the process is spawned and stops at the first 200 (polled every
millisecond or so, over a fresh connection each time). On success prints one JSON line
{"pid": N, "ready_ms": X} and exits 0, leaving the server running (the caller stops it).
If the process exits, or the timeout passes, it is killed and this exits 1.
"""
import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready-url", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no command")
    u = urllib.parse.urlsplit(a.ready_url)
    host, port = u.hostname, u.port or 80
    path = u.path or "/"

    log = open(a.log, "ab")
    t0 = time.monotonic_ns()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = t0 + int(a.timeout * 1e9)
    while time.monotonic_ns() < deadline:
        if proc.poll() is not None:
            print(json.dumps({"error": f"exited with status {proc.returncode} before ready"}))
            return 1
        try:
            c = http.client.HTTPConnection(host, port, timeout=2)
            c.request("GET", path)
            status = c.getresponse().status
            c.close()
            if status == 200:
                ready_ms = (time.monotonic_ns() - t0) / 1e6
                print(json.dumps({"pid": proc.pid, "ready_ms": round(ready_ms, 2)}))
                return 0
        except OSError:
            pass
        time.sleep(0.001)
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    print(json.dumps({"error": f"not ready within {a.timeout} s"}))
    return 1


if __name__ == "__main__":
    sys.exit(main())
