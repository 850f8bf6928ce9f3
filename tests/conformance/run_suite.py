#!/usr/bin/python3
"""WebSocket conformance suite (Autobahn-style), raw sockets, Python 3 standard library.

Testee = server (the suite is the client):
  run_suite.py server --cli build/release/bin/aerie --report server.md
      starts `aerie serve --ws /echo=echo --port 0 --workers 1` (+ --serve-arg=...)
  run_suite.py server --url ws://127.0.0.1:P/echo      an already running echo server
  run_suite.py server --spawn 'node node_echo_server.mjs'   any command printing
      "listening on http://127.0.0.1:P" (or ws://); --path picks the echo path
Testee = client (the suite is a server; one client process per case):
  run_suite.py client --cat build/release/bin/aerie-cat [--cat-arg=--no-deflate ...]
      runs `aerie-cat --echo --max-message-size LIMIT [cat args] ws://127.0.0.1:P/<case>`
  run_suite.py client --client-cmd 'node node_echo_client.mjs {url}'
  run_suite.py client --client-loop --client-cmd 'node node_echo_client.mjs {url} --loop'
      one client process reconnecting for every case (the URL is then the same for all)

Common: --categories 12,13 (or core: 1-10 and hs)  --cases 13.6.*,12.1.1  --report OUT.md
        --limit BYTES (the testee's message size limit; core needs 16777216)
Prints one line per case; exits 1 iff a case FAILED (2: usage or the testee did not start).
"""

import argparse
import fnmatch
import os
import shlex
import signal
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from wsconform import (cases_close, cases_deflate, cases_fragmentation, cases_framing,  # noqa: E402
                       cases_handshake, cases_limits, cases_utf8, report, runner)

CATEGORIES = {"1": cases_framing.CASES, "2": cases_framing.CASES, "3": cases_framing.CASES,
              "4": cases_framing.CASES, "5": cases_fragmentation.CASES, "6": cases_utf8.CASES,
              "7": cases_close.CASES, "9": cases_limits.CASES, "10": cases_limits.CASES,
              "12": cases_deflate.CASES, "13": cases_deflate.CASES,
              "hs": cases_handshake.CASES}
# --categories core: every category but 12/13 (compression); hs runs in server mode only.
CORE = "1,2,3,4,5,6,7,9,10,hs"


def id_key(case_id):
    """1.2.10 after 1.2.9; named categories (hs) after the numbered ones."""
    return [(0, int(x), "") if x.isdigit() else (1, 0, x) for x in case_id.split(".")]


def select(args, role):
    wanted = {c.strip() for c in args.categories.replace("core", CORE).split(",") if c.strip()}
    unknown = wanted - CATEGORIES.keys()
    if unknown:
        sys.exit(f"run_suite: no such category {', '.join(sorted(unknown))} "
                 f"(have {', '.join(sorted(CATEGORIES))})")
    seen, out = set(), []
    for cat in sorted(wanted, key=id_key):
        for case in CATEGORIES[cat]:
            if case.id.split(".")[0] != cat or case.id in seen or role not in case.roles:
                continue
            if args.cases and not any(fnmatch.fnmatch(case.id, p) or case.id == p
                                      for p in args.cases.split(",")):
                continue
            seen.add(case.id)
            out.append(case)
    return sorted(out, key=lambda c: id_key(c.id))


