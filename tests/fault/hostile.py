#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The course server against a hostile class (label fault): what a red-team run broke, one
scenario each. Usage: hostile.py SCENARIO (CTest runs each as fault.hostile.SCENARIO)."""
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from terminal import Terminal  # noqa: E402
from v6test import (BIN, FakeCourse, Proc, Student, TokenCatcher, check, children,  # noqa: E402
                    free_port, main, no_zombies, one_error_line, proc_state, queue_exists,
                    queue_tokens, run, run_student, scratch_dir, set_subreaper, skip,
                    start_ipv4_server, start_ipv6_server, wait_until)

TMP = scratch_dir("v6lab-hostile-")
GRADES = os.path.join(TMP, "grades.jsonl")
ANSWERS = ("2021123456", "::1")


def answer_all(st, port):
    st.read_until()
    for a in (*ANSWERS, str(port), "Y", "Y"):
        st.answer(a)
    st.s.sendall(b"OK\n")
    st.read_until(b"newline.\n")


def long_verdict():
    """A reply naming 100 problems (1 real token, 16 copies of it, 16 unknown tokens, 64 empty
    items: 1021 bytes) gets one whole verdict line, each list cut short with "and N more",
    and the operator still gets the session's line (a session process ends with _exit())."""
    catcher = TokenCatcher()
    s4, v4port = start_ipv4_server("--grades", GRADES)  # sessions are forked processes
    st = Student(v4port)
    answer_all(st, catcher.port)
    check(catcher.done.wait(10), "the course clients did not all connect")
    real = catcher.tokens[1]
    unknown = [f"client{1 + i % 5}:ZZZZZZZZZZZZZZZZZZZ{chr(97 + i)}" for i in range(16)]
    reply = ",".join([real] * 17 + unknown + [""] * 64) + "\n"
    check(len(reply) == 1021, len(reply))
    st.s.sendall(reply.encode())
    rest = st.rest()
    check(rest.endswith("\n\033[0m") and rest.count("\n") == 1, f"not one whole line: {rest!r}")
    check(rest.startswith("FAIL: 1/5 tokens, concurrent: yes; missing: client2 client3 client4 "
                          "client5; unknown: ") and rest.endswith(" and 32 more\n\033[0m"), rest)
    s4.wait_for(r"^session 127\.0\.0\.1:\d+ student 2021123456 -> \[::1\]:\d+: FAIL: 1/5 "
                r"tokens, .* and 32 more$", 10)
    s4.kill()


class Flooder:
    """A concurrent IPv6 server that keeps the tokens and writes to each connection as fast
    as it can, until the course client goes."""

    def __init__(self):
        self.ls = socket.create_server(("::1", 0), family=socket.AF_INET6, backlog=16)
        self.port = self.ls.getsockname()[1]
        self.tokens, self.sent = {}, 0
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        for _ in range(5):
            c, _ = self.ls.accept()
            threading.Thread(target=self._one, args=(c,), daemon=True).start()
        self.ls.close()

    def _one(self, c):
        data = b""
        while len(data) < 30:
            chunk = c.recv(64)
            if not chunk:
                break
            data += chunk
        self.tokens[int(data[6:7])] = data[:28].decode()
        junk = b"x" * 65536
        c.settimeout(20)
        try:
            while True:
                n = c.send(junk)
                with self.lock:
                    self.sent += n
        except OSError:  # the course client closed: reset, or our timeout
            pass
        c.close()


def flooding_server():
    """A student server that floods the course clients: each reads at most a few bytes, then
    closes, so the session ends at once and costs the course host next to nothing (it read
    1.2 GB in 64-byte reads for 11 s, 22 s of CPU)."""
    server = Flooder()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES)
    st = Student(v4port)
    answer_all(st, server.port)
    wait_until(lambda: len(server.tokens) == 5, 10, f"tokens: {server.tokens}")
    t0 = time.monotonic()
    st.s.sendall((",".join(server.tokens[k] for k in range(1, 6)) + "\n").encode())
    verdict = st.rest()
    elapsed = time.monotonic() - t0
    check(s4.finish(20)[0] == 0, verdict)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    check(verdict.startswith("PASS: 5/5 tokens"), verdict)
    check(elapsed < 3, f"the verdict took {elapsed:.1f} s after the reply")
    check(cpu < 1.0, f"the course server used {cpu:.2f} s of CPU against a flooding server")
    print(f"flooding server: verdict {elapsed:.2f} s after the reply, course server CPU "
          f"{cpu:.2f} s, {server.sent} bytes offered")


