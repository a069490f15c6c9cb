#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""How ipv4-server cuts what it sends into segments (--framing), seen on the wire by a client
that reads the way the 2021 students' clients did, and v6lab's own client under every framing.
Usage: framing.py SCENARIO (CTest runs each as e2e.framing.SCENARIO)."""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from v6test import (FakeCourse, TokenCatcher, check, grades, main, queue_exists,  # noqa: E402
                    run, run_student, scratch_dir, start_ipv4_server, start_ipv6_server)

TMP = scratch_dir("v6lab-framing-")
GRADES = os.path.join(TMP, "grades.jsonl")
COLOUR, RESET = FakeCourse.COLOUR, b"\033[0m"
ANSWERS = ["2021123456", "::1", None, "Y", "Y", "OK"]  # None: the catcher's port


def data_segments(s):
    """Segments with data this socket has received (struct tcp_info's tcpi_data_segs_in)."""
    return struct.unpack_from("I", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256), 152)[0]


class Wire:
    """A student client that reads as its program calls read(): what each recv() returned."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)

    def recv(self):
        return self.s.recv(4096)

    def whole(self, end=b"\n> "):
        """Every recv() until `end`: (the message, how many recv() it took)."""
        buf, reads = b"", 0
        while not buf.endswith(end):
            data = self.recv()
            check(data, f"closed after {buf!r}")
            buf, reads = buf + data, reads + 1
        return buf, reads

    def send(self, text):
        self.s.sendall(text.encode() + b"\n")


def question_text(q, error=""):
    return (FakeCourse.BANNER if q == 1 else b"") + error.encode() + FakeCourse.question(q)


def read_question(w, framing):
    """One question as the client reads it: what each recv() got. In 2021 framing exactly
    two reads, as the 2021 clients did; else until the prompt ends."""
    return [w.recv(), w.recv()] if framing == "2021" else [w.whole()[0]]


def session(framing):
    """The six questions, the port refused once: (wire, catcher, server, [(q, reads, segs)]),
    segs = the data segments the question came in (the server sends nothing between our
    answer and its next question, so the count before the answer is the count before it)."""
    catcher = TokenCatcher()
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES, "--framing", framing)
    w = Wire(v4port)
    got, before = [], 0
    for q, answer in enumerate(ANSWERS, 1):
        reads = read_question(w, framing)
        got.append((q, reads, data_segments(w.s) - before))
        if q == 3:  # a wrong port first: the reason comes with the question asked again
            before = data_segments(w.s)
            w.send("70000")
            reads = read_question(w, framing)
            got.append((q, reads, data_segments(w.s) - before))
        before = data_segments(w.s)
        w.send(answer or str(catcher.port))
    return w, catcher, s4, got


def wire_2021():
    """Every question is two segments, the colour alone and then the text, and a client that
    reads twice gets exactly those; the start message and the verdict one read each."""
    w, catcher, s4, got = session("2021")
    error = "error: '70000' is not a port: give a number from 1 to 65535\n"
    for i, (q, reads, segs) in enumerate(got):
        retry = i == 3
        text = question_text(q, error if retry else "")
        check(reads == [COLOUR, text], f"question {q}: the two reads got {reads!r}")
        check(segs == 2, f"question {q} came in {segs} segments, not 2")
    start = w.recv()  # the 2021 clients read once after OK
    check(start.startswith(b"Starting 5 IPv6 clients to [::1]:") and start.endswith(b"newline.\n")
          and start.count(b"\n") == 1, f"the read after OK got {start!r}")
    check(catcher.done.wait(10), "the course clients did not all connect")
    w.s.sendall((",".join(catcher.tokens[k] for k in range(1, 6)) + "\n").encode())
    verdict = w.recv()  # ... and once for the verdict
    check(verdict == b"PASS: 5/5 tokens, concurrent: yes\n" + RESET, f"verdict read {verdict!r}")
    check(w.recv() == b"", "the server did not close after the verdict")
    check(s4.finish(10)[0] == 0, "ipv4-server --once exit")


def wire_merged():
    """--framing merged: the colour and the text in one write, one segment per message."""
    w, catcher, s4, got = session("merged")
    for q, (msg,), segs in got:
        check(msg.startswith(COLOUR) and msg.endswith(FakeCourse.question(q)), repr(msg))
        check(segs == 1, f"question {q} came in {segs} segments, not 1")
    s4.p.kill()


def wire_bytes():
    """--framing bytes: one byte per write; the first message leaves in dozens of segments
    (one per byte where the client reads as fast as they come; TCP merges some when it is
    behind, here 35 to 82 for its 82 bytes)."""
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES, "--framing", "bytes")
    w = Wire(v4port)
    msg, _ = w.whole()
    check(msg == COLOUR + question_text(1), repr(msg))
    segs = data_segments(w.s)
    check(segs >= 20, f"82 bytes written one at a time came in {segs} segments")
    s4.p.kill()


def own_client(framing):
    """v6lab's own pair PASSes whatever the framing: it reads until a prompt is complete."""
    s6, v6port, key = start_ipv6_server()
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES, "--framing", framing)
    code, out, err = run_student(v4port, v6port).finish(30)
    check(code == 0 and "PASS: 5/5 tokens, concurrent: yes" in out, out + err)
    check(s4.finish(10)[0] == 0 and s6.finish(10)[0] == 0, "servers' exit codes")
    check(not queue_exists(key), "queue left")
    g = grades(GRADES)[-1]
    check(g["verdict"] == "PASS" and g["concurrent"] is True, g)


def own_client_merged():
    own_client("merged")


def own_client_bytes():
    own_client("bytes")


def bad_framing():
    code, out, err = run("ipv4-server", "--framing", "2017").finish(5)
    lines = err.strip().splitlines()
    check(code == 2 and len(lines) == 1 and
          lines[0] == "ipv4-server: --framing '2017': give 2021, merged or bytes", err)


if __name__ == "__main__":
    main({f.__name__: f for f in (wire_2021, wire_merged, wire_bytes, own_client_merged,
                                  own_client_bytes, bad_framing)})
