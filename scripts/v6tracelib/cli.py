# SPDX-License-Identifier: MIT
"""scripts/v6trace: turn a v6lab trace into answers a student can act on."""
import argparse
import gc
import json
import signal
import sys

from . import diagram, export, lint, reader, report, state, tokens
from .version import version

EPILOG = """examples:
  scripts/trace -o /tmp/run -- scripts/exercise   # also writes /tmp/run/v6lab-command.json
  scripts/v6trace summary /tmp/run
  scripts/v6trace tokens /tmp/run          # every token, hop by hop
  scripts/v6trace lint /tmp/run            # the classic mistakes (exit 1 if any)
  scripts/v6trace export /tmp/run --chrome /tmp/run.json   # open in ui.perfetto.dev
  scripts/v6trace diagram /tmp/run --svg /tmp/run.svg
  scripts/v6trace report /tmp/run -o /tmp/run.html   # one page: verdict, tokens, findings, diagram

which processes: a trace records every v6lab program of the host. When TRACE holds
v6lab-command.json (scripts/trace -o DIR -- COMMAND writes it: COMMAND's pid), only COMMAND,
the processes it started and their children are analysed, and the student's programs the
preload traced for it with the programs their (untraced) parent started beside them (a
shell, timeout or a Python harness between COMMAND and them records nothing);
--all-processes (or --ppid 0) analyses them all, --ppid PID what PID started.

roles: from what each process did. The course's programs are v6lab's own (their role
field); on the student's side, the process that listens is the IPv6 server, what it forks
are its children, a process that connects to a server is the IPv4 client (summary shows
why). Other processes of the command line (shells, timeout, harnesses) have none: they
are neither followed nor linted.

speed: `tokens` reads a big trace (16 MiB of streams or more) in two processes when the
machine has two CPUs, each stream's packets cut in two halves in a temporary directory;
V6TRACE_WORKERS=1 keeps it to one.
"""


def _who(a):
    """(pid, students) whose processes to keep, or None for all: --ppid PID; else, unless
    --all-processes or --ppid 0, the traced command's (scripts/trace -o DIR -- COMMAND writes
    DIR/COMMAND_FILE), with every process the preload traced for it (state.lineage)."""
    if a.all_processes or a.ppid == 0:
        return None
    if a.ppid is not None:
        return a.ppid, False
    pid = reader.command_pid(a.trace)
    if pid is None:
        return None
    print(f"v6trace: only the processes of the traced command (pid {pid}, from "
          f"{reader.COMMAND_FILE}); --all-processes for every process of the trace",
          file=sys.stderr)
    return pid, True


def _keep_of(a):
    """A function: lineage events -> the vpids to keep (None: all)."""
    who = _who(a)
    if who is None:
        return None
    return lambda events: state.lineage(events, *who)


def _load(a):
    """The state of the trace (of the processes to keep), with its events and stats."""
    events, stats = reader.events(a.trace)
    _warn(stats)
    keep_of = _keep_of(a)
    if keep_of is not None:
        keep = keep_of([e for e in events if e.name in state.LINEAGE])
        events = [e for e in events if e.vpid in keep]
    st = state.build(events)
    st.path, st.events, st.stats = a.trace, events, stats
    return st


def _dump(doc):
    sys.stdout.write(json.dumps(doc, indent=1) + "\n")


def _warn(stats):
    if stats.discarded:
        print(f"v6trace: warning: the tracer discarded {stats.discarded} event(s): the "
              "analysis may miss hops (give the channel bigger sub-buffers)", file=sys.stderr)


def _ms(x):
    return f"{x:.3f}"


def cmd_summary(a):
    t = _load(a)
    rows = []
    for p in t.ordered():
        rows.append(dict(role=p.role, vpid=p.vpid, parent=p.parent, procname=p.procname,
                         role_from="behaviour" if p.by_behaviour else "role field",
                         why=p.why,
                         start_ms=round(t.rel_ms(p.first_ts), 6),
                         end_ms=round(t.rel_ms(p.last_ts), 6),
                         lifetime_ms=round((p.last_ts - p.first_ts) / 1e6, 6),
                         events=dict(sorted(p.by_kind.items())),
                         failed=[dict(t_ms=round(t.rel_ms(ts), 6), call=c, errno=n)
                                 for ts, c, n in p.failed],
                         blocked=[c for c, _, _ in p.blocked]))
    if a.json:
        _dump(dict(trace=a.trace, events=t.stats.events, discarded=t.stats.discarded,
                   processes=rows))
        return 0
    print(f"{a.trace}: {t.stats.events} events, {len(rows)} processes")
    print(f"{'role':<12} {'vpid':>7} {'parent':>7} {'start ms':>10} {'lifetime ms':>11}  "
          f"events by kind  failed calls")
    for r in rows:
        kinds = " ".join(f"{k}={v}" for k, v in r["events"].items())
        failed = {}
        for fc in r["failed"]:
            k = f"{fc['call']} {fc['errno']}"
            failed[k] = failed.get(k, 0) + 1
        ftext = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in failed.items()) or "-"
        print(f"{r['role']:<12} {r['vpid']:>7} {r['parent'] or '-':>7} {_ms(r['start_ms']):>10} "
              f"{_ms(r['lifetime_ms']):>11}  {kinds}  {ftext}")
    for r in rows:
        if r["role_from"] == "behaviour" and r["parent"] is None:
            print(f"  {r['role']}[{r['vpid']}] ({r['procname']}): {r['why']}")
    return 0