def start_watchdog(seconds, cleanup):
    """The whole run is bounded: a hung testee ends as a failure, never a hung test."""
    def fire():
        print(f"run_suite: watchdog: the run took more than {seconds} s, aborting", flush=True)
        cleanup()
        os._exit(3)
    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("role", choices=("server", "client"), help="the testee's role")
    p.add_argument("--cli", help="server: the aerie CLI to start")
    p.add_argument("--serve-arg", action="append", default=[], help="server: extra `aerie serve` argument")
    p.add_argument("--url", help="server: ws://host:port/path of a running echo server")
    p.add_argument("--spawn", help="server: command starting an echo server that prints its port")
    p.add_argument("--path", default="/echo", help="server: echo path with --cli/--spawn")
    p.add_argument("--cat", help="client: aerie-cat to run with --echo")
    p.add_argument("--cat-arg", action="append", default=[], help="client: extra aerie-cat argument")
    p.add_argument("--client-cmd", help="client: command with {url} echoing every message")
    p.add_argument("--client-loop", action="store_true",
                   help="client: --client-cmd reconnects to {url} after each connection: "
                        "one process for all cases")
    p.add_argument("--categories", default="12,13")
    p.add_argument("--cases", help="comma-separated case ids or globs (13.6.*)")
    p.add_argument("--report", help="Markdown report to write")
    p.add_argument("--limit", type=int, default=1 << 20,
                   help="the testee's message size limit (set on testees the suite starts)")
    p.add_argument("--read-timeout", type=float, default=10.0)
    p.add_argument("--timeout", type=float, default=110.0, help="watchdog for the whole run")
    args = p.parse_args()

    cases = select(args, args.role)
    if not cases:
        sys.exit("run_suite: no cases selected")
    started = time.time()
    spawned, harness = None, None

    def cleanup():
        if spawned:
            spawned.stop()
        if harness:
            harness.close()
    start_watchdog(args.timeout, cleanup)

    def show(r):
        print(r.line(), flush=True)

    if args.role == "server":
        if sum(bool(x) for x in (args.cli, args.url, args.spawn)) != 1:
            sys.exit("run_suite server: give exactly one of --cli, --url, --spawn")
        if args.url:
            u = urllib.parse.urlsplit(args.url)
            host, port, path = u.hostname, u.port or 80, (u.path or "/") + \
                (f"?{u.query}" if u.query else "")
            testee = args.url
        else:
            if args.cli:
                cmd = [args.cli, "serve", "--ws", f"{args.path}=echo", "--host", "127.0.0.1",
                       "--port", "0", "--workers", "1", "--max-message-size", str(args.limit),
                       # The suite sends hundreds of messages a second: no rate limits.
                       "--max-frames-per-second", "0", "--max-bytes-per-minute", "0"]
                cmd += args.serve_arg
            else:
                cmd = shlex.split(args.spawn)
            spawned = runner.Spawned(cmd)
            port = spawned.wait_port(15)
            if port is None:
                print("".join(spawned.lines), end="")
                spawned.stop()
                sys.exit(f"run_suite: the testee did not report its port: {shlex.join(cmd)}")
            host, path = "127.0.0.1", args.path
            testee = shlex.join(cmd)

        def one(case):
            mark = len(spawned.lines) if spawned else 0
            r = runner.run_against_server(case, host, port, path, args.limit, args.read_timeout)
            if spawned and r.verdict != report.OK:
                r.testee_log = spawned.log_since(mark)
            return r
        title = "Conformance: testee = server"
    else:
        if bool(args.cat) == bool(args.client_cmd):
            sys.exit("run_suite client: give exactly one of --cat, --client-cmd")
        if args.cat:
            def command(url):
                return [args.cat, "--echo", "--max-message-size", str(args.limit)] + \
                    args.cat_arg + [url]
            testee = shlex.join(command("URL"))
        else:
            def command(url):
                return [a.replace("{url}", url) for a in shlex.split(args.client_cmd)]
            testee = args.client_cmd
        harness = runner.ClientHarness(command, args.limit, args.read_timeout,
                                       persistent=args.client_loop and not args.cat)
        one = harness.run
        title = "Conformance: testee = client"

    signal.signal(signal.SIGTERM, lambda *_: (cleanup(), os._exit(3)))
    try:
        results = runner.run_cases(cases, one, show)
    finally:
        cleanup()
    extra = [f"Categories: {args.categories}" + (f", cases {args.cases}" if args.cases else ""),
             f"Testee message size limit assumed: {args.limit} bytes"]
    # A server that crashed, leaked (LeakSanitizer exits 1 at the end) or reported undefined
    # behaviour fails the run even when every case passed.
    testee_failed = False
    if spawned and spawned.proc.returncode not in (0, -15, None):
        extra.append(f"The testee server exited with {spawned.proc.returncode}")
        testee_failed = True
    if spawned and any("Sanitizer" in line or "runtime error:" in line for line in spawned.lines):
        extra.append("The testee server reported a sanitizer error")
        testee_failed = True
    if testee_failed:
        print("".join(spawned.lines[-60:]), end="")
        print("run_suite: " + "; ".join(extra[2:]))
    counts = {v: sum(1 for r in results if r.verdict == v) for v in report.ORDER}
    if args.report:
        report.write_markdown(args.report, f"{title} (categories {args.categories})", testee,
                              results, started, extra)
    print(f"{len(results)} cases: " + ", ".join(f"{v} {counts[v]}" for v in report.ORDER) +
          f" ({time.time() - started:.1f} s)" + (f"; report {args.report}" if args.report else ""))
    return 1 if counts[report.FAILED] or testee_failed else 0


if __name__ == "__main__":
    sys.exit(main())
