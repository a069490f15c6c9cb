#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scripts/v6trace on traces captured here, during the test (label analysis).

    analysis_test.py SCENARIO          capture the scenario with scripts/trace, check v6trace
    analysis_test.py --play SCENARIO   (what scripts/trace runs: the programs themselves)

Each capture has its own temporary directory (removed at the end) and its own LTTng session
(scripts/trace names it). Exit 77 (skipped) when LTTng or bt2 is not there."""
import collections
import html
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import xml.dom.minidom

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import v6test  # noqa: E402
from v6test import (BIN, TOP, Proc, check, main, peer_unread, queue_exists, scratch_dir,  # noqa: E402
                    skip, start_ipv4_server, start_ipv6_server, wait_until)

V6TRACE = os.path.join(TOP, "scripts", "v6trace")
TRACE = os.path.join(TOP, "scripts", "trace")
HOPS = ["generated", "sent", "child-read", "pipe-write", "pipe-read", "msgsnd", "msgrcv",
        "reply", "course-read", "verified"]


# --- what runs under scripts/trace -----------------------------------------------------

def play_exercise(server="ipv6-server", client="ipv4-client", out=None, args=()):
    """One whole run: the student's two programs and the course server (--once)."""
    tmp = scratch_dir("v6lab-an-play-")
    s6, v6port, key = start_ipv6_server(*args, program=server)
    s4, v4port = start_ipv4_server("--once", "--grades", os.path.join(tmp, "g.jsonl"))
    c = Proc([os.path.join(BIN, client), "--server", "127.0.0.1", "--port", str(v4port),
              "--id", "2021123456", "--v6-addr", "::1", "--v6-port", str(v6port), "--yes"])
    code, cout, err = c.finish(30)
    s4.finish(10)
    s6.finish(10)
    shutil.rmtree(tmp)
    if out:
        with open(out, "a") as f:
            json.dump(dict(code=code, out=cout, err=err, key=key), f)
            f.write("\n")


def play_stress(out, sessions=3, rounds=3):
    """rounds x sessions students against one course server, `sessions` at a time."""
    tmp = scratch_dir("v6lab-an-play-")
    s4, v4port = start_ipv4_server("--grades", os.path.join(tmp, "g.jsonl"), "--stagger-ms", "50")
    for _ in range(rounds):
        pairs = []
        for i in range(sessions):  # one student id per running session (ipv4-server refuses twice)
            s6, v6port, key = start_ipv6_server()
            c = Proc([os.path.join(BIN, "ipv4-client"), "--server", "127.0.0.1", "--port",
                      str(v4port), "--id", str(2021123456 + i), "--v6-addr", "::1", "--v6-port",
                      str(v6port), "--yes"])
            pairs.append((s6, c, key))
        for s6, c, key in pairs:
            code, cout, err = c.finish(30)
            s6.finish(10)
            with open(out, "a") as f:
                json.dump(dict(code=code, out=cout, err=err, key=key), f)
                f.write("\n")
    s4.kill()
    shutil.rmtree(tmp)


def play_split(server, out):
    """One token sent in two pieces, the second 300 ms after the server has read the first
    (as a slow tunnel would deliver it)."""
    s6, port, key = start_ipv6_server("--tokens", "1", program=server)
    s = socket.create_connection(("::1", port))
    s.sendall(b"client1:abcdefghij")
    wait_until(lambda: peer_unread(s) == 0, 30, "the server's read of the first piece")
    time.sleep(0.3)
    s.sendall(b"KLMNOPQRST\r\n")
    time.sleep(0.2)
    s.close()
    s6.finish(10)
    with open(out, "a") as f:
        json.dump(dict(key=key), f)
        f.write("\n")


def play_gated(out, ready, go, done):
    """One exercise, once `go` exists (the test runs another one outside the trace then);
    the capture goes on until `done` exists (that other one has ended)."""
    def wait_for(gate):
        deadline = time.monotonic() + 90
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.02)

    open(ready, "w").close()
    wait_for(go)
    play_exercise(out=out)
    wait_for(done)


def play_student(out, server, client, ipc, mode):
    """A pair of the student corpus (tests/students/) against the course server, as
    tests/students/students.py runs it (it asserts the verdict each deserves); the pids,
    ports and grade to out."""
    sys.path.insert(0, os.path.join(TOP, "tests", "students"))
    import students
    v6test.set_subreaper()  # leaky-server's zombies come to us, and are reaped
    try:
        if mode == "pass":
            s = students.a_pair(server, client, ipc, concurrent=server != "sleepy-server")
        elif mode == "leaky":
            s = students.Session(server, client, ipc)
            s.answer_all()
            s.course_verdict()
            s.expect("PASS", 5, True)
            s.they_finish()
            s.no_orphans(expected=5)
        elif mode == "htons":
            s = students.Session(server, client, ipc, port=students.free_port(htons_too=True))
            s.answer_all()
            students.could_not_connect(s)
        else:  # bind fails: the address it hard-codes is not on this machine
            s = students.Session(server, client, ipc,
                                 server_fails="bind: Cannot assign requested address")
            s.answer_all()
            students.could_not_connect(s)
        with open(out, "a") as f:
            json.dump(dict(server=s.s6.pid, client=s.term.pid, course=s.course.pid,
                           port4=s.port4, port6=s.port6, grade=s.grade), f)
            f.write("\n")
    finally:
        students.clean_up()


PLAYS = {
    "exercise": lambda out, *a: play_exercise(*a, out=out),
    "student": play_student,
    "gated": play_gated,
    "stress": lambda out: play_stress(out),
    "split": lambda out, server: play_split(server, out),
    "storm": lambda out, rounds: subprocess.run([os.path.join(BIN, "relay_storm"), rounds],
                                                check=True, stdout=subprocess.DEVNULL),
}


# --- the test side ---------------------------------------------------------------------

