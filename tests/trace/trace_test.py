#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Tracing tests (label trace): the exercise recorded with scripts/trace and read back with
bt2; the event catalogue against the provider headers; the programs with no session daemon.
Usage: trace_test.py SCENARIO (CTest runs each as trace.SCENARIO).

Debian's /usr/bin/python3 (it has bt2). Each scenario makes its own trace directory and
scripts/trace session, and removes the directory (V6LAB_KEEP_TRACE=1 keeps it)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from v6test import (TOP, check, main, queue_exists, run, run_student, skip,  # noqa: E402
                    start_ipv4_server, start_ipv6_server, wait_until)

TRACE = os.path.join(TOP, "scripts", "trace")
README = os.path.join(TOP, "trace", "README.md")
PROVIDERS = ("sockets", "io", "process", "ipc", "protocol")


def scratch():
    d = tempfile.mkdtemp(prefix="v6lab-trace-test-")
    if not os.environ.get("V6LAB_KEEP_TRACE"):
        import atexit
        atexit.register(shutil.rmtree, d, True)
    else:
        print(f"keeping {d}")
    return d


def lttng_or_skip():
    for tool in ("lttng", "lttng-sessiond", "babeltrace2"):
        if not shutil.which(tool):
            skip(f"{tool} is not installed (apt-get install lttng-tools babeltrace2)")
    try:
        import bt2  # noqa: F401
    except ImportError:
        skip("no bt2 module in this python (run with Debian's /usr/bin/python3, "
             "apt-get install python3-bt2)")


def trace_env(tmp):
    # The start/stop state file goes to the test's own directory, never the user's.
    return dict(os.environ, XDG_RUNTIME_DIR=tmp)


# --- reading a trace -----------------------------------------------------------------

class Event:
    __slots__ = ("name", "ts", "vpid", "vtid", "procname", "f")

    def __init__(self, msg):
        import bt2
        ev = msg.event
        self.name = ev.name
        self.ts = msg.default_clock_snapshot.ns_from_origin
        ctx = ev.common_context_field
        self.vpid, self.vtid = int(ctx["vpid"]), int(ctx["vtid"])
        self.procname = str(ctx["procname"])
        self.f = {}
        for k, v in ev.payload_field.items():
            if isinstance(v, bt2._EnumerationFieldConst):
                self.f[k] = v.labels[0] if v.labels else int(v)
            elif isinstance(v, bt2._StringFieldConst):
                self.f[k] = str(v)
            else:
                self.f[k] = int(v)

    def __repr__(self):
        return f"{self.name}@{self.ts} vpid={self.vpid} {self.f}"


def read_trace(path):
    """(events in time order, number of events the tracer discarded)."""
    import bt2
    events, discarded = [], 0
    for msg in bt2.TraceCollectionMessageIterator(path):
        if type(msg) is bt2._EventMessageConst:
            events.append(Event(msg))
        elif type(msg) is bt2._DiscardedEventsMessageConst:
            discarded += msg.count or 1  # unknown count: still a loss
    for e in events:  # every event must carry the contexts scripts/trace adds
        check(e.vpid > 0 and e.procname, f"event without contexts: {e}")
    return events, discarded


def our_processes(events, root_pid):
    """vpid -> parent vpid for the programs started by root_pid and their forked children
    (other v6lab programs running on the machine may be in the trace too)."""
    tree = {e.vpid: root_pid for e in events
            if e.name == "v6lab_process:start" and e.f["ppid"] == root_pid}
    grew = True
    while grew:
        grew = False
        for e in events:
            if e.name == "v6lab_process:fork" and e.vpid in tree and e.f["child_pid"] > 0 \
                    and e.f["child_pid"] not in tree:
                tree[e.f["child_pid"]] = e.vpid
                grew = True
    return tree


