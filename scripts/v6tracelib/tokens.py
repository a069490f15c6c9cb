# SPDX-License-Identifier: MIT
"""Every token followed through every hop of the relay (trace/README.md, "One token, hop
by hop"), in v6lab's programs and in a student's: the time and latency of each hop; lost,
unseen, duplicated, altered and reordered tokens, and tokens of a FAILed session, flagged
with where it happened.

The hops a token must take depend on what the trace shows the student's programs used
(path()): a pipe from the children to the parent or none, then a System V queue (msgsnd,
msgrcv: five messages or one holding all five tokens), a FIFO (its writes and reads), or
System V shared memory, which no event can show (shmget/shmat only): that hop is named,
with why it cannot be seen, and the token is looked for again at the next one. A token is
complete only when it was seen at every hop that can be seen."""
from . import reader, spec
from .reader import Want
from .state import COURSE_ROLES, STUDENT_ROLES, errno_name

# Every hop, in the order a token takes them: key -> what a student reads.
HOPS = {
    "generated": "course client made it",
    "sent": "course client wrote it to the IPv6 server (socket)",
    "server": "the student's IPv6 server",
    "child-read": "ipv6-server child read it (socket)",
    "pipe-write": "child wrote it to the pipe",
    "pipe-read": "ipv6-server parent read it off the pipe",
    "msgsnd": "ipv6-server put it on the message queue",
    "fifo-write": "ipv6-server wrote it to the FIFO",
    "shm": "ipv6-server put it in System V shared memory",
    "msgrcv": "ipv4-client took it off the message queue",
    "fifo-read": "ipv4-client read it from the FIFO",
    "client": "the student's IPv4 client",
    "reply": "ipv4-client sent it back (socket)",
    "course-read": "ipv4-server read the reply (socket)",
    "verified": "ipv4-server checked it",
}
ORDER = {k: i for i, k in enumerate(HOPS)}
# The hops of v6lab's own programs (the reference relay), for the tests and the docs.
REFERENCE = ["generated", "sent", "child-read", "pipe-write", "pipe-read", "msgsnd", "msgrcv",
             "reply", "course-read", "verified"]
HANDOFF = {"queue": ("msgsnd", "msgrcv"), "fifo": ("fifo-write", "fifo-read"),
           "shm": ("shm", None)}
# Hops no event can show: why, given what the state says.
UNOBSERVABLE = ("server", "shm", "client")
# Hops that must keep the order of the hop before them (the pipe, the queue, the FIFO, the
# reply built from what came out of them). The others may legitimately reorder (five
# connections at once).
FIFO = {"pipe-read": ("pipe-write",), "msgrcv": ("msgsnd",), "fifo-read": ("fifo-write",),
        "reply": ("msgrcv", "fifo-read")}
# A token split over two reads is in neither read event; v6lab's protocol steps say when
# the reader had it whole: token_received (child-read), token_verified (course-read).
# Socket hops: (row tag, role of the process) -> hop. Pipe hops come from the descriptor.
SOCKET_HOP = {("W", "ipv4-server"): "sent", ("W", "ipv6-client"): "sent",
              ("W", "ipv4-client"): "reply", ("R", "ipv6-server"): "child-read",
              ("R", "ipv4-server"): "course-read"}
SERVER_HOPS = ("child-read", "pipe-write", "pipe-read", "msgsnd", "fifo-write")
CLIENT_HOPS = ("msgrcv", "fifo-read", "reply")

# The rows the token flow reads (reader.scan): the hops. A read, write, msgsnd or msgrcv
# whose bytes carried no token (ntokens 0) is dropped by the reader. A token leaves when its
# write starts: the reader's read can return before the writer's result event is recorded,
# so a write or msgsnd row ends with the time of its X_entry (None without one: the
# result's time is used).
_STEP = ("role", "token", "detail")
_IO = ("role", "kind", "fd", "ntokens", "tokens")
_Q = ("role", "ret", "ntokens", "tokens")
ROWS = {"v6lab_protocol:token_generated": Want("g", _STEP),
        "v6lab_protocol:token_received": Want("c", _STEP),
        "v6lab_protocol:token_verified": Want("v", _STEP),
        "v6lab_io:read": Want("R", _IO, "ntokens"), "v6lab_io:write": Want("W", _IO, "ntokens"),
        "v6lab_ipc:msgsnd": Want("S", _Q, "ntokens"), "v6lab_ipc:msgrcv": Want("M", _Q, "ntokens"),
        "v6lab_io:write_entry": Want(entry_of="v6lab_io:write"),
        "v6lab_ipc:msgsnd_entry": Want(entry_of="v6lab_ipc:msgsnd")}
