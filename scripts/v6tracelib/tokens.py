# SPDX-License-Identifier: MIT
"""Every token followed through every hop of the relay (trace/README.md, "One token, hop
by hop"), with the time and latency of each hop; lost, duplicated, altered and reordered
tokens flagged with where it happened."""

# The hops, in the order a token takes them: (key, what a student reads).
HOPS = [
    ("generated", "course client made it"),
    ("sent", "course client wrote it to the IPv6 server (socket)"),
    ("child-read", "ipv6-server child read it (socket)"),
    ("pipe-write", "child wrote it to the pipe"),
    ("pipe-read", "ipv6-server parent read it off the pipe"),
    ("msgsnd", "ipv6-server put it on the message queue"),
    ("msgrcv", "ipv4-client took it off the message queue"),
    ("reply", "ipv4-client sent it back (socket)"),
    ("course-read", "ipv4-server read the reply (socket)"),
    ("verified", "ipv4-server checked it"),
]
HOP_INDEX = {k: i for i, (k, _) in enumerate(HOPS)}
COURSE = ("ipv4-server", "ipv6-client")
# Hops that must keep the order of the hop before them (FIFO: the pipe, the queue, the reply
# built from the queue). The others may legitimately reorder (five connections at once).
FIFO = {"pipe-read": "pipe-write", "msgrcv": "msgsnd", "reply": "msgrcv"}
# Fallbacks: a token split over two reads is in neither read event; the protocol step says
# when the reader had it whole.
FALLBACK = {"child-read": "token_received", "course-read": "token_verified"}

# The events (and, to read them fast, the fields) the token flow needs.
_STEP = ("role", "token", "detail")
_IO = ("role", "kind", "ret", "ntokens", "tokens")
WANT = {"v6lab_protocol:token_generated": _STEP, "v6lab_protocol:token_received": _STEP,
        "v6lab_protocol:token_verified": _STEP, "v6lab_io:read": _IO, "v6lab_io:write": _IO,
        "v6lab_ipc:msgsnd": _IO, "v6lab_ipc:msgrcv": _IO,
        "v6lab_io:write_entry": (), "v6lab_ipc:msgsnd_entry": ()}
# A token leaves when its write starts (X_entry): the reader's read can return before the
# writer's result event is recorded. Without entry events, the result's time is used.
ENTRY = {"v6lab_io:write_entry": "v6lab_io:write", "v6lab_ipc:msgsnd_entry": "v6lab_ipc:msgsnd"}

# The same as rows for reader.scan(): event name -> (tag, fields, positive field). A read,
# write, msgsnd or msgrcv whose bytes carried no token (ntokens 0) is dropped by the reader.
_RIO = ("role", "kind", "ntokens", "tokens")
_RQ = ("role", "ret", "ntokens", "tokens")
ROWS = {"v6lab_protocol:token_generated": ("g", _STEP, None),
        "v6lab_protocol:token_received": ("c", _STEP, None),
        "v6lab_protocol:token_verified": ("v", _STEP, None),
        "v6lab_io:read": ("R", _RIO, "ntokens"), "v6lab_io:write": ("W", _RIO, "ntokens"),
        "v6lab_ipc:msgsnd": ("S", _RQ, "ntokens"), "v6lab_ipc:msgrcv": ("M", _RQ, "ntokens"),
        "v6lab_io:write_entry": ("w", (), None), "v6lab_ipc:msgsnd_entry": ("s", (), None)}
# What --ppid needs (model.LINEAGE as rows).
LINEAGE_ROWS = {"v6lab_process:start": ("P", ("pid", "ppid"), None),
                "v6lab_process:fork": ("F", ("child_pid",), None),
                "v6lab_process:fork_child": ("C", ("pid", "ppid"), None)}
_STEP_KEY = {"g": "generated", "c": "~child-read", "v": "verified"}
_HOP_TAGS = frozenset("gcvRWSM")


def rows_of(events):
    """Events (reader.read) as the rows reader.scan(path, ROWS) makes."""
    rows = []
    for e in events:
        s = ROWS.get(e.name)
        if s is None:
            continue
        tag, fields, positive = s
        if positive is not None and e.f.get(positive, 0) <= 0:
            continue
        rows.append((e.ts, tag, e.vpid, e.vtid, *(e.f.get(n) for n in fields)))
    return rows


def hop_of(e):
    """(hop key, [tokens]) of an event, or None. Protocol fallbacks are keyed '~hop'."""
    rows = rows_of([e])
    if not rows:
        return None
    h = _hop(rows[0])
    return None if h is None else (h[0], h[1])


def _hop(row):
    """(hop key, [tokens], detail) of a row, or None."""
    tag, role = row[1], row[4]
    if role == "other":  # a test helper, not one of the four programs
        return None
    key = _STEP_KEY.get(tag)
    if key is not None:
        tok = row[5]
        if not tok or tok == "-":  # the providers write "-" for "no token"
            return None
        return key, [tok], row[6]
    n = row[6]
    if tag == "S":
        if row[5] != 0:
            return None
        key = "msgsnd"
    elif tag == "M":
        if row[5] < 0:
            return None
        key = "msgrcv"
    else:
        kind = row[5]
        if kind == "pipe":
            key = "pipe-write" if tag == "W" else "pipe-read"
        elif kind != "socket":
            return None
        elif tag == "W":
            key = "sent" if role in COURSE else "reply" if role == "ipv4-client" else None
        else:
            key = ("child-read" if role == "ipv6-server" else
                   "course-read" if role == "ipv4-server" else None)
        if key is None:
            return None
    return key, row[7].split(",")[:n], ""