class Capture:
    """A trace of PLAYS[name](*args) in a temporary directory, and what the play recorded."""

    def __init__(self, name, *args):
        self.tmp = scratch_dir("v6lab-an-")
        self.dir = os.path.join(self.tmp, "trace")
        self.out = os.path.join(self.tmp, "play.jsonl")
        r = subprocess.run([TRACE, "-o", self.dir, "--", "/usr/bin/python3", __file__, "--play",
                            name, self.out, *args], capture_output=True, text=True, timeout=150)
        if r.returncode != 0:
            raise AssertionError(f"scripts/trace failed ({r.returncode}): {r.stdout}{r.stderr}")
        check(re.search(r"\b0 discarded", r.stdout), f"events were discarded: {r.stdout}")
        with open(self.out) as f:
            lines = [json.loads(line) for line in f]
        # Other tests may run v6lab programs meanwhile, into this session too: keep ours.
        self.ppid, self.played = lines[0]["ppid"], lines[1:]

    def v6trace(self, *args, code=None, env=None):
        r = subprocess.run([V6TRACE, *args[:1], self.dir, "--ppid", str(self.ppid), *args[1:]],
                           capture_output=True, env=None if env is None else dict(os.environ, **env),
                           text=True, timeout=120)
        if code is not None:
            check(r.returncode == code, f"v6trace {args}: exit {r.returncode}, expected {code}: "
                  f"{r.stdout[-2000:]}{r.stderr[-2000:]}")
        return r

    def json(self, *args, code=None, env=None):
        return json.loads(self.v6trace(*args, "--json", code=code, env=env).stdout)

    def close(self):
        for p in self.played:
            if "key" in p and queue_exists(p["key"]):
                subprocess.run(["ipcrm", "-Q", str(p["key"])], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def sent_tokens(played):
    """The tokens each ipv4-client says it sent back ("sent 145 bytes: t1,...,t5")."""
    out = []
    for p in played:
        for line in p.get("out", "").splitlines():
            if line.startswith("sent ") and ": " in line:
                out += line.split(": ", 1)[1].strip().split(",")
    return out


def check_complete(doc, expected):
    toks = doc["tokens"]
    got = sorted(t["token"] for t in toks)
    check(got == sorted(expected), f"tokens {got} != sent {sorted(expected)}")
    for t in toks:
        check([h["hop"] for h in t["hops"]] == HOPS, f"{t['token']}: hops {t['hops']}")
        check(t["flags"] == [], f"{t['token']}: flags {t['flags']}")
        for h in t["hops"][1:]:
            check(h["latency_ms"] >= 0, f"{t['token']}: negative latency at {h}")
    s = doc["summary"]
    check(s["tokens"] == s["complete"] == len(expected), f"summary {s}")


def lint_kinds(cap):
    doc = cap.json("lint")
    return collections.Counter(f["kind"] for f in doc["findings"]), doc["findings"]


# --- scenarios -------------------------------------------------------------------------

def tokens_five():
    with Capture("exercise") as cap:
        check(cap.played[0]["code"] == 0, f"the run did not PASS: {cap.played}")
        expected = sent_tokens(cap.played)
        check(len(expected) == 5, f"client sent {expected}")
        check_complete(cap.json("tokens", code=0), expected)
        text = cap.v6trace("tokens", code=0).stdout
        check("5 token(s): 5 complete, 0 lost" in text, text)


def tokens_stress():
    with Capture("stress") as cap:
        check(len(cap.played) == 9 and all(p["code"] == 0 for p in cap.played),
              f"not all sessions PASSed: {[p['code'] for p in cap.played]}")
        expected = sent_tokens(cap.played)
        check(len(expected) == 45 and len(set(expected)) == 45, f"{len(expected)} tokens sent")
        check_complete(cap.json("tokens", code=0), expected)
    rounds = 2000
    with Capture("storm", str(rounds)) as cap:
        doc = cap.json("tokens", code=0)
        check(doc["summary"]["complete"] == doc["summary"]["tokens"] == 5 * rounds,
              f"storm: {doc['summary']}")
        # the stream files' packets split over two processes, or read in one: same answer
        for w in ("1", "2"):
            other = cap.json("tokens", code=0, env={"V6TRACE_WORKERS": w})
            check(other == doc, f"V6TRACE_WORKERS={w}: another token flow")
        sizes = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(cap.dir)
                    for f in fs if not f.endswith((".idx", "metadata", ".json")))
        check(sizes > 16 << 20, f"the storm trace ({sizes} bytes) is too small to split")


def lint_reference():
    with Capture("exercise") as cap:
        check(cap.played[0]["code"] == 0, f"the run did not PASS: {cap.played}")
        kinds, found = lint_kinds(cap)
        check(not found, f"the reference programs got findings: {found}")
        check("no finding" in cap.v6trace("lint", code=0).stdout, "human output")


