# SPDX-License-Identifier: MIT
"""The classic mistakes of the assignment, found from the trace alone, in v6lab's programs
and in a student's own (traced through the preload).

Only the student's programs are linted: the processes the state gives a student's role by
their behaviour (the IPv6 server and its children, the IPv4 client; state.py): the course
side is not the student's code, and a shell, `timeout`, a Python harness or another tool
of the traced command line has no role, hence no finding. Each finding names the process,
the descriptor (or queue, segment, FIFO), the time, one line of explanation, a one-line fix
and the tutorial section to read.

The rules are a table (RULES) over the state the one pass built (state.State): each rule
is a function state -> [(process, time, fd or None, why)]. A new rule is one function and
one row; it may name an event it needs (`needs`): without it in the trace's metadata the
rule is left out, rather than guessing from an absence of events."""
from . import spec
from .state import ANY_ADDR, STUDENT_ROLES, errno_name

TUTORIAL = "tutorials/04-classic-mistakes.md"


class Rule:
    def __init__(self, kind, anchor, title, fix, check, needs=None):
        self.kind, self.anchor, self.title, self.fix, self.check, self.needs = \
            kind, anchor, title, fix, check, needs


def _students(st, *roles):
    return [p for p in st.procs.values() if p.role in (roles or STUDENT_ROLES)]


def _ended(p):
    """It ran to its end: not still in a call when the trace ended (killed there, or still
    running): what it held then says nothing of what it would have closed."""
    return not p.pending


def _servers(st):
    """The student's IPv6 servers (parents, not their children)."""
    return [p for p in _students(st, "ipv6-server") if not p.is_child]


# --- the rules --------------------------------------------------------------------------

def listen_in_child(st):
    for p in _students(st):
        if p.is_child and _ended(p):
            for fd, o in sorted(p.fds.items()):
                if o.kind == "listen" and o.id in p.inherited:
                    yield (p, p.last_ts, fd,
                           f"child {p.vpid} never closed the listening socket (fd {fd}) it "
                           "inherited: while it lives, the port stays open even after the "
                           "parent closes it")


def listen_never_closed(st):
    for p in _servers(st):
        if _ended(p):
            for fd, o in sorted(p.fds.items()):
                if o.kind == "listen":
                    yield (p, p.last_ts, fd,
                           f"fd {fd} listened until the process ended: after the last token "
                           "the server should close it, so a 6th client is refused instead "
                           "of queued")


def conn_in_parent(st):
    """A connected socket kept by the parent after forking the child that serves it."""
    for p in _servers(st):
        if not p.forks:
            continue
        nexts = [a[0] for a in p.accepts[1:]] + [None]
        for (entry, ts, fd, o), nxt in zip(p.accepts, nexts):
            forked = [fk for fk in p.forks if fk[0] > ts and fk[2].get(fd) is o]
            if not forked:
                continue
            closed = o.closed.get(p.vpid)
            still = (closed is None and (nxt is not None or _ended(p))) or \
                (closed is not None and nxt is not None and closed > nxt)
            if still:
                yield (p, nxt or p.last_ts, fd,
                       f"the parent still held connection fd {fd} ({o.info.get('peer')}) "
                       f"{'at its next accept' if nxt else 'when it ended'}: the child serves "
                       "it; the parent must close its copy or the client never sees EOF")


def pipe_read_end_in_child(st):
    for p in _students(st):
        if p.is_child and _ended(p):
            for fd, o in sorted(p.fds.items()):
                if o.kind == "pipe-r" and o.id in p.inherited:
                    yield (p, p.last_ts, fd,
                           f"child {p.vpid} kept the pipe's read end (fd {fd}); a child only "
                           "writes: close it right after fork()")


def pipe_write_end_open(st):
    """A reader blocked on a pipe whose write end it holds itself: it never sees EOF; and a
    parent that kept the write end of its children's pipe until it ended: it would not
    have seen EOF either, had a child died before writing."""
    yield from _blocked_on_own_pipe(st)
    yield from _parent_kept_write_end(st)


def _blocked_on_own_pipe(st):
    for p in _students(st):
        for call, f, ts in p.blocked:
            o = p.fds.get(f.get("fd")) if call == "read" else None
            if o is None or o.kind != "pipe-r":
                continue
            own = [wfd for wfd, w in sorted(p.fds.items())
                   if w.kind == "pipe-w" and w.info.get("pipe") is o.info.get("pipe")]
            if own:
                yield (p, ts, f["fd"],
                       f"blocked reading the pipe (fd {f['fd']}) at the end of the trace while "
                       f"it holds the write end itself (fd {own[0]}): read() cannot return 0")


def _parent_kept_write_end(st):
    for p in _servers(st):
        if not p.forks or not _ended(p):
            continue
        given = {o.id for _, _, snap in p.forks for o in snap.values() if o.kind == "pipe-w"}
        for fd, o in sorted(p.fds.items()):
            if o.kind == "pipe-w" and o.id in given:
                yield (p, p.last_ts, fd,
                       f"the parent kept the write end of its children's pipe (fd {fd}) "
                       "until it ended: with a copy of its own open, a read() of the pipe "
                       "never returns 0 (EOF) if a child dies before writing: it waits for ever")