def refused_no_reset():
    """A student turned away (server busy) who had already sent its answers still reads the
    FAIL line: the connection is closed after theirs, not at once with a reset (32 of 40
    got a reset)."""
    s4, v4port = start_ipv4_server("--grades", GRADES, "--max-sessions", 1)
    busy = Student(v4port)  # the one session, idle
    busy.read_until()
    got = []
    for _ in range(40):
        s = socket.create_connection(("127.0.0.1", v4port), timeout=10)
        data = b""
        try:
            s.sendall(b"2021123456\n::1\n7002\nY\nY\nOK\n")  # answers before reading
            time.sleep(0.01)  # more of them after the FAIL line has gone out
            s.sendall(b"client1:AAAAAAAAAAAAAAAAAAAA\n")
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            data += b"<reset>"
        s.close()
        got.append(data)
    bad = [d for d in got if d != b"FAIL: 0/0 tokens, concurrent: unknown; server busy, try "
           b"again in a minute\n"]
    check(not bad, f"{len(bad)} of 40 refused students did not read the FAIL line: {bad[:3]}")
    busy.close()
    s4.kill()


def ipv6_server_stopped():
    """SIGTERM or Ctrl-C (SIGINT) while it collects: ipv6-server removes its queue, ends its
    children and exits with 128 + the signal (a stopped server left its queue, and the next
    run reported a stale queue)."""
    set_subreaper()  # a child it left behind would come to us: none may
    for sig in (signal.SIGTERM, signal.SIGINT):
        s6, port, key = start_ipv6_server()
        idle = socket.create_connection(("::1", port), timeout=10)  # a child waits for it
        child = int(s6.wait_for(r"accepted .*\(child (\d+)\)").group(1))
        s6.p.send_signal(sig)
        code, out, err = s6.finish(5)
        check(code == 128 + sig, f"exit {code} after signal {sig}: {out} {err}")
        check(f"stopped by signal {int(sig)}: removed message queue key 0x{key:08x}" in out, out)
        check(not queue_exists(key), f"queue 0x{key:08x} left after signal {sig}")
        check(proc_state(child) == "gone", f"child {child} is {proc_state(child)}")
        idle.close()


def ipv6_server_idle_flood():
    """400 idle connections: at most 32 children alive at once (it made about 55); the
    others wait in the backlog and are served as children finish; then a real token passes."""
    s6, port, key = start_ipv6_server("--tokens", 1, "--read-timeout", 2)
    idle = [socket.create_connection(("::1", port), timeout=10) for _ in range(400)]
    most = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.5:
        most = max(most, len(children(s6.pid)))
        time.sleep(0.02)
    check(20 <= most <= 32, f"{most} children alive at once")
    for s in idle:
        s.close()
    code, out, err = run("ipv6-client", "--addr", "::1", "--port", port, "--index", 1).finish(30)
    check(code == 0, out + err)
    check(s6.finish(30)[0] == 0, "ipv6-server exit")
    toks, ends = queue_tokens(key)
    check(len(toks) == 1 and ends == ["1"], f"queue holds {toks} {ends}")
    print(f"400 idle connections: at most {most} children at once")


def ipv6_server_burst():
    """200 connections at once complete without a dropped SYN (with a backlog of 16 they took
    10.2 s: each dropped SYN is sent again a second later)."""
    s6, port, key = start_ipv6_server("--tokens", 1, "--read-timeout", 2)
    t0 = time.monotonic()
    conns = [socket.create_connection(("::1", port), timeout=10) for _ in range(200)]
    took = time.monotonic() - t0
    check(took < 0.9, f"200 connects took {took:.2f} s: SYNs were dropped")
    for s in conns:
        s.close()
    run("ipv6-client", "--addr", "::1", "--port", port, "--index", 1).finish(30)
    check(s6.finish(30)[0] == 0, "ipv6-server exit")
    queue_tokens(key)
    print(f"200 connects in {took:.3f} s")


