# SPDX-License-Identifier: MIT
"""The classic mistakes of the assignment, found from the trace alone.

Only the student's programs are linted (ipv6-server and its children, ipv4-client): the
course side is not the student's code. Each finding names the process, the descriptor
(or queue), the time, one line of explanation and the tutorial section to read."""

TUTORIAL = "tutorials/04-classic-mistakes.md"
TOKEN_WIRE_LEN = 30  # "clientK:" + 20 characters + "\r\n"

# kind -> (section anchor in the tutorial, title)
RULES = {
    "listen-in-child": ("#1-the-listening-socket-kept-in-the-child",
                        "listening socket still open in a child"),
    "listen-never-closed": ("#2-the-listening-socket-never-closed",
                            "listening socket never closed by the parent"),
    "conn-in-parent": ("#3-the-connected-socket-kept-in-the-parent",
                       "connected socket not closed by the parent"),
    "pipe-read-end-in-child": ("#4-pipe-ends-left-open",
                               "pipe read end left open in a child"),
    "pipe-write-end-open": ("#4-pipe-ends-left-open",
                            "pipe write end left open: the reader never sees EOF"),
    "child-not-reaped": ("#5-children-never-reaped", "child never reaped (zombie)"),
    "queue-not-removed": ("#6-the-message-queue-never-removed", "message queue never removed"),
    "short-read": ("#7-one-read-per-token", "a token read in pieces by code that did not loop"),
    "one-at-a-time": ("#8-one-connection-at-a-time",
                      "a server that served one connection at a time"),
}


class Obj:
    """A kernel object behind descriptors: a socket (listening or connected) or a pipe end."""
    _n = 0

    def __init__(self, kind, vpid, ts, **info):
        Obj._n += 1
        self.id, self.kind, self.creator, self.ts, self.info = Obj._n, kind, vpid, ts, info
        self.closed = {}  # vpid -> when that process closed its descriptor of it


class _Proc:
    def __init__(self):
        self.fds = {}        # fd -> Obj
        self.inherited = set()  # Obj ids inherited at fork
        self.reads = {}      # Obj id -> [read events]
        self.pending_read = None  # (fd, Obj, ts) of a read_entry without its result
        self.accepts = []    # (entry ts, ts, new fd, Obj)
        self.forks = []      # (ts, child vpid, fds open at that moment)
        self.reaped = set()
        self.pipe_writes = []