ENTRY = {w.entry_of: n for n, w in ROWS.items() if w.entry_of}  # X -> its X_entry
# And, beside them, what the state needs to know who is who and which descriptor is what.
STATE_FIELDS = {
    "v6lab_process:start": ("pid", "ppid"), "v6lab_process:fork": ("child_pid",),
    "v6lab_process:fork_child": ("pid", "ppid"), "v6lab_sockets:socket": ("fd", "family"),
    "v6lab_sockets:bind": ("fd", "family", "addr", "port", "ret", "err"),
    "v6lab_sockets:listen": ("fd", "ret"),
    "v6lab_sockets:accept": ("fd", "new_fd", "addr", "port", "err"),
    "v6lab_sockets:connect": ("fd", "family", "addr", "port", "ret", "err"),
    "v6lab_io:close": ("fd", "kind", "ret"), "v6lab_io:dup": ("fd", "kind", "newfd", "ret"),
    "v6lab_ipc:pipe": ("read_fd", "write_fd", "ret"),
    "v6lab_ipc:msgget": ("key", "id", "outcome"), "v6lab_ipc:msgctl": ("id", "cmd", "ret"),
    "v6lab_ipc:shmget": ("key", "id", "outcome"), "v6lab_ipc:shmat": ("id", "ret"),
    "v6lab_ipc:shmctl": ("id", "cmd", "ret"), "v6lab_ipc:mkfifo": ("path", "ret", "err"),
    "v6lab_protocol:answer_checked": ("question", "answer", "result"),
    "v6lab_protocol:verdict": ("pass", "ok", "expected", "concurrent", "reason")}
STATE_ROWS = {n: Want(n, ("role",) + f, once=(n == "v6lab_process:start"))
              for n, f in STATE_FIELDS.items()}
STATE_NAMES = {n: (n, ("role",) + f) for n, f in STATE_FIELDS.items()}


def spec_rows():
    """The spec for reader.scan: the hop rows, and the state's rows (side)."""
    return dict(ROWS, **STATE_ROWS), STATE_ROWS


def rows_of(events, index=False):
    """Events (reader.events) as the rows reader.scan(path, ROWS) makes; index: each row
    ends with its event's index in events."""
    rows, entries = [], {}
    for i, e in enumerate(events):
        w = ROWS.get(e.name)
        if w is None:
            continue
        if w.entry_of is not None:
            entries[(e.vtid, w.entry_of)] = e.ts
            continue
        entry = (entries.pop((e.vtid, e.name), None),) if e.name in ENTRY else ()
        if w.positive is not None and e.f.get(w.positive, 0) <= 0:
            continue
        rows.append((e.ts, w.tag, e.vpid, e.vtid, *(e.f.get(n) for n in w.fields), *entry,
                     *((i,) if index else ())))
    return rows


class Flow:
    __slots__ = ("token", "index", "hops", "fallback", "flags", "path", "_first", "t")

    def __init__(self, token):
        self.token = token
        self.index = spec.token_index(token)
        self.hops = {}       # key -> [(ts, vpid, role, position in the event, detail)]
        self.fallback = {}   # key -> (ts, vpid, role, 0, detail)
        self.flags = []      # {"kind", "hop", "vpid", "role", "ts", "why"}
        self.path = []       # the hops it must take (keys, in order), unobservable ones too
        self._first = {}

    def done(self):
        """Fix the hops (after follow): seen() and observed() are then lookups."""
        first = dict(self.fallback)
        for k, evs in self.hops.items():
            first[k] = evs[0]
        self._first = first
        self.t = min(h[0] for h in first.values())

    def seen(self, key):
        """(ts, vpid, role, pos, detail) of a hop: its first event, or the fallback."""
        return self._first.get(key)

    def observed(self):
        """[(key, (ts, vpid, role, pos, detail))] of the hops seen, in hop order."""
        first = self._first
        return sorted(first.items(), key=lambda kv: ORDER[kv[0]])