def traced(tmp, argv, env=None, timeout=60):
    """Run argv under scripts/trace -o tmp/trace: (trace dir, scripts/trace stdout, rc)."""
    out = os.path.join(tmp, "trace")
    p = subprocess.run([TRACE, "-o", out, "--", *argv], capture_output=True, text=True,
                       timeout=timeout, env=env or trace_env(tmp))
    check(p.returncode == 0, f"scripts/trace exit {p.returncode}: {p.stdout} {p.stderr}")
    check(f"trace in {out}" in p.stdout and f"babeltrace2 {out}" in p.stdout, p.stdout)
    return out, p.stdout


# --- the exercise, run as scripts/trace's COMMAND ----------------------------------------

def _exercise():
    """(scripts/trace's child) The whole exercise on ephemeral ports; writes our pid and
    the ports to argv[2] so the checker can find our processes in the trace."""
    s6, v6port, key = start_ipv6_server()
    s4, v4port = start_ipv4_server("--once", "--grades", os.path.join(sys.argv[3], "g.jsonl"))
    c = run_student(v4port, v6port)
    code, out, err = c.finish(30)
    code4, _, err4 = s4.finish(10)
    code6, _, err6 = s6.finish(10)
    check(code == 0 and "PASS: 5/5 tokens, concurrent: yes" in out, f"{code} {out} {err}")
    check(code4 == 0 and code6 == 0, f"servers exited {code4} {code6}: {err4} {err6}")
    check(not queue_exists(key), f"queue 0x{key:08x} left behind")
    with open(sys.argv[2], "w") as f:
        f.write(f"{os.getpid()} {v4port} {v6port}\n")


def only(events, what, **want):
    """The events matching name what and each field (or callable test) in want."""
    out = []
    for e in events:
        if e.name != what:
            continue
        ok = True
        for k, v in want.items():
            got = e.vpid if k == "vpid" else e.f.get(k)
            if not (v(got) if callable(v) else got == v):
                ok = False
                break
        if ok:
            out.append(e)
    return out


def one(events, what, **want):
    found = only(events, what, **want)
    check(len(found) == 1, f"expected one {what} {want}, found {len(found)}: {found}")
    return found[0]