def questions_deadline():
    """Wrong answers sent just before each answer's deadline: the questions end after
    --questions-timeout, not after 6 x 3 x --answer-timeout (about 38 min by default)."""
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES, "--answer-timeout", 2,
                                   "--questions-timeout", 3)
    st = Student(v4port)
    t0 = time.monotonic()
    msg = st.read_until()
    while "FAIL" not in msg and time.monotonic() - t0 < 30:
        time.sleep(1.5)
        msg = st.answer("not-a-number")
    took = time.monotonic() - t0
    check("FAIL: 0/5 tokens, concurrent: unknown; the questions took longer than 3 s" in msg,
          repr(msg))
    check(took < 4.5, f"the session went on for {took:.1f} s")
    check(s4.finish(10)[0] == 1, "ipv4-server --once exit")


def wrong_answers_bound():
    """Two wrong answers to each question, then the right one: the 7th wrong answer of the
    session ends it (3 tries per question alone let 12 through)."""
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES)
    st = Student(v4port)
    st.read_until()
    msg = ""
    for q, right in enumerate(("2021123456", "::1", "7002", "Y"), 1):
        for wrong in ("x", "?"):
            msg = st.answer(wrong)
            if "FAIL" in msg:
                break
        if "FAIL" in msg:
            break
        msg = st.answer(right)
    check(q == 4 and "FAIL: 0/5 tokens, concurrent: unknown; 7 invalid answers in this "
          "session" in msg, f"question {q}: {msg!r}")
    check(s4.finish(10)[0] == 1, "ipv4-server --once exit")


def own_port_target():
    """The course server's own listening socket is never a target: with --bind :: it would
    start five sessions against itself. With the default 0.0.0.0, [::1] and the same port
    number is another socket, a student's server may have it (it made a class-sized test
    fail one run in a hundred), but ::ffff:127.0.0.1 is the course server."""
    s4 = run("ipv4-server", "--bind", "::", "--port", 0, "--once", "--grades", GRADES)
    v4port = int(s4.wait_for(r"listening on :::(\d+)").group(1))
    st = Student(v4port)
    st.read_until()
    st.answer("2021123456")
    st.answer("::1")
    msg = st.answer(str(v4port))
    check(f"error: [::1]:{v4port} is this course server itself: give the port of your IPv6 "
          "server" in msg and "[3/6]" in msg, repr(msg))
    st.close()
    s4.finish(10)

    s4, v4port = start_ipv4_server("--once", "--grades", GRADES, "--allow", "::1/128",
                                   "--allow", "::ffff:127.0.0.0/104")
    st = Student(v4port)
    st.read_until()
    st.answer("2021123456")
    st.answer("::ffff:127.0.0.1")
    msg = st.answer(str(v4port))
    check(f"error: [::ffff:127.0.0.1]:{v4port} is this course server itself" in msg and
          "[3/6]" in msg, repr(msg))
    st.close()
    s4.finish(10)

    s4, v4port = start_ipv4_server("--once", "--grades", GRADES)
    try:  # a student's IPv6 server with the course server's port number, on [::1]
        ls = socket.create_server(("::1", v4port), family=socket.AF_INET6)
    except OSError as e:
        raise AssertionError(f"[::1]:{v4port} beside 0.0.0.0:{v4port}: {e}")
    st = Student(v4port)
    st.read_until()
    st.answer("2021123456")
    st.answer("::1")
    msg = st.answer(str(v4port))
    check("error" not in msg and "[4/6]" in msg, repr(msg))
    st.close()
    ls.close()
    s4.finish(10)


def peer_share():
    """One address holds at most half of --max-sessions, whatever --max-per-peer says: with 8
    sessions and 8 idle connections from 127.0.0.2, a student from 127.0.0.1 is still served
    (it was told 'server busy')."""
    s4, v4port = start_ipv4_server("--grades", GRADES, "--max-sessions", 8, "--max-per-peer", 8)
    idle = []
    for _ in range(8):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", v4port))
        idle.append(s)
    refused = s4.wait_for(r"refused 127\.0\.0\.2:\d+: too many sessions from your address", 10)
    check(refused, "no refusal")
    wait_until(lambda: len(children(s4.pid)) == 4, 10, f"4 sessions: {children(s4.pid)}")
    st = Student(v4port)
    first = st.read_until()
    check("[1/6]" in first, f"a student from another address got {first!r}")
    st.close()
    for s in idle:
        s.close()
    s4.kill()


