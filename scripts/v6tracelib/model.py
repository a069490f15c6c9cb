# SPDX-License-Identifier: MIT
"""The processes of a trace: who they are, their parent, their lifetime, what they did.

UST has no vppid: a child is linked to its parent by the parent's `fork` event
(child_pid = the child's vpid) and the child's own `fork_child` event (ppid)."""
import errno as _errno

from . import reader

STUDENT_ROLES = ("ipv6-server", "ipv4-client")
ROLE_ORDER = ("ipv4-server", "ipv6-client", "ipv6-server", "ipv4-client", "other")


# What --ppid needs to know who started whom (added to a reader's want when filtering).
LINEAGE = {"v6lab_process:start": ("pid", "ppid"), "v6lab_process:fork": ("child_pid",),
           "v6lab_process:fork_child": ("pid", "ppid")}


def started_by(events, ppid):
    """The vpids of ppid itself if it is a v6lab program, of the processes ppid started
    (`start` event's ppid) and of their descendants (fork events): the run of one command
    when the host ran others too."""
    keep, changed = set(), True
    while changed:
        changed = False
        for e in events:
            s = e.name
            if (s == "v6lab_process:start" and (e.f.get("ppid") == ppid or e.vpid == ppid)
                    and e.vpid not in keep):
                keep.add(e.vpid)
                changed = True
            elif s == "v6lab_process:fork" and e.vpid in keep and e.f.get("child_pid") not in keep:
                keep.add(e.f.get("child_pid"))
                changed = True
            elif s == "v6lab_process:fork_child" and e.f.get("ppid") in keep and e.vpid not in keep:
                keep.add(e.vpid)
                changed = True
    return keep


def errno_name(n):
    return _errno.errorcode.get(n, str(n))


class Process:
    def __init__(self, vpid):
        self.vpid = vpid
        self.role = "other"
        self.procname = ""
        self.parent = None      # vpid of the parent, if it was traced forking us
        self.outside_parent = None  # ppid from `start` (a shell, ctest...)
        self.children = []      # vpids, in fork order
        self.fork_ts = None     # when the parent forked us
        self.first_ts = self.last_ts = None
        self.by_kind = {}       # provider short name ("io", "sockets", ...) -> events
        self.failed = []        # (ts, call, errno name)
        self.threads = set()

    @property
    def label(self):
        return f"{self.role}[{self.vpid}]"

    @property
    def is_child(self):
        return self.parent is not None


class Trace:
    """All events of a trace (time-ordered) and the processes."""

    def __init__(self, path, events=None, stats=None):
        if events is None:
            events, stats = reader.read(path)
        self.path, self.events, self.stats = path, events, stats
        self.t0 = events[0].ts if events else 0
        self.procs = {}
        for e in events:
            self._see(e)
        for p in self.procs.values():  # forked, but none of its own events was recorded
            if p.first_ts is None:
                p.first_ts = p.last_ts = p.fork_ts

    def rel_ms(self, ts):
        return (ts - self.t0) / 1e6

    def proc(self, vpid):
        p = self.procs.get(vpid)
        if p is None:
            p = self.procs[vpid] = Process(vpid)
        return p

    def _see(self, e):
        p = self.proc(e.vpid)
        if p.first_ts is None:
            p.first_ts = e.ts
            p.role = e.f.get("role", "other")
        p.last_ts = e.ts
        if e.procname:
            p.procname = e.procname
        p.threads.add(e.vtid)
        provider = e.name.split(":", 1)[0].replace("v6lab_", "")
        p.by_kind[provider] = p.by_kind.get(provider, 0) + 1
        err = e.f.get("err", 0)
        short = e.short
        if err and not short.endswith("_entry"):
            p.failed.append((e.ts, short, errno_name(err)))
        if short == "fork" and e.f.get("child_pid", -1) > 0:
            c = self.proc(e.f["child_pid"])
            c.parent, c.fork_ts = e.vpid, e.ts
            if c.vpid not in p.children:
                p.children.append(c.vpid)
        elif short == "fork_child":
            ppid = e.f.get("ppid")
            if p.parent is None and ppid in self.procs:
                p.parent = ppid
                par = self.procs[ppid]
                if p.vpid not in par.children:
                    par.children.append(p.vpid)
        elif short == "start":
            p.outside_parent = e.f.get("ppid")

    def roots(self):
        return sorted((p for p in self.procs.values() if p.parent is None),
                      key=lambda p: (p.first_ts or 0))

    def ordered(self):
        """Processes in the order a reader expects: course server, course clients, the
        student's server and its children, the student's client."""
        def key(p):
            root = p
            while root.parent is not None and root.parent in self.procs:
                root = self.procs[root.parent]
            r = ROLE_ORDER.index(root.role) if root.role in ROLE_ORDER else 9
            return (r, root.first_ts or 0, p.is_child, p.fork_ts or 0, p.first_ts or 0)
        return sorted(self.procs.values(), key=key)
