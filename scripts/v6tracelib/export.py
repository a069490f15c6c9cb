# SPDX-License-Identifier: MIT
"""Chrome / Perfetto trace-event JSON: a track per process (a row per thread), spans for
blocking calls and connection lifetimes, and a flow arrow per token from hop to hop.
Open it in https://ui.perfetto.dev or chrome://tracing."""
from . import tokens as tk

# Calls drawn as spans (X_entry -> X): the ones that can block.
BLOCKING = {"accept", "connect", "read", "write", "msgrcv", "msgsnd", "waitpid", "fork"}


def chrome(trace, flows):
    us = lambda ts: (ts - trace.t0) / 1000.0  # noqa: E731
    out = []
    for i, p in enumerate(trace.ordered()):
        name = f"{p.role} {p.vpid}" + (f" (child of {p.parent})" if p.parent else "")
        out.append(dict(ph="M", name="process_name", pid=p.vpid, tid=p.vpid, args=dict(name=name)))
        out.append(dict(ph="M", name="process_sort_index", pid=p.vpid, tid=p.vpid,
                        args=dict(sort_index=i)))
    for (vpid, vtid), name in thread_names(trace).items():
        out.append(dict(ph="M", name="thread_name", pid=vpid, tid=vtid, args=dict(name=name)))
    open_calls, conns = {}, {}
    for e in trace.events:
        s, f = e.short, e.f
        key = (e.vtid, s[:-6] if s.endswith("_entry") else s)
        if s.endswith("_entry"):
            if key[1] in BLOCKING:
                open_calls[key] = e
            continue
        start = open_calls.pop(key, None)
        if start is not None:
            args = {k: v for k, v in f.items() if k != "role"}
            label = s if "kind" not in f else f"{s} {f['kind']}"
            out.append(dict(ph="X", name=label, cat="call", pid=e.vpid, tid=e.vtid,
                            ts=us(start.ts), dur=max(us(e.ts) - us(start.ts), 0.001), args=args))
        elif s not in BLOCKING:
            out.append(dict(ph="i", s="t", name=s, cat=e.name.split(":")[0], pid=e.vpid,
                            tid=e.vtid, ts=us(e.ts), args={k: v for k, v in f.items() if k != "role"}))
        # connection lifetimes: accept/connect -> close of that fd in that process
        if s == "accept" and f.get("new_fd", -1) >= 0:
            conns[(e.vpid, f["new_fd"])] = (e, f"connection from {f.get('addr')}:{f.get('port')}")
        elif s == "connect" and f.get("ret", -1) == 0:
            conns[(e.vpid, f["fd"])] = (e, f"connection to {f.get('addr')}:{f.get('port')}")
        elif s == "close" and (e.vpid, f.get("fd")) in conns:
            c, label = conns.pop((e.vpid, f["fd"]))
            out.append(dict(ph="X", name=label, cat="connection", pid=e.vpid, tid=c.vtid,
                            ts=us(c.ts), dur=max(us(e.ts) - us(c.ts), 0.001),
                            args=dict(fd=f["fd"])))
    end = max((p.last_ts for p in trace.procs.values()), default=trace.t0)
    for (vpid, fd), (c, label) in conns.items():  # still open when the trace ended
        out.append(dict(ph="X", name=label + " (never closed)", cat="connection", pid=vpid,
                        tid=c.vtid, ts=us(c.ts), dur=max(us(end) - us(c.ts), 0.001),
                        args=dict(fd=fd)))
    # a flow per token: s at its first hop, t at each middle hop, f at its last
    for n, fl in enumerate(flows, 1):
        path = fl.observed()
        for i, (key, (ts, vpid, role, _, _)) in enumerate(path):
            tid = next((e.vtid for e in _at(trace, vpid, ts)), vpid)
            out.append(dict(ph="i", s="t", name=f"{fl.token[:7]} {key}", cat="token", pid=vpid,
                            tid=tid, ts=us(ts), args=dict(token=fl.token, hop=key)))
            if len(path) > 1:
                ph = "s" if i == 0 else "f" if i == len(path) - 1 else "t"
                ev = dict(ph=ph, id=n, name=fl.token, cat="token", pid=vpid, tid=tid, ts=us(ts))
                if ph == "f":
                    ev["bp"] = "e"
                out.append(ev)
    return {"traceEvents": out, "displayTimeUnit": "ms",
            "otherData": {"source": "scripts/v6trace export", "trace": trace.path,
                          "tokens": len(flows), "hops": list(tk.HOPS)}}


def thread_names(trace):
    """A name for every thread that has events: "main" for a process's first thread, "course
    client K" for one of the course server's client threads (K from the token it wrote),
    else "thread TID"."""
    names = {}
    for e in trace.events:
        key = (e.vpid, e.vtid)
        if e.vtid == e.vpid:
            names[key] = "main"
        elif not names.get(key, "thread ").startswith("course client"):
            k = _client_index(trace, e)
            names[key] = f"course client {k}" if k else f"thread {e.vtid}"
    return names


def _client_index(trace, e):
    """K if e is the course server's write of a token (clientK:...) from a thread."""
    if e.short != "write" or trace.role_of(e) != "ipv4-server":
        return None
    toks = str(e.f.get("tokens") or "")
    return int(toks[6]) if toks.startswith("client") and toks[6:7].isdigit() else None


_index = {}


def _at(trace, vpid, ts):
    """The events of vpid at exactly ts (to find the thread of a hop)."""
    if not _index or _index.get("trace") is not trace:
        _index.clear()
        _index["trace"] = trace
        for e in trace.events:
            _index.setdefault((e.vpid, e.ts), []).append(e)
    return _index.get((vpid, ts), [])