STUDENT_SNIPPET = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
buf = b""
def until(end=b"\n> "):
    global buf
    while end not in buf:
        buf += s.recv(4096)
    i = buf.index(end) + len(end)
    out, buf = buf[:i], buf[i:]
    return out.decode()
until()
s.sendall(b"2021123456\n")
until()
for target in sys.argv[3:]:
    s.sendall(target.encode() + b"\n")
    print(until().replace("\n", " | "), flush=True)
"""


def remote_student_targets():
    """A student who is not on the course host (another namespace, 192.0.2.1) may not name
    the course host's loopback (a port scan of it), nor a Teredo address whose client is
    someone else (the relay would send traffic to a host of their choosing); their own
    Teredo address is fine, and --no-teredo-check accepts any."""
    import subprocess
    if os.geteuid() != 0:
        skip("needs root for network namespaces")
    tag = os.getpid()
    stu, crs = f"v6lab-hs-{tag}", f"v6lab-hc-{tag}"

    def ip(*args):
        subprocess.run(["ip", *map(str, args)], check=True, capture_output=True)
    try:
        ip("netns", "add", stu)
        ip("netns", "add", crs)
        ip("link", "add", "hs0", "netns", stu, "type", "veth", "peer", "name", "hc0", "netns", crs)
        for ns, dev, a in ((stu, "hs0", "192.0.2.1/24"), (crs, "hc0", "192.0.2.2/24")):
            ip("-n", ns, "addr", "add", a, "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        own = "2001:0:4136:e378:8000:63bf:3fff:fdfe"  # a Teredo client behind 192.0.2.1
        other = "2001:0:4136:e378:8000:63bf:3fff:fdd2"  # ... behind 192.0.2.45
        for checked in (True, False):
            extra = () if checked else ("--no-teredo-check",)
            s4 = Proc(["ip", "netns", "exec", crs, os.path.join(BIN, "ipv4-server"), "--port", "0",
                       "--once", "--grades", GRADES, *extra])
            port = s4.wait_for(r"listening on [\d.]+:(\d+)").group(1)
            p = subprocess.run(["ip", "netns", "exec", stu, sys.executable, "-c", STUDENT_SNIPPET,
                                "192.0.2.2", port, "::1", other, own],
                               capture_output=True, text=True, timeout=30)
            lines = p.stdout.splitlines()
            check(len(lines) == 3, f"{p.stdout!r} {p.stderr!r}")
            check("error: ::1 is the course host itself" in lines[0] and "[2/6]" in lines[0],
                  lines[0])
            if checked:
                check(f"error: {other} is the Teredo address of a client behind 192.0.2.45, "
                      "but you connect from 192.0.2.1" in lines[1] and "[2/6]" in lines[1],
                      lines[1])
                check("[3/6]" in lines[2], f"own Teredo address refused: {lines[2]}")
            else:
                check("[3/6]" in lines[1], f"--no-teredo-check refused: {lines[1]}")
            s4.kill()
    finally:
        for ns in (stu, crs):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def question_forever():
    """A course server that asks question 1 again after every answer: ipv4-client gives up
    after 18 questions (6 x 3 tries) with one line (it sent 4385 answers in 5 s)."""
    answers = []

    def script(fc):
        fc.send(FakeCourse.COLOUR + FakeCourse.BANNER + FakeCourse.question(1))
        try:
            while len(answers) < 10000:
                answers.append(fc.line())
                fc.send(FakeCourse.COLOUR + FakeCourse.question(1))
        except (AssertionError, OSError):  # the client has gone
            pass

    fc = FakeCourse(script)
    code, out, err = run_student(fc.port, 7002, "::1").finish(20)
    fc.join()
    check(code == 2, f"exit {code}")
    one_error_line(err, "ipv4-client", "asked 18 questions without starting the clients")
    check(len(answers) == 18, f"{len(answers)} answers")


def control_sequences():
    """Terminal control sequences in what the course server sends, other than colours, never
    reach the student's terminal raw: an OSC 52 clipboard write, a screen clear, a title."""
    evil = b"\033]52;c;cm0gLXJmIH4=\a\033[2J\033[H\033]0;owned\033\\"

    def script(fc):
        fc.send(FakeCourse.COLOUR + evil + FakeCourse.BANNER + FakeCourse.question(1))
        for q in range(1, 7):
            fc.line()
            if q < 6:
                fc.send(FakeCourse.COLOUR + evil + FakeCourse.question(q + 1))
        fc.send(evil + b"Starting 5 IPv6 clients.\n")
        fc.send(b"FAIL: 0/5 tokens, concurrent: unknown; " + evil + b"no\n")
        fc.conn.close()

    fc = FakeCourse(script)  # on a terminal, where the colours are kept (NO_COLOR unset)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    with Terminal([os.path.join(BIN, "ipv4-client"), "--server", "127.0.0.1", "--port", fc.port,
                   "--id", "2021123456", "--v6-addr", "::1", "--v6-port", 7002, "--yes"],
                  env=env) as t:
        code = t.wait(20)
        out = t.transcript()
    fc.join()
    check(code == 1, f"exit {code}: {out!r}")
    check("\033]" not in out and "\033[2J" not in out and "\033[H" not in out
          and "\a" not in out, f"control sequences reached the terminal: {out!r}")
    check(out.count("\033[1;36m") == 6 and "[6/6]" in out and "FAIL: 0/5 tokens" in out, repr(out))


