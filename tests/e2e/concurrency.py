#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The course server's concurrency judgement against real server shapes: children that read
30 bytes or until EOF, one connection at a time, listen() backlogs 1 to 5, and a first SYN lost
as over Teredo (nftables in a network namespace this test makes and removes).
Usage: concurrency.py SCENARIO (CTest runs each as e2e.concurrency.SCENARIO)."""
import os
import re
import shutil
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from v6test import (Student, check, grades, main, scratch_dir, skip,  # noqa: E402
                    start_ipv4_server, wait_until)

TMP = scratch_dir("v6lab-concurrency-")
GRADES = os.path.join(TMP, "grades.jsonl")


class ShapeServer:
    """An IPv6 server of one shape that keeps the tokens for the test. concurrent: a thread
    per connection (accepts all at once); else one connection at a time. eof: read until
    the client's FIN; else exactly the 30 bytes."""

    def __init__(self, concurrent, eof, backlog):
        self.ls = socket.socket(socket.AF_INET6)
        self.ls.bind(("::1", 0))
        self.ls.listen(backlog)
        self.port = self.ls.getsockname()[1]
        self.concurrent, self.eof = concurrent, eof
        self.tokens = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        for _ in range(5):
            c, _ = self.ls.accept()
            if self.concurrent:
                threading.Thread(target=self._one, args=(c,), daemon=True).start()
            else:
                self._one(c)
        self.ls.close()

    def _one(self, c):
        c.settimeout(20)
        data = b""
        while self.eof or len(data) < 30:
            chunk = c.recv(64)
            if not chunk:
                break
            data += chunk
        self.tokens.append(data[:28].decode(errors="replace"))
        c.close()


def judged(server, *v4args):
    """One session against server: the grade line."""
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES, *v4args)
    st = Student(v4port)
    st.read_until()
    for a in ("2021123456", "::1", str(server.port), "Y", "Y"):
        st.answer(a)
    st.s.sendall(b"OK\n")
    st.read_until(b"newline.\n")
    wait_until(lambda: len(server.tokens) == 5, 30, f"five tokens; the server got {server.tokens}")
    st.s.sendall((",".join(server.tokens) + "\n").encode())
    verdict = st.rest()
    check(s4.finish(20)[0] == 0, f"ipv4-server --once: {verdict!r}")
    g = grades(GRADES)[-1]
    check(g["verdict"] == "PASS", f"{verdict!r} {g}")
    return g


def shapes(backlog):
    """Each shape, with this listen backlog, gets the judgement it deserves, in about the
    time it needs (one scenario per backlog: they run side by side)."""
    for eof in (False, True):
        g = judged(ShapeServer(True, eof, backlog))
        check(g["concurrent"] is True, f"concurrent, eof={eof}, backlog {backlog}: {g}")
        # as fast as the course clients go: about 1 s of sends, the questions' 0.6 s
        check(g["elapsed_ms"] < 3000, f"concurrent, eof={eof}, backlog {backlog}: {g}")
        g = judged(ShapeServer(False, eof, backlog))
        check(g["concurrent"] is False, f"sequential, eof={eof}, backlog {backlog}: {g}")
        print(f"backlog {backlog}, {'EOF' if eof else '30 bytes'}: concurrent "
              f"{g['concurrent']} in {g['elapsed_ms']} ms")


def first_syn_lost():
    """Client 1's first SYN is dropped (as a Teredo path drops the first SYN to a new peer),
    so client 2 connects first: a sequential server is stuck on client 2, not client 1, and
    must still be judged sequential; a concurrent one still concurrent."""
    if os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        skip("needs root, ip and nft (apt-get install iproute2 nftables)")
    ns = f"v6lab-conc-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        p = subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                            "_first_syn_lost"], capture_output=True, text=True, timeout=100)
        sys.stdout.write(p.stdout)
        check(p.returncode == 0, p.stdout + p.stderr)
    finally:
        subprocess.run(["ip", "netns", "del", ns])


def drop_first_syn(port):
    """Drop the first SYN to port: a quota of 100 bytes holds one IPv6 SYN (80 bytes)."""
    rules = ("table inet v6lab_conc {\n chain input {\n type filter hook input priority 0;\n"
             f" tcp dport {port} tcp flags & (syn | ack) == syn quota until 100 bytes"
             " counter drop\n }\n}\n")
    p = subprocess.run(["nft", "-f", "-"], input=rules, capture_output=True, text=True)
    check(p.returncode == 0, f"nft: {p.stderr}")


def dropped():
    p = subprocess.run(["nft", "list", "table", "inet", "v6lab_conc"], capture_output=True,
                       text=True)
    m = re.search(r"counter packets (\d+)", p.stdout)
    subprocess.run(["nft", "delete", "table", "inet", "v6lab_conc"])
    return int(m.group(1)) if m else -1


def _first_syn_lost():
    for concurrent in (False, True):
        for eof in (False, True):
            server = ShapeServer(concurrent, eof, 5)
            drop_first_syn(server.port)
            g = judged(server)
            check(dropped() == 1, "the first SYN was not dropped once")
            check(g["concurrent"] is concurrent, f"concurrent={concurrent} eof={eof}: {g}")
            print(f"first SYN lost, {'concurrent' if concurrent else 'sequential'} server "
                  f"reading {'to EOF' if eof else '30 bytes'}: concurrent {g['concurrent']} "
                  f"in {g['elapsed_ms']} ms")


if __name__ == "__main__":
    main(dict({f"shapes_backlog{n}": (lambda n=n: shapes(n)) for n in (1, 3, 5)},
              **{f.__name__: f for f in (first_syn_lost, _first_syn_lost)}))