class Follower:
    """Token flows from time-ordered hop rows and the trace's state."""

    def __init__(self, st, keep=None):
        self.st, self.keep = st, keep
        self.roles = st.behaviour_roles()
        self._pipe = {}
        self._root = {}
        self._plans = {}
        self._odd = set()  # flows with a hop seen twice, or a verification not "ok"

    def pipe_hop(self, vpid, fd, ts, tag):
        """pipe-write/-read or fifo-write/-read: what the descriptor was (made by pipe(), or
        of unknown origin: a FIFO's open(), if the trace made a FIFO)."""
        k = (vpid, fd)
        fifo = self._pipe.get(k)
        if fifo is None:
            p = self.st.procs.get(vpid)
            o = p.fd_at(fd, ts) if p is not None else None
            if o is None or o.info.get("unknown"):
                fifo = self.st.mkfifo
            else:
                fifo = o.kind.startswith("fifo")
            if p is None or len(p.hist.get(fd, ())) <= 1:  # never reused: same answer later
                self._pipe[k] = fifo
        if fifo:
            return "fifo-write" if tag == "W" else "fifo-read"
        return "pipe-write" if tag == "W" else "pipe-read"

    def follow(self, rows, on_hop=None):
        """The flows of time-ordered rows (reader.scan with ROWS, or rows_of). on_hop(row,
        key, ts, tokens): called for each row that is a hop (the diagram draws them)."""
        flows = {}
        keep, roles, socket_hop, pipe_hop = self.keep, self.roles, SOCKET_HOP, self.pipe_hop
        odd = self._odd
        steps = {"g": "generated", "v": "verified", "c": "child-read"}
        for row in rows:
            tag = row[1]
            vpid = row[2]
            if keep is not None and vpid not in keep:
                continue
            role = roles.get(vpid) or row[4]
            ts = row[0]
            fb = False
            detail = ""
            if tag == "R" or tag == "W":
                kind = row[5]
                if kind == "socket":
                    key = socket_hop.get((tag, role))
                    if key is None:
                        continue
                elif kind == "pipe":
                    key = pipe_hop(vpid, row[6], ts, tag)
                else:
                    continue
                if tag == "W" and row[9] is not None:  # a token leaves when its write starts
                    ts = row[9]
                toks = row[8].split(",")[:row[7]]
            elif tag == "S":
                if row[5] != 0:
                    continue
                key, toks = "msgsnd", row[7].split(",")[:row[6]]
                if row[8] is not None:
                    ts = row[8]
            elif tag == "M":
                if row[5] < 0:
                    continue
                key, toks = "msgrcv", row[7].split(",")[:row[6]]
            else:  # a protocol step: g, c (stands for child-read), v
                tok = row[5]
                if not tok or tok == "-":  # the providers write "-" for "no token"
                    continue
                key, toks, detail, fb = steps[tag], (tok,), row[6], tag == "c"
                if tag == "v":  # the course server had the reply whole: course-read's stand-in
                    fl = flows.get(tok)
                    if fl is None:
                        fl = flows[tok] = Flow(tok)
                    fl.fallback.setdefault("course-read", (ts, vpid, role, 0, detail))
                    if detail != "ok":
                        odd.add(fl)
            if on_hop is not None:
                on_hop(row, key, ts, toks)
            for pos, tok in enumerate(toks):
                fl = flows.get(tok)
                if fl is None:
                    fl = flows[tok] = Flow(tok)
                if fb:
                    if key not in fl.fallback:
                        fl.fallback[key] = (ts, vpid, role, pos, detail)
                else:
                    evs = fl.hops.get(key)
                    if evs is None:
                        fl.hops[key] = [(ts, vpid, role, pos, detail)]
                    else:
                        evs.append((ts, vpid, role, pos, detail))
                        odd.add(fl)
        for fl in flows.values():
            fl.done()
        self._flag(flows)
        return sorted(flows.values(), key=_by_time)

    # -- the hops each token must take ----------------------------------------------------

    def _root_of(self, vpid):
        r = self._root.get(vpid)
        if r is None:
            p = self.st.root(vpid)
            r = self._root[vpid] = p.vpid if p is not None else vpid
        return r

    def _handoff(self, procs):
        """The IPC the processes handed the tokens over with: the kinds they used (msgsnd,
        shmat, a FIFO's write or read), else the kinds they made."""
        used, made = [], []
        for p in procs:
            for o in p.ipc:
                if any(u[0] == p.vpid for u in o.users) and o.kind not in used:
                    used.append(o.kind)
                elif o.kind not in made:
                    made.append(o.kind)
        return used or made

    def plan(self, server, client):
        """(hop keys, {unobservable hop: why}, the hops that can be seen) for a token served
        by the fork tree rooted at server (a vpid, or None) and taken back by client (a vpid,
        or None)."""
        k = (server, client)
        got = self._plans.get(k)
        if got is not None:
            return got
        st = self.st
        course_clients = self._course_clients
        course_server = self._course_server
        path, why = [], {}
        if course_clients:
            path += ["generated", "sent"]
        tree = st.tree(server) if server is not None else []
        cl = [st.procs[client]] if client is not None and client in st.procs else []
        kinds = self._handoff(tree) or self._handoff(cl)
        if server is not None:
            path.append("child-read")
            # the children's pipe: if the server made one, unless its tokens were seen
            # handed on without it (the children wrote the FIFO or the queue themselves)
            used = self._seen.get(server, ())
            if any(p.pipes for p in tree) and ("pipe-write" in used or "pipe-read" in used or
                                               not used & {"msgsnd", "fifo-write"}):
                path += ["pipe-write", "pipe-read"]
        elif course_clients or course_server:
            path.append("server")
            why["server"] = ("the student's IPv6 server left no event in the trace (not "
                             "traced: statically linked, not glibc's, or started outside "
                             "scripts/trace)")
        for kind in kinds[:1]:
            put, take = HANDOFF[kind]
            if kind == "shm":
                ids = [o for p in tree + cl for o in p.ipc if o.kind == "shm"]
                who = sorted({f"{st.procs[u[0]].label}" for o in ids for u in o.users})
                path.append("shm")
                why["shm"] = (f"tokens went through System V shared memory (segment "
                              f"{ids[0].name if ids else '?'}"
                              + (f", attached by {' and '.join(who)}" if who else "")
                              + "): not observable, only shmget/shmat are events")
                continue
            if server is not None:
                path.append(put)
            if client is not None:
                path.append(take)
        if client is not None:
            path.append("reply")
        elif course_server and (server is not None or course_clients):
            path.append("client")
            why["client"] = ("the student's IPv4 client left no event in the trace (not "
                             "traced)")
        if course_server:
            path += ["course-read", "verified"]
        got = self._plans[k] = (path, why, frozenset(x for x in path if x not in why))
        return got

    def _flag(self, flows):
        st = self.st
        # what the trace shows of each side
        observed = set()
        for fl in flows.values():
            observed.update(fl._first)
        self._course_clients = "generated" in observed or "sent" in observed or any(
            p.role == "ipv6-client" for p in st.procs.values())
        self._course_server = "verified" in observed or "course-read" in observed or any(
            p.role == "ipv4-server" and (p.listens or p.verdicts) for p in st.procs.values())
        servers = sorted({self._root_of(p.vpid) for p in st.procs.values()
                          if p.role == "ipv6-server" and p.by_behaviour})
        clients = [p.vpid for p in st.procs.values()
                   if p.role == "ipv4-client" and p.by_behaviour]
        server1 = servers[0] if len(servers) == 1 else None
        client1 = clients[0] if len(clients) == 1 else None
        self.unobservable = {}
        plan, odd, root_of = self.plan, self._odd, self._root_of
        served = []  # (flow, server root, client)
        seen = self._seen = {}  # server root -> the hops its tokens were seen at
        for fl in flows.values():
            first = fl._first
            h = (first.get("child-read") or first.get("pipe-write") or first.get("pipe-read")
                 or first.get("msgsnd") or first.get("fifo-write"))
            server = root_of(h[1]) if h else server1
            h = first.get("msgrcv") or first.get("fifo-read") or first.get("reply")
            served.append((fl, server, h[1] if h else client1))
            keys = seen.get(server)
            if keys is None:
                keys = seen[server] = set()
            if len(keys) < len(HOPS):
                keys.update(first)
        for fl, server, client in served:
            first = fl._first
            path, why, can = plan(server, client)
            for k, w in why.items():
                self.unobservable.setdefault(k, w)
            if first.keys() == can:  # seen at every hop it can be seen at: the common case
                fl.path = path
                if fl in odd:
                    self._flag_twice(fl)
                continue
            if not first.keys() <= set(path):  # seen where the plan did not expect it
                path = sorted(set(path) | first.keys(), key=ORDER.__getitem__)
            fl.path = path
            self._flag_twice(fl)
            self._flag_one(fl, path, why)
        self._flag_reordered(flows)
        self._flag_failed(flows)

    def _flag_twice(self, fl):
        """duplicated: the same hop more than once (two reads, two msgsnd, twice in a reply),
        or the course server's own "duplicate"; altered: the course server's "unknown"."""
        for key, evs in fl.hops.items():
            if len(evs) > 1 and key != "verified":
                ts, vpid, role = evs[1][0], evs[1][1], evs[1][2]
                fl.flags.append(dict(kind="duplicated", hop=key, vpid=vpid, role=role, ts=ts,
                                     why=f"{key} happened {len(evs)} times"))
        for ts, vpid, role, _, detail in fl.hops.get("verified", []):
            if detail in ("duplicate", "unknown"):
                fl.flags.append(dict(kind="duplicated" if detail == "duplicate" else "altered",
                                     hop="verified", vpid=vpid, role=role, ts=ts,
                                     why=f"the course server found it {detail}"))

    def _flag_one(self, fl, path, why):
        """A token not seen at every hop it can be seen at: where it was altered, unseen,
        lost."""
        first = fl._first
        seen = [k for k in path if k in first]
        # altered: never generated, though the course side was traced, and first seen on
        # the student's side (a course client sending it was started before the trace began)
        if "generated" in path and "generated" not in first and seen[0] != "sent":
            ts, vpid, role, _, _ = first[seen[0]]
            fl.flags.append(dict(kind="altered", hop=seen[0], vpid=vpid, role=role, ts=ts,
                                 why="no course client made this token: it was changed on "
                                     f"the way, first seen at {seen[0]}"))
        # unseen: a hop between two it was seen at, where no event shows it
        lo, hi = path.index(seen[0]), path.index(seen[-1])
        for i in range(lo + 1, hi):
            k = path[i]
            if k in first or k in why:
                continue
            nxt = next(x for x in path[i + 1:] if x in first)
            ts, vpid, role = first[nxt][:3]
            fl.flags.append(dict(kind="unseen", hop=k, vpid=vpid, role=role, ts=ts,
                                 why=f"no event shows it at {k} ({HOPS[k]}): "
                                     f"{_unseen_why(k)}; seen again at {nxt}"))
        # lost: it stops before the last hop it must take
        later = [k for k in path[hi + 1:] if k not in why]
        if later:
            ts, vpid, role = first[seen[-1]][:3]
            fl.flags.append(dict(kind="lost", hop=later[0], vpid=vpid, role=role, ts=ts,
                                 why=f"last seen at {seen[-1]}; never reached {later[0]}"
                                     + self._lost_why(fl, later[0])))

    def _lost_why(self, fl, hop):
        """What the trace says of why a token did not get to hop."""
        st = self.st
        g = fl.seen("generated")
        if hop == "sent" and g is not None:
            p = st.procs.get(g[1])
            failed = [c for c in (p.connects if p else []) if c["err"]]
            if failed:
                c = failed[0]
                return (f": the course clients could not connect to [{c['addr']}]:"
                        f"{c['port']} ({errno_name(c['err'])} x{len(failed)})")
            return ""
        stuck = []
        for p in st.procs.values():
            if (hop in ("child-read", "pipe-write", "pipe-read", "msgsnd", "fifo-write")
                    and p.role == "ipv6-server") or \
                    (hop in CLIENT_HOPS and p.role == "ipv4-client"):
                stuck += [f"{p.label} was still in {call}()" for call, _, _ in p.blocked]
        return f" ({'; '.join(stuck[:3])} when the trace ended)" if stuck else ""

    def _flag_reordered(self, flows):
        """A FIFO hop that delivered tokens in another order than they went in, compared
        within each reading process."""
        groups = {}  # (hop, hop before, reading vpid) -> [(in, out, flow)]
        for fl in flows.values():
            first = fl._first
            for key, befores in FIFO.items():
                b = first.get(key)
                if b is None:
                    continue
                for before in befores:
                    a = first.get(before)
                    if a is not None:  # (time, position in the event) as one number
                        groups.setdefault((key, before, b[1]), []).append(
                            (a[0] * 16 + a[3], b[0] * 16 + b[3], fl))
                        break
        for (key, before, _), items in groups.items():
            items.sort(key=_in_order)
            high = None
            for _, bkey, fl in items:
                if high is not None and bkey < high:
                    b = fl.seen(key)
                    fl.flags.append(dict(kind="reordered", hop=key, vpid=b[1], role=b[2],
                                         ts=b[0], why=f"overtaken at {key}: it went into "
                                         f"{before} earlier than a token that came out first"))
                elif high is None or bkey > high:
                    high = bkey

    def _flag_failed(self, flows):
        """A token of a session the course server FAILed is never complete, whatever its
        hops: the verdict is the course server's, and it said no."""
        self.verdicts = []
        for p in self.st.procs.values():
            for ts, f in p.verdicts:
                self.verdicts.append(dict(vpid=p.vpid, ts=ts, pass_=bool(f.get("pass")),
                                          ok=f.get("ok"), expected=f.get("expected"),
                                          concurrent=f.get("concurrent"),
                                          reason=f.get("reason")))
        failed = {v["vpid"]: v for v in self.verdicts if not v["pass_"]}
        if not failed:
            return
        for fl in flows.values():
            g = fl.seen("generated")
            v = failed.get(g[1]) if g else None
            if v is not None and not fl.flags:
                fl.flags.append(dict(kind="failed", hop="verified", vpid=v["vpid"],
                                     role="ipv4-server", ts=v["ts"],
                                     why=f"the course server's verdict for its session was "
                                         f"FAIL {v['ok']}/{v['expected']}: {v['reason']}"))