def verdict_before_tokens():
    """The verdict comes while the client waits for its IPv6 server's queue: it says so in
    those words, not 'msgget key ...: Operation canceled'."""
    waiting = threading.Event()  # set by the test once the client says it waits

    def script(fc):
        fc.ask_all()
        fc.send(b"Starting 5 IPv6 clients.\n")
        check(waiting.wait(35), "the test never saw the client wait for its queue")
        fc.send(b"FAIL: 0/5 tokens, concurrent: unknown; course client 1 could not connect\n")
        fc.conn.close()

    fc = FakeCourse(script)
    client = run_student(fc.port, free_port(), "::1")
    try:
        client.wait_for("waiting for the IPv6 server", 30)
        waiting.set()
        code, out, err = client.finish(20)
    finally:
        fc.join()  # a failure of the fake course server first: it explains the rest
    check(code == 1 and "FAIL: 0/5 tokens" in out, f"exit {code}: {out}")
    check("the course server answered before the tokens came" in err
          and "Operation canceled" not in err, err)


def sessions_over(s4):
    """The course server has reaped all its sessions (none left, no zombie); then it goes."""
    wait_until(lambda: children(s4.pid) == [], 15, f"sessions left: {children(s4.pid)}")
    no_zombies(s4.pid)
    s4.kill()


def name_target(v4port, student, addr, port):
    """A scripted student who answers questions 1 to 3: (the student, what came after the
    port: question 4, or an error and question 3 again)."""
    st = Student(v4port)
    st.read_until()
    st.answer(student)
    st.answer(addr)
    return st, st.answer(str(port))


def target_hijack():
    """Other students name the victim's IPv6 server (::1 written 0:0:0:0:0:0:0:1, and
    ::ffff:127.0.0.1) while the victim is about to answer OK: each is asked again, and the
    victim PASSes (its IPv6 server got the other session's tokens too, and it FAILed 2/5 with
    'unknown: client5 client4 client3')."""
    s6, v6port, key = start_ipv6_server()
    s4, v4port = start_ipv4_server("--grades", GRADES, "--allow", "::1/128",
                                   "--allow", "::ffff:0:0/96")
    victim = run("ipv4-client", "--server", "127.0.0.1", "--port", v4port, "--id", "2021123456",
                 "--v6-addr", "::1", "--v6-port", v6port, stdin=subprocess.PIPE)
    victim.p.stdin.write("Y\nY\n")
    victim.p.stdin.flush()
    victim.wait_for(r"\[6/6\] Type OK", 20)  # its session holds [::1]:v6port since question 3
    attackers = []
    for student, addr in (("2021999998", "0:0:0:0:0:0:0:1"), ("2021999999", "::ffff:127.0.0.1")):
        st, msg = name_target(v4port, student, addr, v6port)
        shown = "::1" if addr.startswith("0:") else addr
        check(f"error: [{shown}]:{v6port} is the target of another running session: give the "
              "port of your own IPv6 server" in msg and "[3/6]" in msg,
              f"{addr} port {v6port} was not asked again: {msg!r}")
        attackers.append(st)
    victim.p.stdin.write("OK\n")
    victim.p.stdin.close()
    code, out, err = victim.finish(30)
    check(code == 0 and "PASS: 5/5 tokens" in out, out + err)
    check(s6.finish(10)[0] == 0 and not queue_exists(key), "ipv6-server exit, queue left")
    for st in attackers:
        st.close()
    sessions_over(s4)