def full_run():
    """The exercise traced: each role's key events, the process tree, every token at
    every hop in order, nothing discarded."""
    lttng_or_skip()
    tmp = scratch()
    info = os.path.join(tmp, "info")
    out, report = traced(tmp, [sys.executable, os.path.abspath(__file__), "_exercise", info, tmp])
    m = re.search(r"(\d+) events, (\d+) discarded", report)
    check(m and int(m.group(2)) == 0, f"scripts/trace reports discarded events: {report}")
    root, v4port, v6port = map(int, open(info).read().split())
    events, discarded = read_trace(out)
    check(discarded == 0, f"{discarded} events discarded")
    check(int(m.group(1)) == len(events), f"scripts/trace counted {m.group(1)}, bt2 {len(events)}")
    catalogue = set(read_catalogue())
    unknown = {e.name for e in events} - catalogue
    check(not unknown, f"events missing from trace/README.md: {unknown}")

    tree = our_processes(events, root)
    ev = [e for e in events if e.vpid in tree]
    role = {}
    for e in ev:
        role.setdefault(e.vpid, e.f["role"])
        check(e.f["role"] == role[e.vpid], f"role changed within vpid {e.vpid}: {e}")
    mains = {role[p]: p for p, parent in tree.items() if parent == root}
    check(sorted(mains) == ["ipv4-client", "ipv4-server", "ipv6-server"], f"programs: {mains}")
    v6, v4s, v4c = mains["ipv6-server"], mains["ipv4-server"], mains["ipv4-client"]

    # Process tree: 5 children of the IPv6 server, each linked both ways by the fork events.
    kids = [p for p, parent in tree.items() if parent == v6]
    check(len(kids) == 5, f"ipv6-server forked {len(kids)} children, expected 5")
    for k in kids:
        check(k != v6, f"child {k} has its parent's vpid: fork hooks not called?")
        one(ev, "v6lab_process:fork", vpid=v6, child_pid=k)
        fc = one(ev, "v6lab_process:fork_child", vpid=k)
        check(fc.f["ppid"] == v6 and fc.f["pid"] == k, f"fork_child in {k}: {fc}")
        check(only(ev, "v6lab_process:fork", vpid=v6, child_pid=k)[0].ts <= fc.ts,
              f"child {k} speaks before its parent forked it")
        child = [e for e in ev if e.vpid == k]
        check(child[0].name == "v6lab_process:fork_child", f"child {k} first event {child[0]}")
        check(all(e.f["role"] == "ipv6-server" for e in child), f"child {k} role")
        one(ev, "v6lab_process:waitpid", vpid=v6, ret=k, exit_code=0)
        # The child closes the listening socket and the pipe's read end at once.
        check(len(only(child, "v6lab_io:close", kind="socket")) == 2, f"child {k} closes")
        check(len(only(child, "v6lab_io:close", kind="pipe")) == 2, f"child {k} pipe ends")
    check(not [p for p, parent in tree.items() if parent in (v4s, v4c)],
          "ipv4-server --once and ipv4-client fork nothing")

    # ipv6-server: listen on [::], queue created, 5 accepts from ::1, 5 tokens + end queued.
    b = one(ev, "v6lab_sockets:bind", vpid=v6)
    check(b.f["family"] == "AF_INET6" and b.f["addr"] == "::" and b.f["port"] == 0
          and b.f["ret"] == 0, f"ipv6-server bind {b}")
    one(ev, "v6lab_sockets:listen", vpid=v6, ret=0)
    one(ev, "v6lab_ipc:pipe", vpid=v6, ret=0)
    made = one(ev, "v6lab_ipc:msgget", vpid=v6, outcome="created")
    check(made.f["mode"] == 0o600 and made.f["id"] >= 0, f"msgget {made}")
    acc = only(ev, "v6lab_sockets:accept", vpid=v6, err=0)
    check(len(acc) == 5 and all(a.f["addr"] == "::1" and a.f["new_fd"] >= 0 for a in acc),
          f"ipv6-server accepts: {acc}")
    check(len(only(ev, "v6lab_ipc:msgsnd", vpid=v6, mtype=1, ntokens=1, ret=0)) == 5, "msgsnd")
    one(ev, "v6lab_ipc:msgsnd", vpid=v6, mtype=2, ntokens=0)
    check(len(only(ev, "v6lab_protocol:token_forwarded", vpid=v6, detail="message queue")) == 5,
          "ipv6-server token_forwarded")

    # ipv4-server: six questions, six good answers, 5 course clients to [::1]:v6port, PASS.
    b = one(ev, "v6lab_sockets:bind", vpid=v4s)
    check(b.f["family"] == "AF_INET" and b.f["port"] == 0, f"ipv4-server bind {b}")  # --port 0
    a = one(ev, "v6lab_sockets:accept", vpid=v4s)
    check(a.f["addr"] == "127.0.0.1" and a.f["family"] == "AF_INET", f"ipv4-server accept {a}")
    for q in range(1, 7):
        one(ev, "v6lab_protocol:prompt_sent", vpid=v4s, question=q)
        one(ev, "v6lab_protocol:answer_checked", vpid=v4s, question=q, result="ok")
        one(ev, "v6lab_protocol:prompt_received", vpid=v4c, question=q)
        one(ev, "v6lab_protocol:answer_sent", vpid=v4c, question=q)
    conns = only(ev, "v6lab_sockets:connect", vpid=v4s, ret=0)
    check(len(conns) == 5 and all(c.f["addr"] == "::1" and c.f["port"] == v6port
                                  and c.f["family"] == "AF_INET6" for c in conns),
          f"course clients' connects: {conns}")
    check(len({c.vtid for c in conns}) == 5, "each course client is a thread of its own")
    v = one(ev, "v6lab_protocol:verdict", vpid=v4s)
    check(v.f["pass"] == 1 and v.f["ok"] == 5 and v.f["expected"] == 5
          and v.f["concurrent"] == "yes", f"verdict {v}")

    # ipv4-client: connects to the course server, opens the queue, removes it, hears PASS.
    c = one(ev, "v6lab_sockets:connect", vpid=v4c)
    check(c.f["addr"] == "127.0.0.1" and c.f["port"] == v4port and c.f["ret"] == 0, f"{c}")
    g = one(ev, "v6lab_ipc:msgget", vpid=v4c, outcome="existing")
    check(g.f["id"] == made.f["id"], f"ipv4-client opened queue {g.f['id']}, "
                                     f"ipv6-server created {made.f['id']}")
    one(ev, "v6lab_ipc:msgctl", vpid=v4c, cmd="IPC_RMID", ret=0, id=made.f["id"])
    check(one(ev, "v6lab_protocol:verdict_received", vpid=v4c).f["text"].startswith("PASS"),
          "verdict_received")

    # Every token at every hop, once, in time order.
    entry_ts, last_entry = {}, {}
    for e in ev:
        if e.name.endswith("_entry"):
            last_entry[(e.vtid, e.name[:-6])] = e.ts
        elif (e.vtid, e.name) in last_entry:
            entry_ts[id(e)] = last_entry.pop((e.vtid, e.name))
    tokens = [e.f["token"] for e in only(ev, "v6lab_protocol:token_generated", vpid=v4s)]
    check(len(tokens) == 5 and len(set(tokens)) == 5, f"tokens generated: {tokens}")
    has = lambda t: lambda got: t in (got or "").split(",")  # noqa: E731
    for t in tokens:
        hops = [
            ("course client write", "v6lab_io:write", dict(vpid=v4s, kind="socket")),
            ("child read", "v6lab_io:read", dict(vpid=lambda p: p in kids, kind="socket")),
            ("child token_received", "v6lab_protocol:token_received",
             dict(vpid=lambda p: p in kids, detail="ok")),
            ("pipe write", "v6lab_io:write", dict(vpid=lambda p: p in kids, kind="pipe")),
            ("pipe read", "v6lab_io:read", dict(vpid=v6, kind="pipe")),
            ("msgsnd", "v6lab_ipc:msgsnd", dict(vpid=v6)),
            ("msgrcv", "v6lab_ipc:msgrcv", dict(vpid=v4c, mtype=1)),
            ("ipv4-client write", "v6lab_io:write", dict(vpid=v4c, kind="socket")),
            ("course server read", "v6lab_io:read", dict(vpid=v4s, kind="socket")),
            ("course server verification", "v6lab_protocol:token_verified",
             dict(vpid=v4s, detail="ok")),
        ]
        seen = []
        for label, name, want in hops:
            field = "token" if name.startswith("v6lab_protocol") else "tokens"
            found = only(ev, name, **want, **{field: (lambda got, t=t: got == t)
                                              if field == "token" else has(t)})
            check(len(found) == 1, f"{t}: hop '{label}' seen {len(found)} times: {found}")
            seen.append((label, found[0]))
        read_child = seen[1][1].vpid
        check(seen[2][1].vpid == read_child and seen[3][1].vpid == read_child,
              f"{t}: read, checked and piped by different children")
        # A call's result can be recorded after the peer's (the reader wakes up before the
        # writer's write() returns): a hop must end after the previous one began.
        for (l1, e1), (l2, e2) in zip(seen, seen[1:]):
            began = entry_ts.get(id(e1), e1.ts)
            check(began <= e2.ts, f"{t}: '{l2}' ({e2.ts}) before '{l1}' began ({began})")
    print(f"OK: {len(ev)} events of ours ({len(events)} in all), 5 children, "
          f"5 tokens x {len(hops)} hops")


