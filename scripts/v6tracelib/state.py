# SPDX-License-Identifier: MIT
"""The state of a trace, tracked in one pass over its events: processes (who forked whom,
their lifetime, what they were blocked in when the trace ended), their descriptors
(sockets, pipe ends, FIFOs: made, inherited at fork, duplicated, closed), the System V
queues and segments and the FIFOs, and what the course server was told and concluded.

As in lttng-analyses, the state is kept apart from what reads it: `tokens`, `lint` (a table
of rules over this state), `summary`, `tree`, `export` and `diagram` ask it questions; none
of them replays events itself. Handlers are per event name (State.HANDLERS), so a new event
is one method.

Roles come from behaviour, not from the role field (which only v6lab's programs set; a
student's program traced through the preload says "other"): the course's programs are
v6lab's own (their role field says so); on the student's side, the process that listens
(or tries to bind) is the IPv6 server, the processes it forks are its children, and a
process that connects to a server is the IPv4 client.

UST has no vppid: a child is linked to its parent by the parent's `fork` event
(child_pid = the child's vpid) and the child's own `fork_child` event (ppid)."""
import bisect
import errno as _errno

COURSE_ROLES = ("ipv4-server", "ipv6-client")
STUDENT_ROLES = ("ipv6-server", "ipv4-client")
ROLE_ORDER = ("ipv4-server", "ipv6-client", "ipv6-server", "ipv4-client", "other")
ANY_ADDR = ("::", "0.0.0.0", "::ffff:0.0.0.0")


def errno_name(n):
    return _errno.errorcode.get(n, str(n))


class Event:
    """One event: ts (ns from origin), vpid, vtid, procname, name ('v6lab_io:read'), f
    (payload: field name -> int or str, enums as their label)."""
    __slots__ = ("ts", "vpid", "vtid", "procname", "name", "f")

    def __init__(self, ts, vpid, vtid, procname, name, f):
        self.ts, self.vpid, self.vtid, self.procname, self.name, self.f = \
            ts, vpid, vtid, procname, name, f

    @property
    def short(self):
        """'read' for 'v6lab_io:read'."""
        return self.name.split(":", 1)[1]

    def __repr__(self):
        return f"Event({self.ts}, {self.vpid}, {self.name}, {self.f})"


# --- who belongs to the traced command ----------------------------------------------------

# The events (and fields) lineage() needs.
LINEAGE = {"v6lab_process:start": ("role", "pid", "ppid"),
           "v6lab_process:fork": ("child_pid",),
           "v6lab_process:fork_child": ("pid", "ppid")}


def lineage(events, pid, students=False):
    """The vpids of pid itself if it is traced, of the processes pid started (`start`'s
    ppid), and of their descendants (fork events): the run of one command when the host ran
    others too. students: also every process the preload traced (role "other" in its
    `start`: scripts/trace puts the preload only in its COMMAND's environment) and the
    processes started by the same untraced parent as one of those (the course server a
    Python harness started beside the student's programs, whose link to COMMAND went
    through processes that record nothing: a shell, timeout, python)."""
    started = {}   # vpid -> (ppid, role) of its first start event
    forked = {}    # parent vpid -> [child vpids]
    for e in events:
        s = e.name
        if s == "v6lab_process:start":
            started.setdefault(e.vpid, (e.f.get("ppid"), e.f.get("role")))
        elif s == "v6lab_process:fork" and e.f.get("child_pid", -1) > 0:
            forked.setdefault(e.vpid, []).append(e.f["child_pid"])
        elif s == "v6lab_process:fork_child":
            forked.setdefault(e.f.get("ppid"), []).append(e.vpid)
    by_parent = {}
    for vpid, (ppid, _) in started.items():
        by_parent.setdefault(ppid, []).append(vpid)
    seeds = set(by_parent.get(pid, ()))
    if pid in started or pid in forked:
        seeds.add(pid)
    if students:
        preloaded = {v for v, (_, role) in started.items() if role == "other"}
        traced = set(started) | set(forked)
        for v in preloaded:
            seeds.add(v)
            ppid = started[v][0]
            if ppid not in traced:  # the harness that started it: its other programs too
                seeds.update(by_parent.get(ppid, ()))
    keep, todo = set(), list(seeds)
    while todo:
        v = todo.pop()
        if v in keep:
            continue
        keep.add(v)
        todo.extend(forked.get(v, ()))
    return keep