def student_twice():
    """A second session for a student id whose session is running FAILs at once with one
    line; the first goes on and PASSes (two sessions of one student both ran)."""
    catcher = TokenCatcher()
    s4, v4port = start_ipv4_server("--grades", GRADES)
    first = Student(v4port)
    first.read_until()
    first.answer("2021123456")
    second = Student(v4port)
    second.read_until()
    msg = second.answer("2021123456")
    check(msg == "FAIL: 0/5 tokens, concurrent: unknown; student 2021123456 already has a "
          "session running: finish it first\n\033[0m", f"the second session got {msg!r}")
    second.close()
    for a in ("::1", str(catcher.port), "Y", "Y"):
        first.answer(a)
    first.s.sendall(b"OK\n")
    first.read_until(b"newline.\n")
    check(catcher.done.wait(10), "the course clients did not all connect")
    first.s.sendall((",".join(catcher.tokens[k] for k in range(1, 6)) + "\n").encode())
    verdict = first.rest()
    check(verdict.startswith("PASS: 5/5 tokens"), f"the first session got {verdict!r}")
    first.close()
    sessions_over(s4)


def claims_released():
    """What a session claimed is free again once it is over: killed (SIGKILL: the server
    releases it when it reaps the session) or ended (the session releases it with its
    verdict, so its student may start again at once, while it still lingers on the old
    connection for up to 1 s). The same student id and target then PASS."""
    v6port = free_port()

    def ipv6_server():  # on the same port each time: (proc, queue key)
        s6 = run("ipv6-server", "--port", v6port)
        return s6, int(s6.wait_for(r"listening on .*queue key (0x[0-9a-f]+)").group(1), 16)

    s4, v4port = start_ipv4_server("--grades", GRADES)
    held, msg = name_target(v4port, "2021123456", "::1", v6port)
    check("[4/6]" in msg, repr(msg))
    (killed, _), = children(s4.pid)
    other, msg = name_target(v4port, "2021999999", "::1", v6port)
    check("is the target of another running session" in msg, f"target not held: {msg!r}")
    probe = Student(v4port)
    probe.read_until()
    msg = probe.answer("2021123456")
    check("already has a session running" in msg, f"student id not held: {msg!r}")

    os.kill(killed, signal.SIGKILL)
    wait_until(lambda: proc_state(killed) == "gone", 10, f"session {killed} not reaped")
    s6, key = ipv6_server()
    ended, msg = name_target(v4port, "2021123456", "::1", v6port)
    check("[4/6]" in msg, f"after the kill: {msg!r}")
    for a in ("Y", "Y"):
        ended.answer(a)
    ended.s.sendall(b"OK\n")
    ended.read_until(b"newline.\n")
    check(s6.finish(20)[0] == 0, "ipv6-server exit")
    toks, _ = queue_tokens(key)
    s6, _ = ipv6_server()  # the next one, ready before the verdict
    ended.s.sendall((",".join(toks) + "\n").encode())
    verdict = ended.read_until(b"\n")
    check(verdict.startswith("PASS: 5/5 tokens"), f"after the kill: {verdict!r}")

    # At once: the ended session mostly still lingers (up to 1 s) on its student's connection,
    # so only its own release, with the verdict, lets this one through.
    code, out, err = run_student(v4port, v6port).finish(30)
    check(code == 0 and "PASS: 5/5 tokens" in out, f"after the verdict: {out}{err}")
    check(s6.finish(10)[0] == 0, "ipv6-server exit")
    for st in (held, other, probe, ended):
        st.close()
    sessions_over(s4)


if __name__ == "__main__":
    main({f.__name__: f for f in (long_verdict, flooding_server, refused_no_reset,
                                  ipv6_server_stopped, ipv6_server_idle_flood,
                                  ipv6_server_burst, question_forever, control_sequences,
                                  verdict_before_tokens, questions_deadline,
                                  wrong_answers_bound, own_port_target, peer_share,
                                  remote_student_targets, target_hijack, student_twice,
                                  claims_released)})