def start_stop():
    """scripts/trace start / stop around a program started separately."""
    lttng_or_skip()
    tmp = scratch()
    out, env = os.path.join(tmp, "trace"), trace_env(tmp)
    p = subprocess.run([TRACE, "start", "-o", out], capture_output=True, text=True, env=env,
                       timeout=30)
    check(p.returncode == 0 and "scripts/trace stop" in p.stdout, f"start: {p.stdout}{p.stderr}")
    try:
        c = run("ipv6-client", "--addr", "::1", "--port", 1)  # nothing listens on port 1
        code, _, err = c.finish(10)
        check(code == 2 and "refused" in err, f"ipv6-client: {code} {err}")
    finally:
        p = subprocess.run([TRACE, "stop"], capture_output=True, text=True, env=env, timeout=30)
    check(p.returncode == 0 and " 0 discarded" in p.stdout, f"stop: {p.stdout}{p.stderr}")
    check(not os.path.exists(os.path.join(tmp, f"v6lab-trace-{os.getuid()}.state")),
          "stop left its state file")
    events, _ = read_trace(out)
    conn = [e for e in events if e.name == "v6lab_sockets:connect" and e.vpid == c.pid]
    check(len(conn) == 1 and conn[0].f["err"] == 111 and conn[0].f["port"] == 1
          and conn[0].f["role"] == "ipv6-client", f"ECONNREFUSED connect: {conn}")
    p = subprocess.run([TRACE, "stop"], capture_output=True, text=True, env=env, timeout=30)
    check(p.returncode == 2 and "no trace started" in p.stderr, f"second stop: {p.stderr}")


