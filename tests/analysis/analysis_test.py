#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""scripts/v6trace on traces captured here, during the test (label analysis).

    analysis_test.py SCENARIO          capture the scenario with scripts/trace, check v6trace
    analysis_test.py --play SCENARIO   (what scripts/trace runs: the programs themselves)

Each capture has its own temporary directory (removed at the end) and its own LTTng session
(scripts/trace names it). Exit 77 (skipped) when LTTng or bt2 is not there."""
import collections
import json
import os
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
        for _ in range(sessions):
            s6, v6port, key = start_ipv6_server()
            c = Proc([os.path.join(BIN, "ipv4-client"), "--server", "127.0.0.1", "--port",
                      str(v4port), "--id", "2021123456", "--v6-addr", "::1", "--v6-port",
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


PLAYS = {
    "exercise": lambda out, *a: play_exercise(*a, out=out),
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


SCENARIOS = [tokens_five, tokens_stress, lint_reference, lint_one_read, export_json, diagram_svg,
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
    if not shutil.which("lttng"):
        skip("lttng (lttng-tools) is not installed")
    try:
        import bt2  # noqa: F401
    except ImportError:
        skip("no bt2 (python3-bt2) in /usr/bin/python3")
    main({f.__name__: f for f in SCENARIOS})