# --- the objects --------------------------------------------------------------------------

class Obj:
    """What a descriptor refers to: a socket ("socket", then "listen" or "conn"), a pipe end
    ("pipe-r", "pipe-w"; info["pipe"] is the pipe), a FIFO end ("fifo-r", "fifo-w", "fifo":
    a pipe-kind descriptor the trace never saw made, which a FIFO's open() gives)."""
    __slots__ = ("id", "kind", "creator", "ts", "info", "closed")
    _n = 0

    def __init__(self, kind, vpid, ts, **info):
        Obj._n += 1
        self.id, self.kind, self.creator, self.ts, self.info = Obj._n, kind, vpid, ts, info
        self.closed = {}  # vpid -> when that process closed its descriptor of it

    def __repr__(self):
        return f"Obj({self.kind}#{self.id} by {self.creator})"


class Ipc:
    """A System V queue or segment (by id), or a FIFO (by path): who made it, who used it
    (and when), who removed it."""
    __slots__ = ("kind", "name", "key", "made", "users", "removed")

    def __init__(self, kind, name, key=None):
        self.kind, self.name, self.key = kind, name, key
        self.made = []     # (vpid, ts, outcome)
        self.users = []    # (vpid, ts, what): msgsnd, msgrcv, shmat, read, write
        self.removed = None  # (vpid, ts)

    def used_by(self, what=None):
        return [u for u in self.users if what is None or u[2] == what]


class Process:
    def __init__(self, vpid):
        self.vpid = vpid
        self.role = "other"       # the role the analysis gives it (see State._roles)
        self.why = ""             # how it got that role
        self.by_behaviour = False  # role from what it did (a student's side program)
        self.role_field = None    # the role field of its first event
        self.procname = ""
        self.parent = None        # vpid of the parent, if it was traced forking us
        self.outside_parent = None  # ppid from `start` (a shell, ctest...)
        self.children = []        # vpids, in fork order
        self.fork_ts = None       # when the parent forked us
        self.first_ts = self.last_ts = None
        self.by_kind = {}         # provider short name ("io", "sockets", ...) -> events
        self.failed = []          # (ts, call, errno name)
        self.threads = set()
        self.pending = {}         # vtid -> (call, fields, ts) of an X_entry without its X
        # descriptors
        self.fds = {}             # fd -> Obj, now
        self.hist = {}            # fd -> [(ts, Obj or None)]: what fd was from when
        self.inherited = set()    # Obj ids it got at fork
        # what it did, in order
        self.binds = []           # dict(ts, fd, family, addr, port, ret, err)
        self.listens = []         # (ts, fd, Obj)
        self.accepts = []         # (entry ts, ts, new fd, Obj)
        self.connects = []        # dict(ts, vtid, fd, family, addr, port, ret, err)
        self.forks = []           # (ts, child vpid, {fd: Obj} at that moment)
        self.reaped = set()
        self.reads = {}           # Obj id -> [read Events]
        self.pipe_writes = []     # write Events of kind pipe
        self.sleeps = []          # dict(ts, end, usec, next=(call, fields) done after it)
        self.ipc = []             # Ipc objects it made or used
        self.pipes = []           # Obj ids of the pipes it made
        # the course side
        self.answers = {}         # question -> the answer judged ok (answer_checked)
        self.verdicts = []        # (ts, fields)

    @property
    def label(self):
        return f"{self.role}[{self.vpid}]"

    @property
    def is_child(self):
        return self.parent is not None

    @property
    def blocked(self):
        """The calls it was still in when the trace ended ([] if none): a process killed
        (or still running) there, not one that ran to its end."""
        return list(self.pending.values())

    def fd_at(self, fd, ts):
        """What fd was at time ts (None: not known)."""
        h = self.hist.get(fd)
        if not h:
            return None
        i = bisect.bisect_right(h, ts, key=_first) - 1
        return h[i][1] if i >= 0 else None


def _first(x):
    return x[0]


