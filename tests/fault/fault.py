#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The fault matrix: broken peers, bad input, signals, crashes and overload, each scenario
asserting what the programs do and that they leave no zombie, no leaked descriptor and no
message queue behind. Only 127.0.0.1 and ::1. Usage: fault.py SCENARIO."""
import os
import random
import select
import selectors
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from v6test import (FakeCourse, Student, TokenCatcher, check, children, fds, free_port,  # noqa: E402
                    grades, listening_inode, main, make_token, msg_create, msg_id, msg_remove,
                    msg_send, msg_set_owner, msg_take_all, no_zombies, one_error_line, pipes,
                    queue_exists, queue_tokens, run, run_student, send_raw, set_subreaper,
                    scratch_dir, start_ipv4_server, start_ipv6_server, tcp_sockets, wait_blocked,
                    wait_port_free, wait_until)

TMP = scratch_dir("v6lab-fault-")
GRADES = os.path.join(TMP, "grades.jsonl")


def wire(tok):
    return (tok + "\r\n").encode()


# --- the student's IPv6 server --------------------------------------------------------

def both_ends(pid):
    """The pipes pid holds both ends of: its own child-to-parent pipe (the tracing library
    opens pipes of its own, one end each, and more as it goes)."""
    ps = pipes(pid)
    return sorted(p for p in set(ps) if ps.count(p) > 1)


def v6_server(*args):
    """An ipv6-server and what it holds before any client."""
    s6, port, key = start_ipv6_server(*args)
    lsock = f"socket:[{listening_inode(port)}]"
    # it makes its pipe just after saying "listening"
    wait_until(lambda: len(both_ends(s6.pid)) == 1, 5, "the server's pipe")
    return s6, port, key, (lsock, both_ends(s6.pid))


def v6_clean(s6, base, nkids=0):
    """While it waits: no zombie, no child left, the same descriptors as before."""
    no_zombies(s6.pid)
    wait_until(lambda: len(children(s6.pid)) == nkids, 5, f"{nkids} child(ren) expected: "
               f"{children(s6.pid)}")
    check(tcp_sockets(s6.pid) == [base[0]], f"parent sockets: {tcp_sockets(s6.pid)}")
    check(both_ends(s6.pid) == base[1] and len(base[1]) == 1,
          f"parent's own pipes: {base[1]} -> {both_ends(s6.pid)}")


def v6_finish(s6, port, key, n=5, how="whole"):
    """Send n good tokens, expect exactly them on the queue and a clean exit."""
    toks = [make_token(k) for k in range(1, n + 1)]
    ts = [threading.Thread(target=send_raw, args=(port, wire(t), how)) for t in toks]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    code, out, err = s6.finish(15)
    check(code == 0, f"ipv6-server exit {code}: {err}")
    got, ends = queue_tokens(key)
    check(sorted(got) == sorted(toks) and ends == [str(n)], f"queue: {got} {ends} vs {toks}")
    check(not queue_exists(key), "queue left behind")
    return out, err


def v6_bad_client(data, how, end, warning):
    s6, port, key, lsock = v6_server("--read-timeout", 1)
    send_raw(port, data, how, end)
    s6.wait_for(warning, 5)
    v6_clean(s6, lsock)
    v6_finish(s6, port, key)


def token_1byte_segments():
    s6, port, key, lsock = v6_server()
    out, _ = v6_finish(s6, port, key, how="bytes")
    check(out.count("token from") == 5, out)


def token_and_fin_one_segment():
    s6, port, key, lsock = v6_server()
    out, _ = v6_finish(s6, port, key, how="cork")
    check(out.count("token from") == 5, out)


def token_bare_newline():
    # "\n" instead of "\r\n": accepted (Postel); the queue holds the 28 characters.
    s6, port, key, lsock = v6_server("--tokens", 1)
    tok = make_token(1)
    send_raw(port, (tok + "\n").encode())
    check(s6.finish(10)[0] == 0, "exit")
    check(queue_tokens(key)[0] == [tok], "token")


def silent_client():
    # Connects, sends nothing: its child gives up after --read-timeout, no stuck child.
    s6, port, key, lsock = v6_server("--read-timeout", 1)
    s = send_raw(port, b"", end="keep")
    s6.wait_for(r"accepted")
    t0 = time.monotonic()
    s6.wait_for(r"no token from .*no complete token before the timeout", 8)
    took = time.monotonic() - t0  # 1 s, and a margin for a loaded machine (an ASan build)
    check(took < 4.5, f"child gave up {took:.1f} s after accepting, with --read-timeout 1")
    s.settimeout(5)
    check(s.recv(10) == b"", "the child must close the silent connection")
    s.close()
    v6_clean(s6, lsock)
    v6_finish(s6, port, key)


def half_token_then_close():
    v6_bad_client(wire(make_token(1))[:14], "whole", "close",
                  r"no token from .*closed in the middle of the token")


def reset_mid_token():
    v6_bad_client(wire(make_token(1))[:14], "whole", "rst",
                  r"no token from .*(connection reset|closed in the middle)")


def oversized_token():
    v6_bad_client(b"client1:" + b"A" * 5000, "whole", "keep", r"no token from .*oversized")


def nonprintable_token():
    v6_bad_client(b"client1:\x00\x01\x1b[2J\xff\xfeAAAAAAAAAAAA\r\n", "whole", "close",
                  r"no token from .*malformed token")


def sixth_client():
    # An extra client that connected first and says nothing must not hold the tokens back
    # until its read timeout; once all are in, a 6th connection is refused.
    s6, port, key, lsock = v6_server("--read-timeout", 10)
    idle = send_raw(port, b"", end="keep")
    idle_child = int(s6.wait_for(r"accepted .*\(child (\d+)\)").group(1))
    wait_blocked(idle_child, "poll", "ppoll")  # set up (its copy of the listener closed), waiting
    t0 = time.monotonic()
    toks = [make_token(k) for k in range(1, 6)]
    for t in toks:
        send_raw(port, wire(t))
    s6.wait_for(r"put 5 token\(s\)", 9)
    took = time.monotonic() - t0  # held back, they would wait for the idle child's 10 s
    check(took < 5, f"tokens held back by the idle client: on the queue after {took:.1f} s")
    # The listening socket is closed in the server and in every child, so a 6th client is
    # refused (a listener on that port now can only be another program's, which took it).
    inode = listening_inode(port)
    ours = [p for p in [s6.pid] + [c for c, s in children(s6.pid) if s != "Z"]
            if inode and f"socket:[{inode}]" in fds(p).values()]
    check(not ours, f"the listening socket is still open in {ours}")
    try:
        socket.create_connection(("::1", port), timeout=2).close()
        refused = inode is not None  # accepted: only fine if someone else listens there
    except ConnectionRefusedError:
        refused = True
    check(refused, "a 6th client after the last token must be refused")
    idle.close()  # its child sees EOF and ends
    code, out, err = s6.finish(10)  # exits once the idle child is gone: no zombie
    check(code == 0, err)
    check(sorted(queue_tokens(key)[0]) == sorted(toks), "tokens")


def child_killed():
    # SIGKILL a child while it waits for its token: the parent says so and goes on.
    s6, port, key, lsock = v6_server()
    s = send_raw(port, b"client1:", end="keep")
    s6.wait_for(r"accepted")
    wait_until(lambda: len(children(s6.pid)) == 1, 3, "one child")
    os.kill(children(s6.pid)[0][0], signal.SIGKILL)
    s6.wait_for(r"killed by signal 9: its token is lost", 5)
    s.settimeout(5)
    try:
        check(s.recv(10) == b"", "the course client sees the connection closed")
    except ConnectionResetError:
        pass  # closed with our bytes unread: a reset, as TCP does
    s.close()
    v6_clean(s6, lsock)
    v6_finish(s6, port, key)


def ipv6_port_in_use():
    hog = socket.create_server(("::", 0), family=socket.AF_INET6, dualstack_ipv6=True)
    port = hog.getsockname()[1]
    code, out, err = run("ipv6-server", "--port", port).finish(5)
    hog.close()
    check(code == 2, f"exit {code}")
    one_error_line(err, "ipv6-server", "Address already in use")
    check(not queue_exists(0x76360000 | port), "queue created before the bind failed")


def ipv4_port_in_use():
    hog = socket.create_server(("127.0.0.1", 0))
    port = hog.getsockname()[1]
    code, out, err = run("ipv4-server", "--bind", "127.0.0.1", "--port", port).finish(5)
    hog.close()
    check(code == 2, f"exit {code}")
    one_error_line(err, "ipv4-server", "Address already in use")


def family_mismatch():
    # The student's server listens on IPv4 only: the course clients (IPv6) find nobody;
    # an IPv6 client to 127.0.0.1 of a ::1-only server: one line.
    s6, port, key = start_ipv6_server("--bind", "127.0.0.1")
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES)
    code, out, err = run_student(v4port, port).finish(30)
    check(code == 1 and "could not connect [::1]" in out and "Connection refused" in out, out)
    check(s4.finish(10)[0] == 1, "ipv4-server exit")
    s6.kill()
    msg_remove(msg_id(key))
    s6b, port6, key6 = start_ipv6_server("--bind", "::1")
    code, out, err = run("ipv6-client", "--addr", "127.0.0.1", "--port", port6).finish(15)
    check(code == 2, f"exit {code}")
    one_error_line(err, "ipv6-client", "Connection refused")
    s6b.kill()
    msg_remove(msg_id(key6))


def stale_queue():
    # A crashed run left its queue with old tokens: the new server replaces it, PASS.
    port = free_port()
    key = 0x76360000 | port
    qid = msg_create(key)
    for k in range(1, 6):
        msg_send(qid, 1, make_token(k).encode() + b"\0")
    msg_send(qid, 2, b"5\0")
    s6 = run("ipv6-server", "--port", port)
    s6.wait_for(r"removing stale message queue .* 6 message")
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES)
    code, out, err = run_student(v4port, port).finish(30)
    check(code == 0 and "PASS: 5/5" in out, out + err)
    check(s6.finish(10)[0] == 0 and s4.finish(10)[0] == 0, "exits")
    check(not queue_exists(key), "queue left")


def queue_other_user():
    port = free_port()
    key = 0x76360000 | port
    qid = msg_create(key)
    msg_send(qid, 3, b"not yours")
    msg_set_owner(qid, 65534)
    try:
        code, out, err = run("ipv6-server", "--port", port).finish(5)
        check(code == 2, f"exit {code}")
        one_error_line(err, "ipv6-server", "belongs to uid 65534: choose another key")
        check(msg_id(key) == qid and len(msg_take_all(qid)) == 1, "someone else's queue touched")
    finally:
        msg_remove(qid)


def full_queue_of_junk():
    # Someone filled the queue with junk (too big, wrong type, not tokens) after the server
    # made it: the tokens still get through, the junk is reported in one line.
    s6, port, key = start_ipv6_server()
    qid = msg_id(key)
    check(qid is not None, f"ipv6-server made no queue 0x{key:08x}")
    sent = 0
    while msg_send(qid, random.choice((1, 3, 7)), os.urandom(random.choice((5, 28, 300, 900)))):
        sent += 1
    check(sent > 10, f"queue not full after {sent}")
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES)
    code, out, err = run_student(v4port, port).finish(30)
    check(code == 0 and "PASS: 5/5" in out, out + err)
    one_error_line(err, "ipv4-client", f"ignored {sent} message(s)")
    check(s6.finish(10)[0] == 0 and s4.finish(10)[0] == 0, "exits")
    check(not queue_exists(key), "queue left")


# --- the course server ----------------------------------------------------------------

def v4_session(*args, once=True):
    s4, port = start_ipv4_server(*(("--once",) if once else ()), "--grades", GRADES,
                                 "--answer-timeout", 2, "--reply-timeout", 3, *args)
    return s4, port


def answers_merged_reply_1byte():
    # All six answers in one segment, "\r\n" line ends, the reply one byte per segment.
    catcher = TokenCatcher()
    s4, port = v4_session()
    st = Student(port)
    st.s.sendall(f"42\r\n::1\r\n{catcher.port}\r\ny\r\nYES\r\nok\r\n".encode())
    check(catcher.done.wait(10), "course clients")
    reply = (",".join(catcher.tokens[k] for k in range(1, 6)) + "\n").encode()
    st.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(reply)):
        st.s.send(reply[i:i + 1])
        time.sleep(0.001)
    rest = st.rest()
    check("PASS: 5/5 tokens, concurrent: yes" in rest, rest)
    check(s4.finish(10)[0] == 0, "exit")


def answers_1byte_segments():
    catcher = TokenCatcher()
    s4, port = v4_session()
    st = Student(port)
    st.read_until()
    st.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for a in ("42", "::1", str(catcher.port), "Y", "Y", "OK"):
        for b in (a + "\n").encode():
            st.s.send(bytes([b]))
            time.sleep(0.001)
        if a != "OK":
            st.read_until()
    check(catcher.done.wait(10), "course clients")
    st.s.sendall((",".join(catcher.tokens[k] for k in range(1, 6)) + "\n").encode())
    check("PASS: 5/5" in st.rest(), "verdict")
    check(s4.finish(10)[0] == 0, "exit")


def answer_too_long():
    s4, port = v4_session()
    st = Student(port)
    st.read_until()
    st.s.sendall(b"1" * 100000)  # no line end, ever
    rest = st.rest()
    check("FAIL: 0/5 tokens" in rest and "answer to question 1 longer than 255 bytes" in rest, rest)
    check(s4.finish(10)[0] == 1, "exit")
    check(grades(GRADES)[-1]["verdict"] == "FAIL", "grade")


def invalid_answers():
    # Two wrong answers per question (a third would end the session), at most 6 a session
    # (a 7th would end it too: hostile.wrong_answers_bound), four sessions.
    rounds = [[(1, "", "a student id is 1 to 31 digits"), (1, "12\0" + "34", "a student id is"),
               (2, "127.0.0.1", "is an IPv4 address"), (2, "fe80::1", "is outside the prefixes"),
               (3, "0", "is not a port"), (3, "65536", "is not a port")],
              [(4, "\x1b[2J", "answer Y or N"), (4, "", "answer Y or N"),
               (5, "perhaps", "answer Y or N")],
              [(1, "9" * 32, "a student id is"), (1, "-5", "a student id is"),
               (2, "::ffff:127.0.0.1", "is outside the prefixes"),
               (2, "2001:db8::1%lo", "is not an IPv6 address"),
               (3, "99999999999999999999", "is not a port"), (3, "-1", "is not a port")],
              [(1, "\xff\xfe", "a student id is"), (2, "x" * 250, "is not an IPv6 address"),
               (3, " 7002", "is not a port"), (3, "7002x", "is not a port"),
               (6, "KO", "type OK")]]
    good = {1: "2021123456", 2: "::1", 3: "7002", 4: "Y", 5: "Y"}
    for cases in rounds:
        s4, port = v4_session("--allow", "::1/128")
        st = Student(port)
        st.read_until()
        for q in range(1, 6 + (cases[-1][0] == 6)):
            for q_, answer, error in [c for c in cases if c[0] == q]:
                msg = st.answer(answer)
                check("error: " in msg and error in msg and f"[{q}/6]" in msg, f"{answer!r}: {msg!r}")
            if q < 6:
                msg = st.answer(good[q])
                check(f"[{q + 1}/6]" in msg, f"after {good[q]!r}: {msg!r}")
        st.close()
        check(s4.finish(10)[0] == 1, "exit")
        check("connection closed before answering question 6" in grades(GRADES)[-1]["reason"],
              grades(GRADES)[-1])


def student_never_answers():
    s4, port = v4_session(once=False)
    base = tcp_sockets(s4.pid)
    st = Student(port)
    st.read_until()
    t0 = time.monotonic()
    rest = st.rest()  # the server ends the session by itself
    check("no answer to question 1 in time" in rest and time.monotonic() - t0 < 5, rest)
    no_zombies(s4.pid)
    wait_until(lambda: children(s4.pid) == [], 3, "session ended")
    check(tcp_sockets(s4.pid) == base, f"sockets {base} -> {tcp_sockets(s4.pid)}")
    s4.kill()


def student_never_replies():
    catcher = TokenCatcher()
    s4, port = v4_session()
    st = Student(port)
    for a in ("42", "::1", str(catcher.port), "Y", "Y"):
        st.answer(a)
    st.s.sendall(b"OK\n")
    rest = st.rest()
    check("FAIL: 0/5 tokens, concurrent: yes; no reply with the tokens in time" in rest, rest)
    check(s4.finish(10)[0] == 1, "exit")


def student_gone_before_verdict():
    # The student resets right after the reply: writing the verdict fails (EPIPE or
    # ECONNRESET), the grade is still logged, the server lives on.
    catcher = TokenCatcher()
    s4, port = v4_session(once=False)
    base = tcp_sockets(s4.pid)
    st = Student(port)
    for a in ("77", "::1", str(catcher.port), "Y", "Y"):
        st.answer(a)
    st.s.sendall(b"OK\n")
    check(catcher.done.wait(10), "course clients")
    st.s.sendall((",".join(catcher.tokens[k] for k in range(1, 6)) + "\n").encode())
    st.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    st.s.close()
    s4.wait_for(r"session .* student 77 .*PASS: 5/5", 10)
    check(s4.p.poll() is None, "the course server died")
    no_zombies(s4.pid)
    check(tcp_sockets(s4.pid) == base, "sockets")
    check(grades(GRADES)[-1]["verdict"] == "PASS", "grade")
    s4.kill()


def bad_replies():
    # A reply with a NUL, control characters, and one far too long.
    for reply, needle in ((b"%s,%s\0,%s,%s,%s\n", "FAIL: 4/5 tokens"),
                          (b"\x1b[2J%s,%s,%s,%s,%s\n", "malformed: '?[2Jclient1:"),
                          (b"A" * 5000 + b"\n", "reply longer than 1024 bytes")):
        catcher = TokenCatcher()
        s4, port = v4_session()
        st = Student(port)
        for a in ("42", "::1", str(catcher.port), "Y", "Y"):
            st.answer(a)
        st.s.sendall(b"OK\n")
        check(catcher.done.wait(10), "course clients")
        if b"%s" in reply:
            reply = reply % tuple(catcher.tokens[k].encode() for k in range(1, 6))
        st.s.sendall(reply)
        rest = st.rest()
        check(needle in rest and rest.count("\n") >= 1, f"{reply[:40]!r}: {rest!r}")
        check(s4.finish(10)[0] == 1, "exit")
        line = open(GRADES, "rb").read().splitlines()[-1]
        check(b"\0" not in line and b"\x1b" not in line, f"raw control bytes in the grade log: {line!r}")


class Class:
    """Many students at once, all in this process: one thread per student speaks to the
    course server, one selector thread is every student's IPv6 server (one listening socket
    on ::1 each), reading the course clients' tokens."""

    def __init__(self, n, v4port, wrong=lambda i, toks, cls: None):
        self.n, self.v4port, self.wrong = n, v4port, wrong
        self.tokens = [dict() for _ in range(n)]
        self.got5 = [threading.Event() for _ in range(n)]
        self.verdicts = [None] * n
        self.heard = [None] * n  # all the course server said: why a verdict is missing
        self.listeners = [socket.create_server(("::1", 0), family=socket.AF_INET6, backlog=16)
                          for _ in range(n)]
        self.stop = threading.Event()
        threading.Thread(target=self._v6, daemon=True).start()

    def _v6(self):
        sel = selectors.DefaultSelector()
        for i, ls in enumerate(self.listeners):
            ls.setblocking(False)
            sel.register(ls, selectors.EVENT_READ, ("listen", i, None))
        while not self.stop.is_set():
            for key, _ in sel.select(0.2):
                kind, i, buf = key.data
                if kind == "listen":
                    try:
                        c, _ = key.fileobj.accept()
                    except BlockingIOError:
                        continue
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ, ("conn", i, bytearray()))
                    continue
                try:
                    data = key.fileobj.recv(64)
                except (BlockingIOError, ConnectionError):
                    data = b""
                buf += data
                if data and not buf.endswith(b"\n"):
                    continue
                sel.unregister(key.fileobj)
                key.fileobj.close()
                tok = buf.decode(errors="replace").strip()
                if len(tok) == 28:
                    self.tokens[i][int(tok[6])] = tok
                    if len(self.tokens[i]) == 5:
                        self.got5[i].set()
        for ls in self.listeners:
            ls.close()

    def student(self, i):
        st = Student(self.v4port)
        st.s.settimeout(60)
        heard = st.read_until()  # all the course server said, for a failure's message
        for a in (str(1000 + i), "::1", str(self.listeners[i].getsockname()[1]), "Y", "Y"):
            heard += st.answer(a)
        st.s.sendall(b"OK\n")
        said = st.read_until(b"newline.\n")
        started = said.endswith("newline.\n")
        heard += said
        deadline = time.monotonic() + 30
        spoke = select.poll()  # not select(): with 200 students this process has fds > 1023
        spoke.register(st.s, select.POLLIN)
        while started and not self.got5[i].wait(0.05) and time.monotonic() < deadline:
            if spoke.poll(0):
                break  # the course server spoke (or died) before all tokens came
        if self.got5[i].is_set():
            toks = [self.tokens[i][k] for k in range(1, 6)]
            toks = self.wrong(i, toks, self) or toks
            st.s.sendall((",".join(toks) + "\n").encode())
        self.verdicts[i] = st.rest()
        self.heard[i] = heard + self.verdicts[i]
        st.close()

    def run(self, spread=0.0):
        ts = []
        for i in range(self.n):
            ts.append(threading.Thread(target=self.student, args=(i,), daemon=True))
            ts[-1].start()
            time.sleep(spread)
        for t in ts:
            t.join(90)
        self.stop.set()


