# SPDX-License-Identifier: MIT
"""One session of a check, run as scripts/trace's COMMAND (`scripts/check --_session SPEC`,
run.py starts it): the course server, then the student's server, then the student's client on
a terminal of its own with the six answers typed each time it reads it; every wait bounded;
at the end everything the student's programs started is stopped and reaped, and what
happened is written to DIR/session.json for run.py to report.

This process is the traced command (scripts/trace execs it: its pid is
v6lab-command.json's), so the programs it starts are the ones scripts/v6trace analyses.
It is a subreaper: what the student's server leaves (zombies it never reaped, a child still
running) comes to it, and is killed and reaped. Each student program leads a process group of
its own, so stopping that group stops what it started."""
import json
import os
import re
import signal
import subprocess
import sys
import time

from . import procs
from .terminal import Terminal, TerminalTimeout

# After the verdict, how long the client may take to end (show it, remove its queue), and
# after the client, how long the server may take: a server that serves for ever is stopped.
CLIENT_GRACE = 5.0
SERVER_GRACE = 3.0
# How long the student's server may take to listen before the client starts anyway.
LISTEN_WAIT = 10.0
QUESTIONS = ("the student id", "the IPv6 address", "the port", "Y (server running)",
             "Y (concurrent)", "OK")


def course_timeouts(bound):
    """The course server's own time limits, so that it gives its verdict within bound:
    all six questions in 30 %, the reply in 40 % (after the ~3 s of the course clients)."""
    q = max(5, int(bound * 0.3))
    return ["--answer-timeout", str(q), "--questions-timeout", str(q),
            "--reply-timeout", str(max(5, int(bound * 0.4)))]


class Interrupted(Exception):
    pass


def _interrupt(sig, _frame):
    raise Interrupted(signal.Signals(sig).name)


def _exit_of(code):
    """{"code": N} or {"signal": "SIGKILL"} of a Popen returncode (None: still running)."""
    if code is None:
        return None
    if code < 0:
        return {"signal": signal.Signals(-code).name}
    return {"code": code}


