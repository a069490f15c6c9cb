# SPDX-License-Identifier: MIT
"""A check's report (run.check()'s dict) as text for the student: the verdict first, then
what their programs did, the tokens hop by hop, the findings and how to fix them, what the
check cleaned up, and where the files are."""
import shlex

from . import ipc
from .run import COURSE_ROLES


def _exit(e):
    if not e:
        return "still running"
    return f"code {e['code']}" if "code" in e else f"killed by {e['signal']}"


def _program(name, s):
    if not s.get("argv"):
        return f"  {name:<7} not started"
    if name == "server":
        ls = s.get("listening") or []
        did = ("listened on " + ", ".join(f"[{a}]:{p}" for a, p in ls)) if ls else \
            "never listened"
    else:
        did = f"read {len(s.get('typed') or [])} of the 6 answers from its terminal"
    end = ("stopped by the check" if s.get("stopped_by_check")
           else f"ended by itself ({_exit(s.get('exit'))})")
    return f"  {name:<7} {did}; {end}\n          {shlex.join(s['argv'])}"


def _tokens(t):
    flows = sorted(t["flows"], key=lambda fl: (fl["index"], fl["token"]))
    if not flows:
        return ["tokens: none in the trace (no course client got to send one)"]
    out = []
    if t["followed"] == t["expected"]:
        head = f"tokens: {t['followed']} of {t['expected']} followed through your programs"
    elif t["followed"]:
        head = (f"tokens: {t['followed']} of {t['expected']} followed through your programs, "
                f"{t['seen'] - t['followed']} not")
    else:
        head = (f"tokens: {t['seen']} seen, none followed through your programs: the trace "
                "shows no hop of theirs")
    out.append(head + "; ms after the first was made:")
    starts = [h["t_ms"] for fl in flows for h in fl["hops"] if h["hop"] == "generated"]
    t0 = min(starts) if starts else min(h["t_ms"] for fl in flows for h in fl["hops"])
    keys, by = [], {}
    for fl in flows:
        for h in fl["hops"]:
            if h["hop"] not in by:
                keys.append(h["hop"])
                by[h["hop"]] = h["role"] + (" (course)" if h["role"] in COURSE_ROLES else "")
    names = [fl["token"].split(":")[0] for fl in flows]
    out.append(f"  {'hop':<12} {'by':<22}" + "".join(f"{n:>10}" for n in names))
    for k in keys:
        cells = []
        for fl in flows:
            h = next((h for h in fl["hops"] if h["hop"] == k), None)
            cells.append(f"{h['t_ms'] - t0:>10.1f}" if h else f"{'-':>10}")
        out.append(f"  {k:<12} {by[k]:<22}" + "".join(cells))
    for fl in flows:
        for f in fl["flags"]:
            out.append(f"  ! {fl['token']}: {f['kind']} at {f['hop']} ({f['role']}[{f['vpid']}]): "
                       f"{f['why']}")
    return out


def _findings(found):
    if not found:
        return ["findings: none (scripts/v6trace lint)"]
    groups = {}
    for f in found:
        groups.setdefault(f["kind"], []).append(f)
    out = [f"findings: {len(found)} (scripts/v6trace lint), of {len(groups)} kind(s)"]
    for kind, fs in groups.items():
        f = fs[0]
        n = f" x{len(fs)}" if len(fs) > 1 else ""
        where = f"{f['role']}[{f['vpid']}]" + (f" fd {f['fd']}" if f.get("fd") is not None else "")
        out.append(f"  {kind}{n}: {f['title']}")
        out.append(f"      {where} at {f['t_ms']:.1f} ms: {f['why']}")
        others = sorted({f"{g['role']}[{g['vpid']}]" for g in fs[1:]} - {where})
        if others:
            out.append(f"      the same in: {', '.join(others)}")
        elif len(fs) > 1:
            out.append(f"      and {len(fs) - 1} more like it there (--json lists each)")
        if f.get("fix"):
            out.append(f"      fix: {f['fix']}")
        if f.get("read"):
            out.append(f"      read: {f['read']}")
    return out


def text(r):
    out = []
    g = r["grade"]
    verdict = r["verdict_line"] or (g and f"{g['verdict']}: {g['tokens_ok']}/"
                                    f"{g['tokens_expected']} tokens; {g['reason'] or '-'}") \
        or ("none: the course server gave no verdict (see below)" if r["session"]
            else "none: the check could not run (see the error below)")
    out.append(f"verdict: {verdict}")
    st = r["student"]
    out.append(f"student {st['id']}, IPv6 server [::1]:{st['v6port']}")
    s = r["session"]
    if s:
        out.append("")
        out.append("your programs:")
        out.append(_program("server", s["server"]))
        out.append(_program("client", s["client"]))
        for p in s["problems"]:
            out.append(f"  problem: {p['text']}")
        for n in s["notes"]:
            out.append(f"  note: {n['text']}")
    for o in r["cleaned"]:
        done = "removed it" if o.get("removed") else f"could not remove it: {o.get('error')}"
        who = {s["server"].get("pid"): "your server", s["client"].get("pid"): "your client"} \
            if s else {}
        out.append(f"  left behind: {ipc.describe(o)}, made by "
                   f"{who.get(o['vpid'], o['procname'])} [{o['vpid']}]: the check {done}")
    if s:
        out.append("")
        out += _tokens(r["tokens"])
        out.append("")
        out += _findings(r["findings"])
    for e in r["errors"]:
        out.append(f"error: {e}")
    f = r["files"]
    out.append("")
    out.append(f"files in {f['dir']}/:")
    rows = [("trace", "trace/", f"the trace: babeltrace2 {f['trace']}; scripts/v6trace summary "
                               f"{f['trace']}"),
            ("html", "report.html", "open it in a browser: verdict, tokens, findings, diagram"),
            ("diagram", "diagram.svg", "the run as a sequence diagram (diagram.mmd: Mermaid)"),
            ("client_terminal", "client-terminal.txt", "what your client's terminal showed"),
            ("server_terminal", "server-terminal.txt", "what your server printed"),
            ("course_log", "course-server.log", "the course server's output (grades.jsonl: "
                                                "its grade line)"),
            ("report", "check.json", "this report as JSON (what --json prints)")]
    for key, name, what in rows:
        if f.get(key):
            out.append(f"  {name:<20} {what}")
    why = {"PASS": "PASS, nothing found",
           "FAIL": "FAIL" if r["verdict"] else "no verdict, because of your programs",
           "FINDINGS": "PASS, but with the problems above", "ERROR": "the check could not "
           "finish (error above)"}[r["result"]]
    out.append(f"result: {r['result']} (exit {r['exit']}): {why}")
    return "\n".join(out) + "\n"