def two_hundred_students():
    # 200 students at once (1000 course connections): all served, each verdict right.
    # Every 10th student returns another student's token for client3; every 10th+5 a
    # duplicate instead of client1.
    def wrong(i, toks, cls):
        if i % 10 == 3:
            other = cls.tokens[(i + 1) % cls.n].get(3) or make_token(3)  # not issued to i
            return toks[:2] + [other] + toks[3:]
        if i % 10 == 8:
            return [toks[1]] + toks[1:]
        return None

    # one address may hold half of --max-sessions at most: 250 of 500
    s4, port = start_ipv4_server("--grades", GRADES, "--max-sessions", 500,
                                 "--max-per-peer", 250, "--stagger-ms", 50,
                                 "--reply-timeout", 40)
    base = tcp_sockets(s4.pid)
    t0 = time.monotonic()
    cls = Class(200, port, wrong)
    cls.run()
    took = time.monotonic() - t0
    for i, v in enumerate(cls.verdicts):
        check(v is not None, f"student {i} got no verdict")
        if i % 10 == 3:
            check("FAIL: 4/5 tokens" in v and "missing: client3; unknown: client3" in v, f"{i}: {v}")
        elif i % 10 == 8:
            check("FAIL: 4/5 tokens" in v and "missing: client1; duplicate: client2" in v,
                  f"{i}: {v}")
        else:
            check("PASS: 5/5 tokens" in v, f"{i}: {v!r}; the course server said: "
                  f"{cls.heard[i][-400:]!r}")
    g = {x["student"]: x for x in grades(GRADES)}
    check(len(g) == 200, f"{len(g)} grade lines")
    for i in range(200):
        check((g[str(1000 + i)]["verdict"] == "PASS") == (i % 10 not in (3, 8)), g[str(1000 + i)])
    wait_until(lambda: children(s4.pid) == [], 10, "sessions ended")
    check(tcp_sockets(s4.pid) == base, "sockets")
    s4.kill()
    print(f"200 students in {took:.1f} s")