class State:
    """Feed events in time order (feed), then finish(): processes, IPC objects, roles."""

    def __init__(self):
        self.procs = {}
        self.ipcs = {}        # ("queue", id) / ("shm", id) / ("fifo", path) -> Ipc
        self.t0 = None
        self.last_ts = None
        self.mkfifo = False   # a FIFO was made: pipe-kind descriptors of unknown origin are one
        self._sleeping = {}   # vtid -> the sleep whose next call is still to come
        self.entry_ts = None  # for a handler: when the call began (its X_entry, else the X)

    def proc(self, vpid):
        p = self.procs.get(vpid)
        if p is None:
            p = self.procs[vpid] = Process(vpid)
        return p

    # -- the pass -------------------------------------------------------------------------

    def feed(self, e):
        p = self.proc(e.vpid)
        if p.first_ts is None:
            p.first_ts = e.ts
            p.role_field = e.f.get("role", "other")
        if self.t0 is None:
            self.t0 = e.ts
        p.last_ts = self.last_ts = e.ts
        if e.procname:
            p.procname = e.procname
        p.threads.add(e.vtid)
        name = e.name
        provider, short = name.split(":", 1)
        provider = provider[6:] if provider.startswith("v6lab_") else provider
        p.by_kind[provider] = p.by_kind.get(provider, 0) + 1
        f = e.f
        if short.endswith("_entry"):
            p.pending[e.vtid] = (short[:-6], f, e.ts)
            return
        pend = p.pending.get(e.vtid)
        if pend is not None and pend[0] == short:
            del p.pending[e.vtid]
            self.entry_ts = pend[2]
        else:
            self.entry_ts = e.ts
        err = f.get("err", 0)
        if err:
            p.failed.append((e.ts, short, errno_name(err)))
        sl = self._sleeping.pop(e.vtid, None)
        if sl is not None and short != "sleep":
            sl["next"] = (short, f)
        h = self.HANDLERS.get(short)
        if h is not None:
            h(self, p, e, f)

    def _set(self, p, fd, obj, ts):
        old = p.fds.get(fd)
        if obj is None:
            p.fds.pop(fd, None)
        else:
            p.fds[fd] = obj
        if old is not obj:
            p.hist.setdefault(fd, []).append((ts, obj))

    def _obj(self, p, fd, kind, ts):
        """The object behind fd, made up if the trace never showed it made (a FIFO's
        open(), a descriptor from before the process was traced)."""
        o = p.fds.get(fd)
        if o is None and kind in ("socket", "pipe"):
            o = Obj("fifo" if kind == "pipe" else "socket", p.vpid, ts, unknown=True)
            self._set(p, fd, o, ts)
        return o

    def _ipc(self, kind, name, key=None):
        k = (kind, name)
        o = self.ipcs.get(k)
        if o is None:
            o = self.ipcs[k] = Ipc(kind, name, key)
        return o

    def _use(self, p, o, ts, what):
        o.users.append((p.vpid, ts, what))
        if o not in p.ipc:
            p.ipc.append(o)

    # handlers: (state, process, event, fields)
    def _start(self, p, e, f):
        if p.outside_parent is None:
            p.outside_parent = f.get("ppid")

    def _fork(self, p, e, f):
        cpid = f.get("child_pid", -1)
        if cpid <= 0:
            return
        c = self.proc(cpid)
        c.parent, c.fork_ts = p.vpid, e.ts
        if cpid not in p.children:
            p.children.append(cpid)
        snap = dict(p.fds)
        p.forks.append((e.ts, cpid, snap))
        for fd, o in snap.items():  # the child's own events may have come first
            if fd not in c.fds and fd not in c.hist:
                c.fds[fd] = o
                c.hist[fd] = [(e.ts, o)]
                c.inherited.add(o.id)

    def _fork_child(self, p, e, f):
        ppid = f.get("ppid")
        if p.parent is None and ppid in self.procs:
            p.parent = ppid
            par = self.procs[ppid]
            if p.vpid not in par.children:
                par.children.append(p.vpid)

    def _waitpid(self, p, e, f):
        if f.get("ret", 0) > 0:
            p.reaped.add(f["ret"])

    def _sleep(self, p, e, f):
        s = dict(ts=self.entry_ts, end=e.ts, usec=f.get("usec", 0), next=None)
        p.sleeps.append(s)
        self._sleeping[e.vtid] = s

    def _socket(self, p, e, f):
        if f.get("fd", -1) >= 0:
            self._set(p, f["fd"], Obj("socket", p.vpid, e.ts, family=f.get("family")), e.ts)

    def _bind(self, p, e, f):
        p.binds.append(dict(ts=e.ts, fd=f.get("fd"), family=f.get("family"),
                            addr=f.get("addr"), port=f.get("port"), ret=f.get("ret", -1),
                            err=f.get("err", 0)))
        o = p.fds.get(f.get("fd"))
        if o is not None and f.get("ret", -1) == 0:
            o.info.update(addr=f.get("addr"), port=f.get("port"))

    def _listen(self, p, e, f):
        o = p.fds.get(f.get("fd"))
        if f.get("ret", -1) == 0:
            if o is None:
                o = self._obj(p, f["fd"], "socket", e.ts)
            o.kind = "listen"
            p.listens.append((e.ts, f["fd"], o))

    def _accept(self, p, e, f):
        if f.get("new_fd", -1) < 0:
            return
        lst = p.fds.get(f.get("fd"))
        o = Obj("conn", p.vpid, e.ts, dir="in", peer=f"{f.get('addr')}:{f.get('port')}",
                listener=lst)
        self._set(p, f["new_fd"], o, e.ts)
        p.accepts.append((self.entry_ts, e.ts, f["new_fd"], o))

    def _connect(self, p, e, f):
        p.connects.append(dict(ts=e.ts, vtid=e.vtid, fd=f.get("fd"), family=f.get("family"),
                               addr=f.get("addr"), port=f.get("port"), ret=f.get("ret", -1),
                               err=f.get("err", 0)))
        o = p.fds.get(f.get("fd"))
        if o is not None:
            o.kind = "conn"
            o.info.update(dir="out", addr=f.get("addr"), port=f.get("port"))

    def _pipe(self, p, e, f):
        if f.get("ret", -1) != 0:
            return
        pipe = Obj("pipe", p.vpid, e.ts)
        p.pipes.append(pipe.id)
        self._set(p, f["read_fd"], Obj("pipe-r", p.vpid, e.ts, pipe=pipe), e.ts)
        self._set(p, f["write_fd"], Obj("pipe-w", p.vpid, e.ts, pipe=pipe), e.ts)

    def _close(self, p, e, f):
        if f.get("ret", -1) != 0:
            return
        o = p.fds.get(f.get("fd"))
        if o is not None:
            o.closed[p.vpid] = e.ts
        self._set(p, f.get("fd"), None, e.ts)

    def _dup(self, p, e, f):
        if f.get("ret", -1) < 0:
            return
        o = self._obj(p, f.get("fd"), f.get("kind"), e.ts)
        self._set(p, f["ret"], o, e.ts)

    def _read(self, p, e, f):
        o = self._obj(p, f.get("fd"), f.get("kind"), e.ts)
        if o is None:
            return
        if o.kind == "fifo":
            o.kind = "fifo-r"
        p.reads.setdefault(o.id, []).append(e)
        if o.kind == "fifo-r" and f.get("ret", 0) > 0:
            self._fifo_use(p, o, e.ts, "read")

    def _write(self, p, e, f):
        o = self._obj(p, f.get("fd"), f.get("kind"), e.ts)
        if o is None:
            return
        if o.kind == "fifo":
            o.kind = "fifo-w"
        if f.get("kind") == "pipe":
            p.pipe_writes.append(e)
        if o.kind == "fifo-w" and f.get("ret", 0) > 0:
            self._fifo_use(p, o, e.ts, "write")

    def _fifo_use(self, p, o, ts, what):
        path = o.info.get("path")
        if path is None:  # opened by path, but the trace has no open(): the FIFO made
            made = [i for i in self.ipcs.values() if i.kind == "fifo"]
            path = made[-1].name if made else "?"
            o.info["path"] = path
        self._use(p, self._ipc("fifo", path), ts, what)

    def _mkfifo(self, p, e, f):
        self.mkfifo = True
        o = self._ipc("fifo", f.get("path"))
        o.made.append((p.vpid, e.ts, "created" if f.get("ret", -1) == 0 else
                       errno_name(f.get("err", 0))))
        if o not in p.ipc:
            p.ipc.append(o)

    def _unlink(self, p, e, f):  # a FIFO removed (if the trace records unlink)
        o = self.ipcs.get(("fifo", f.get("path")))
        if o is not None and f.get("ret", -1) == 0:
            o.removed = (p.vpid, e.ts)

    def _made(self, kind, p, e, f):
        """msgget / shmget: a queue or segment made (or opened) by p."""
        if f.get("id", -1) < 0:
            return
        o = self._ipc(kind, f["id"], f.get("key"))
        o.made.append((p.vpid, e.ts, f.get("outcome")))
        if o not in p.ipc:
            p.ipc.append(o)

    def _rmid(self, kind, p, e, f):
        """msgctl / shmctl IPC_RMID that succeeded: the object is removed."""
        if f.get("cmd") == "IPC_RMID" and f.get("ret", -1) == 0:
            self._ipc(kind, f.get("id")).removed = (p.vpid, e.ts)

    def _msgget(self, p, e, f):
        self._made("queue", p, e, f)

    def _msgsnd(self, p, e, f):
        if f.get("ret", -1) == 0:
            self._use(p, self._ipc("queue", f.get("id")), e.ts, "msgsnd")

    def _msgrcv(self, p, e, f):
        if f.get("ret", -1) >= 0:
            self._use(p, self._ipc("queue", f.get("id")), e.ts, "msgrcv")

    def _msgctl(self, p, e, f):
        self._rmid("queue", p, e, f)

    def _shmget(self, p, e, f):
        self._made("shm", p, e, f)

    def _shmat(self, p, e, f):
        if f.get("ret", -1) == 0:
            self._use(p, self._ipc("shm", f.get("id")), e.ts, "shmat")

    def _shmctl(self, p, e, f):
        self._rmid("shm", p, e, f)

    def _answer_checked(self, p, e, f):
        if f.get("result") == "ok":
            p.answers[f.get("question")] = f.get("answer")

    def _verdict(self, p, e, f):
        p.verdicts.append((e.ts, f))

    HANDLERS = {"start": _start, "fork": _fork, "fork_child": _fork_child,
                "waitpid": _waitpid, "sleep": _sleep, "socket": _socket, "bind": _bind,
                "listen": _listen, "accept": _accept, "connect": _connect, "pipe": _pipe,
                "close": _close, "dup": _dup, "read": _read, "write": _write,
                "mkfifo": _mkfifo, "unlink": _unlink, "msgget": _msgget, "msgsnd": _msgsnd,
                "msgrcv": _msgrcv, "msgctl": _msgctl, "shmget": _shmget, "shmat": _shmat,
                "shmctl": _shmctl, "answer_checked": _answer_checked, "verdict": _verdict}

    # -- after the pass -------------------------------------------------------------------

    def finish(self):
        for p in self.procs.values():  # forked, but none of its own events was recorded
            if p.first_ts is None:
                p.first_ts = p.last_ts = p.fork_ts
        self._roles()
        return self

    def _roles(self):
        """Course programs by their role field; on the student's side, by behaviour."""
        procs = self.procs
        servers = []
        for p in procs.values():
            if p.role_field in COURSE_ROLES:
                p.role, p.why = p.role_field, "v6lab's course program (its role field)"
            elif p.listens or p.binds:
                p.role, p.by_behaviour = "ipv6-server", True
                p.why = _server_why(p)
                servers.append(p)
        for s in servers:  # its children, and theirs
            todo = list(s.children)
            while todo:
                c = procs.get(todo.pop())
                if c is None or c.by_behaviour or c.role_field in COURSE_ROLES:
                    continue
                c.role, c.by_behaviour = "ipv6-server", True
                c.why = f"forked by ipv6-server[{c.parent}]"
                todo.extend(c.children)
        for p in procs.values():
            if p.by_behaviour or p.role_field in COURSE_ROLES:
                continue
            if p.connects:
                c = p.connects[0]
                p.role, p.by_behaviour = "ipv4-client", True
                p.why = f"connects to {c['addr']}:{c['port']}, the course server"
            else:
                p.role = p.role_field or "other"
                p.why = "its role field" if p.role != "other" else "did nothing of a role"

    # -- questions ------------------------------------------------------------------------

    def rel_ms(self, ts):
        return (ts - (self.t0 or 0)) / 1e6

    def behaviour_roles(self):
        """vpid -> role, for the processes whose role comes from what they did."""
        return {v: p.role for v, p in self.procs.items() if p.by_behaviour}

    def role_of(self, e):
        """The role of the process of event e: its behaviour's, else the event's field (a
        v6lab program says which role it speaks as, event by event)."""
        p = self.procs.get(e.vpid)
        if p is not None and p.by_behaviour:
            return p.role
        return e.f.get("role", "other")

    def root(self, vpid):
        """The first process of vpid's fork tree."""
        p = self.procs.get(vpid)
        while p is not None and p.parent is not None and p.parent in self.procs:
            p = self.procs[p.parent]
        return p

    def tree(self, vpid):
        """vpid and its descendants."""
        out, todo = [], [vpid]
        while todo:
            p = self.procs.get(todo.pop())
            if p is not None and p not in out:
                out.append(p)
                todo.extend(p.children)
        return out

    def with_role(self, *roles):
        return [p for p in self.procs.values() if p.role in roles]

    def students(self):
        """The student's processes (IPv6 server and children, IPv4 client)."""
        return [p for p in self.procs.values() if p.role in STUDENT_ROLES]

    def roots(self):
        return sorted((p for p in self.procs.values() if p.parent is None),
                      key=lambda p: (p.first_ts or 0))

    def ordered(self):
        """Processes in the order a reader expects: course server, course clients, the
        student's server and its children, the student's client."""
        def key(p):
            root = self.root(p.vpid)
            r = ROLE_ORDER.index(root.role) if root.role in ROLE_ORDER else 9
            return (r, root.first_ts or 0, p.is_child, p.fork_ts or 0, p.first_ts or 0)
        return sorted(self.procs.values(), key=key)

    def course_ports(self):
        """The ports the course was told (answer 3) or its clients connected to, with
        the addresses (answer 2): [(addr, port, how)]."""
        out = []
        for p in self.procs.values():
            if p.role not in COURSE_ROLES:
                continue
            if 3 in p.answers and str(p.answers[3]).isdigit():
                out.append((p.answers.get(2), int(p.answers[3]),
                            f"answered to the course server ({p.label}, question 3)"))
            for c in p.connects:
                if c["family"] == "AF_INET6":
                    out.append((c["addr"], c["port"], f"the course clients connected to "
                                f"[{c['addr']}]:{c['port']} ({p.label})"))
        return out