def ppid_default():
    """A v6lab run outside the traced command, during the capture: `tokens` and `lint` leave
    it out by default (TRACE/v6lab-command.json), --all-processes and --ppid 0 keep it."""
    tmp = scratch_dir("v6lab-an-")
    d, out = os.path.join(tmp, "trace"), os.path.join(tmp, "play.jsonl")
    ready, go, done = (os.path.join(tmp, f) for f in ("ready", "go", "done"))
    outside_out = os.path.join(tmp, "outside.jsonl")
    played = []
    try:
        tr = subprocess.Popen([TRACE, "-o", d, "--", "/usr/bin/python3", __file__, "--play",
                               "gated", out, ready, go, done], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while not os.path.exists(ready):
            check(tr.poll() is None and time.monotonic() < deadline,
                  f"the traced command did not start: {tr.communicate()[0] if tr.poll() else ''}")
            time.sleep(0.02)
        # Outside the traced command, a zombie server (5 findings, 5 tokens of its own),
        # running while the traced exercise runs.
        outside = threading.Thread(target=play_exercise, args=("broken/zombie-ipv6-server",),
                                   kwargs=dict(out=outside_out))
        outside.start()
        open(go, "w").close()
        outside.join(90)
        open(done, "w").close()
        check(not outside.is_alive(), "the run outside the traced command did not end")
        stdout, _ = tr.communicate(timeout=150)
        check(tr.returncode == 0 and re.search(r"\b0 discarded", stdout), f"scripts/trace: {stdout}")
        with open(out) as f:
            lines = [json.loads(line) for line in f]
        with open(outside_out) as f:
            played = lines[1:] + [json.loads(line) for line in f]
        with open(os.path.join(d, "v6lab-command.json")) as f:
            pid = json.load(f)["command_pid"]
        check(pid == lines[0]["ppid"], f"v6lab-command.json: pid {pid}, the play's is "
              f"{lines[0]['ppid']}")
        # babeltrace2 is not confused by the file next to the CTF trace
        r = subprocess.run(["babeltrace2", d], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and "v6lab_process:start" in r.stdout, r.stderr[-2000:])

        def v6(*args):
            return subprocess.run([V6TRACE, *args], capture_output=True, text=True, timeout=120)
        expected = sent_tokens(played[:1])
        check(len(expected) == 5, f"traced client sent {expected}")
        r = v6("tokens", d, "--json")
        check(r.returncode == 0, f"tokens: exit {r.returncode}: {r.stderr}")
        check("only the processes of the traced command" in r.stderr
              and len(r.stderr.strip().splitlines()) == 1, f"tokens stderr: {r.stderr}")
        check_complete(json.loads(r.stdout), expected)
        r = v6("lint", d, "--json")
        check(r.returncode == 0 and json.loads(r.stdout)["findings"] == [],
              f"lint found the outside run: {r.stdout[-2000:]}")
        # turned off: the outside run is there (its 5 tokens, its 5 zombies), and whatever
        # else the host ran meanwhile (other tests)
        outside_tokens = sent_tokens(played[1:])
        check(len(outside_tokens) == 5, f"outside client sent {outside_tokens}")
        for off in (["--all-processes"], ["--ppid", "0"]):
            r = v6("tokens", d, "--json", *off)
            check("only the processes" not in r.stderr, f"{off}: {r.stderr}")
            got = {t["token"] for t in json.loads(r.stdout)["tokens"]}
            check(set(expected + outside_tokens) <= got, f"tokens {off}: {sorted(got)}")
            kinds = collections.Counter(f["kind"] for f in json.loads(
                v6("lint", d, "--json", *off).stdout)["findings"])
            check(kinds["child-not-reaped"] >= 5, f"lint {off}: {dict(kinds)}")
    finally:
        for p in played:
            if "key" in p and queue_exists(p["key"]):
                subprocess.run(["ipcrm", "-Q", str(p["key"])], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def lint_variant(program, expected, client="ipv4-client"):
    def scenario():
        server = f"broken/{program}" if program.endswith("ipv6-server") else "ipv6-server"
        cl = f"broken/{program}" if program.endswith("ipv4-client") else client
        with Capture("exercise", server, cl) as cap:
            kinds, found = lint_kinds(cap)
            check(kinds == collections.Counter(expected), f"{program}: findings {dict(kinds)}, "
                  f"expected {expected}: {found}")
            for f in found:
                check(f["why"] and f["read"].startswith("tutorials/04-classic-mistakes.md#")
                      and f["vpid"] > 0 and f["t_ms"] >= 0, f"incomplete finding {f}")
            cap.v6trace("lint", code=1)
    scenario.__name__ = "lint_" + program.replace("-", "_")
    return scenario


def lint_one_read():
    with Capture("split", "broken/one-read-ipv6-server") as cap:
        kinds, found = lint_kinds(cap)
        check(kinds == collections.Counter({"short-read": 1}), f"findings {found}")
    with Capture("split", "ipv6-server") as cap:  # the reference loops: no finding
        kinds, found = lint_kinds(cap)
        check(not found, f"the reference server got findings for a split token: {found}")


def export_json():
    with Capture("exercise") as cap:
        out = os.path.join(cap.tmp, "run.json")
        cap.v6trace("export", "--chrome", out, code=0)
        with open(out) as f:
            doc = json.load(f)
        evs = doc["traceEvents"]
        names = [e["args"]["name"] for e in evs if e["ph"] == "M" and e["name"] == "process_name"]
        roles = collections.Counter(n.split()[0] for n in names)
        check(roles == {"ipv4-server": 1, "ipv6-server": 6, "ipv4-client": 1}, f"processes {names}")
        check(sum("child of" in n for n in names) == 5, f"children {names}")
        flows = collections.defaultdict(list)
        for e in evs:
            if e["ph"] in "stf" and e.get("cat") == "token":
                flows[e["id"]].append(e["ph"])
        check(len(flows) == 5, f"{len(flows)} token flows")
        for ids in flows.values():
            check(ids[0] == "s" and ids[-1] == "f" and len(ids) == len(HOPS), f"flow {ids}")
        spans = [e for e in evs if e["ph"] == "X"]
        check(any(e["cat"] == "connection" for e in spans), "no connection spans")
        check(any(e["name"] == "accept" for e in spans), "no accept span")
        for e in evs:
            check(e["ph"] == "M" or e["ts"] >= 0, f"negative time {e}")
        # every thread that has events is named; the course server's are its clients
        threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in evs
                   if e["ph"] == "M" and e["name"] == "thread_name"}
        used = {(e["pid"], e["tid"]) for e in evs if e["ph"] != "M"}
        check(used <= set(threads), f"threads without a name: {sorted(used - set(threads))}")
        check(sorted(n for n in threads.values() if n.startswith("course client")) ==
              [f"course client {k}" for k in range(1, 6)], f"thread names {threads}")


def diagram_svg():
    with Capture("exercise") as cap:
        out = os.path.join(cap.tmp, "run.svg")
        cap.v6trace("diagram", "--svg", out, code=0)
        dom = xml.dom.minidom.parse(out)
        check(dom.documentElement.tagName == "svg", "not an svg document")
        texts = " ".join(t.firstChild.data for t in dom.getElementsByTagName("text") if t.firstChild)
        for role in ("ipv4-server", "ipv6-client", "ipv6-server", "ipv4-client"):
            check(role in texts, f"{role} not named in the diagram")
        for arrow in ("connect", "token client", "pipe client", "msgsnd client", "reply",
                      "verdict PASS"):
            check(arrow in texts, f"no '{arrow}' arrow")
        mm = cap.v6trace("diagram", "--mermaid", code=0).stdout
        check(mm.startswith("sequenceDiagram") and "->>" in mm, mm[:200])
        root = dom.documentElement  # scales to the window: a viewBox, not a fixed size
        check(root.getAttribute("viewBox").startswith("0 0 ") and root.getAttribute("width") ==
              "100%", f"svg size: {root.getAttribute('viewBox')!r} {root.getAttribute('width')!r}")
        check("fork()" in texts and "message queue / FIFO" in texts, "no legend")
        check(sum(f"ipv6-client {k} (ipv4-server thread" in texts for k in range(1, 6)) == 5,
              "the course clients are not labelled as the course server's threads")
        doc = json.loads(cap.v6trace("diagram", "--json", code=0).stdout)
        ids = {ln["id"] for ln in doc["lifelines"]}
        check(len(ids) == len(doc["lifelines"]) and doc["arrows"] and
              all(a["src"] in ids and a["dst"] in ids for a in doc["arrows"]),
              f"arrow ends are not lifeline ids: {doc['arrows'][:3]} {doc['lifelines'][:3]}")
        part = {ln["id"] for ln in doc["lifelines"]}
        check(all(f"participant {i} as" in mm for i in part), "json ids are not Mermaid's")


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB or RGBA PNG (what Chromium
    writes), decoded here: no imaging library on these machines."""
    import struct
    import zlib
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            check(depth == 8 and colour in (2, 6), f"PNG depth {depth}, colour type {colour}")
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def report_html():
    """`v6trace report` on a run whose server never reaps its children: one page with the
    verdict, the five tokens, the findings and their fixes, the diagram inline, nothing
    outside the page; headless Chromium loads it with no console message, and its screenshot
    shows a page (not a blank one)."""
    chromium = shutil.which("chromium")
    if not chromium:
        skip("no chromium (apt-get install chromium; scripts/setup installs it)")
    with Capture("exercise", "broken/zombie-ipv6-server", "ipv4-client") as cap:
        page = os.path.join(cap.tmp, "report.html")
        cap.v6trace("report", "-o", page, code=0)
        with open(page) as f:
            text = f.read()
        found = cap.json("lint")["findings"]
        check(found, "the zombie server has no finding")
        for want in ('class="verdict pass"', "PASS: 5/5 tokens", "<svg", f"Findings ({len(found)})",
                     "fix: "):
            check(want in text, f"no {want!r} in the report")
        for fnd in found:
            check(html.escape(fnd["title"]) in text and html.escape(fnd["fix"]) in text,
                  f"finding {fnd['kind']} not in the report")
        tokens = re.findall(r'<td class="token">(client\d:[A-Za-z0-9]+)</td>', text)
        check(len(tokens) == 5, f"{len(tokens)} token rows: {tokens}")
        # (references inside the page, such as the SVG's url(#arrow) markers, are fine)
        outside = re.findall(r'<script|\b(?:src|href)\s*=\s*["\']?(?!#)[^"\' >]*|url\((?!#)[^)]*\)', text)
        check(not outside, f"the report loads something from outside the page: {outside[:5]}")
        shot = os.path.join(cap.tmp, "shot.png")
        r = subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                            "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
                            f"--user-data-dir={cap.tmp}/chromium", "--window-size=1280,1600",
                            f"--screenshot={shot}", "file://" + page],
                           capture_output=True, text=True, timeout=120, cwd=cap.tmp)
        check(r.returncode == 0 and os.path.exists(shot), f"chromium: exit {r.returncode}: {r.stderr[-2000:]}")
        dom = subprocess.run([chromium, "--headless=new", "--no-sandbox", "--disable-gpu",
                              f"--user-data-dir={cap.tmp}/chromium", "--dump-dom", "file://" + page],
                             capture_output=True, text=True, timeout=120, cwd=cap.tmp).stdout
        check("Tokens, hop by hop" in dom and dom.count('<td class="token">') == 5 and "<svg" in dom,
              f"chromium's DOM of the page is not the report: {dom[:500]!r}")
        console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln]
        check(not console, f"console messages: {console}")
        w, h, bpp, rows = png_pixels(shot)
        ink = sum(1 for row in rows[::8] for i in range(0, w * bpp, bpp * 8)
                  if sum(row[i:i + 3]) < 600)  # not white, nor near it
        samples = len(rows[::8]) * len(range(0, w * bpp, bpp * 8))
        check(w == 1280 and h == 1600 and ink > samples * 0.02,
              f"the screenshot is {w}x{h}, {ink} of {samples} sampled pixels not white: blank?")
        print(f"  report: {len(text)} bytes, {len(found)} findings, 5 tokens; chromium: "
              f"{100 * ink / samples:.1f}% of the screenshot inked, no console message")


# --- a student's own programs (tests/students/, traced through the preload) ----------

PATHS = {"msg": HOPS,
         "fifo": ["generated", "sent", "child-read", "pipe-write", "pipe-read", "fifo-write",
                  "fifo-read", "reply", "course-read", "verified"],
         "shm": ["generated", "sent", "child-read", "pipe-write", "pipe-read", "shm", "reply",
                 "course-read", "verified"]}
PRELOAD = os.path.join(os.path.dirname(BIN), "lib", "libv6lab-preload.so")


def preload_or_skip():
    if not os.path.exists(PRELOAD):
        skip(f"no {PRELOAD} (the preload is not built)")


def student_processes(cap, played):
    """vpid -> role, from `summary --json`; and the rows."""
    doc = cap.json("summary")
    return {p["vpid"]: p["role"] for p in doc["processes"]}, doc["processes"]


def check_roles(cap, played, children):
    """The roles come from behaviour: the server (and the `children` it forked) is the IPv6
    server, the client the IPv4 client, the course server itself; nothing else has a role
    (nor is there: the harness makes no event)."""
    roles, rows = student_processes(cap, played)
    server, client, course = played["server"], played["client"], played["course"]
    check(roles.get(server) == "ipv6-server", f"server {server}: {roles}")
    check(roles.get(client) == "ipv4-client", f"client {client}: {roles}")
    check(roles.get(course) == "ipv4-server", f"course server {course}: {roles}")
    kids = [r for r in rows if r["parent"] == server]
    check(len(kids) == children and all(r["role"] == "ipv6-server" for r in kids),
          f"{children} children of the server expected: {kids}")
    by = {r["vpid"]: r for r in rows}
    for v in (server, client):
        check(by[v]["role_from"] == "behaviour" and by[v]["why"], f"{by[v]}")
    others = set(roles) - {server, client, course} - {r["vpid"] for r in kids}
    course_side = {v for v in others if roles[v] in ("ipv4-server", "ipv6-client")}
    check(others == course_side, f"processes that are neither the pair nor the course: "
          f"{[by[v] for v in others - course_side]}")
    return roles


def check_student_tokens(cap, played, ipc, passed):
    doc = cap.json("tokens", code=0 if passed else 1)
    toks, s = doc["tokens"], doc["summary"]
    check(len(toks) == 5 and s["tokens"] == 5, f"5 tokens expected: {s}")
    vd = s["verdicts"]
    check(len(vd) == 1 and vd[0]["pass"] is passed, f"one verdict, pass={passed}: {vd}")
    text = cap.v6trace("tokens", code=0 if passed else 1).stdout
    if not passed:  # FAIL 0/5: every token lost where it stopped, never complete
        check(s["complete"] == 0 and s["lost"] == 5, f"a FAILed session: {s}")
        check("0 complete" in text and "5 complete" not in text, text[-600:])
        for t in toks:
            check([h["hop"] for h in t["hops"]] == ["generated"], f"{t['token']}: {t['hops']}")
            lost = [f for f in t["flags"] if f["kind"] == "lost"]
            check(len(lost) == 1 and lost[0]["hop"] == "sent"
                  and "could not connect" in lost[0]["why"], f"{t['token']}: {t['flags']}")
        return doc
    path = PATHS[ipc]
    check(s["complete"] == 5 and s["path"] == path, f"summary {s}")
    check("5 token(s): 5 complete, 0 lost" in text, text[-600:])
    server, client = played["server"], played["client"]
    for t in toks:
        seen = [h["hop"] for h in t["hops"]]
        check(t["path"] == path and seen == [k for k in path if k != "shm"],
              f"{t['token']}: path {t['path']}, seen at {seen}")
        check(t["flags"] == [], f"{t['token']}: {t['flags']}")
        by = {h["hop"]: h for h in t["hops"]}
        check(by["pipe-read"]["vpid"] == server and by["reply"]["vpid"] == client
              and by["child-read"]["vpid"] not in (server, client), f"{t['token']}: {by}")
        if ipc == "shm":  # named, with why, and where the token shows up again
            u = t["unobserved"]
            check(len(u) == 1 and u[0]["hop"] == "shm" and u[0]["seen_again_at"] == "reply"
                  and "System V shared memory" in u[0]["why"]
                  and "not observable" in u[0]["why"], f"{t['token']}: {u}")
        else:
            check(t["unobserved"] == [], f"{t['token']}: {t['unobserved']}")
    if ipc == "shm":
        check("not observable: shm" in text and "seen again at reply" in text, text[-800:])
    return doc


def check_findings(cap, played, roles, expected):
    doc = cap.json("lint", code=1 if expected else 0)
    found = doc["findings"]
    kinds = collections.Counter(f["kind"] for f in found)
    check(kinds == collections.Counter(expected), f"findings {dict(kinds)}, expected "
          f"{expected}: {json.dumps(found, indent=1)[:3000]}")
    for f in found:
        check(f["vpid"] in roles and roles[f["vpid"]] in ("ipv6-server", "ipv4-client"),
              f"a finding outside the student's programs: {f}")
        check(f["why"] and f["fix"] and f["t_ms"] >= 0
              and f["read"].startswith("tutorials/04-classic-mistakes.md#"), f"incomplete {f}")
    return found


def student_scenario(name, server, client, ipc, mode, findings, children=5):
    def scenario():
        preload_or_skip()
        with Capture("student", server, client, ipc, mode) as cap:
            played = cap.played[0]
            roles = check_roles(cap, played, children)
            check_student_tokens(cap, played, ipc, passed=mode in ("pass", "leaky"))
            found = check_findings(cap, played, roles, findings)
            extra(name, cap, played, found)
    scenario.__name__ = "students_" + name
    return scenario


def extra(name, cap, played, found):
    """What each program's findings must say besides their kind."""
    by = collections.defaultdict(list)
    for f in found:
        by[f["kind"]].append(f)
    if name == "htons":
        (f,) = by["htons-missing"]
        port, bound = played["port6"], ((played["port6"] & 0xff) << 8) | (played["port6"] >> 8)
        check(f["vpid"] == played["server"] and f"bound port {bound}" in f["why"]
              and f"byte swap of {port}" in f["why"] and f["fd"] is not None, f"{f}")
    elif name == "hardcoded":
        (f,) = by["bound-to-address"]
        check(f["vpid"] == played["server"] and "2001:0:53aa:64c:1c:2e55:a7b3:fe8b" in f["why"]
              and "Teredo" in f["why"] and "EADDRNOTAVAIL" in f["why"], f"{f}")
    elif name == "sleepy":
        (f,) = by["sleep-as-sync"]
        check(f["vpid"] == played["server"] and "slept 5 time(s)" in f["why"]
              and "read the pipe" in f["why"], f"{f}")
    elif name == "shm":
        (f,) = by["sleep-as-sync"]
        check(f["vpid"] == played["client"] and "polling shared memory" in f["why"], f"{f}")
    elif name == "leaky":
        server = played["server"]
        kids = {f["vpid"] for f in by["listen-in-child"]}
        check(len(kids) == 5 and server not in kids
              and kids == {f["vpid"] for f in by["pipe-read-end-in-child"]}, f"{by}")
        check({f["vpid"] for k in ("listen-never-closed", "pipe-write-end-open",
                                   "child-not-reaped") for f in by[k]} == {server}, f"{by}")


def students_default_filter():
    """The traced command is `sh -c 'timeout ... python3 HARNESS'`: sh, timeout and python
    record nothing (the preload leaves them alone), so nothing in the trace links the
    student's programs to the command's pid. The default filter keeps them all the same (the
    preload only runs in the command's processes), and the course server their harness
    started: the same processes, tokens and findings as --ppid HARNESS."""
    preload_or_skip()
    tmp = scratch_dir("v6lab-an-")
    d, out = os.path.join(tmp, "trace"), os.path.join(tmp, "play.jsonl")
    cmd = (f"timeout 150 /usr/bin/python3 {__file__} --play student {out} leaky-server "
           "read-twice-client msg leaky")
    r = subprocess.run([TRACE, "-o", d, "--", "sh", "-c", cmd], capture_output=True,
                       text=True, timeout=180)
    check(r.returncode == 0 and re.search(r"\b0 discarded", r.stdout),
          f"scripts/trace: {r.stdout}{r.stderr}")
    with open(out) as f:
        lines = [json.loads(line) for line in f]
    harness, played = lines[0]["ppid"], lines[1]

    def v6(*args, code=None):
        r = subprocess.run([V6TRACE, args[0], d, "--json", *args[1:]], capture_output=True,
                           text=True, timeout=120)
        check(code is None or r.returncode == code, f"{args}: exit {r.returncode}: {r.stderr}")
        return json.loads(r.stdout), r.stderr
    summary, err = v6("summary")
    check("only the processes of the traced command" in err, err)
    vpids = {p["vpid"] for p in summary["processes"]}
    check({played["server"], played["client"], played["course"]} <= vpids,
          f"the default filter lost the pair: {sorted(vpids)}, played {played}")
    with open(os.path.join(d, "v6lab-command.json")) as f:
        command = json.load(f)["command_pid"]
    old_style = v6("summary", "--ppid", str(command))[0]
    check(old_style["processes"] == [], "the command's own lineage (sh, timeout, python: no "
          f"events) reaches the pair: {old_style['processes']}")
    by_harness = v6("summary", "--ppid", str(harness))[0]
    check(summary["processes"] == by_harness["processes"],
          f"default {summary['processes']} != --ppid harness {by_harness['processes']}")
    for cmd, code in (("tokens", 0), ("lint", 1)):
        a, b = v6(cmd, code=code)[0], v6(cmd, "--ppid", str(harness), code=code)[0]
        check(a == b, f"{cmd}: the default differs from --ppid {harness}")
    kinds = collections.Counter(f["kind"] for f in v6("lint")[0]["findings"])
    check(kinds["listen-in-child"] == 5, f"lint {dict(kinds)}")


STUDENT_SCENARIOS = [
    student_scenario("eof", "eof-server", "read-twice-client", "msg", "pass", {}),
    student_scenario("onemsg", "onemsg-server", "onemsg-client", "msg", "pass", {}),
    student_scenario("fifo", "fifo-server", "fifo-client", "fifo", "pass", {}),
    student_scenario("shm", "shm-server", "shm-client", "shm", "pass", {"sleep-as-sync": 1}),
    student_scenario("sleepy", "sleepy-server", "read-twice-client", "msg", "pass",
                     {"one-at-a-time": 1, "sleep-as-sync": 1}),
    student_scenario("leaky", "leaky-server", "read-twice-client", "msg", "leaky",
                     {"listen-in-child": 5, "pipe-read-end-in-child": 5, "child-not-reaped": 5,
                      "listen-never-closed": 1, "pipe-write-end-open": 1}),
    student_scenario("htons", "htons-server", "read-twice-client", "msg", "htons",
                     {"htons-missing": 1}, children=0),
    student_scenario("hardcoded", "hardcoded-server", "read-twice-client", "msg", "hardcoded",
                     {"bound-to-address": 1}, children=0),
    students_default_filter,
]


# --- unit tests of the analysis on synthetic events (no LTTng, no trace) --------------

def analysis():
    """The analysis package (scripts/v6tracelib): state and lint need no bt2."""
    sys.path.insert(0, os.path.join(TOP, "scripts"))
    from v6tracelib import lint, spec, state
    return lint, spec, state


def tokens_module():
    analysis()
    try:
        import bt2  # noqa: F401
    except ImportError:
        skip("no bt2 (python3-bt2) in /usr/bin/python3: the token flow's reader needs it")
    from v6tracelib import tokens
    return tokens


def tok(k):
    return f"client{k}:" + "abcdefghijKLMNOPQRST"[k:] + "abcdefghijKLMNOPQRST"[:k]


def swap16(port):
    return ((port & 0xff) << 8) | (port >> 8)


class Story:
    """One relay as the preload records a student's pair (role "other"), with the course
    server (v6lab's, role ipv4-server), event by event; each keyword a mistake (or a way)
    of the student's programs. vpids: server 100, children 101.., client 200, course 300,
    a tool of the command line 400."""

    def __init__(self, n=2, ipc="msg", htons=False, addr="::", listen_in_child=False,
                 listen_open=False, conn_open=False, pipe_r_in_child=False, keep_write=False,
                 zombies=False, keep_ipc=False, sleep=False, sequential=False, killed=False,
                 split=False, verdict_fail=False, unlink=False, fifo_in_child=False):
        self.ev, self.t = [], 0.0
        port = 7002
        bound = swap16(port) if htons else port
        toks = [tok(k) for k in range(1, n + 1)]
        e = self.at
        e(400, "start", pid=400, ppid=1)  # a tool: a pipe, a read, nothing of a role
        e(400, "pipe", read_fd=3, write_fd=4, ret=0)
        e(400, "read", fd=3, kind="pipe", count=10, ret=10, err=0, ntokens=0, tokens="-")
        e(300, "start", pid=300, ppid=1, role="ipv4-server")
        e(300, "socket", fd=3, family="AF_INET", role="ipv4-server")
        e(300, "bind", fd=3, family="AF_INET", addr="0.0.0.0", port=5000, ret=0, err=0,
          role="ipv4-server")
        e(300, "listen", fd=3, backlog=5, ret=0, role="ipv4-server")
        e(100, "start", pid=100, ppid=1)
        e(100, "socket", fd=3, family="AF_INET6")
        e(100, "bind", fd=3, family="AF_INET6", addr=addr, port=bound, ret=0, err=0)
        e(100, "listen", fd=3, backlog=5, ret=0)
        e(100, "pipe", read_fd=4, write_fd=5, ret=0)
        e(200, "start", pid=200, ppid=1)
        e(200, "socket", fd=3, family="AF_INET")
        e(200, "connect", fd=3, family="AF_INET", addr="127.0.0.1", port=5000, ret=0, err=0)
        e(300, "answer_checked", question=2, answer="::1", result="ok", why="-",
          role="ipv4-server")
        e(300, "answer_checked", question=3, answer=str(port), result="ok", why="-",
          role="ipv4-server")
        for t in toks:
            e(300, "token_generated", index=int(t[6]), token=t, detail="-", role="ipv4-server")
        if htons or killed:  # nothing listens where the course clients go / nobody serves
            for k, t in enumerate(toks):
                e(300, "connect", vtid=310 + k, fd=4, family="AF_INET6", addr="::1",
                  port=port, ret=-1, err=111, role="ipv4-server")
            e(100, "accept_entry", fd=3)
            e(200, "msgget", key=7002, id=9, outcome="created")
            e(200, "msgrcv_entry", id=9)
            e(300, "verdict", **{"pass": 0}, ok=0, expected=n, concurrent="unknown",
              reason="course client 1 could not connect", role="ipv4-server")
            return
        kids = []

        def accept(k):
            child, conn = 101 + k, (6 + k if conn_open else 6)
            kids.append(child)
            e(300, "connect", vtid=310 + k, fd=4, family="AF_INET6", addr="::1", port=port,
              ret=0, err=0, role="ipv4-server")
            e(100, "accept_entry", fd=3)
            e(100, "accept", fd=3, new_fd=conn, family="AF_INET6", addr="::1",
              port=40000 + k, err=0)
            e(100, "fork", child_pid=child, err=0)
            e(child, "fork_child", pid=child, ppid=100)
            if not conn_open:
                e(100, "close", fd=conn, kind="socket", ret=0)
            if not listen_in_child:
                e(child, "close", fd=3, kind="socket", ret=0)
            if not pipe_r_in_child:
                e(child, "close", fd=4, kind="pipe", ret=0)
        if not sequential:  # concurrent: every connection accepted before the tokens come
            for k in range(n):
                accept(k)
        for k, t in enumerate(toks):
            child, conn = 101 + k, (6 + k if conn_open else 6)
            if sequential:
                accept(k)
            e(300, "write_entry", vtid=310 + k, fd=4, kind="socket", count=30,
              role="ipv4-server")
            e(300, "write", vtid=310 + k, fd=4, kind="socket", count=30, ret=30, err=0,
              ntokens=1, tokens=t, role="ipv4-server")
            e(child, "read_entry", fd=conn, kind="socket", count=63)
            if split:  # the token in two reads: in neither's tokens field
                e(child, "read", fd=conn, kind="socket", count=63, ret=18, err=0, ntokens=0,
                  tokens="-")
                e(child, "read", fd=conn, kind="socket", count=45, ret=12, err=0, ntokens=0,
                  tokens="-")
            else:
                e(child, "read", fd=conn, kind="socket", count=63, ret=30, err=0, ntokens=1,
                  tokens=t)
            e(child, "read", fd=conn, kind="socket", count=33, ret=0, err=0, ntokens=0,
              tokens="-")
            wfd = 5
            if fifo_in_child:  # the child writes the FIFO itself, no pipe
                e(child, "close", fd=5, kind="pipe", ret=0)
                e(child, "mkfifo", path="/tmp/f", mode=0o666, ret=-1 if k else 0,
                  err=17 if k else 0)
                wfd = 7
            e(child, "write_entry", fd=wfd, kind="pipe", count=30)
            e(child, "write", fd=wfd, kind="pipe", count=30, ret=30, err=0, ntokens=1,
              tokens=t)
            e(child, "close", fd=conn, kind="socket", ret=0)
            if sequential:
                if sleep:
                    e(100, "sleep_entry", usec=2_000_000, t=2000)
                    e(100, "sleep", usec=2_000_000, ret=0)
                e(100, "read_entry", fd=4, kind="pipe", count=30)
                e(100, "read", fd=4, kind="pipe", count=30, ret=30, err=0, ntokens=1, tokens=t)
                e(100, "waitpid", pid=child, options=0, ret=child, status=0, exit_code=0,
                  term_signal=0, err=0)
        if not keep_write:
            e(100, "close", fd=5, kind="pipe", ret=0)
        if not sequential and not fifo_in_child:
            if sleep:
                e(100, "sleep_entry", usec=2_000_000, t=2000)
                e(100, "sleep", usec=2_000_000, ret=0)
            for t in toks:
                e(100, "read_entry", fd=4, kind="pipe", count=30)
                e(100, "read", fd=4, kind="pipe", count=30, ret=30, err=0, ntokens=1, tokens=t)
        if not zombies and not sequential:
            for child in kids:
                e(100, "waitpid", pid=-1, options=0, ret=child, status=0, exit_code=0,
                  term_signal=0, err=0)
        if not listen_open:
            e(100, "close", fd=3, kind="socket", ret=0)
        if ipc == "msg":
            e(100, "msgget", key=7002, id=9, outcome="created")
            e(200, "msgget", key=7002, id=9, outcome="created")
            for t in toks:
                e(100, "msgsnd_entry", id=9, mtype=1, size=256, flags=0)
                e(100, "msgsnd", id=9, mtype=1, size=256, ret=0, err=0, ntokens=1, tokens=t)
                e(200, "msgrcv", id=9, size=256, msgtyp=0, mtype=1, ret=256, err=0, ntokens=1,
                  tokens=t)
            if not keep_ipc:
                e(200, "msgctl", id=9, cmd="IPC_RMID", ret=0, err=0)
        elif ipc == "fifo":
            if not fifo_in_child:  # fd 5, the pipe's write end closed above: now the FIFO
                e(100, "mkfifo", path="/tmp/f", mode=0o666, ret=0, err=0)
                for t in toks:
                    e(100, "write", fd=5, kind="pipe", count=28, ret=28, err=0, ntokens=1,
                      tokens=t)
            e(200, "mkfifo", path="/tmp/f", mode=0o666, ret=-1, err=17)
            for t in toks:
                e(200, "read", fd=4, kind="pipe", count=28, ret=28, err=0, ntokens=1, tokens=t)
            if unlink:
                e(200, "unlink", path="/tmp/f", ret=0, err=0)
        else:  # shm: the tokens are in memory, no event shows them
            e(100, "shmget", key=7003, size=160, flags=0, id=11, outcome="created")
            e(100, "shmat", id=11, flags=0, ret=0, err=0)
            e(200, "shmget", key=7003, size=160, flags=0, id=11, outcome="created")
            e(200, "shmat", id=11, flags=0, ret=0, err=0)
            e(200, "sleep_entry", usec=3_000_000)
            e(200, "sleep", usec=3_000_000, ret=0, t=3000)
            e(100, "shmdt", ret=0, err=0)
            e(200, "shmdt", ret=0, err=0)
            if not keep_ipc:
                e(200, "shmctl", id=11, cmd="IPC_RMID", ret=0, err=0)
        e(200, "write_entry", fd=3, kind="socket", count=29 * n)
        e(200, "write", fd=3, kind="socket", count=29 * n, ret=29 * n, err=0, ntokens=n,
          tokens=",".join(toks))
        e(300, "read", fd=5, kind="socket", count=256, ret=29 * n, err=0, ntokens=n,
          tokens=",".join(toks), role="ipv4-server")
        for t in toks:
            e(300, "token_verified", index=int(t[6]), token=t, detail="ok", role="ipv4-server")
        e(300, "verdict", **{"pass": 0 if verdict_fail else 1}, ok=n, expected=n,
          concurrent="yes", reason="malformed: 'junk'" if verdict_fail else "-",
          role="ipv4-server")

    def at(self, vpid, name, t=1, **f):
        self.t += t
        self.ev.append((self.t, vpid, name, f))

    def events(self):
        return analysis()[2].synthetic(*self.ev)

    def state(self):
        return analysis()[2].build(self.events())

    def findings(self, available=None):
        lint = analysis()[0]
        return collections.Counter(f["kind"] for f in lint.lint(self.state(), available))

    def tokens(self):
        tk = tokens_module()
        st = self.state()
        flows, f = tk.follow(self.events(), st)
        return flows, tk.summary(flows, f), f


def expect_findings(story, expected, available=None):
    got = story.findings(available)
    check(got == collections.Counter(expected), f"findings {dict(got)}, expected {expected}")


def unit_rules():
    """Each rule fires on the mistake it names, once per process or descriptor, and on
    nothing else; the clean relay has none; a tool of the command line never has any."""
    expect_findings(Story(), {})
    expect_findings(Story(ipc="fifo"), {}, available=lambda n: False)
    expect_findings(Story(ipc="shm"), {"sleep-as-sync": 1})  # the client polls with sleep()
    expect_findings(Story(listen_in_child=True), {"listen-in-child": 2})
    expect_findings(Story(listen_open=True), {"listen-never-closed": 1})
    expect_findings(Story(conn_open=True), {"conn-in-parent": 2})
    expect_findings(Story(pipe_r_in_child=True), {"pipe-read-end-in-child": 2})
    expect_findings(Story(keep_write=True), {"pipe-write-end-open": 1})
    expect_findings(Story(zombies=True), {"child-not-reaped": 2})
    expect_findings(Story(keep_ipc=True), {"queue-not-removed": 1})
    expect_findings(Story(ipc="shm", keep_ipc=True), {"shm-not-removed": 1, "sleep-as-sync": 1})
    # a FIFO left behind: only when the trace can record unlink(), else nothing is guessed
    expect_findings(Story(ipc="fifo"), {"fifo-not-removed": 1}, available=lambda n: True)
    expect_findings(Story(ipc="fifo", unlink=True), {}, available=lambda n: True)
    expect_findings(Story(ipc="fifo"), {}, available=lambda n: False)
    expect_findings(Story(n=3, sequential=True, sleep=True),
                    {"one-at-a-time": 1, "sleep-as-sync": 1})
    expect_findings(Story(sleep=True), {"sleep-as-sync": 1})
    expect_findings(Story(htons=True), {"htons-missing": 1})
    expect_findings(Story(addr="2001:0:53aa:64c:1c:2e55:a7b3:fe8b"), {"bound-to-address": 1})
    expect_findings(Story(addr="::1"), {"bound-to-address": 1})
    # killed while it waited (accept, msgrcv): what it held then is not judged
    expect_findings(Story(killed=True, zombies=True, listen_open=True), {})
    lint = analysis()[0]
    f = lint.lint(Story(htons=True).state())[0]
    check(f["vpid"] == 100 and f["fd"] == 3 and "bound port 23067" in f["why"]
          and "byte swap of 7002" in f["why"] and f["fix"] == "addr.sin6_port = htons(port)",
          f"{f}")
    f = lint.lint(Story(sleep=True).state())[0]
    check("read the pipe (fd 4)" in f["why"] and f["vpid"] == 100, f"{f}")
    # every rule's section is a heading of tutorial 04
    with open(os.path.join(TOP, "tutorials", "04-classic-mistakes.md")) as fh:
        slugs = {re.sub(r"[^a-z0-9 -]", "", m.lower()).replace(" ", "-")
                 for m in re.findall(r"^#+ (.*)$", fh.read(), re.M)}
    for r in lint.RULES:
        check(r.anchor[1:] in slugs, f"{r.kind}: no section {r.anchor} in tutorial 04")
        check(r.fix and r.title, f"{r.kind}: no fix or title")
    print(f"OK: {len(lint.RULES)} rules")


def unit_roles():
    """Roles from behaviour: listening makes the IPv6 server, forking its children,
    connecting the IPv4 client; the course server by its role field; a tool none."""
    st = Story().state()
    roles = {v: p.role for v, p in st.procs.items()}
    check(roles == {100: "ipv6-server", 101: "ipv6-server", 102: "ipv6-server",
                    200: "ipv4-client", 300: "ipv4-server", 400: "other"}, f"roles {roles}")
    check(st.procs[100].by_behaviour and "listens on [::]:7002" in st.procs[100].why
          and "forks 2 children" in st.procs[100].why, st.procs[100].why)
    check(not st.procs[300].by_behaviour and not st.procs[400].by_behaviour, "by field")
    # a server whose bind failed is the server all the same
    st = Story(addr="2001:db8::1").state()
    check(st.procs[100].role == "ipv6-server", st.procs[100].why)
    # what a descriptor was, when: the FIFO opened on the number the pipe's write end had
    st = Story(ipc="fifo").state()
    p = st.procs[100]
    w = [ts for ts, _, name, f in Story(ipc="fifo").ev if name == "mkfifo"][0] * 1e6
    check(p.fd_at(5, w - 1) is None and p.fd_at(4, w).kind == "pipe-r", "fd history")
    print("OK: roles")


def unit_lineage():
    """Who belongs to the traced command: through the processes that record nothing (sh,
    timeout, python), the preload's processes and what their parent started beside them."""
    state = analysis()[2]
    ev = state.synthetic(
        (1, 100, "start", dict(pid=100, ppid=20)),        # the student's server (preload)
        (2, 101, "fork_child", dict(pid=101, ppid=100)),
        (2, 100, "fork", dict(child_pid=101)),
        (3, 200, "start", dict(pid=200, ppid=20)),        # its client
        (4, 300, "start", dict(pid=300, ppid=20, role="ipv4-server")),  # the harness's
        (5, 300, "fork", dict(child_pid=301, role="ipv4-server")),
        (6, 500, "start", dict(pid=500, ppid=7, role="ipv6-server")),   # someone else's
        (7, 600, "start", dict(pid=600, ppid=10, role="ipv4-client")))  # the command's own
    keep = state.lineage(ev, 10, students=True)
    check(keep == {100, 101, 200, 300, 301, 600}, f"default: {sorted(keep)}")
    check(state.lineage(ev, 10) == {600}, "--ppid 10: only what it started itself")
    check(state.lineage(ev, 20) == {100, 101, 200, 300, 301}, "--ppid 20 (the harness)")
    print("OK: lineage")


def unit_tokens():
    """The hops adapt to the IPC; an unobservable hop is named; a token is complete only
    when seen at every hop it can be seen at; a FAILed session is never all complete."""
    tk = tokens_module()
    flows, s, f = Story().tokens()
    check(s["complete"] == s["tokens"] == 2 and s["path"] == HOPS, f"{s}")
    flows, s, f = Story(ipc="fifo").tokens()
    fifo = ["generated", "sent", "child-read", "pipe-write", "pipe-read", "fifo-write",
            "fifo-read", "reply", "course-read", "verified"]
    check(s["complete"] == 2 and s["path"] == fifo, f"fifo: {s}")
    # the children write the FIFO themselves: no pipe hops expected
    flows, s, f = Story(ipc="fifo", fifo_in_child=True).tokens()
    check(s["complete"] == 2 and s["path"] == [k for k in fifo if not k.startswith("pipe")],
          f"fifo written by the children: {s} {[fl.flags for fl in flows]}")
    flows, s, f = Story(ipc="shm").tokens()
    check(s["complete"] == 2 and "shm" in s["path"] and
          s["not_observable"][0]["hop"] == "shm", f"shm: {s}")
    doc = tk.to_json(flows, 0, f)
    check(all(t["unobserved"][0]["seen_again_at"] == "reply" for t in doc), f"{doc}")
    # split reads: no event shows the token at child-read: unseen, not complete
    flows, s, f = Story(split=True).tokens()
    check(s["complete"] == 0 and s["unseen"] == 2, f"split: {s}")
    check(all(fl.flags[0]["hop"] == "child-read" and "seen again at pipe-write"
              in fl.flags[0]["why"] for fl in flows), f"{[fl.flags for fl in flows]}")
    # 0/5: lost where they stopped, with the course clients' failed connects as the reason
    flows, s, f = Story(htons=True).tokens()
    check(s["complete"] == 0 and s["lost"] == 2 and not tk.all_complete(s), f"htons: {s}")
    check(all("ECONNREFUSED" in fl.flags[0]["why"] for fl in flows), f"{flows[0].flags}")
    # every hop seen, and the course server FAILed the session anyway (junk in the reply)
    flows, s, f = Story(verdict_fail=True).tokens()
    check(s["complete"] == 0 and s["failed"] == 2 and not tk.all_complete(s), f"fail: {s}")
    text = tk.text(flows, 0, s, f)
    check("0 complete" in text and "FAILed session" in text and "verdict (" in text, text)
    print("OK: token flows")


def unit_format():
    """One source for the token's format: include/v6lab/token.h, which the trace layer's
    token finder includes and the analysis parses."""
    spec = analysis()[1]
    check((spec.TOKEN_PREFIX, spec.TOKEN_PREFIX_LEN, spec.TOKEN_RANDOM_LEN, spec.TOKEN_LEN,
           spec.TOKEN_WIRE_LEN) == ("client", 8, 20, 28, 30), "the header's token format")
    check(spec.token_index(tok(3)) == 3 and spec.token_index("-") == 0, "token_index")
    with open(os.path.join(TOP, "trace", "tokens.c")) as f:
        src = f.read()
    check('#include "../include/v6lab/token.h"' in src and '"client"' not in src,
          "trace/tokens.c takes the format from the header")
    print("OK: token format")


def unit_split_pairing():
    """V6TRACE_WORKERS=2 reads each stream's two halves in two processes; a call's X_entry
    and X can land in different halves, with other calls of the same thread between them
    in the other half (a thread's events go to the stream of the CPU it ran on, and each
    stream is cut at its own middle). The calls must pair as in one time-ordered pass,
    whichever half each event is in."""
    tokens_module()
    from v6tracelib import reader
    rng = random.Random(5)
    for trial in range(200):
        # three threads, each a run of calls (entry then exit), interleaved in time
        events, ts = [], 0
        calls = {tid: 0 for tid in (7, 8, 9)}
        open_call = {}
        for _ in range(60):
            tid = rng.choice((7, 8, 9))
            ts += rng.randint(1, 3)
            if tid in open_call:
                events.append((ts, "X", tid, open_call.pop(tid)))
            else:
                calls[tid] += 1
                open_call[tid] = ts
                events.append((ts, "E", tid, ts))
        want = [(t, "write", 0, tid, e) for t, kind, tid, e in events if kind == "X"]
        halves = ([], []), ([], [])  # (rows, marks) of each half, each in time order
        for t, kind, tid, e in events:
            rows, marks = halves[rng.randint(0, 1)]
            if kind == "E":
                marks.append((t, tid, "v6lab_io:write"))
            else:
                rows.append((t, "write", 0, tid, None))
        rows = sorted(halves[0][0] + halves[1][0])
        marks = sorted(halves[0][1] + halves[1][1])
        got = reader._pair(rows, {"write": "v6lab_io:write"}, marks)
        check(got == want, f"trial {trial}: {got} != {want}")
    print("OK: calls pair across the halves of a split trace")


UNIT_SCENARIOS = [unit_rules, unit_roles, unit_lineage, unit_tokens, unit_format,
                  unit_split_pairing]


SCENARIOS = UNIT_SCENARIOS + STUDENT_SCENARIOS + [tokens_five, tokens_stress, lint_reference, lint_one_read, export_json, diagram_svg, report_html,
             ppid_default,
             lint_variant("listen-in-child-ipv6-server", {"listen-in-child": 5}),
             lint_variant("listen-open-ipv6-server", {"listen-never-closed": 1}),
             lint_variant("zombie-ipv6-server", {"child-not-reaped": 5}),
             lint_variant("sequential-ipv6-server", {"one-at-a-time": 1}),
             lint_variant("keep-queue-ipv4-client", {"queue-not-removed": 1}),
             lint_variant("conn-open-ipv6-server", {"conn-in-parent": 5}),
             lint_variant("pipe-read-in-child-ipv6-server", {"pipe-read-end-in-child": 5}),
             lint_variant("pipe-eof-ipv6-server", {"pipe-write-end-open": 1})]

if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--play":
        with open(sys.argv[3], "a") as f:  # whom v6trace --ppid keeps: what we start here
            json.dump(dict(ppid=os.getpid()), f)
            f.write("\n")
        PLAYS[sys.argv[2]](*sys.argv[3:])
        sys.exit(0)
    if sys.argv[1:2] and not sys.argv[1].startswith("unit_"):  # a capture
        if not shutil.which("lttng"):
            skip("lttng (lttng-tools) is not installed")
        try:
            import bt2  # noqa: F401
        except ImportError:
            skip("no bt2 (python3-bt2) in /usr/bin/python3")
    main({f.__name__: f for f in SCENARIOS})
