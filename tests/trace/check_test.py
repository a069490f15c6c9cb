#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scripts/check (labels trace, analysis): a student's pair against the course server,
traced and analysed. Usage: check_test.py SCENARIO (CTest: trace.check_SCENARIO).

  eof onemsg fifo shm   each corpus pair (tests/students/) through scripts/check --json on
  sleepy leaky htons    a free --v6-port and a key of its own: the verdict, the exit code,
                        the five tokens followed through the student's hops, the finding
                        kinds (scripts/v6trace lint), nothing left running or behind
  own                   v6lab's own ipv6-server + ipv4-client the same way
  bad_input             each mistake on the command line: exit 2, one line, nothing made
  hanging_client        a client that never connects and leaves a child in a session of its
                        own: exit 1 with the reason, within the bound, no process left
  ordinary_user         the eof pair as nobody (root runs it through setpriv), HOME unusable

What scripts/v6trace finds in student programs (roles by behaviour, the hops of their own
IPC, the new lint rules) is asserted last in each pair, after what scripts/check itself
sees, and each such failure says "analysis:" (tutorials/reference/check.md)."""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "students"))
sys.path.insert(0, HERE)
import students  # noqa: E402
from trace_test import lttng_or_skip, scratch, trace_env  # noqa: E402
from v6test import BIN, TOP, check, main, one_error_line, skip  # noqa: E402

CHECK = os.path.join(TOP, "scripts", "check")
STUDENTS = os.path.join(BIN, "students")
# How long a check may take beyond its --timeout: the tracing session and the analysis.
MARGIN = 60
STUDENT_ID = "2021123456"

# Each pair: its programs, its IPC, what the course server says, what the analysis finds
# (required kinds, and kinds also allowed), and scripts/check's exit code.
PAIRS = {
    "eof": dict(server="eof-server", client="read-twice-client", ipc="msg",
                verdict="PASS", concurrent=True, findings=(), exit=0),
    "onemsg": dict(server="onemsg-server", client="onemsg-client", ipc="msg",
                   verdict="PASS", concurrent=True, findings=(), exit=0),
    "fifo": dict(server="fifo-server", client="fifo-client", ipc="fifo",
                 verdict="PASS", concurrent=True, findings=(), exit=0),
    # shm-client polls the segment with sleep(3)
    "shm": dict(server="shm-server", client="shm-client", ipc="shm",
                verdict="PASS", concurrent=True, findings=("sleep-as-sync",), exit=1),
    # the seed's accept, fork, sleep(2), read the pipe
    "sleepy": dict(server="sleepy-server", client="read-twice-client", ipc="msg",
                   verdict="PASS", concurrent=False,
                   findings=("one-at-a-time", "sleep-as-sync"), exit=1),
    "leaky": dict(server="leaky-server", client="read-twice-client", ipc="msg",
                  verdict="PASS", concurrent=True,
                  findings=("listen-never-closed", "listen-in-child", "child-not-reaped"),
                  also=("pipe-read-end-in-child", "pipe-write-end-open"), exit=1),
    # listens on the byte-swapped port; the client waits in msgrcv until the check stops it
    "htons": dict(server="htons-server", client="read-twice-client", ipc="msg",
                  verdict="FAIL", concurrent=None, findings=("htons-missing",),
                  also=("ipc-left", "queue-not-removed"), exit=1, tokens_followed=0,
                  problems=("server-wrong-port", "client-never-finished")),
}

_held = []


def hold(port):
    """Keep port (and nobody else's bind(0)) off it until the test ends: a socket bound
    with SO_REUSEADDR that never listens; the student's server (SO_REUSEADDR too) binds it."""
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    _held.append(s)
    return port


def run_check(tmp, args, name="c", prefix=(), env=None, timeout=None):
    """scripts/check --json -o tmp/name ARGS: (exit code, report or None, stderr, seconds)."""
    out = os.path.join(tmp, name)
    t0 = time.monotonic()
    p = subprocess.run([*prefix, CHECK, "--json", "-o", out, "--id", STUDENT_ID, *args],
                       capture_output=True,
                       text=True, env=env or trace_env(tmp), cwd=tmp, timeout=timeout or 400)
    secs = time.monotonic() - t0
    try:
        report = json.loads(p.stdout)
    except ValueError:
        report = None
    check(report is not None or p.returncode == 2,
          f"scripts/check exit {p.returncode} without a JSON report: {p.stdout!r} {p.stderr!r}")
    return p.returncode, report, p.stderr, secs


def brief(r):
    """What a failed assertion shows of a report."""
    s = r.get("session") or {}
    return json.dumps(dict(result=r["result"], exit=r["exit"], verdict=r["verdict_line"],
                           problems=s.get("problems"), notes=s.get("notes"),
                           tokens={k: v for k, v in r["tokens"].items() if k != "flows"},
                           findings=[f["kind"] for f in r["findings"]], cleaned=r["cleaned"],
                           errors=r["errors"], files=r["files"]["dir"]), indent=1)


def nothing_left(r, markers):
    """No process of the check's session is alive or a zombie, none whose command line has a
    marker (the pair's key or FIFO path) runs."""
    s = r["session"]
    pids = {s[k]["pid"] for k in ("server", "client") if s[k].get("pid")}
    pids |= {o["pid"] for o in s.get("orphans", [])}
    names = {os.path.basename(s[k]["argv"][0])[:15] for k in ("server", "client")
             if s[k].get("argv")}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        check(comm not in names, f"process {pid} ({comm}) of the check still there")
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        for m in markers:
            check(m not in cmd, f"process {name} still runs: {cmd}")


def pair(name):
    lttng_or_skip()
    want = PAIRS[name]
    tmp = scratch()
    ipc = students.Ipc(want["ipc"])
    port = hold(students.free_port(htons_too=name == "htons"))
    if name == "htons":
        hold(students.swapped(port))
    server = f"{os.path.join(STUDENTS, want['server'])} {{v6port}} {ipc.arg}"
    client = f"{os.path.join(STUDENTS, want['client'])} {{host}} {{port}} {ipc.arg}"
    code, r, err, secs = run_check(tmp, ["--v6-port", str(port), "--server", server,
                                         "--client", client])
    check(r is not None, f"no report: exit {code}: {err}")
    print(f"  {name}: exit {code} in {secs:.1f} s: {r['verdict_line']}")
    expect_report(r, want, port)
    check(not ipc.exists(), f"{ipc} left behind after the check: {brief(r)}")
    nothing_left(r, [ipc.arg])
    expect_analysis(r, want)
    check(code == want["exit"] == r["exit"],
          f"exit {code} (report {r['exit']}), expected {want['exit']}: {brief(r)}")


def expect_report(r, want, port):
    """What scripts/check sees itself: the course server's verdict, the student's programs,
    what it cleaned up."""
    check(not r["errors"], f"errors: {brief(r)}")
    g = r["grade"]
    check(g and g["verdict"] == want["verdict"] and g["v6port"] == port
          and g["v6addr"] == "::1", f"grade {g}: {brief(r)}")
    # Traced, each child of a student's server starts about 0.4 s after its fork on a loaded
    # machine (two busy loops: lttng-ust registering the child with the session daemon), and
    # the course server judges concurrency with about 0.5 s to spare: a concurrent server
    # then seems sequential once in a while. A sequential one never seems concurrent.
    conc = g["concurrent"]
    check(conc is want["concurrent"] or (want["concurrent"] and conc is False),
          f"concurrent {conc!r}, expected {want['concurrent']!r}: {brief(r)}")
    if conc is not want["concurrent"]:
        print(f"  note: the course server judged it concurrent: {conc!r} (a loaded machine)")
    check(r["verdict"] == want["verdict"] and r["verdict_line"].startswith(want["verdict"]),
          brief(r))
    s = r["session"]
    check(s["client"]["typed"] == [STUDENT_ID, "::1", str(port), "Y", "Y", "OK"],
          f"typed {s['client']['typed']}")
    problems = sorted(p["kind"] for p in s["problems"])
    check(problems == sorted(want.get("problems", ())), f"problems {problems}: {brief(r)}")
    if want["verdict"] == "PASS":
        check(not s["client"]["stopped_by_check"] and s["client"]["exit"] == {"code": 0},
              f"the client did not end by itself: {brief(r)}")
        check(r["cleaned"] == [], f"something left behind: {brief(r)}")
    else:  # htons: the client's queue, left by the client the check stopped, removed
        check([o["kind"] for o in r["cleaned"]] == ["queue"] and r["cleaned"][0].get("removed"),
              f"cleaned {r['cleaned']}")
    for k in ("trace", "diagram", "report", "client_terminal"):
        check(r["files"][k] and os.path.exists(r["files"][k]), f"no {k}: {r['files']}")


def expect_analysis(r, want):
    """What scripts/v6trace finds: the tokens through the student's hops, the lint kinds."""
    t = r["tokens"]
    followed = want.get("tokens_followed", 5)
    check(t["followed"] == followed and (followed == 0 or t["seen"] == 5),
          f"analysis: {t['followed']} token(s) followed through the student's hops, expected "
          f"{followed}: {brief(r)}")
    for fl in t["flows"] if followed else ():
        hops = [h["hop"] for h in fl["hops"]]
        check(hops[0] == "generated" and hops[-1] == "verified",
              f"analysis: {fl['token']} hops {hops}")
    kinds = {f["kind"] for f in r["findings"]}
    need = set(want["findings"])
    check(need <= kinds <= need | set(want.get("also", ())),
          f"analysis: finding kinds {sorted(kinds)}, expected {sorted(need)}"
          + (f" (and maybe {sorted(want['also'])})" if want.get("also") else "")
          + f": {brief(r)}")


def own():
    lttng_or_skip()
    tmp = scratch()
    key = students.Ipc("msg")
    port = hold(students.free_port())
    code, r, err, secs = run_check(tmp, [
        "--v6-port", str(port),
        "--server", f"{BIN}/ipv6-server --port {{v6port}} --queue-key {key.arg}",
        "--client", f"{BIN}/ipv4-client --server {{host}} --port {{port}} --queue-key {key.arg}"])
    check(r is not None, f"no report: exit {code}: {err}")
    print(f"  own: exit {code} in {secs:.1f} s: {r['verdict_line']}")
    want = dict(verdict="PASS", concurrent=True, findings=(), exit=0)
    expect_report(r, want, port)
    check(not key.exists(), f"{key} left behind")
    nothing_left(r, [key.arg])
    expect_analysis(r, want)
    check(code == 0, f"exit {code}: {brief(r)}")


def bad_input():
    tmp = scratch()
    eof = os.path.join(STUDENTS, "eof-server") + " {v6port}"
    cli = os.path.join(STUDENTS, "read-twice-client") + " {host} {port}"
    busy = socket.create_server(("::", 0), family=socket.AF_INET6, dualstack_ipv6=True)
    full = os.path.join(tmp, "full")
    os.mkdir(full)
    open(os.path.join(full, "x"), "w").close()
    port = str(hold(students.free_port()))
    cases = [
        (["--client", cli], "no --server"),
        (["--server", eof], "no --client"),
        (["--server", eof, "--client", cli.replace("{port}", "50000")], "has no {port}"),
        (["--server", "no-such-server-x {v6port}", "--client", cli], "no such program"),
        (["--server", eof, "--client", "./no-such-client {port}"], "no such program"),
        (["--server", eof + " 'unbalanced", "--client", cli], "No closing quotation"),
        (["--server", eof, "--client", cli, "--frobnicate"], "unrecognized arguments"),
        (["--server", eof, "--client", cli, "--v6-port", "70000"], "from 1 to 65535"),
        (["--server", eof, "--client", cli, "--id", "abc"], "1 to 31 digits"),
        (["--server", eof, "--client", cli, "--v6-port", str(busy.getsockname()[1])],
         "is in use on this machine"),
        (["--server", eof, "--client", cli, "-o", full], "not empty"),
    ]
    if not os.path.exists(os.path.join(TOP, "scripts", "v6checklib", "batch.py")):
        cases.append((["--batch", tmp], "--batch is not available"))
    for args, needle in cases:
        if "--v6-port" not in args:
            args = [*args, "--v6-port", port]
        p = subprocess.run([CHECK, *args], capture_output=True, text=True, cwd=tmp, timeout=30)
        check(p.returncode == 2 and p.stdout == "",
              f"{args}: exit {p.returncode}, stdout {p.stdout!r}, stderr {p.stderr!r}")
        one_error_line(p.stderr, "check", needle)
    left = [d for d in os.listdir(tmp) if d.startswith("check-")]
    check(not left, f"bad input made {left}")
    p = subprocess.run([CHECK, "--help"], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0 and "{port}" in p.stdout and "--v6-port" in p.stdout, p.stdout)
    busy.close()


def hanging_client():
    # A client that never connects: it waits for its child (sleep), and that child leaves a
    # grandchild in a session of its own (setsid), out of the client's process group.
    lttng_or_skip()
    tmp = scratch()
    port = hold(students.free_port())
    ipc = students.Ipc("msg")
    mark = f"sleep {random.randrange(5000, 9000)}"
    bound = 20
    code, r, err, secs = run_check(tmp, [
        "--timeout", str(bound), "--v6-port", str(port),
        "--server", f"{STUDENTS}/eof-server {{v6port}} {ipc.arg}",
        "--client", f"sh -c 'setsid {mark}.5 & {mark}.25' sh {{port}}"],
        timeout=bound + MARGIN + 60)
    check(r is not None, f"no report: exit {code}: {err}")
    print(f"  hanging client: exit {code} in {secs:.1f} s (bound {bound} s)")
    check(code == 1 and r["result"] == "FAIL" and r["verdict"] is None and not r["errors"],
          brief(r))
    kinds = {p["kind"] for p in r["session"]["problems"]}
    check({"client-never-connected", "client-never-finished"} <= kinds, brief(r))
    check(any("never connected" in p["text"] for p in r["session"]["problems"]), brief(r))
    check(secs < bound + MARGIN, f"the check took {secs:.1f} s, bound {bound} s")
    orphans = [o["command"] for o in r["session"]["orphans"]]
    check("sleep" in orphans, f"the setsid grandchild was not reaped by the check: {brief(r)}")
    nothing_left(r, [mark, ipc.arg])


def ordinary_user():
    lttng_or_skip()
    if os.geteuid() != 0:
        skip("runs the check as nobody through setpriv: needs root")
    if not shutil.which("setpriv"):
        skip("no setpriv (util-linux)")
    d = TOP  # nobody must reach the project: a clone under a 0700 directory (mktemp -d) cannot
    while d != os.path.dirname(d):
        st = os.stat(d)
        if not st.st_mode & 0o001:
            skip(f"nobody cannot enter {d} (mode {st.st_mode & 0o777:o}), which holds this "
                 "clone: clone it under a directory others may enter to run this test")
        d = os.path.dirname(d)
    import pwd
    nobody = pwd.getpwnam("nobody")
    tmp = scratch()
    os.chmod(tmp, 0o755)  # nobody goes through it to its own directory
    home = os.path.join(tmp, "nobody")
    os.mkdir(home)
    os.chown(home, nobody.pw_uid, nobody.pw_gid)
    ipc = students.Ipc("msg")
    port = hold(students.free_port())

    def theirs():
        out = set()
        for name in filter(str.isdigit, os.listdir("/proc")):
            try:
                st = os.stat(f"/proc/{name}")
                with open(f"/proc/{name}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except (OSError, ValueError, IndexError):
                continue
            if st.st_uid == nobody.pw_uid and state != "Z":
                out.add(int(name))
        return out

    def private_dirs():
        return {d for d in os.listdir(tempfile.gettempdir())
                if d.startswith("v6lab-check-lttng-")}
    before, dirs = theirs(), private_dirs()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent",
           "V6LAB_BIN": BIN, "LANG": "C.UTF-8"}
    code, r, err, secs = run_check(home, [
        "--v6-port", str(port),
        "--server", f"{STUDENTS}/eof-server {{v6port}} {ipc.arg}",
        "--client", f"{STUDENTS}/read-twice-client {{host}} {{port}} {ipc.arg}"],
        prefix=("setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                "--clear-groups"), env=env)
    check(r is not None, f"no report: exit {code}: {err}")
    print(f"  as nobody: exit {code} in {secs:.1f} s: {r['verdict_line']}")
    check(code == 0 and r["verdict"] == "PASS" and not r["errors"], brief(r))
    check(os.stat(r["files"]["trace"]).st_uid == nobody.pw_uid, "the trace is not nobody's")
    check(not ipc.exists(), f"{ipc} left behind")
    nothing_left(r, [ipc.arg])
    deadline = time.monotonic() + 10  # the session daemon the check started stops
    while time.monotonic() < deadline and theirs() - before:
        time.sleep(0.1)
    left = theirs() - before
    check(not left, f"processes of nobody left: {sorted(left)}")
    check(private_dirs() == dirs, f"private LTTng homes left: {private_dirs() - dirs}")


if __name__ == "__main__":
    import atexit
    atexit.register(students.clean_up)
    main({**{n: (lambda n=n: pair(n)) for n in PAIRS}, "own": own, "bad_input": bad_input,
          "hanging_client": hanging_client, "ordinary_user": ordinary_user})