class Flow:
    __slots__ = ("token", "index", "hops", "fallback", "flags", "_first", "_path")

    def __init__(self, token):
        self.token = token
        self.index = int(token[6]) if len(token) > 6 and token[6].isdigit() else 0
        self.hops = {}       # key -> [(ts, vpid, role, position in the event, detail)]
        self.fallback = {}   # key -> (ts, vpid, role, 0, detail)
        self.flags = []      # {"kind", "hop", "vpid", "ts", "why"}
        self._first = self._path = None

    def done(self):
        """Fix the hops (after follow): seen() and path() are then lookups."""
        first = dict(self.fallback)
        for k, evs in self.hops.items():
            first[k] = evs[0]
        self._first = first
        self._path = [(k, first[k]) for k, _ in HOPS if k in first]

    def seen(self, key):
        """(ts, vpid, role, pos, detail) of a hop: its first event, or the fallback."""
        if self._first is not None:
            return self._first.get(key)
        h = self.hops.get(key)
        if h:
            return h[0]
        return self.fallback.get(key)

    def path(self):
        if self._path is not None:
            return self._path
        return [(k, self.seen(k)) for k, _ in HOPS if self.seen(k)]


def follow(events):
    """Token flows from time-ordered events (all, or those of WANT)."""
    return follow_rows(rows_of(events))


def follow_rows(rows, keep=None):
    """Token flows from time-ordered rows (reader.scan(path, ROWS)); keep: the vpids to
    follow (None: all)."""
    flows = {}
    present = set()
    entries = {}  # (vtid, entry tag) -> time of the entry event
    hop, hop_tags = _hop, _HOP_TAGS
    for row in rows:
        tag = row[1]
        if keep is not None and row[2] not in keep:
            continue
        if tag == "w" or tag == "s":
            entries[(row[3], tag)] = row[0]
            continue
        if tag not in hop_tags:  # lineage rows
            continue
        h = hop(row)
        if h is None:
            continue
        key, toks, detail = h
        ts, vpid, role = row[0], row[2], row[4]
        if tag == "W":
            ts = entries.pop((row[3], "w"), ts)
        elif tag == "S":
            ts = entries.pop((row[3], "s"), ts)
        fb = key[0] == "~"
        if fb:
            key = key[1:]
        present.add(key)
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
    for fl in flows.values():
        fl.done()
    _flag(flows, present)
    return sorted(flows.values(), key=lambda fl: (fl._path[0][1][0], fl.token))


def _flag(flows, present):
    expected = [k for k, _ in HOPS if k in present]
    generators = "generated" in present
    for fl in flows.values():
        path = fl.path()
        # duplicated: the same hop more than once (two reads, two msgsnd, twice in a reply),
        # or the course server's own "duplicate"
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
        # altered: never generated, though the course side was traced, and first seen on the
        # student's side (a course client sending it was started before the trace began)
        if generators and not fl.seen("generated") and path[0][0] != "sent":
            first_key, (ts, vpid, role, _, _) = path[0]
            fl.flags.append(dict(kind="altered", hop=first_key, vpid=vpid, role=role, ts=ts,
                                 why="no course client made this token: it was changed on "
                                     f"the way, first seen at {first_key}"))
        # lost: stops before the last hop the trace shows for any token
        last_key = path[-1][0]
        later = [k for k in expected if HOP_INDEX[k] > HOP_INDEX[last_key]]
        if later:
            ts, vpid, role = path[-1][1][:3]
            fl.flags.append(dict(kind="lost", hop=later[0], vpid=vpid, role=role, ts=ts,
                                 why=f"last seen at {last_key}; never reached {later[0]}"))
    # reordered: a FIFO hop that delivered tokens in another order than they went in,
    # compared within each reading process
    for key, before in FIFO.items():
        groups = {}
        for fl in flows.values():
            a, b = fl.seen(before), fl.seen(key)
            if a and b:
                groups.setdefault(b[1], []).append(((a[0], a[3]), (b[0], b[3]), fl))
        for items in groups.values():
            items.sort(key=lambda x: x[0])
            high = None
            for _, bkey, fl in items:
                if high is not None and bkey < high:
                    b = fl.seen(key)
                    fl.flags.append(dict(kind="reordered", hop=key, vpid=b[1], role=b[2],
                                         ts=b[0], why=f"overtaken at {key}: it went into "
                                         f"{before} earlier than a token that came out first"))
                else:
                    high = bkey if high is None or bkey > high else high


def summary(flows):
    s = {"tokens": len(flows), "complete": 0, "lost": 0, "duplicated": 0, "altered": 0,
         "reordered": 0}
    for fl in flows:
        kinds = {f["kind"] for f in fl.flags}
        if not kinds:
            s["complete"] += 1
        for k in kinds:
            s[k] += 1
    return s


def to_json(flows, t0):
    out = []
    for fl in flows:
        hops, prev = [], None
        for key, (ts, vpid, role, _, detail) in fl.path():
            hops.append(dict(hop=key, ts=ts, t_ms=round((ts - t0) / 1e6, 6), vpid=vpid,
                             role=role, latency_ms=None if prev is None
                             else round((ts - prev) / 1e6, 6), detail=detail))
            prev = ts
        out.append(dict(token=fl.token, index=fl.index, hops=hops,
                        flags=[dict(f, t_ms=round((f["ts"] - t0) / 1e6, 6)) for f in fl.flags]))
    return out