def idle_connections():
    # One address opens 300 idle connections: it gets --max-per-peer sessions, the rest are
    # turned away at once with one line; a student from another address is still served.
    s4 = run("ipv4-server", "--bind", "::", "--port", 0, "--grades", GRADES,
             "--max-per-peer", 20, "--answer-timeout", 3)
    port = int(s4.wait_for(r"listening on :::(\d+)").group(1))
    base = tcp_sockets(s4.pid)
    hog = []
    for _ in range(300):
        hog.append(socket.create_connection(("::1", port), timeout=10))
    refused = 0
    for s in hog[20:]:
        s.settimeout(5)
        data = b""
        while b"concurrent" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        refused += b"too many sessions from your address" in data
    check(refused == 280, f"{refused} refused")
    check(len(children(s4.pid)) == 20, f"{len(children(s4.pid))} sessions for the hog")
    s6, v6port, key = start_ipv6_server()
    code, out, err = run_student(port, v6port).finish(30)  # from 127.0.0.1
    check(code == 0 and "PASS: 5/5" in out, out + err)
    s6.finish(10)
    for s in hog:
        s.close()
    wait_until(lambda: children(s4.pid) == [], 8, "hog sessions time out")
    no_zombies(s4.pid)
    check(tcp_sockets(s4.pid) == base, "sockets")
    s4.kill()