def bad_use():
    """Each misuse of scripts/trace: exit 2 and one line on stderr saying what to do."""
    if not shutil.which("lttng"):
        skip("lttng is not installed")
    tmp = scratch()
    full = os.path.join(tmp, "full")
    os.makedirs(full)
    open(os.path.join(full, "old"), "w").close()
    env = trace_env(tmp)
    cases = [
        ([], "usage"),
        (["-o", full, "--", "true"], "not empty"),
        (["-o", "/proc/v6lab-cannot", "--", "true"], "cannot create"),
        (["-o", os.path.join(tmp, "x"), "--", "no-such-command-v6lab"], "no such command"),
        (["stop"], "no trace started"),
        (["start", "--", "true"], "usage"),
        (["-o", os.path.join(tmp, "y"), "--live", "net://localhost", "--", "true"], "exclude"),
    ]
    for args, why in cases:
        p = subprocess.run([TRACE, *args], capture_output=True, text=True, env=env, timeout=30)
        lines = p.stderr.splitlines()
        check(p.returncode == 2 and len(lines) == 1 and lines[0].startswith("trace: ")
              and why in lines[0], f"scripts/trace {args}: exit {p.returncode}, {p.stderr!r}")
    check(not os.path.exists(os.path.join(tmp, "x")), "a failed run left a trace directory")


def no_daemon():
    """The four programs with no session daemon reachable: the exercise passes, and a
    program does not wait for one (LTTNG_UST_REGISTER_TIMEOUT is 3 s by default)."""
    private_run("_no_daemon")


def _no_daemon():
    if shutil.which("lttng"):
        p = subprocess.run(["lttng", "list"], capture_output=True, text=True)
        check(p.returncode != 0, f"a session daemon is still reachable: {p.stdout}")
    t0 = time.monotonic()
    c = run("ipv6-client", "--addr", "::1", "--port", 1)
    code, _, err = c.finish(10)
    lone = time.monotonic() - t0
    check(code == 2 and "refused" in err, f"ipv6-client: {code} {err}")
    check(lone < 1.5, f"ipv6-client took {lone:.2f}s with no daemon: waiting to register?")
    t0 = time.monotonic()
    s6, v6port, key = start_ipv6_server()
    s4, v4port = start_ipv4_server("--once", "--grades", os.path.join(sys.argv[2], "g.jsonl"))
    code, out, err = run_student(v4port, v6port).finish(30)
    s4.finish(10)
    s6.finish(10)
    check(code == 0 and "PASS: 5/5 tokens, concurrent: yes" in out, f"{code} {out} {err}")
    print(f"OK: no daemon; lone program {lone * 1000:.0f} ms, exercise "
          f"{time.monotonic() - t0:.2f} s")


