# SPDX-License-Identifier: MIT
"""The run as a sequence diagram: the four roles and the children as lifelines; connect,
token, pipe, msgsnd/msgrcv, reply and verdict as arrows. SVG (drawn here, no library) or
Mermaid text."""
from xml.sax.saxutils import escape

from . import tokens as tk


class Lifeline:
    def __init__(self, key, label, role):
        self.key, self.label, self.role = key, label, role


def build(trace):
    """(lifelines in display order, arrows [(ts, from key, to key, label, style)])."""
    lines, arrows = {}, []
    procs = trace.procs
    main_server = {}  # ipv6-server child vpid -> its parent (the one that accepts)

    def proc_key(vpid):
        p = procs[vpid]
        if vpid not in lines:
            label = f"{p.role} {vpid}" if not p.is_child else f"{p.role} child {vpid}"
            lines[vpid] = Lifeline(vpid, label, p.role)
        return vpid

    def client_key(e, index=None):
        # a course client: an ipv6-client process, or one thread of the ipv4-server
        if trace.role_of(e) == "ipv6-client":
            k = e.vpid
        else:
            k = (e.vpid, e.vtid)
        thread = k != e.vpid  # the course server runs its clients as threads
        if k not in lines:
            lines[k] = Lifeline(k, "ipv6-client", "ipv6-client")
        if index:
            lines[k].label = (f"ipv6-client {index} (ipv4-server thread {e.vtid})" if thread
                              else f"ipv6-client {index}")
        return k

    v6_servers = [p.vpid for p in trace.ordered() if p.role == "ipv6-server" and not p.is_child]
    v4_servers = [p.vpid for p in trace.ordered() if p.role == "ipv4-server" and not p.is_child]
    for p in trace.ordered():  # lifelines in the reader's order
        if p.role != "ipv6-client" and (p.role != "ipv4-server" or not p.is_child):
            proc_key(p.vpid)
    for p in procs.values():
        if p.role == "ipv6-server" and p.is_child:
            main_server[p.vpid] = p.parent

    def session_server(vpid):
        # an ipv4-server session child draws on its parent's lifeline
        p = procs[vpid]
        while p.is_child and p.role == "ipv4-server" and p.parent in procs:
            p = procs[p.parent]
        return proc_key(p.vpid)

    hops = {}  # id(event) -> (hop key, time, tokens): the token flow's, event by event
    tk.follow(trace.events, trace, on_hop=lambda e, *h: hops.__setitem__(id(e), h))
    for e in trace.events:
        s, f, role = e.short, e.f, trace.role_of(e)
        if s == "connect" and f.get("ret", -1) in (0, -1) and f.get("err", 0) in (0, 115):
            if role in ("ipv6-client", "ipv4-server") and v6_servers:
                arrows.append((e.ts, client_key(e), v6_servers[0], "connect", "solid"))
            elif role == "ipv4-client" and v4_servers:
                arrows.append((e.ts, proc_key(e.vpid), v4_servers[0], "connect", "solid"))
        elif s == "fork" and f.get("child_pid", -1) > 0 and role == "ipv6-server":
            arrows.append((e.ts, proc_key(e.vpid), proc_key(f["child_pid"]), "fork()", "dashed"))
        elif s == "verdict":
            clients = [p.vpid for p in trace.ordered() if p.role == "ipv4-client"]
            if clients:
                text = ("PASS" if f.get("pass") else "FAIL") + \
                    f": {f.get('ok')}/{f.get('expected')}, concurrent: {f.get('concurrent')}"
                arrows.append((e.ts, session_server(e.vpid), proc_key(clients[0]),
                               f"verdict {text}", "solid"))
        h = hops.get(id(e))
        if h is None:
            continue
        key, ts, toks = h  # ts: a token leaves when its write starts (X_entry)
        names = " ".join(t[:7] for t in toks)
        e = type(e)(ts, e.vpid, e.vtid, e.procname, e.name, e.f)
        if key == "sent":
            arrows.append((e.ts, client_key(e, int(toks[0][6])), None, f"token {names}", "token"))
        elif key == "child-read":
            # complete the last token arrow that has no target yet
            for i in range(len(arrows) - 1, -1, -1):
                a = arrows[i]
                if a[2] is None and a[3] == f"token {names}":
                    arrows[i] = (a[0], a[1], proc_key(e.vpid), a[3], a[4])
                    break
        elif key == "pipe-write" and e.vpid in main_server:
            arrows.append((e.ts, proc_key(e.vpid), proc_key(main_server[e.vpid]),
                           f"pipe {names}", "solid"))
        elif key in ("msgsnd", "fifo-write"):
            clients = [p.vpid for p in trace.ordered() if p.role == "ipv4-client"]
            if clients:
                arrows.append((e.ts, proc_key(e.vpid), proc_key(clients[0]),
                               f"{'msgsnd' if key == 'msgsnd' else 'FIFO'} {names}", "queue"))
        elif key == "reply" and v4_servers:
            arrows.append((e.ts, proc_key(e.vpid), v4_servers[0],
                           f"reply: {len(toks)} tokens", "solid"))
    arrows = [a for a in arrows if a[2] is not None and a[1] != a[2]]
    arrows.sort(key=lambda a: a[0])
    order = {"ipv4-server": 0, "ipv6-client": 1, "ipv6-server": 2, "ipv4-client": 3, "other": 4}
    ordered = sorted(lines.values(), key=lambda ln: (order.get(ln.role, 5),
                     _first(arrows, ln.key)))
    used = {a[1] for a in arrows} | {a[2] for a in arrows}
    keep = [ln for ln in ordered if ln.key in used or ln.role not in ("ipv6-client", "other")]
    return keep, arrows