def _in_order(item):
    return item[0]


def _by_time(fl):
    return fl.t, fl.token


def _unseen_why(hop):
    if hop in ("child-read", "course-read", "pipe-read", "fifo-read"):
        return "a token split over two reads is in neither read's tokens field"
    if hop in ("sent", "pipe-write", "fifo-write", "reply"):
        return "a token written in two pieces is in neither write's tokens field"
    return "the program's events do not show this step"


def follow(events, st, keep=None, on_hop=None):
    """Token flows of time-ordered events (reader.events) and their state; on_hop(event,
    key, ts, tokens) for each event that is a hop."""
    f = Follower(st, keep)
    hook = None if on_hop is None else (lambda row, *h: on_hop(events[row[-1]], *h))
    return f.follow(rows_of(events, index=True), hook), f


KINDS = ("lost", "unseen", "duplicated", "altered", "reordered", "failed")


def summary(flows, follower):
    s = {"tokens": len(flows), "complete": 0, **{k: 0 for k in KINDS}}
    path = []
    for fl in flows:
        kinds = {f["kind"] for f in fl.flags}
        if not kinds:
            s["complete"] += 1
        for k in kinds:
            s[k] += 1
        for k in fl.path:
            if k not in path:
                path.append(k)
    s["path"] = sorted(path, key=ORDER.__getitem__)
    s["not_observable"] = [dict(hop=k, why=w) for k, w in follower.unobservable.items()]
    s["verdicts"] = [dict(vpid=v["vpid"], t_ms=round(follower.st.rel_ms(v["ts"]), 6),
                          **{"pass": v["pass_"]}, ok=v["ok"], expected=v["expected"],
                          concurrent=v["concurrent"], reason=v["reason"])
                     for v in sorted(follower.verdicts, key=lambda v: v["ts"])]
    return s