def private_run(scenario):
    """Run SCENARIO of this file where no session daemon is reachable: a private mount
    namespace with a tmpfs over /run (the global daemon's sockets), LTTNG_HOME elsewhere."""
    if os.geteuid() != 0:
        skip("needs root: hides any running session daemon in a private mount namespace")
    if not shutil.which("unshare"):
        skip("unshare (util-linux) is not installed")
    private = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
               'mount -t tmpfs v6lab-no-lttng /run && exec "$@"', "sh"]
    # Can we? Asked on its own, so that a failure of the scenario is never taken for a skip.
    probe = subprocess.run(private + ["true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        skip(f"cannot make a private mount namespace here: {probe.stderr.strip()}")
    tmp = scratch()
    env = dict(os.environ, LTTNG_HOME=tmp)
    env.pop("LTTNG_UST_REGISTER_TIMEOUT", None)
    p = subprocess.run(private + [sys.executable, os.path.abspath(__file__), scenario, tmp],
                       capture_output=True, text=True, env=env, timeout=60)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stdout} {p.stderr}")
    print(p.stdout, end="")


def shared_daemon():
    """Two captures at once on the daemon the first one started: the first to end leaves it
    to the other (whose session goes on recording), the last one stops it."""
    lttng_or_skip()
    private_run("_shared_daemon")


def alive(pid):
    """Running, not a zombie (a daemonized process's parent here may never reap it)."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def reachable_daemon():
    """The pid of the session daemon our lttng commands reach, from its own pid file (in the
    private /run: never another namespace's daemon, whatever the pids)."""
    try:
        pid = int(open("/var/run/lttng/lttng-sessiond.pid").read())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def until(path):
    """sh: wait until path exists (60 s at most)."""
    return f"i=0; while [ ! -e {path} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done"


def _shared_daemon():
    tmp = sys.argv[2]
    env = trace_env(tmp)
    check(subprocess.run(["lttng", "list"], capture_output=True).returncode != 0,
          "a session daemon is reachable in the private namespace")
    mark = os.path.join(tmp, f"v6lab-trace-{os.getuid()}.sessiond")
    ours = os.readlink("/proc/self/ns/mnt")
    others = []  # daemons of other mount namespaces (the test suite's own): never to be touched
    for pid in subprocess.run(["pgrep", "-x", "lttng-sessiond"], capture_output=True,
                              text=True).stdout.split():
        try:
            if os.readlink(f"/proc/{pid}/ns/mnt") != ours and alive(int(pid)):
                others.append(int(pid))
        except OSError:
            pass
    # Each capture's command runs until the test lets it go on (a file appears): the first
    # ends while the second records, which connects only after that.
    a_go, b_go, b_on = (os.path.join(tmp, f) for f in ("a-go", "b-go", "b-recording"))
    a = subprocess.Popen([TRACE, "-o", os.path.join(tmp, "a"), "--", "sh", "-c", until(a_go)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    daemon = None
    try:
        for _ in range(100):
            marked = os.path.exists(mark) and open(mark).read().strip()
            if marked and subprocess.run(["lttng", "list"], capture_output=True,
                                         env=env).returncode == 0:
                daemon = reachable_daemon()
                break
            time.sleep(0.05)
        check(daemon, "the first capture did not start a session daemon")
        check(open(mark).read().split()[0] == str(daemon),
              f"the capture marked {open(mark).read()!r}, not its daemon {daemon}")
        client = os.path.join(os.environ["V6LAB_BIN"], "ipv6-client")
        b = subprocess.Popen([TRACE, "-o", os.path.join(tmp, "b"), "--", "sh", "-c",
                              f"touch {b_on}; {until(b_go)}; {client} --addr ::1 --port 1"
                              " || true"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        wait_until(lambda: os.path.exists(b_on) or b.poll() is not None, 30,
                   "the second capture's command to start")
        if not os.path.exists(b_on):  # it has ended: say why
            check(False, f"second capture: {b.returncode} {b.communicate()}")
        open(a_go, "w").close()
        out_a, err_a = a.communicate(timeout=30)
        check(a.returncode == 0, f"first capture: {a.returncode} {err_a}")
        check(alive(daemon), "the first capture to end stopped the daemon the other one was "
              "still using")
        open(b_go, "w").close()
        out_b, err_b = b.communicate(timeout=30)
        check(b.returncode == 0, f"second capture: {b.returncode} {err_b}")
        names = [e.name for e in read_trace(os.path.join(tmp, "b"))[0]]
        check("v6lab_sockets:connect" in names,
              f"the second capture lost its events after the first ended: {out_b} {err_b}")
        for _ in range(50):
            if not alive(daemon):
                break
            time.sleep(0.1)
        check(not alive(daemon), "the last capture left its daemon running")
        check(not os.path.exists(mark), "the mark of the daemon was left behind")
        check(all(alive(p) for p in others), f"a daemon of another namespace was stopped: {others}")
        print(f"OK: daemon {daemon} kept for the second capture ({len(names)} events), then stopped")
    finally:
        for gate in (a_go, b_go):  # on a failure too: the captures end now
            open(gate, "a").close()
        if daemon and alive(daemon):
            os.kill(daemon, 15)


# --- the catalogue --------------------------------------------------------------------

def balanced(text, start):
    """The text inside the parentheses opening at text[start]."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1:i]
    raise ValueError("unbalanced parentheses")


def split_args(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += {"(": 1, ")": -1}.get(ch, 0)
        cur += ch
    out.append(cur.strip())
    return out


def header_events():
    """provider:event -> field names (role first), from trace/v6lab_*.h."""
    events = {}
    for prov in PROVIDERS:
        text = open(os.path.join(TOP, "trace", f"v6lab_{prov}.h")).read()
        classes = {}
        for m in re.finditer(r"^LTTNG_UST_TRACEPOINT_EVENT(_CLASS|_INSTANCE)?\(", text, re.M):
            args = split_args(balanced(text, m.end() - 1))
            if m.group(1) == "_INSTANCE":
                events[f"{args[2]}:{args[3]}"] = classes[args[1]]
                continue
            fields = []
            body = balanced(args[3], args[3].index("("))
            for f in re.finditer(r"lttng_ust_field_(\w+)\(", body):
                fa = split_args(balanced(body, f.end() - 1))
                kind = f.group(1)
                fields.append(fa[3] if kind.startswith("enum") else
                              fa[0] if kind.startswith("string") else fa[1])
            if m.group(1) == "_CLASS":
                classes[args[1]] = fields
            else:
                events[f"{args[0]}:{args[1]}"] = fields
    return events


def read_catalogue():
    """provider:event -> field names as trace/README.md lists them (role first)."""
    out, prov = {}, None
    for line in open(README):
        if line.startswith("## "):  # a provider's section, or another one (no events)
            m = re.match(r"## (v6lab_\w+) ", line)
            prov = m.group(1) if m else None
        m = re.match(r"\| `(\w+)` \| ([^|]*) \|", line)
        if m and prov:
            f = m.group(2).strip()
            out[f"{prov}:{m.group(1)}"] = ["role"] + ([] if f == "(none)" else
                                                    [x.strip() for x in f.split(",")])
    return out


def catalogue():
    """trace/README.md lists exactly the events and fields the headers define."""
    hdr, doc = header_events(), read_catalogue()
    check(len(hdr) > 40, f"only {len(hdr)} events parsed from the headers")
    check(set(hdr) == set(doc), f"only in headers: {sorted(set(hdr) - set(doc))}; "
                                f"only in README: {sorted(set(doc) - set(hdr))}")
    for name in hdr:
        check(hdr[name] == doc[name], f"{name}: header fields {hdr[name]}, README {doc[name]}")
    for name, fields in hdr.items():
        check(fields[0] == "role", f"{name}: the first field is not role")
    print(f"OK: {len(hdr)} events, catalogue in sync")


if __name__ == "__main__":
    main({f.__name__: f for f in (full_run, start_stop, bad_use, no_daemon, shared_daemon,
                                   catalogue, _exercise, _no_daemon, _shared_daemon)})