def child_not_reaped(st):
    for p in _students(st):
        if not _ended(p):
            continue
        for ts, cpid, _ in p.forks:
            if cpid not in p.reaped:
                yield (p, p.last_ts, None,
                       f"child {cpid} (forked at {st.rel_ms(ts):.3f} ms) was never waited "
                       "for: it stays a zombie until its parent exits")


def _left_behind(st, kind, used, what, how):
    """IPC objects of a kind that the student's programs used and nobody removed; found at
    the last student process to use it, if all of them ran to their end."""
    for o in st.ipcs.values():
        if o.kind != kind or o.removed is not None:
            continue
        users = [u for u in o.users if u[2] in used and u[0] in st.procs
                 and st.procs[u[0]].role in STUDENT_ROLES]
        if not users or not all(_ended(st.procs[u[0]]) for u in users):
            continue
        vpid, ts, _ = users[-1]
        key = f" (key {o.key:#x})" if isinstance(o.key, int) else ""
        yield (st.procs[vpid], ts, None,
               f"{what} {o.name}{key} was used but never removed ({how}): it outlives the "
               "programs and the next run finds it there, stale")


def queue_not_removed(st):
    return _left_behind(st, "queue", ("msgrcv",), "message queue id", "msgctl IPC_RMID; ipcs -q")


def shm_not_removed(st):
    return _left_behind(st, "shm", ("shmat",), "shared memory segment id",
                        "shmctl IPC_RMID; ipcs -m")


def fifo_not_removed(st):
    return _left_behind(st, "fifo", ("read", "write"), "the FIFO", "unlink(); ls -l")


def short_read(st):
    """One read() on a connection that returned part of a token, then passed on as is."""
    for p in _students(st):
        if not p.is_child:
            continue
        for reads in p.reads.values():
            r = reads[0]
            if (len(reads) == 1 and r.f.get("kind") == "socket"
                    and 0 < r.f.get("ret", 0) < spec.TOKEN_WIRE_LEN and r.f.get("ntokens") == 0
                    and any(w.ts > r.ts for w in p.pipe_writes)):
                yield (p, r.ts, r.f["fd"],
                       f"read() returned {r.f['ret']} of {r.f['count']} bytes and the child "
                       "passed that on as the token without reading the rest: TCP may cut a "
                       "message anywhere, read in a loop until the line end")


def one_at_a_time(st):
    """Every accept after the first waited for the previous child to finish, and found a
    connection already waiting (it returned at once): the clients queued behind one child."""
    for p in _servers(st):
        kids = [(ts, c) for ts, c, _ in p.forks]
        if len(kids) < 2:
            continue
        waited, queued = 0, 0
        for i in range(1, len(kids)):
            prev = st.procs.get(kids[i - 1][1])
            acc = [a for a in p.accepts if kids[i - 1][0] < a[1] <= kids[i][0]]
            if prev is None or not acc:
                break
            entry, ts = acc[-1][0], acc[-1][1]
            if entry < prev.last_ts:
                break  # it accepted while the previous child still worked: concurrent
            waited += 1
            if ts - entry < 5_000_000:
                queued += 1
        if waited == len(kids) - 1 and queued:
            yield (p, kids[1][0], None,
                   f"each of its {len(kids)} children finished before the next accept(), "
                   f"and {queued} connection(s) were already waiting: the parent waited for "
                   "each child (on the pipe, waitpid or a sleep) instead of accepting: one "
                   "client at a time")


def _swap16(port):
    return ((port & 0xff) << 8) | (port >> 8)


def htons_missing(st):
    """The port bound is the byte swap of the port the course server was given."""
    told = st.course_ports()
    bound = {b["port"] for p in _servers(st) for b in p.binds}
    for p in _servers(st):
        for b in p.binds:
            port = b["port"]
            if not port or _swap16(port) == port:
                continue
            hits = [how for _, q, how in told if q == _swap16(port) and q not in bound]
            if hits:
                q = _swap16(port)
                yield (p, b["ts"], b["fd"],
                       f"bound port {port} ({port:#06x}), the byte swap of {q} ({q:#06x}): "
                       f"{hits[0]}, so nothing listened where the course clients went "
                       "(sin6_port takes network byte order)")


def _address_kind(addr):
    a = addr.lower()
    if a.startswith("2001:0:") or a.startswith("2001::"):
        return ("a Teredo address: it holds the NAT's public address and port of the day, "
                "so it changes and bind() fails the next time")
    if a in ("::1", "127.0.0.1"):
        return "the loopback address: only a client on this machine can connect"
    return "one address of this machine: clients coming to any other are refused"


def bound_to_address(st):
    """Bound to a specific address instead of :: (in6addr_any)."""
    for p in _servers(st):
        for b in p.binds:
            addr = b["addr"]
            if not addr or addr == "-" or addr in ANY_ADDR:
                continue
            failed = f" (bind failed: {errno_name(b['err'])})" if b["err"] else ""
            yield (p, b["ts"], b["fd"],
                   f"bound [{addr}]:{b['port']}{failed}, {_address_kind(addr)}; the server "
                   "should listen on [::], every address, dual-stack")


