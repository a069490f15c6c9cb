# SPDX-License-Identifier: MIT
"""What the end-to-end tests share: start the programs, read what they print, look at
/proc for zombies, leaked descriptors and leftover message queues.

Debian's /usr/bin/python3, standard library only."""
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("V6LAB_BIN", os.path.join(TOP, "build", "bin"))
SKIP = 77


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


class Proc:
    """A program of ours, its stdout and stderr read line by line as they come."""

    def __init__(self, argv, stdin=subprocess.DEVNULL, env=None):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env,
                                  errors="replace")
        self.pid = self.p.pid
        self.lines = queue.Queue()
        self.out, self.err = [], []
        for stream, sink in ((self.p.stdout, self.out), (self.p.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, sink), daemon=True).start()

    def _pump(self, stream, sink):
        for line in stream:
            sink.append(line)
            self.lines.put(line)

    def wait_for(self, pattern, timeout=10):
        """The first line (stdout or stderr) matching pattern, as a match object."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            m = rx.search(line)
            if m:
                return m
        raise AssertionError(f"{os.path.basename(self.argv[0])}: no line matching "
                             f"{pattern!r} within {timeout}s; stdout={''.join(self.out)!r} "
                             f"stderr={''.join(self.err)!r}")

    def finish(self, timeout=20):
        """Wait for the exit; returns (code, stdout, stderr)."""
        try:
            code = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"{self.argv} still running after {timeout}s; "
                                 f"stdout={''.join(self.out)!r} stderr={''.join(self.err)!r}")
        time.sleep(0.05)  # let the pump threads drain the pipes
        return code, "".join(self.out), "".join(self.err)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def run(name, *args, stdin=subprocess.DEVNULL):
    return Proc([os.path.join(BIN, name), *map(str, args)], stdin=stdin)


def start_ipv6_server(*args, program="ipv6-server"):
    """An IPv6 server on a free port: (proc, port, queue key)."""
    p = run(program, "--port", 0, *args) if program == "ipv6-server" else \
        Proc([os.path.join(BIN, program), "--port", "0", *map(str, args)])
    m = p.wait_for(r"listening on \[.*\]:(\d+).*queue key (0x[0-9a-f]+)")
    return p, int(m.group(1)), int(m.group(2), 16)


def start_ipv4_server(*args):
    """The course server on a free port: (proc, port)."""
    p = run("ipv4-server", "--port", 0, *args)
    m = p.wait_for(r"listening on [\d.]+:(\d+)")
    return p, int(m.group(1))


def run_student(v4port, v6port, v6addr="::1", *args):
    return run("ipv4-client", "--server", "127.0.0.1", "--port", v4port, "--id", "2021123456",
               "--v6-addr", v6addr, "--v6-port", v6port, "--yes", *args)


# --- /proc ------------------------------------------------------------------------

def children(pid):
    """(pid, state) of the live children of pid."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for c in f.read().split():
                    out.append((int(c), proc_state(int(c))))
    except FileNotFoundError:
        pass
    return out


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def zombies(pid):
    return [c for c, s in children(pid) if s == "Z"]


def fds(pid):
    """fd number -> what it is ('socket:[inode]', 'pipe:[inode]', a path)."""
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            pass
    return out


def listening_inode(port):
    """The inode of the TCP socket listening on port (IPv4 or IPv6 table)."""
    for table in ("/proc/net/tcp6", "/proc/net/tcp"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    return cols[9]
    return None


def tcp_sockets(pid):
    """The TCP sockets pid holds, as 'socket:[inode]' strings (tracing libraries hold Unix
    sockets of their own; those are not ours to count)."""
    inodes = set()
    for table in ("/proc/net/tcp6", "/proc/net/tcp"):
        with open(table) as f:
            inodes.update(line.split()[9] for line in f.readlines()[1:])
    return sorted(v for v in fds(pid).values() if v.startswith("socket:[") and v[8:-1] in inodes)


def queue_exists(key):
    with open("/proc/sysvipc/msg") as f:
        for line in f.readlines()[1:]:
            if int(line.split()[0]) == key:
                return True
    return False


def grades(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


# --- a scripted student, speaking the protocol from Python --------------------------

class Student:
    """The student's side of the IPv4 leg, byte by byte under the test's control."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.buf = b""

    def read_until(self, delim=b"\n> "):
        while delim not in self.buf:
            data = self.s.recv(4096)
            if not data:
                rest, self.buf = self.buf, b""
                return rest.decode(errors="replace")
            self.buf += data
        i = self.buf.index(delim) + len(delim)
        msg, self.buf = self.buf[:i], self.buf[i:]
        return msg.decode(errors="replace")

    def answer(self, text, end="\n"):
        self.s.sendall((text + end).encode())
        return self.read_until()

    def rest(self):
        return self.read_until(b"\0never")

    def close(self):
        self.s.close()


class TokenCatcher:
    """A correct concurrent IPv6 server in Python that keeps the tokens for the test."""

    def __init__(self):
        self.ls = socket.create_server(("::1", 0), family=socket.AF_INET6, backlog=16)
        self.port = self.ls.getsockname()[1]
        self.tokens = {}
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        threads = []
        for _ in range(5):
            c, _ = self.ls.accept()
            t = threading.Thread(target=self._one, args=(c,))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        self.ls.close()
        self.done.set()

    def _one(self, c):
        data = b""
        while not data.endswith(b"\n"):
            chunk = c.recv(64)
            if not chunk:
                break
            data += chunk
        tok = data.decode().strip()
        self.tokens[int(tok[6])] = tok
        c.close()


def main(scenarios):
    """Run the scenario named by argv[1]."""
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in scenarios:
        print(f"usage: {sys.argv[0]} SCENARIO; one of: {' '.join(scenarios)}")
        sys.exit(2)
    t0 = time.monotonic()
    scenarios[name]()
    print(f"{name}: ok ({time.monotonic() - t0:.2f} s)")