def course_server_killed():
    # SIGKILL the course server (and some of its sessions) mid-session: every grade line
    # is whole JSON; the orphaned sessions finish, and the port can be reused as soon as the
    # dead server's listening socket is gone (its orphans' connections do not hold it).
    set_subreaper()
    s4, port = start_ipv4_server("--grades", GRADES, "--max-per-peer", 100,
                                 "--stagger-ms", 30, "--reply-timeout", 10)
    cls = Class(30, port)
    runner = threading.Thread(target=cls.run, args=(0.02,))
    runner.start()
    wait_until(lambda: len(children(s4.pid)) >= 10, 20, "10 sessions under way at once")
    sessions = [pid for pid, _ in children(s4.pid)]
    os.kill(s4.pid, signal.SIGKILL)
    for pid in sessions[::3]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    s4.p.wait()
    wait_port_free(port)  # a session forked just before the kill may not have closed it yet
    s4b, _ = start_ipv4_server("--port", port, "--grades", GRADES)  # restart on the same port
    runner.join(60)
    for pid in sessions:  # our orphans now: reap them all
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and os.waitpid(pid, os.WNOHANG) == (0, 0):
            time.sleep(0.05)
    raw = open(GRADES, "rb").read()
    check(raw == b"" or raw.endswith(b"\n"), "torn last line")
    lines = raw.splitlines()
    import json
    for ln in lines:
        json.loads(ln)
    verdicts = [v for v in cls.verdicts if v and ("PASS" in v or "FAIL" in v)]
    check(len(lines) >= len(verdicts) - len(sessions[::3]), f"{len(lines)} lines, "
          f"{len(verdicts)} verdicts")
    s4b.kill()