def lint(trace):
    findings = []
    procs = {}
    forks = {}  # child vpid -> snapshot of the parent's fds at fork
    queues = {}  # id -> {"created": (vpid, ts), "readers": [(vpid, ts)], "removed": bool}
    accept_entry = {}

    def P(vpid):
        p = procs.get(vpid)
        if p is None:
            p = procs[vpid] = _Proc()
            snap = forks.get(vpid)
            if snap is not None:
                p.fds = dict(snap)
                p.inherited = {o.id for o in snap.values()}
        return p

    for e in trace.events:
        s, f = e.short, e.f
        p = P(e.vpid)
        if s == "socket" and f.get("fd", -1) >= 0:
            p.fds[f["fd"]] = Obj("socket", e.vpid, e.ts)
        elif s == "listen" and f.get("ret", -1) == 0 and f["fd"] in p.fds:
            p.fds[f["fd"]].kind = "listen"
        elif s == "accept_entry":
            accept_entry[e.vpid] = e.ts
        elif s == "accept" and f.get("new_fd", -1) >= 0:
            o = Obj("conn", e.vpid, e.ts, peer=f"{f.get('addr')}:{f.get('port')}")
            p.fds[f["new_fd"]] = o
            p.accepts.append((accept_entry.pop(e.vpid, e.ts), e.ts, f["new_fd"], o))
        elif s == "connect" and f.get("fd") in p.fds:
            p.fds[f["fd"]].kind = "conn"
        elif s == "pipe" and f.get("ret", -1) == 0:
            pipe = Obj("pipe", e.vpid, e.ts)
            r, w = Obj("pipe-r", e.vpid, e.ts, pipe=pipe), Obj("pipe-w", e.vpid, e.ts, pipe=pipe)
            p.fds[f["read_fd"]], p.fds[f["write_fd"]] = r, w
        elif s == "close" and f.get("ret", -1) == 0:
            o = p.fds.pop(f["fd"], None)
            if o is not None:
                o.closed[e.vpid] = e.ts
        elif s == "fork" and f.get("child_pid", -1) > 0:
            forks[f["child_pid"]] = dict(p.fds)
            p.forks.append((e.ts, f["child_pid"], dict(p.fds)))
        elif s == "waitpid" and f.get("ret", 0) > 0:
            p.reaped.add(f["ret"])
        elif s == "read_entry":
            p.pending_read = (f["fd"], p.fds.get(f["fd"]), e.ts)
        elif s == "read":
            p.pending_read = None
            o = p.fds.get(f["fd"])
            if o is not None:
                p.reads.setdefault(o.id, []).append(e)
        elif s == "write" and f.get("kind") == "pipe":
            p.pipe_writes.append(e)
        elif s == "msgget" and f.get("outcome") == "created":
            queues[f["id"]] = {"created": (e.vpid, e.ts), "readers": [], "removed": False}
        elif s == "msgrcv" and f.get("ret", -1) >= 0 and f.get("id") in queues:
            queues[f["id"]]["readers"].append((e.vpid, e.ts))
        elif s == "msgctl" and f.get("cmd") == "IPC_RMID" and f.get("ret", -1) == 0:
            if f.get("id") in queues:
                queues[f["id"]]["removed"] = True

    def add(kind, proc, ts, fd, why):
        anchor, title = RULES[kind]
        findings.append(dict(kind=kind, title=title, vpid=proc.vpid, role=proc.role,
                             fd=fd, ts=ts, t_ms=round(trace.rel_ms(ts), 3), why=why,
                             read=f"{TUTORIAL}{anchor}"))

    for vpid, p in procs.items():
        tp = trace.procs.get(vpid)
        if tp is None or tp.role not in ("ipv6-server", "ipv4-client"):
            continue
        end = tp.last_ts
        child = tp.is_child
        for fd, o in sorted(p.fds.items()):
            if o.kind == "listen" and child and o.id in p.inherited:
                add("listen-in-child", tp, end, fd,
                    f"child {vpid} never closed the listening socket (fd {fd}) it inherited: "
                    "while it lives, the port stays open even after the parent closes it")
            elif o.kind == "listen" and not child:
                add("listen-never-closed", tp, end, fd,
                    f"fd {fd} listened until the process ended: after the last token the "
                    "server should close it, so a 6th client is refused instead of queued")
            elif o.kind == "pipe-r" and child and o.id in p.inherited:
                add("pipe-read-end-in-child", tp, end, fd,
                    f"child {vpid} kept the pipe's read end (fd {fd}); a child only writes: "
                    "close it right after fork()")
        # a reader blocked on a pipe whose write end it holds itself: it never sees EOF
        if p.pending_read and p.pending_read[1] is not None and p.pending_read[1].kind == "pipe-r":
            fd, o, ts = p.pending_read
            own_w = [wfd for wfd, w in p.fds.items()
                     if w.kind == "pipe-w" and w.info.get("pipe") is o.info.get("pipe")]
            if own_w:
                add("pipe-write-end-open", tp, ts, fd,
                    f"blocked reading the pipe (fd {fd}) at the end of the trace while it "
                    f"holds the write end itself (fd {own_w[0]}): read() cannot return 0")
        # connected socket kept by the parent after forking the child that serves it
        if not child and p.forks:
            nexts = [a[0] for a in p.accepts[1:]] + [None]
            for (entry, ts, fd, o), nxt in zip(p.accepts, nexts):
                forked = [fk for fk in p.forks if fk[0] > ts and fd in fk[2] and fk[2][fd] is o]
                if not forked:
                    continue
                closed = o.closed.get(vpid)
                still = closed is None or (nxt is not None and closed > nxt)
                if still:
                    add("conn-in-parent", tp, nxt or end, fd,
                        f"the parent still held connection fd {fd} ({o.info.get('peer')}) "
                        f"{'at its next accept' if nxt else 'when it ended'}: the child serves "
                        "it; the parent must close its copy or the client never sees EOF")
        # children never reaped
        for ts, cpid, _ in p.forks:
            if cpid not in p.reaped:
                add("child-not-reaped", tp, end, None,
                    f"child {cpid} (forked at {trace.rel_ms(ts):.3f} ms) was never waited for: "
                    "it stays a zombie until its parent exits")
        # one read() on a connection that returned part of a token, then passed on as is
        if child:
            for reads in p.reads.values():
                r = reads[0]
                if (len(reads) == 1 and r.f.get("kind") == "socket"
                        and 0 < r.f.get("ret", 0) < TOKEN_WIRE_LEN and r.f.get("ntokens") == 0
                        and any(w.ts > r.ts for w in p.pipe_writes)):
                    add("short-read", tp, r.ts, r.f["fd"],
                        f"read() returned {r.f['ret']} of {r.f['count']} bytes and the child "
                        "passed that on as the token without reading the rest: TCP may cut "
                        "a message anywhere, read in a loop until the line end")
        # one connection at a time
        if not child and tp.role == "ipv6-server" and len(p.forks) >= 2:
            _one_at_a_time(trace, tp, p, add)

    for qid, q in queues.items():
        if q["readers"] and not q["removed"]:
            vpid, ts = q["readers"][-1]
            tp = trace.procs[vpid]
            if tp.role in ("ipv6-server", "ipv4-client"):
                add("queue-not-removed", tp, ts, None,
                    f"message queue id {qid} was read but never removed (msgctl IPC_RMID): "
                    "it outlives the programs (ipcs -q) and the next run finds it there")
    findings.sort(key=lambda x: (x["ts"], x["kind"], x["vpid"]))
    return findings


def _one_at_a_time(trace, tp, p, add):
    """Every accept after the first waited for the previous child to finish, and found a
    connection already waiting (it returned at once): the clients queued behind one child."""
    kids = [(ts, c) for ts, c, _ in p.forks]
    waited, queued = 0, 0
    for i in range(1, len(kids)):
        prev = trace.procs.get(kids[i - 1][1])
        acc = [a for a in p.accepts if kids[i - 1][0] < a[1] <= kids[i][0]]
        if prev is None or not acc:
            return
        entry, ts = acc[-1][0], acc[-1][1]
        if entry < prev.last_ts:
            return  # it accepted while the previous child still worked: concurrent
        waited += 1
        if ts - entry < 5_000_000:
            queued += 1
    if waited == len(kids) - 1 and queued:
        add("one-at-a-time", tp, kids[1][0], None,
            f"each of its {len(kids)} children finished before the next accept(), and "
            f"{queued} connection(s) were already waiting: the parent waited for each child "
            "(on the pipe or waitpid) instead of accepting: one client at a time")
