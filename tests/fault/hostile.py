#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The course server against a hostile class (label fault): what a red-team run broke, one
scenario each. Usage: hostile.py SCENARIO (CTest runs each as fault.hostile.SCENARIO)."""
import os
import resource
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from v6test import (Student, TokenCatcher, check, main, scratch_dir,  # noqa: E402
                    start_ipv4_server, wait_until)

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


if __name__ == "__main__":
    main({f.__name__: f for f in (long_verdict, flooding_server, refused_no_reset)})