# --- the student's IPv4 client -----------------------------------------------------

def deliver(port, toks):
    for t in toks:
        send_raw(port, wire(t))


def prompts_split_merged():
    # Prompts in random 1-7 byte segments, colour + banner + question 1 merged, the verdict
    # one byte per segment: the client reads by content, not by segment.
    s6, v6port, key = start_ipv6_server()
    toks = [make_token(k) for k in range(1, 6)]

    def script(fc):
        fc.result["answers"] = fc.ask_all(split="random")
        fc.send(b"Starting 5 IPv6 clients. Send them back.\n", "random")
        deliver(v6port, toks[::-1])
        fc.result["reply"] = fc.line()
        fc.send(b"PASS: 5/5 tokens, concurrent: yes\n", "bytes")
        fc.conn.close()

    fc = FakeCourse(script)
    code, out, err = run_student(fc.port, v6port).finish(30)
    fc.join()
    check(fc.result["answers"] == ["2021123456", "::1", str(v6port), "Y", "Y", "OK"], fc.result)
    check(sorted(fc.result["reply"].strip().split(",")) == sorted(toks), fc.result["reply"])
    check(code == 0 and "PASS: 5/5" in out, out + err)
    check(s6.finish(10)[0] == 0 and not queue_exists(key), "ipv6-server")