def _first(arrows, key):
    for a in arrows:
        if key in (a[1], a[2]):
            return a[0]
    return 1 << 62


def svg(trace, max_arrows=400):
    lines, arrows = build(trace)
    cut = len(arrows) - max_arrows if len(arrows) > max_arrows else 0
    arrows = arrows[:max_arrows]
    col, row, top, left = 150, 26, 70, 90
    x = {ln.key: left + col * i + col // 2 for i, ln in enumerate(lines)}
    width = left + col * len(lines) + 20
    height = top + row * (len(arrows) + 2) + (20 if cut else 0)
    colours = {"ipv4-server": "#d8e8ff", "ipv6-client": "#ffe8c8", "ipv6-server": "#d8f5d8",
               "ipv4-client": "#f5d8f0"}
    title = f"v6lab run: {trace.path}"
    legend = (("solid", "#333", "call (connect, pipe, reply, verdict)"),
              ("token", "#c05000", "a token written"), ("queue", "#6a2ca0", "message queue / FIFO"),
              ("dashed", "#333", "fork()"))
    height += 40  # the legend under the last arrow
    # viewBox, and the width of the window it is shown in: a browser scales it to fit
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + 24}" '
           f'width="100%" preserveAspectRatio="xMinYMin meet" '
           f'font-family="sans-serif" font-size="11">',
           f'<title>{escape(title)}</title>',
           '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" '
           'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#333"/></marker></defs>',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="4" y="{height + 16}" font-size="13" font-weight="bold">'
           f'{escape(title)}</text>']
    for ln in lines:
        cx = x[ln.key]
        out.append(f'<line x1="{cx}" y1="{top - 20}" x2="{cx}" y2="{height - 50}" '
                   'stroke="#999" stroke-dasharray="4,3"/>')
        out.append(f'<rect x="{cx - col // 2 + 6}" y="10" width="{col - 12}" height="36" rx="4" '
                   f'fill="{colours.get(ln.role, "#eee")}" stroke="#555"/>')
        out.append(f'<text x="{cx}" y="32" text-anchor="middle">{escape(ln.label)}</text>')
    for i, (ts, a, b, label, style) in enumerate(arrows):
        y = top + row * i + 10
        x1, x2 = x[a], x[b]
        dash = ' stroke-dasharray="5,3"' if style in ("dashed", "queue") else ""
        colour = {"token": "#c05000", "queue": "#6a2ca0"}.get(style, "#333")
        out.append(f'<text x="4" y="{y + 4}" fill="#777">{trace.rel_ms(ts):.1f} ms</text>')
        out.append(f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="{colour}"{dash} '
                   'marker-end="url(#arrow)"/>')
        out.append(f'<text x="{(x1 + x2) / 2}" y="{y - 4}" text-anchor="middle" '
                   f'fill="{colour}">{escape(label)}</text>')
    if cut:
        out.append(f'<text x="4" y="{height - 48}">... {cut} more arrows (see --max-arrows)</text>')
    lx = 4
    for style, colour, what in legend:  # the legend: what each kind of arrow is
        y = height - 14
        dash = ' stroke-dasharray="5,3"' if style in ("dashed", "queue") else ""
        out.append(f'<line class="legend" x1="{lx}" y1="{y}" x2="{lx + 30}" y2="{y}" '
                   f'stroke="{colour}"{dash} marker-end="url(#arrow)"/>')
        out.append(f'<text class="legend" x="{lx + 36}" y="{y + 4}" fill="{colour}">'
                   f'{escape(what)}</text>')
        lx += 46 + 6 * len(what)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def ids(lines):
    """A lifeline's id in Mermaid and in `diagram --json`: p0, p1, ... in display order."""
    return {ln.key: f"p{i}" for i, ln in enumerate(lines)}


def mermaid(trace, max_arrows=400):
    lines, arrows = build(trace)
    ids_ = ids(lines)
    out = ["sequenceDiagram"]
    for ln in lines:
        out.append(f"    participant {ids_[ln.key]} as {ln.label}")
    for ts, a, b, label, style in arrows[:max_arrows]:
        op = "-->>" if style in ("dashed", "queue") else "->>"
        text = label.replace(";", ",").replace("#", "")
        out.append(f"    {ids_[a]}{op}{ids_[b]}: {text} ({trace.rel_ms(ts):.1f} ms)")
    if len(arrows) > max_arrows:
        out.append(f"    Note over {ids_[lines[0].key]}: {len(arrows) - max_arrows} more arrows")
    return "\n".join(out) + "\n"