def cmd_tree(a):
    t = _load(a)

    def node(p):
        return dict(vpid=p.vpid, role=p.role, procname=p.procname,
                    forked_ms=None if p.fork_ts is None else round(t.rel_ms(p.fork_ts), 6),
                    start_ms=round(t.rel_ms(p.first_ts), 6), end_ms=round(t.rel_ms(p.last_ts), 6),
                    launched_by=p.outside_parent if p.parent is None else None,
                    children=[node(t.procs[c]) for c in p.children if c in t.procs])
    roots = [node(p) for p in t.roots()]
    if a.json:
        _dump(dict(trace=a.trace, roots=roots))
        return 0

    def show(n, depth):
        how = (f"forked at {_ms(n['forked_ms'])} ms" if n["forked_ms"] is not None
               else f"started by pid {n['launched_by']}" if n["launched_by"] else "")
        print(f"{'    ' * depth}{'└── ' if depth else ''}{n['role']} [{n['vpid']}]  "
              f"{how}, {_ms(n['start_ms'])} .. {_ms(n['end_ms'])} ms")
        for c in n["children"]:
            show(c, depth + 1)
    for r in roots:
        show(r, 0)
    return 0


def cmd_tokens(a):
    # The fast path: rows (reader.scan), the state from the few rows it needs.
    flows, s, follower, stats = tokens.read(a.trace, _keep_of(a))
    _warn(stats)
    t0 = stats.first_ts or 0
    if a.json:
        _dump(dict(trace=a.trace, summary=s, tokens=tokens.to_json(flows, t0, follower)))
    else:
        sys.stdout.write(tokens.text(flows, t0, s, follower))  # one buffered write
    return 0 if tokens.all_complete(s) else 1


def cmd_lint(a):
    t = _load(a)
    found = lint.lint(t, available=lambda name: reader.declares(a.trace, name))
    if a.json:
        _dump(dict(trace=a.trace, findings=found))
    elif not found:
        print(f"{a.trace}: no finding: the student's programs made none of the classic mistakes")
    else:
        for f in found:
            where = f" fd {f['fd']}" if f["fd"] is not None else ""
            print(f"{f['t_ms']:10.3f} ms  {f['role']}[{f['vpid']}]{where}: {f['title']} "
                  f"[{f['kind']}]")
            print(f"              {f['why']}")
            print(f"              fix: {f['fix']}")
            print(f"              read: {f['read']}")
        print(f"{len(found)} finding(s)")
    return 1 if found else 0


def cmd_export(a):
    t = _load(a)
    flows, _ = tokens.follow(t.events, t)
    doc = export.chrome(t, flows)
    with open(a.chrome, "w") as f:
        json.dump(doc, f)
    n = len(doc["traceEvents"])
    if a.json:
        json.dump(dict(output=a.chrome, trace_events=n, tokens=len(flows)), sys.stdout)
        print()
    else:
        print(f"wrote {a.chrome}: {n} trace events, {len(flows)} token flows "
              "(open it in https://ui.perfetto.dev or chrome://tracing)")
    return 0


def cmd_diagram(a):
    t = _load(a)
    if a.svg:
        with open(a.svg, "w") as f:
            f.write(diagram.svg(t, a.max_arrows))
    if a.mermaid or not a.svg:
        text = diagram.mermaid(t, a.max_arrows)
        if a.mermaid and a.mermaid != "-":
            with open(a.mermaid, "w") as f:
                f.write(text)
        elif not a.json:
            sys.stdout.write(text)
    lines, arrows = diagram.build(t)
    if a.json:
        ids = diagram.ids(lines)  # the same ids as the Mermaid participants
        _dump(dict(lifelines=[dict(id=ids[ln.key], label=ln.label, role=ln.role)
                              for ln in lines],
                   arrows=[dict(t_ms=round(t.rel_ms(ts), 6), src=ids[x], dst=ids[y],
                                label=lb, style=st) for ts, x, y, lb, st in arrows]))
    elif a.svg:
        print(f"wrote {a.svg}: {len(lines)} lifelines, {len(arrows)} arrows")
    return 0