def start_message_and_verdict_merged():
    # The verdict arrives in the same segment as "Starting": the client does not wait for
    # tokens that will never come.
    def script(fc):
        fc.ask_all()
        fc.send(b"Starting 5 IPv6 clients.\nFAIL: 0/5 tokens, concurrent: unknown; course "
                b"client 1 could not connect\n")
        fc.conn.close()

    fc = FakeCourse(script)
    t0 = time.monotonic()
    code, out, err = run_student(fc.port, free_port(), "::1", "--timeout", 20).finish(30)
    fc.join()
    check(code == 1 and "could not connect" in out and time.monotonic() - t0 < 5, out + err)


def client_before_ipv6_server():
    # The client waits for the IPv6 server's queue (bounded): here the server comes late.
    port = free_port()
    toks = [make_token(k) for k in range(1, 6)]
    later = {}

    def script(fc):
        fc.ask_all()
        fc.send(b"Starting 5 IPv6 clients.\n")
        later["client"].wait_for("waiting for the IPv6 server")  # only then does it come
        s6 = run("ipv6-server", "--port", port)
        s6.wait_for("listening")
        deliver(port, toks)
        later["s6"] = s6
        fc.result["reply"] = fc.line()
        fc.send(b"PASS: 5/5 tokens, concurrent: yes\n")
        fc.conn.close()

    fc = FakeCourse(script)
    later["client"] = run_student(fc.port, port, "::1", "--timeout", 10)
    code, out, err = later["client"].finish(30)
    fc.join()
    check(code == 0 and "waiting for the IPv6 server" in err, out + err)
    check(sorted(fc.result["reply"].strip().split(",")) == sorted(toks), fc.result)
    check(later["s6"].finish(10)[0] == 0 and not queue_exists(0x76360000 | port), "queue")