class Session:
    def __init__(self, spec):
        self.spec = spec
        self.dir = spec["dir"]
        self.deadline = time.monotonic() + spec["timeout"]
        self.t0 = time.monotonic()
        self.problems, self.notes = [], []
        self.course = self.server = self.client = None
        self.course_port = None
        self.out = {"course": {}, "server": {"argv": None}, "client": {"argv": None},
                    "problems": self.problems, "notes": self.notes, "timed_out": False}

    # --- helpers ------------------------------------------------------------------------

    def left(self):
        return self.deadline - time.monotonic()

    def ms(self):
        return int((time.monotonic() - self.t0) * 1000)

    def problem(self, kind, text):
        self.problems.append({"kind": kind, "text": text})

    def note(self, kind, text):
        self.notes.append({"kind": kind, "text": text})

    def wait(self, cond, timeout):
        """Poll cond until true or timeout (never past the deadline): its last value."""
        end = min(time.monotonic() + timeout, self.deadline)
        while True:
            v = cond()
            if v or time.monotonic() >= end:
                return v
            time.sleep(0.05)

    def substitute(self, argv):
        values = {"{host}": "127.0.0.1", "{port}": str(self.course_port),
                  "{v6port}": str(self.spec["v6port"])}
        out = []
        for a in argv:
            for k, v in values.items():
                a = a.replace(k, v)
            out.append(a)
        return out

    def verdict_in(self):
        g = os.path.join(self.dir, "grades.jsonl")
        return self.course.poll() is not None or (os.path.exists(g) and os.path.getsize(g) > 0)

    # --- the steps ----------------------------------------------------------------------

    def start_course(self):
        log = os.path.join(self.dir, "course-server.log")
        argv = [os.path.join(self.spec["bin"], "ipv4-server"), "--bind", "127.0.0.1",
                "--port", "0", "--once", "--grades", os.path.join(self.dir, "grades.jsonl"),
                *course_timeouts(self.spec["timeout"])]
        with open(log, "w") as f:
            self.course = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        self.out["course"].update(argv=argv, pid=self.course.pid, log=log)

        def port():
            m = re.search(r"listening on [\d.]+:(\d+)", open(log).read())
            return int(m.group(1)) if m else self.course.poll() is not None
        p = self.wait(port, 15)
        if p is True or not p:
            raise RuntimeError(f"the course server did not start: {open(log).read().strip()}")
        self.course_port = self.out["course"]["port"] = p

    def start_server(self):
        argv = self.substitute(self.spec["server"])
        self.server = Terminal(argv, cwd=self.spec["cwd"], new_session=True)
        s = self.out["server"]
        s.update(argv=argv, pid=self.server.pid, listening=[])
        p6 = self.spec["v6port"]

        empty_since, elsewhere_since = [], []

        def held(since, now_true, for_s):
            """Has a condition been true for for_s seconds on end?"""
            if not now_true:
                since.clear()
            elif not since:
                since.append(time.monotonic())
            return bool(since) and time.monotonic() - since[0] >= for_s

        def listens():
            # A server that forks into the background goes on in its group; right after the
            # parent's exit the group can look empty for a moment: it must stay so 0.5 s.
            # One that listens on another port (htons() missing) does not move: 1 s of it
            # is enough, the course clients will find nothing on P.
            members = procs.group(self.server.pid)
            s["listening"] = procs.listening(members)
            on_p6 = any(port == p6 for _, port in s["listening"])
            return (on_p6 or held(empty_since, not members, 0.5)
                    or held(elsewhere_since, bool(s["listening"]), 1.0))
        self.wait(listens, LISTEN_WAIT)
        s["listened_on_port"] = any(port == p6 for _, port in s["listening"])
        if s["listened_on_port"]:
            return
        code = self.server.p.poll()
        if code is not None and not procs.group(self.server.pid):
            last = [ln for ln in self.server.transcript().splitlines() if ln.strip()][-1:]
            self.problem("server-exited-early",
                         f"your server exited ({self._exit_text(code)}) before it listened on "
                         f"port {p6}" + (f": {last[0].strip()}" if last else ""))
        elif s["listening"]:
            where = ", ".join(f"[{a}]:{p}" for a, p in s["listening"])
            self.problem("server-wrong-port",
                         f"your server listens on {where}, not on port {p6} (the answer typed "
                         "to question 3): the course clients will knock on the wrong door")
        else:
            self.problem("server-not-listening",
                         f"your server did not listen on port {p6} within {LISTEN_WAIT:.0f} s "
                         f"(it is {procs.where(self.server.pid) or 'gone'})")

    def run_client(self):
        argv = self.substitute(self.spec["client"])
        self.client = Terminal(argv, cwd=self.spec["cwd"], new_session=True)
        c = self.out["client"]
        c.update(argv=argv, pid=self.client.pid, typed=self.client.typed)
        for k, line in enumerate(self.spec["answers"]):
            try:
                if not self.client.type_line(line, timeout=max(0.1, self.left()),
                                             unless=self.verdict_in):
                    break
            except TerminalTimeout:
                code = self.client.p.poll()
                if code is not None:
                    self.problem("client-exited-early",
                                 f"your client exited ({self._exit_text(code)}) before it read "
                                 f"answer {k + 1} ({QUESTIONS[k]}) from its terminal")
                break  # out of time: the deadline says so below

    def wait_verdict(self):
        if self.wait(lambda: self.course.poll() is not None, self.left()):
            self.out["course"]["verdict_ms"] = self.ms()
            return
        self.out["timed_out"] = True
        bound = f"within the check's bound of {self.spec['timeout']} s"
        if not procs.connected_to(self.course_port):
            self.problem("client-never-connected",
                         f"your client never connected to the course server (127.0.0.1:"
                         f"{self.course_port}, its {{host}} and {{port}}) {bound}")
        else:
            self.problem("no-verdict", f"the session with the course server did not end {bound}")

    def wait_client(self):
        if self.client is None or self.client.p.poll() is not None:
            return
        if self.wait(lambda: self.client.p.poll() is not None, CLIENT_GRACE):
            return
        where = procs.where(self.client.pid) or "gone"
        when = (f"{CLIENT_GRACE:.0f} s after the verdict" if self.course.poll() is not None
                else f"when the check's bound of {self.spec['timeout']} s ran out")
        self.problem("client-never-finished",
                     f"the client never finished: {when} it was still {where}; the check "
                     "stopped it")

    def wait_server(self):
        if self.server is None or self.server.p.poll() is not None:
            return
        if self.wait(lambda: self.server.p.poll() is not None, SERVER_GRACE):
            return
        where = procs.where(self.server.pid) or "gone"
        when = (f"{SERVER_GRACE:.0f} s after the client ended" if self.left() > 0
                else f"when the check's bound of {self.spec['timeout']} s ran out")
        self.note("server-stopped", f"your server was still running {when} ({where}): the "
                  "check stopped it (SIGTERM)")

    # --- the end ------------------------------------------------------------------------

    def stop_all(self):
        for name, t in (("client", self.client), ("server", self.server)):
            if t is None:
                continue
            o = self.out[name]
            o["ran_ms"] = self.ms()
            o["stopped_by_check"] = t.p.poll() is None
            procs.stop_group(t.pid)
            t.p.wait()
            o["exit"] = _exit_of(t.p.returncode)
            name_txt = os.path.join(self.dir, f"{name}-terminal.txt")
            with open(name_txt, "w") as f:
                f.write(t.transcript())
            o["terminal"] = name_txt
            t.close()
            code = t.p.returncode
            if not o["stopped_by_check"] and code < 0:
                self.problem(f"{name}-crashed", f"your {name} was killed by "
                             f"{signal.Signals(-code).name} (not by the check)")
        if self.course is not None:
            if self.course.poll() is None:
                procs.stop_group(self.course.pid)
            self.course.wait()
            self.out["course"]["exit"] = _exit_of(self.course.returncode)
        ours = {t.pid for t in (self.client, self.server, self.course) if t is not None}
        # /proc's command names are cut at 15 characters: the full one of what we started
        full = {os.path.basename(t.argv[0])[:15]: os.path.basename(t.argv[0])
                for t in (self.client, self.server) if t is not None}
        left = [(p, full.get(c, c), st) for p, c, st in procs.reap_orphans(ours)]
        zombies = [p for p in left if p[2] == "Z"]
        running = [p for p in left if p[2] != "Z"]
        self.out["orphans"] = [{"pid": p, "command": c, "state": s} for p, c, s in left]
        if zombies:
            self.note("zombies-reaped",
                      f"{len(zombies)} process(es) of your programs ended and were never "
                      f"waited for by their parent ({', '.join(sorted({c for _, c, _ in zombies}))}"
                      "): zombies, reaped by the check")
        if running:
            self.note("orphans-killed",
                      f"{len(running)} process(es) your programs left running after they "
                      f"ended ({', '.join(f'{c} {p}' for p, c, _ in running)}) were killed "
                      "by the check")

    def finish_course(self):
        c = self.out["course"]
        g = os.path.join(self.dir, "grades.jsonl")
        try:
            with open(g) as f:
                c["grade"] = json.loads(f.readline())
        except (OSError, ValueError):
            c["grade"] = None
        m = re.search(r"^session .*?: ((?:PASS|FAIL): \d+/\d+ tokens.*)$",
                      open(c["log"]).read(), re.M) if c.get("log") else None
        c["verdict_line"] = m.group(1) if m else None

    @staticmethod
    def _exit_text(code):
        return f"code {code}" if code >= 0 else f"killed by {signal.Signals(-code).name}"

    def run(self):
        try:
            self.start_course()
            self.start_server()
            self.run_client()
            self.wait_verdict()
            self.wait_client()
            self.wait_server()
        except Interrupted as e:
            self.out["interrupted"] = str(e)
        except Exception as e:  # noqa: BLE001: reported, then everything is cleaned up
            self.out["error"] = f"{type(e).__name__}: {e}" if not isinstance(e, RuntimeError) \
                else str(e)
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            if self.left() <= 0 and not self.out.get("interrupted"):
                self.out["timed_out"] = True
            self.stop_all()
            self.finish_course()
            self.out["elapsed_ms"] = self.ms()
        return self.out


def main(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    procs.become_subreaper()
    out = Session(spec).run()
    tmp = os.path.join(spec["dir"], "session.json.tmp")
    with open(tmp, "w") as f:
        json.dump(out, f, indent=1)
    os.replace(tmp, os.path.join(spec["dir"], "session.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