def cmd_report(a):
    t = _load(a)
    flows, follower = tokens.follow(t.events, t)
    s = tokens.summary(flows, follower)
    found = lint.lint(t, available=lambda name: reader.declares(a.trace, name))
    page = report.html(a.trace, s, tokens.to_json(flows, t.stats.first_ts or 0, follower), found,
                       diagram.svg(t, a.max_arrows))
    with open(a.output, "w") as f:
        f.write(page)
    if a.json:
        _dump(dict(output=a.output, tokens=len(flows), findings=len(found)))
    else:
        print(f"wrote {a.output}: {len(flows)} tokens, {len(found)} finding(s), the diagram "
              "(open it in a browser)")
    return 0


class _Parser(argparse.ArgumentParser):
    """Bad input: one line that says what was wrong and where to look, exit 2."""

    def error(self, message):
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def main(argv=None):
    ap = _Parser(prog="v6trace", description=__doc__, epilog=EPILOG,
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"v6trace (v6lab) {version()}")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND",
                            parser_class=_Parser)

    def add(name, fn, helptext):
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("trace", metavar="TRACE", help="trace directory (scripts/trace -o DIR)")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        who = p.add_mutually_exclusive_group()
        who.add_argument("--ppid", type=int, metavar="PID",
                         help="only PID and the processes it started, and their children "
                              "(the trace records every v6lab program of the host). Default: "
                              f"the traced command's pid if TRACE/{reader.COMMAND_FILE} "
                              "exists (scripts/trace -o DIR -- COMMAND writes it); 0: all")
        who.add_argument("--all-processes", action="store_true",
                         help="every process of the trace, even with "
                              f"TRACE/{reader.COMMAND_FILE} (same as --ppid 0)")
        p.set_defaults(fn=fn)
        return p
    add("summary", cmd_summary, "one row per process: role, vpid, parent, lifetime, events "
        "by kind, failed calls with errno names")
    add("tree", cmd_tree, "the process tree rebuilt from the fork events")
    add("tokens", cmd_tokens, "every token through every hop its IPC allows, with times and "
        "latencies; lost, unseen, duplicated, altered, reordered tokens and those of a FAILed "
        "session flagged, unobservable hops named (exit 1 if any, or a FAIL verdict)")
    add("lint", cmd_lint, "the classic mistakes of the assignment in the student's "
        "programs (v6lab's or their own), from the trace alone (exit 1 if any)")
    p = add("export", cmd_export, "Chrome/Perfetto trace-event JSON: a track per process, "
            "spans for connections and blocking calls, a flow arrow per token")
    p.add_argument("--chrome", metavar="OUT.json", required=True)
    p = add("diagram", cmd_diagram, "the run as a sequence diagram (SVG, or Mermaid text)")
    p.add_argument("--svg", metavar="OUT.svg")
    p.add_argument("--mermaid", metavar="OUT.mmd", nargs="?", const="-",
                   help="Mermaid text (to stdout, or to OUT.mmd)")
    p.add_argument("--max-arrows", type=int, default=400, help="draw at most this many (400)")
    p = add("report", cmd_report, "one HTML page for a browser: the verdict, each token's "
            "path, the findings with their fixes, the diagram (works offline)")
    p.add_argument("-o", "--output", metavar="OUT.html", required=True)
    p.add_argument("--max-arrows", type=int, default=400, help="draw at most this many (400)")
    args = sys.argv[1:] if argv is None else argv
    if args and args[0].startswith("-") and args[0] not in ("-h", "--help", "--version"):
        ap.error(f"unknown option '{args[0]}': a COMMAND comes first")  # not "COMMAND required"
    a = ap.parse_args(args)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `v6trace ... | head` ends quietly
    # A run makes millions of small objects and few cycles: the cyclic collector would
    # rescan them over and over (a third of `tokens` on a big trace). Refcounting still
    # frees them; the process is short-lived.
    gc.disable()
    try:
        return a.fn(a)
    except (FileNotFoundError, ValueError) as e:
        print(f"v6trace: {e}", file=sys.stderr)
        return 2