def client_waits_bounded():
    # No IPv6 server ever: the client gives up after --timeout with one clear line.
    def script(fc):
        fc.ask_all()
        fc.send(b"Starting 5 IPv6 clients.\n")
        fc.line_or_eof = fc.conn.recv(100)

    fc = FakeCourse(script)
    t0 = time.monotonic()
    code, out, err = run_student(fc.port, free_port(), "::1", "--timeout", 2).finish(15)
    fc.join()
    took = time.monotonic() - t0
    check(code == 2 and 1.5 < took < 6, f"exit {code} after {took:.1f} s")
    lines = err.strip().splitlines()
    check(lines[-1].startswith("ipv4-client: no message queue key") and "in time" in lines[-1],
          err)


def course_gone_before_reply():
    # The tokens are on the queue, then the course server resets the connection: writing
    # the reply fails (EPIPE/ECONNRESET); the client says so and exits 2, not killed by
    # SIGPIPE.
    s6, v6port, key = start_ipv6_server()

    def script(fc):
        fc.ask_all()
        deliver(v6port, [make_token(k) for k in range(1, 6)])
        s6.wait_for(r"put 5 token")
        fc.send(b"Starting 5 IPv6 clients.\n")
        fc.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        fc.conn.close()

    fc = FakeCourse(script)
    code, out, err = run_student(fc.port, v6port).finish(20)
    fc.join()
    check(code == 2, f"exit {code} (-13 would be SIGPIPE): {err}")
    one_error_line(err, "ipv4-client", "")
    check(any(w in err for w in ("Broken pipe", "Connection reset", "without a verdict")), err)
    s6.finish(10)
    check(not queue_exists(key), "queue")


