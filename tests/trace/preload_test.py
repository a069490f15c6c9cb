#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The preload (trace/preload/, label trace): a student's own program traced by scripts/trace
through libv6lab-preload.so. Usage: preload_test.py SCENARIO (CTest: trace.preload_SCENARIO).

  student_pair   eof-server + read-twice-client (tests/students/) against the course server:
                 their socket, fork, pipe and queue events with the right fields, each token
                 at each hop, only their own descriptors (never lttng-ust's), no event from
                 the shells and the python harness of the command line
  ipc_pairs      the FIFO pair and the shared-memory pair: mkfifo, each end's open of the
                 FIFO (path, fd, access, the same inode), the FIFO's I/O on those fds, shm*
  silent         v6lab's own program: the same events with the preload as without it
  errno          a failing connect, a bad descriptor, errno kept across a success, and the
                 same for FIFO opens, poll/select on a listener, posix_spawn, system, vfork:
                 what the program sees is the same traced and untraced, the events say it too
  untraceable    a static binary: scripts/trace names it in one line, and still runs it
  poll           a server waiting in poll, select, ppoll, pselect on its listener: one event
                 pair per call that watches it, with its fd, timeout, result and readiness;
                 none for a poll of a pipe alone
  spawn          posix_spawn, posix_spawnp, system and vfork: every child runs and is traced
                 (its start names the parent, the spawn event names it), nothing of the
                 vfork child is recorded under the parent's pid
The traces of ipc_pairs, poll and spawn, which hold events only the preload fires, are read
by scripts/v6trace summary, tokens and lint without an error."""
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
from trace_test import lttng_or_skip, one, only, read_trace, scratch, trace_env, TRACE  # noqa: E402
from v6test import BIN, TOP, check, main  # noqa: E402

PRELOAD = os.path.join(os.path.dirname(BIN), "lib", "libv6lab-preload.so")
V6TRACE = os.path.join(TOP, "scripts", "v6trace")


def traced(tmp, argv, env=None, name="trace", timeout=90):
    out = os.path.join(tmp, name)
    p = subprocess.run([TRACE, "-o", out, "--", *argv], capture_output=True, text=True,
                       timeout=timeout, env=env or trace_env(tmp))
    check(p.returncode == 0, f"scripts/trace exit {p.returncode}: {p.stdout} {p.stderr}")
    return out, p


def preload_or_skip():
    lttng_or_skip()
    check(os.path.exists(PRELOAD), f"no {PRELOAD}: not built?")


def same_output(tmp, argv, timeout=60):
    """argv untraced, then traced: the same stdout (what the program saw of its calls).
    Returns the trace and COMMAND's events."""
    plain = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    check(plain.returncode == 0, f"untraced: exit {plain.returncode}: {plain.stdout}{plain.stderr}")
    out, p = traced(tmp, argv)
    traced_out = p.stdout.split("trace: trace in")[0]
    check(traced_out == plain.stdout, f"traced:\n{traced_out}\nuntraced:\n{plain.stdout}")
    events, discarded = read_trace(out)
    check(discarded == 0, f"{discarded} events discarded")
    return out, events, plain.stdout


def analyses_read(out):
    """scripts/v6trace summary, tokens and lint read the trace (events they do not know are
    passed over): exit 0 or 1 (findings), never an error."""
    for cmd in ("summary", "tokens", "lint"):
        p = subprocess.run([V6TRACE, cmd, out], capture_output=True, text=True, timeout=120)
        check(p.returncode in (0, 1) and "Traceback" not in p.stderr,
              f"v6trace {cmd} {out}: exit {p.returncode}: {p.stdout[-1500:]}{p.stderr[-1500:]}")


# --- a student's pair ---------------------------------------------------------------------

def _student_pair():
    """(scripts/trace's child, and scripts/bench-preload's) eof-server + read-twice-client
    against ipv4-server --once; writes the pids, the ports, the session's wall time and the
    course server's elapsed_ms to argv[2]."""
    sys.path.insert(0, os.path.join(TOP, "tests", "students"))
    import students
    try:
        t0 = time.monotonic()
        pair = sys.argv[3:6] or ("eof-server", "read-twice-client", "msg")
        s = students.a_pair(*pair)
        ms = int((time.monotonic() - t0) * 1000)
        with open(sys.argv[2], "w") as f:
            f.write(f"{os.getpid()} {s.s6.pid} {s.term.pid} {s.course.pid} {s.port4} {s.port6} "
                    f"{ms} {s.grade['elapsed_ms']}\n")
    finally:
        students.clean_up()


def descendants(events, roots):
    """The vpids started (start.ppid) by roots, or forked by one of them, and so on: a
    session records every traced program of the machine, other users' too."""
    tree, grew = set(roots), True
    while grew:
        grew = False
        for e in events:
            new = (e.f["pid"] if e.name == "v6lab_process:start" and e.f["ppid"] in tree else
                   e.f["child_pid"] if e.name == "v6lab_process:fork" and e.vpid in tree
                   else None)
            if new and new > 0 and new not in tree:
                tree.add(new)
                grew = True
    return tree


def command_pid(out):
    return json.load(open(os.path.join(out, "v6lab-command.json")))["command_pid"]


def fds_of(events):
    """vpid -> the descriptors its socket, accept, pipe and dup events made (a child has
    its parent's too)."""
    made, parent = {}, {}
    for e in events:
        s = made.setdefault(e.vpid, set())
        if e.name == "v6lab_sockets:socket" and e.f["fd"] >= 0:
            s.add(e.f["fd"])
        elif e.name == "v6lab_sockets:accept" and e.f["new_fd"] >= 0:
            s.add(e.f["new_fd"])
        elif e.name == "v6lab_ipc:pipe" and e.f["ret"] == 0:
            s |= {e.f["read_fd"], e.f["write_fd"]}
        elif e.name == "v6lab_io:dup" and e.f["ret"] >= 0:
            s.add(e.f["ret"])
        elif e.name == "v6lab_ipc:fifo_open" and e.f["fd"] >= 0:
            s.add(e.f["fd"])
        elif e.name == "v6lab_process:fork" and e.f["child_pid"] > 0:
            parent[e.f["child_pid"]] = e.vpid
    for child, p in parent.items():
        made.setdefault(child, set()).update(made.get(p, set()))
    return made


def student_pair():
    preload_or_skip()
    tmp = scratch()
    info = os.path.join(tmp, "info")
    out, p = traced(tmp, ["sh", "-c", f"timeout 100 {sys.executable} {__file__} _student_pair "
                          f"{info}"])
    root, server, client, course, port4, port6 = map(int, open(info).read().split()[:6])
    events, discarded = read_trace(out)
    check(discarded == 0, f"{discarded} events discarded")
    tree = descendants(events, {command_pid(out), root})  # sh, timeout, python and below
    events = [e for e in events if e.vpid in tree]
    others = [e for e in events if e.f["role"] == "other"]
    procs = {e.vpid for e in others}
    fork = only(others, "v6lab_process:fork", vpid=server)
    kids = {e.f["child_pid"] for e in fork}
    check(len(kids) == 5, f"eof-server forked {len(kids)} children: {fork}")
    check(procs == {server, client} | kids,
          f"role other in {procs}: expected only eof-server {server}, its children {kids} and "
          f"read-twice-client {client} (not the shell, timeout or python {root})")
    # Each process starts with a start event, which names its parent (as v6_set_role's).
    for pid in (server, client):
        first = [e for e in others if e.vpid == pid][0]
        check(first.name == "v6lab_process:start" and first.f["pid"] == pid, f"first {first}")

    # eof-server: an IPv6 socket bound to [::]:port6, listening, five accepts, a fork each.
    s = one(others, "v6lab_sockets:socket", vpid=server)
    check(s.f["family"] == "AF_INET6" and s.f["fd"] >= 0, f"socket {s}")
    b = one(others, "v6lab_sockets:bind", vpid=server)
    check(b.f["family"] == "AF_INET6" and b.f["addr"] == "::" and b.f["port"] == port6
          and b.f["ret"] == 0 and b.f["fd"] == s.f["fd"], f"bind {b}")
    one(others, "v6lab_sockets:listen", vpid=server, ret=0, fd=s.f["fd"])
    acc = only(others, "v6lab_sockets:accept", vpid=server, err=0)
    check(len(acc) == 5 and all(a.f["addr"] == "::1" and a.f["port"] > 0 and a.f["fd"] == s.f["fd"]
                                for a in acc), f"accepts {acc}")
    for k in kids:
        fc = one(others, "v6lab_process:fork_child", vpid=k)
        check(fc.f["ppid"] == server, f"fork_child {fc}")
        check([e for e in others if e.vpid == k][0].name == "v6lab_process:fork_child",
              f"child {k}'s first event is not fork_child")
    check(len(only(others, "v6lab_process:waitpid", vpid=server, ret=lambda r: r in kids)) == 5
          or len(only(others, "v6lab_process:waitpid", ret=lambda r: r in kids)) == 5,
          "the five children reaped")
    # IPC_CREAT without IPC_EXCL on both sides: "created" for both (the wrappers' rule).
    made = one(others, "v6lab_ipc:msgget", vpid=server, outcome="created")
    # read-twice-client: connects to the course server, opens the queue, five msgrcv.
    c = one(others, "v6lab_sockets:connect", vpid=client)
    check(c.f["family"] == "AF_INET" and c.f["addr"] == "127.0.0.1" and c.f["port"] == port4
          and c.f["ret"] == 0, f"connect {c}")
    g = one(others, "v6lab_ipc:msgget", vpid=client, id=made.f["id"])
    check(len(only(others, "v6lab_ipc:msgrcv", vpid=client, ntokens=1, id=g.f["id"])) == 5,
          "five msgrcv with a token each")
    one(others, "v6lab_ipc:msgctl", vpid=client, cmd="IPC_RMID", ret=0)

    # Each token generated by the course server, hop by hop through the student's programs.
    tokens = [e.f["token"] for e in only(events, "v6lab_protocol:token_generated", vpid=course)]
    check(len(tokens) == 5, f"tokens generated {tokens}")
    has = lambda t: lambda got: t in got.split(",")  # noqa: E731
    for t in tokens:
        for label, name, want in (
                ("child reads it", "v6lab_io:read", dict(vpid=lambda p: p in kids, kind="socket")),
                ("child pipes it", "v6lab_io:write", dict(vpid=lambda p: p in kids, kind="pipe")),
                ("parent reads the pipe", "v6lab_io:read", dict(vpid=server, kind="pipe")),
                ("msgsnd", "v6lab_ipc:msgsnd", dict(vpid=server, ret=0)),
                ("msgrcv", "v6lab_ipc:msgrcv", dict(vpid=client)),
                ("client's reply", "v6lab_io:write", dict(vpid=client, kind="socket",
                                                          ntokens=5)),
                ("course server reads it", "v6lab_io:read", dict(vpid=course))):
            found = only(events, name, tokens=has(t), **want)
            check(len(found) == 1, f"{t}: '{label}' seen {len(found)} times: {found}")

    # Only the student's own descriptors: never lttng-ust's Unix sockets, shm or pipes.
    made = fds_of(others)
    for e in others:
        check(e.f.get("family") not in ("AF_UNIX",), f"a Unix socket in the trace: {e}")
        if e.name.startswith("v6lab_io:") and not e.name.startswith("v6lab_io:dup"):
            check(e.f["kind"] in ("socket", "pipe"), f"{e}")
            check(e.f["fd"] in made.get(e.vpid, ()), f"fd {e.f['fd']} not the program's: {e}")
    print(f"OK: {len(others)} events of the student's programs ({len(events)} in all), "
          f"5 children, 5 tokens followed")


def ipc_pairs():
    """The FIFO pair and the shared-memory pair: mkfifo and the FIFO's reads and writes
    (kind pipe) with the tokens; shmget, shmat, shmdt, shmctl."""
    preload_or_skip()
    tmp = scratch()
    for server, client, ipc in (("fifo-server", "fifo-client", "fifo"),
                                ("shm-server", "shm-client", "shm")):
        info = os.path.join(tmp, f"info-{ipc}")
        out, p = traced(tmp, [sys.executable, __file__, "_student_pair", info, server, client,
                              ipc], name=f"trace-{ipc}")
        _, srv, cli = map(int, open(info).read().split()[:3])
        events, discarded = read_trace(out)
        check(discarded == 0, f"{discarded} events discarded")
        tree = descendants(events, {command_pid(out)})
        ev = [e for e in events if e.f["role"] == "other" and e.vpid in tree]
        if ipc == "fifo":
            made = [e for e in ev if e.name == "v6lab_ipc:mkfifo"]
            check(made and all(e.f["path"].startswith("/") for e in made), f"mkfifo: {made}")
            w = only(ev, "v6lab_io:write", vpid=srv, kind="pipe", ntokens=lambda n: n >= 1)
            r = only(ev, "v6lab_io:read", vpid=cli, kind="pipe", ntokens=lambda n: n >= 1)
            check(sum(e.f["ntokens"] for e in w) >= 5 and sum(e.f["ntokens"] for e in r) >= 5,
                  f"tokens through the FIFO: written {w}, read {r}")
            # Each end's open (fifo-server O_WRONLY, fifo-client O_RDONLY): the FIFO mkfifo
            # made, the descriptors its tokens then go through, the same inode.
            wo = one(ev, "v6lab_ipc:fifo_open", vpid=srv)
            ro = one(ev, "v6lab_ipc:fifo_open", vpid=cli)
            check(wo.f["access"] == "O_WRONLY" and ro.f["access"] == "O_RDONLY"
                  and wo.f["err"] == 0 and ro.f["err"] == 0 and wo.f["fd"] >= 0 and ro.f["fd"] >= 0,
                  f"the FIFO's opens: {wo}, {ro}")
            check(wo.f["path"] == ro.f["path"] == made[0].f["path"]
                  and wo.f["ino"] == ro.f["ino"] != 0, f"not the same FIFO: {wo}, {ro}, {made}")
            for o in (wo, ro):
                entry = one(ev, "v6lab_ipc:fifo_open_entry", vpid=o.vpid)
                check(entry.f["path"] == o.f["path"] and entry.f["access"] == o.f["access"]
                      and entry.ts <= o.ts, f"fifo_open_entry {entry}, fifo_open {o}")
            check(all(e.f["fd"] == wo.f["fd"] and e.ts > wo.ts for e in w)
                  and all(e.f["fd"] == ro.f["fd"] and e.ts > ro.ts for e in r),
                  f"tokens not on the opened descriptors {wo.f['fd']}, {ro.f['fd']}: {w}, {r}")
            for o, last in ((wo, w[-1]), (ro, r[-1])):
                closes = only(ev, "v6lab_io:close", vpid=o.vpid, fd=o.f["fd"], kind="pipe")
                check([c for c in closes if c.ts > last.ts], f"the FIFO's fd not closed: {o}")
        else:
            g = only(ev, "v6lab_ipc:shmget", id=lambda i: i >= 0)
            check({e.vpid for e in g} == {srv, cli} and len({e.f["id"] for e in g}) == 1,
                  f"shmget by both, one segment: {g}")
            check(only(ev, "v6lab_ipc:shmat", vpid=srv, ret=0)
                  and only(ev, "v6lab_ipc:shmat", vpid=cli, ret=0), "shmat by both")
            check(only(ev, "v6lab_ipc:shmdt", ret=0), "shmdt")
            one(ev, "v6lab_ipc:shmctl", vpid=cli, cmd="IPC_RMID", ret=0)
        check({e.vpid for e in ev if e.name == "v6lab_process:start"} == {srv, cli},
              f"{server}, {client}: start events {[e for e in ev if e.name.endswith(':start')]}")
        analyses_read(out)
        print(f"OK: {server} + {client}: {len(ev)} events")


# --- v6lab's own programs: the same events with and without the preload ----------------------

def _listen_once(ls):
    c, _ = ls.accept()
    while c.recv(4096):
        pass
    c.close()


def own_run(tmp, name, preload):
    ls = socket.create_server(("::1", 0), family=socket.AF_INET6)
    t = threading.Thread(target=_listen_once, args=(ls,), daemon=True)
    t.start()
    env = dict(trace_env(tmp), V6LAB_PRELOAD=PRELOAD if preload else "")
    out, p = traced(tmp, [os.path.join(BIN, "ipv6-client"), "--addr", "::1", "--port",
                          str(ls.getsockname()[1]), "--index", "2"], env=env, name=name)
    t.join(10)
    ls.close()
    events, _ = read_trace(out)
    # COMMAND's own pid (scripts/trace execs it): another ipv6-client may run on the machine.
    pid = command_pid(out)
    # A descriptor as the order it first appears in: its number depends on how many
    # liblttng-ust's threads, which register while main runs, hold at that moment.
    shape, nth = [], {}
    for e in events:
        if e.vpid != pid:
            continue
        f = {k: v for k, v in e.f.items() if k not in ("pid", "ppid", "port", "token", "tokens")}
        for k in f.keys() & {"fd", "new_fd"}:
            f[k] = nth.setdefault(f[k], f"fd#{len(nth)}") if f[k] >= 0 else f[k]
        shape.append((e.name, tuple(sorted(f.items()))))
    return shape


def silent():
    preload_or_skip()
    tmp = scratch()
    without, with_ = own_run(tmp, "without", False), own_run(tmp, "with", True)
    check(len(without) > 5, f"ipv6-client's events: {without}")
    check(with_ == without, f"with the preload:\n{with_}\nwithout:\n{without}")
    check(all(dict(f)["role"] == "ipv6-client" for _, f in with_), "a role other event")
    print(f"OK: ipv6-client fires the same {len(with_)} events with and without the preload")


# --- errno and return values -------------------------------------------------------------------

def closed_port():
    s = socket.socket(socket.AF_INET6)
    s.bind(("::1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now (a refused connect)
    return port


def errno_check():
    preload_or_skip()
    tmp = scratch()
    prog = os.path.join(BIN, "v6lab-preload-errno")
    port = str(closed_port())
    out, events, plain = same_output(tmp, [prog, port], timeout=20)
    pid = command_pid(out)
    ev = [e for e in events if e.vpid == pid]
    c = one(ev, "v6lab_sockets:connect", port=int(port))
    check(c.f["ret"] == -1 and c.f["err"] == 111 and c.f["addr"] == "::1", f"connect {c}")
    one(ev, "v6lab_sockets:connect", port=0, ret=-1, err=22)  # the bad length: no address
    check(len(only(ev, "v6lab_sockets:socket", err=0)) == 2, "the two sockets")
    one(ev, "v6lab_process:sleep", usec=1000, ret=0, err=0)
    check(not only(ev, "v6lab_io:read", fd=lambda fd: fd < 3), "a terminal's read recorded")
    # The FIFO: the failed open (no reader: ENXIO), the three that succeed, their closes
    # (fclose's too); the open of a path that is no FIFO is not recorded.
    opens = only(ev, "v6lab_ipc:fifo_open")
    check([(o.f["access"], o.f["flags"] & ~0o4000, o.f["fd"] >= 0, o.f["err"]) for o in opens] ==
          [("O_WRONLY", 0o1, False, 6), ("O_RDONLY", 0o0, True, 0), ("O_WRONLY", 0o1, True, 0),
           ("O_WRONLY", 0o1101, True, 0)], f"fifo_open: {opens}")
    check(len({o.f["ino"] for o in opens[1:]}) == 1 and opens[0].f["ino"] == 0, f"inodes {opens}")
    for o in opens[1:]:  # the first close of its fd after it
        closed = [e for e in only(ev, "v6lab_io:close", fd=o.f["fd"]) if e.ts > o.ts]
        check(closed and closed[0].f["kind"] == "pipe" and closed[0].f["ret"] == 0,
              f"{o} closed: {closed}")
    check(len(only(ev, "v6lab_ipc:fifo_open_entry")) == 4, "fifo_open_entry")
    # poll and select on the listener: nothing yet; the bad timeout (EINVAL).
    ls = one(ev, "v6lab_sockets:listen", ret=0).f["fd"]
    polls = only(ev, "v6lab_sockets:poll")
    check([(p.f["call"], p.f["listeners"], p.f["ret"], p.f["ready"], p.f["err"]) for p in polls] ==
          [("poll", str(ls), 0, "-", 0), ("select", str(ls), -1, "-", 22)], f"polls {polls}")
    # posix_spawn of no program (it returns ENOENT), system's status, vfork's child.
    spawns = only(ev, "v6lab_process:spawn")
    check([(s.f["path"], s.f["child_pid"] > 0, s.f["err"]) for s in spawns] ==
          [("/nonexistent/v6lab", False, 2), ("-", True, 0)], f"spawns {spawns}")
    one(ev, "v6lab_process:system", command="exit 3", ret=768, exit_code=3, err=0)
    one(ev, "v6lab_process:waitpid", pid=spawns[1].f["child_pid"], exit_code=5)
    print(f"OK: the program saw the same results and errno:\n{plain.strip()}")


# --- a server waiting on its listener --------------------------------------------------------

def poll_check():
    preload_or_skip()
    tmp = scratch()
    out, events, plain = same_output(tmp, [os.path.join(BIN, "v6lab-preload-poll")])
    pid = command_pid(out)
    ev = [e for e in events if e.vpid == pid]
    ls = one(ev, "v6lab_sockets:listen", ret=0).f["fd"]
    L, fields = str(ls), ("call", "nfds", "listeners", "timeout_us", "ret", "ready", "err")
    got = [tuple(e.f[k] for k in fields) for e in only(ev, "v6lab_sockets:poll")]
    want = [("poll", 2, L, 0, 0, "-", 0),  # the listener and a pipe, nothing pending
            ("poll", 1, L, -1, 1, L, 0),  # for ever, until the client connects
            ("select", ls + 1, L, 5000000, 1, L, 0),
            ("ppoll", 1, L, 5000000, 1, L, 0),
            ("pselect", ls + 1, L, 5000000, 1, L, 0),
            ("ppoll", 1, L, 10000, 0, "-", 0)]  # after the accept
    check(got == want, f"poll events (call, nfds, listeners, timeout_us, ret, ready, err):\n"
                       f"{got}\nexpected\n{want}")
    # Each result after its entry, with the same arguments; the pipe's polls not recorded.
    seq = [e for e in ev if e.name.startswith("v6lab_sockets:poll")]
    check([e.name.split(":")[1] for e in seq] == ["poll_entry", "poll"] * len(want),
          f"entries and results: {seq}")
    for entry, result in zip(seq[::2], seq[1::2]):
        check(all(entry.f[k] == result.f[k] for k in fields[:4]), f"{entry} / {result}")
    child = one(ev, "v6lab_process:fork").f["child_pid"]
    check(one(events, "v6lab_sockets:connect", vpid=child).f["ret"] == 0, "the client connected")
    check(not only(events, "v6lab_sockets:poll_entry", vpid=child), "a poll in the client")
    analyses_read(out)
    print(f"OK: {len(want)} waits on listener fd {ls} recorded, the pipe's not:\n{plain.strip()}")


# --- children running other programs -----------------------------------------------------------

def spawn():
    preload_or_skip()
    tmp = scratch()
    prog = os.path.abspath(os.path.join(BIN, "v6lab-preload-spawn"))
    out, events, plain = same_output(tmp, [prog])
    for how in ("posix_spawn", "posix_spawnp", "system", "vfork"):
        check(f"child of {how}: socket made" in plain, f"{how}'s child did not run: {plain}")
    pid = command_pid(out)
    ev = [e for e in events if e.vpid == pid]
    spawns = only(ev, "v6lab_process:spawn")
    check([(s.f["path"], s.f["err"]) for s in spawns] == [(prog, 0), (prog, 0), ("-", 0)]
          and all(s.f["child_pid"] > 0 for s in spawns), f"spawn events {spawns}")
    check([e.f["path"] for e in only(ev, "v6lab_process:spawn_entry")] == [prog, prog, "-"],
          "spawn_entry events")
    command = f"exec '{prog}' child system"
    sys_entry = one(ev, "v6lab_process:system_entry", command=command)
    sys_done = one(ev, "v6lab_process:system", command=command, ret=0, exit_code=0, err=0)
    # Every child is traced from its own start, which names the parent; a spawned one is
    # the child the spawn event names; the system one ran while system waited.
    starts = {e.vpid: e for e in events if e.name == "v6lab_process:start" and e.f["ppid"] == pid}
    spawned = {s.f["child_pid"] for s in spawns}
    check(len(starts) == 4 and spawned < set(starts), f"children {starts}, spawned {spawned}")
    (by_system,) = set(starts) - spawned
    check(sys_entry.ts < starts[by_system].ts < sys_done.ts, "system's child outside system()")
    for child in starts:
        first = [e for e in events if e.vpid == child][0]
        check(first.name == "v6lab_process:start", f"child {child} first {first}")
        one(events, "v6lab_sockets:socket", vpid=child, family="AF_INET6", err=0)
    # The vfork child closed the socket in its own descriptor table, in the parent's memory:
    # the only close of it under the parent's pid is the parent's own, after the child.
    s = one(ev, "v6lab_sockets:socket")
    closes = only(ev, "v6lab_io:close", fd=s.f["fd"])
    check(len(closes) == 1 and closes[0].ts > spawns[2].ts, f"closes of the socket {closes}")
    check(not only(ev, "v6lab_process:fork") and not only(events, "v6lab_process:fork_child"),
          "a fork event for a spawn")
    analyses_read(out)
    print(f"OK: 4 children traced, 3 spawn events, 1 system:\n{plain.strip()}")


# --- a static binary ---------------------------------------------------------------------------

def untraceable():
    preload_or_skip()
    tmp = scratch()
    prog = os.path.join(BIN, "v6lab-static-hello")
    out, p = traced(tmp, [prog])
    check("hello, static" in p.stdout, f"it did not run: {p.stdout}{p.stderr}")
    lines = [ln for ln in p.stderr.splitlines() if "statically linked" in ln]
    check(len(lines) == 1 and prog in lines[0] and "cannot trace" in lines[0], p.stderr)
    dyn = subprocess.run([TRACE, "-o", os.path.join(tmp, "dyn"), "--", "true"],
                         capture_output=True, text=True, timeout=60, env=trace_env(tmp))
    check(dyn.returncode == 0 and "cannot trace" not in dyn.stderr, f"true: {dyn.stderr}")
    print(f"OK: {lines[0]}")


if __name__ == "__main__":
    main({"student_pair": student_pair, "ipc_pairs": ipc_pairs, "silent": silent, "errno": errno_check,
          "untraceable": untraceable, "poll": poll_check, "spawn": spawn,
          "_student_pair": _student_pair})
