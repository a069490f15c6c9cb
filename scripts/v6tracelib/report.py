# SPDX-License-Identifier: MIT
"""One HTML page a student opens after a run (`v6trace report TRACE -o report.html`, and
scripts/check -o DIR writes DIR/report.html): the verdict, each token's path, the findings
with their fixes, the sequence diagram inline. Self-contained: no script, no font, no file
or address outside the page, so it works offline and from a mail attachment."""
from html import escape

STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 70em; padding: 0 1em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.verdict { font-size: 1.2em; padding: .6em 1em; border-radius: .3em; display: inline-block; }
.pass { background: #d8f5d8; color: #145214; } .fail { background: #ffd8d8; color: #7a1010; }
.none { background: #eee; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: .2em .6em; text-align: left; }
th { background: #f0f0f0; } tr:nth-child(even) td { background: #fafafa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.token { font-family: monospace; } .flag { color: #7a1010; font-weight: bold; }
.finding { border-left: 4px solid #c05000; padding: .3em .8em; margin: .8em 0; background: #fff8f0; }
.fix { color: #145214; } .muted { color: #666; font-size: .9em; }
.diagram { overflow-x: auto; border: 1px solid #ddd; padding: .5em; }
"""


def _verdict(summary):
    verdicts = summary["verdicts"]
    if not verdicts:
        return '<p class="verdict none">no verdict in the trace (the course server gave none)</p>'
    out = []
    for v in verdicts:
        word = "PASS" if v["pass"] else "FAIL"
        reason = "" if v["reason"] in ("", "-", None) else f"; {v['reason']}"
        out.append(f'<p class="verdict {word.lower()}">{word}: {v["ok"]}/{v["expected"]} tokens, '
                   f'concurrent: {escape(str(v["concurrent"]))}{escape(reason)}'
                   f' <span class="muted">(ipv4-server[{v["vpid"]}], {v["t_ms"]:.3f} ms)</span></p>')
    return "\n".join(out)


def _tokens(flows, summary):
    s = summary
    line = (f"{s['tokens']} token(s): {s['complete']} complete, {s['lost']} lost, "
            f"{s['duplicated']} duplicated, {s['altered']} altered, {s['reordered']} reordered")
    out = [f"<p>{escape(line)}</p>"]
    for n in s["not_observable"]:
        out.append(f'<p class="muted">not observable: {escape(n["hop"])}: {escape(n["why"])}</p>')
    out.append("<table><tr><th>token</th><th>state</th><th>hops (time since the trace began)</th>"
               "<th>last hop</th></tr>")
    for fl in flows:
        flags = sorted({f["kind"] for f in fl["flags"]})
        state = (f'<span class="flag">{escape(", ".join(flags))}</span>' if flags else "ok")
        hops = " &rarr; ".join(f'{escape(h["hop"])} <span class="muted">{h["t_ms"]:.1f}</span>'
                               for h in fl["hops"])
        last = fl["hops"][-1] if fl["hops"] else None
        last = f'{escape(last["role"])}[{last["vpid"]}]' if last else "-"
        out.append(f'<tr><td class="token">{escape(fl["token"])}</td><td>{state}</td>'
                   f"<td>{hops}</td><td>{last}</td></tr>")
        for f in fl["flags"]:
            out.append(f'<tr><td></td><td colspan="3" class="flag">{escape(f["kind"])} at '
                       f'{escape(f["hop"])}: {escape(f["why"])}</td></tr>')
    out.append("</table>")
    return "\n".join(out)


def _findings(findings):
    if not findings:
        return "<p>No finding: the student's programs made none of the classic mistakes.</p>"
    out = []
    for f in findings:
        where = f" fd {f['fd']}" if f.get("fd") is not None else ""
        out.append(f'<div class="finding"><b>{escape(f["title"])}</b> '
                   f'<span class="muted">[{escape(f["kind"])}] {escape(f["role"])}[{f["vpid"]}]'
                   f'{escape(where)} at {f["t_ms"]:.3f} ms</span>'
                   f'<p>{escape(f["why"])}</p><p class="fix">fix: {escape(f["fix"])}</p>'
                   f'<p class="muted">read: {escape(f["read"])}</p></div>')
    return "\n".join(out)


def html(path, summary, flows, findings, svg):
    """The page: summary and flows as `tokens --json` gives them, findings as `lint --json`,
    svg the diagram (diagram.svg())."""
    title = f"v6lab run: {path}"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        '<h2 id="verdict">Verdict</h2>', _verdict(summary),
        '<h2 id="tokens">Tokens, hop by hop</h2>', _tokens(flows, summary),
        f'<h2 id="findings">Findings ({len(findings)})</h2>', _findings(findings),
        '<h2 id="diagram">The run as a sequence diagram</h2>',
        f'<div class="diagram">{svg}</div>',
        f'<p class="muted">From the trace {escape(path)} (babeltrace2 reads it; '
        "scripts/v6trace tokens, lint and diagram print the same).</p>",
        "</body></html>", ""])