def course_closes_without_verdict():
    s6, v6port, key = start_ipv6_server()

    def script(fc):
        fc.ask_all()
        fc.send(b"Starting 5 IPv6 clients.\n")
        deliver(v6port, [make_token(k) for k in range(1, 6)])
        fc.result["reply"] = fc.line()
        fc.conn.close()

    fc = FakeCourse(script)
    code, out, err = run_student(fc.port, v6port).finish(20)
    fc.join()
    check(code == 2, f"exit {code}")
    one_error_line(err, "ipv4-client", "closed the connection without a verdict")
    s6.finish(10)


# --- signals: EINTR everywhere ------------------------------------------------------

def signal_storm(pids_of, sigs, stop, period=0.002):
    while not stop.is_set():
        for pid in pids_of():
            for sig in sigs:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        time.sleep(period)


def eintr_everywhere():
    # SIGCHLD (which both servers handle, so their blocking calls return EINTR) to every
    # process of the exercise, and stop/continue (as ^Z then fg: connect() with a send
    # timeout returns EINTR) to all four programs, all along the run. Still PASS.
    s4, v4port = start_ipv4_server("--grades", GRADES)
    s6, v6port, key = start_ipv6_server()
    c = None

    def everyone():
        out = [s4.pid, s6.pid] + [p for p, _ in children(s4.pid) + children(s6.pid)]
        return out + ([c.pid] if c else [])

    stop = threading.Event()
    storms = [threading.Thread(target=signal_storm, args=(everyone, (signal.SIGCHLD,), stop)),
              threading.Thread(target=signal_storm, args=(everyone, (signal.SIGSTOP, signal.SIGCONT),
                                                          stop, 0.02))]
    for t in storms:
        t.start()
    try:
        c = run_student(v4port, v6port)
        code, out, err = c.finish(40)
        c = None
    finally:
        stop.set()
        for t in storms:
            t.join()
        for pid in everyone():  # the children too: one stopped would hold its parent's wait
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
    check(code == 0 and "PASS: 5/5" in out, out + err)
    check(s6.finish(10)[0] == 0 and not queue_exists(key), "ipv6-server")
    no_zombies(s4.pid)
    s4.kill()


if __name__ == "__main__":
    main({f.__name__: f for f in (
        token_1byte_segments, token_and_fin_one_segment, token_bare_newline, silent_client,
        half_token_then_close, reset_mid_token, oversized_token, nonprintable_token,
        sixth_client, child_killed, ipv6_port_in_use, ipv4_port_in_use, family_mismatch,
        stale_queue, queue_other_user, full_queue_of_junk, answers_merged_reply_1byte,
        answers_1byte_segments, answer_too_long, invalid_answers, student_never_answers,
        student_never_replies, student_gone_before_verdict, bad_replies, two_hundred_students,
        idle_connections, course_server_killed, prompts_split_merged,
        start_message_and_verdict_merged, client_before_ipv6_server, client_waits_bounded,
        course_gone_before_reply, course_closes_without_verdict, eintr_everywhere)})