def _server_why(p):
    b = next((b for b in p.binds if b["ret"] == 0), p.binds[0] if p.binds else None)
    where = f" [{b['addr']}]:{b['port']}" if b else ""
    if p.listens:
        what = f"listens on{where}" if b else "listens"
    else:
        what = f"binds{where} ({errno_name(b['err'])})" if b and b["err"] else f"binds{where}"
    fam = f" ({b['family']})" if b and b.get("family") else ""
    kids = f" and forks {len(p.forks)} children" if p.forks else ""
    return f"{what}{fam}{kids}"


def build(events):
    """The State of events (time-ordered)."""
    st = State()
    feed = st.feed
    for e in events:
        feed(e)
    return st.finish()


def synthetic(*specs):
    """Events from (ms, vpid, name, fields) tuples, for tests: name 'read' means
    'v6lab_io:read' etc. (see NAMES); vtid = vpid unless fields has 'vtid'."""
    out = []
    for ms, vpid, name, f in specs:
        f = dict(f)
        vtid = f.pop("vtid", vpid)
        full = name if ":" in name else NAMES[name.removesuffix("_entry")] + ":" + name
        f.setdefault("role", "other")
        out.append(Event(int(ms * 1e6), vpid, vtid, f.pop("procname", ""), full, f))
    return out


NAMES = {n: "v6lab_" + prov for prov, ns in (
    ("process", "start fork fork_child waitpid sleep"),
    ("sockets", "socket setsockopt bind listen accept connect shutdown"),
    ("io", "read write close dup"),
    ("ipc", "pipe msgget msgsnd msgrcv msgctl shmget shmat shmdt shmctl mkfifo unlink"),
    ("protocol", "prompt_sent prompt_received answer_sent answer_checked verdict_received "
                 "token_generated token_received token_forwarded token_verified verdict"))
    for n in ns.split()}