def all_complete(s):
    """What `tokens` exits 0 for: every token complete, and no FAILed verdict."""
    return s["complete"] == s["tokens"] and not any(not v["pass"] for v in s["verdicts"])


def to_json(flows, t0, follower):
    out = []
    unobs = follower.unobservable
    for fl in flows:
        hops, prev = [], None
        for key, (ts, vpid, role, _, detail) in fl.observed():
            hops.append(dict(hop=key, ts=ts, t_ms=round((ts - t0) / 1e6, 6), vpid=vpid,
                             role=role, latency_ms=None if prev is None
                             else round((ts - prev) / 1e6, 6), detail=detail))
            prev = ts
        out.append(dict(token=fl.token, index=fl.index, hops=hops,
                        flags=[dict(f, t_ms=round((f["ts"] - t0) / 1e6, 6)) for f in fl.flags],
                        path=fl.path,
                        unobserved=[dict(hop=k, why=unobs[k], seen_again_at=seen_again(fl, k))
                                    for k in fl.path if k in unobs]))
    return out


def seen_again(fl, key):
    """The first hop after key (one of fl.path) that the token was seen at, or None."""
    first = fl._first
    return next((k for k in fl.path[fl.path.index(key) + 1:] if k in first), None)


def text(flows, t0, s, follower):
    unobs = follower.unobservable
    out = []
    add = out.append
    tails = {}  # (hop, role, vpid, detail) -> the end of its line
    for fl in flows:
        if fl.flags:
            add(f"{fl.token}  FLAGGED: {', '.join(sorted({f['kind'] for f in fl.flags}))}\n")
        else:
            add(f"{fl.token}  ok\n")
        prev = None
        first = fl._first
        for key in fl.path:
            h = first.get(key)
            if h is None:
                if key in unobs:
                    again = seen_again(fl, key)
                    again = f"; seen again at {again}" if again else "; not seen again"
                    add(f"  {'':>10}    {'':>13}  {key:<12} not observable: {unobs[key]}"
                        f"{again}\n")
                continue
            ts, vpid, role, _, detail = h
            k = (key, role, vpid, detail)
            tail = tails.get(k)
            if tail is None:
                extra = f" ({detail})" if detail and key == "verified" else ""
                tail = tails[k] = f"{key:<12} {role}[{vpid}]  {HOPS[key]}{extra}\n"
            if prev is None:
                add(f"  {(ts - t0) / 1e6:10.3f} ms {'':13}  {tail}")
            else:
                add(f"  {(ts - t0) / 1e6:10.3f} ms {(ts - prev) / 1e6:+10.3f} ms  {tail}")
            prev = ts
        for f in fl.flags:
            add(f"  ! {f['kind']} at {f['hop']} ({f['role']}[{f['vpid']}], "
                f"{(f['ts'] - t0) / 1e6:.3f} ms): {f['why']}\n")
    line = (f"{s['tokens']} token(s): {s['complete']} complete, {s['lost']} lost, "
            f"{s['duplicated']} duplicated, {s['altered']} altered, {s['reordered']} reordered")
    if s["unseen"]:
        line += f", {s['unseen']} unseen at a hop"
    if s["failed"]:
        line += f", {s['failed']} of a FAILed session"
    add(line + "\n")
    for n in s["not_observable"]:
        add(f"not observable: {n['hop']}: {n['why']}\n")
    for v in s["verdicts"]:
        word = "PASS" if v["pass"] else "FAIL"
        reason = "" if v["reason"] in ("", "-", None) else f"; {v['reason']}"
        add(f"verdict (ipv4-server[{v['vpid']}], {v['t_ms']:.3f} ms): {word} {v['ok']}/"
            f"{v['expected']} tokens, concurrent: {v['concurrent']}{reason}\n")
    return "".join(out)


def read(path, keep_of=None, workers=0):
    """(flows, summary, Follower, Stats) of a trace: the hop rows and the state's rows in
    one scan. keep_of(state events) -> the vpids to keep, or None for all."""
    from . import state as _state
    spec_, side = spec_rows()
    rows, srows, stats = reader.scan(path, spec_, side=side, workers=workers)
    events = reader.as_events(srows, STATE_NAMES)
    keep = keep_of(events) if keep_of is not None else None
    if keep is not None:
        events = [e for e in events if e.vpid in keep]
    st = _state.build(events)
    if st.t0 is None or (stats.first_ts is not None and stats.first_ts < st.t0):
        st.t0 = stats.first_ts
    f = Follower(st, keep)
    flows = f.follow(rows)
    return flows, summary(flows, f), f, stats


__all__ = ["HOPS", "REFERENCE", "COURSE_ROLES", "STUDENT_ROLES", "follow", "read", "summary",
           "to_json", "text"]