def sleep_as_sync(st):
    """A fixed sleep used to wait for another process (one finding per process)."""
    for p in _students(st):
        if not p.sleeps:
            continue
        s = p.sleeps[0]
        total = sum(x["usec"] for x in p.sleeps) / 1e6
        shm = [o for o in p.ipc if o.kind == "shm" and any(u[0] == p.vpid for u in o.users)]
        nxt = next((x["next"] for x in p.sleeps if x["next"]), None)
        if shm:
            what = (f"polling shared memory segment {shm[0].name} between its sleeps: "
                    "the other process may be done long before, or not yet")
        elif nxt and nxt[0] == "read" and nxt[1].get("kind") == "pipe":
            what = (f"then it read the pipe (fd {nxt[1].get('fd')}): the read itself waits "
                    "exactly as long as needed, the sleep only guesses")
        elif nxt:
            what = f"then it called {nxt[0]}(): a guess at how long another process takes"
        else:
            what = "a guess at how long another process takes"
        n = len(p.sleeps)
        yield (p, s["ts"], None,
               f"slept {n} time(s), {total:g} s in all (the first {s['usec'] / 1e6:g} s at "
               f"{st.rel_ms(s['ts']):.3f} ms), {what}")


RULES = [
    Rule("listen-in-child", "#1-the-listening-socket-kept-in-the-child",
         "listening socket still open in a child",
         "close(listen_fd) first thing in the child, right after fork()", listen_in_child),
    Rule("listen-never-closed", "#2-the-listening-socket-never-closed",
         "listening socket never closed by the parent",
         "close(listen_fd) as soon as the last token is in", listen_never_closed),
    Rule("conn-in-parent", "#3-the-connected-socket-kept-in-the-parent",
         "connected socket not closed by the parent",
         "close(conn) in the parent right after fork()", conn_in_parent),
    Rule("pipe-read-end-in-child", "#4-pipe-ends-left-open",
         "pipe read end left open in a child",
         "close(pipe_fds[0]) first thing in the child", pipe_read_end_in_child),
    Rule("pipe-write-end-open", "#4-pipe-ends-left-open",
         "pipe write end left open: the reader never sees EOF",
         "close(pipe_fds[1]) in the parent once the children are forked, before reading the "
         "pipe", pipe_write_end_open),
    Rule("child-not-reaped", "#5-children-never-reaped", "child never reaped (zombie)",
         "waitpid() every child (a SIGCHLD handler, or wait() once the tokens are in)",
         child_not_reaped),
    Rule("queue-not-removed", "#6-the-message-queue-never-removed",
         "message queue never removed",
         "msgctl(id, IPC_RMID, NULL) once the last token is read", queue_not_removed),
    Rule("shm-not-removed", "#13-shared-memory-or-a-fifo-left-behind",
         "shared memory segment never removed",
         "shmctl(id, IPC_RMID, NULL) once the tokens are copied out", shm_not_removed),
    Rule("fifo-not-removed", "#13-shared-memory-or-a-fifo-left-behind",
         "FIFO never removed", "unlink(path) once the tokens are read", fifo_not_removed,
         needs="v6lab_ipc:unlink"),
    Rule("short-read", "#7-one-read-per-token",
         "a token read in pieces by code that did not loop",
         "read in a loop until the line end (or EOF)", short_read),
    Rule("one-at-a-time", "#8-one-connection-at-a-time",
         "a server that served one connection at a time",
         "wait on the listening socket and the pipe at once (poll()), never on one child",
         one_at_a_time),
    Rule("htons-missing", "#10-the-port-without-htons",
         "port bound without htons(): the byte swap of the port given",
         "addr.sin6_port = htons(port)", htons_missing),
    Rule("bound-to-address", "#11-a-hard-coded-address",
         "bound to one address instead of ::",
         "addr.sin6_addr = in6addr_any (and give the course server the address it can reach)",
         bound_to_address),
    Rule("sleep-as-sync", "#12-waiting-with-sleep",
         "sleep() used to wait for another process",
         "wait on the thing itself: a blocking read()/msgrcv(), waitpid(), or a semaphore "
         "beside shared memory", sleep_as_sync),
]
BY_KIND = {r.kind: r for r in RULES}


def lint(st, available=None):
    """The findings of every rule over the state st, in time order. available(event name):
    whether the trace can record that event (default: yes)."""
    findings = []
    for rule in RULES:
        if rule.needs and available is not None and not available(rule.needs):
            continue
        for proc, ts, fd, why in rule.check(st):
            findings.append(dict(kind=rule.kind, title=rule.title, vpid=proc.vpid,
                                 role=proc.role, procname=proc.procname, fd=fd, ts=ts,
                                 t_ms=round(st.rel_ms(ts), 3), why=why, fix=rule.fix,
                                 read=f"{TUTORIAL}{rule.anchor}"))
    findings.sort(key=lambda x: (x["ts"], x["kind"], x["vpid"]))
    return findings
