# SPDX-License-Identifier: MIT
"""What the end-to-end tests share: start the programs, read what they print, look at
/proc for zombies, leaked descriptors and leftover message queues.

Debian's /usr/bin/python3, standard library only."""
import ctypes
import atexit
import json
import os
import queue
import re
import socket
import struct
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
    """A program of ours, its stdout and stderr read line by line as they come.
    Whatever is still running when the test ends (a failed check, say) is killed."""

    running = []

    def __init__(self, argv, stdin=subprocess.DEVNULL, env=None):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env,
                                  errors="replace")
        self.pid = self.p.pid
        Proc.running.append(self)
        self.lines = queue.Queue()
        self.out, self.err = [], []
        self.pumps = [threading.Thread(target=self._pump, args=(stream, sink), daemon=True)
                      for stream, sink in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for t in self.pumps:
            t.start()

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
            where = waiting_in(self.p.pid)  # before the kill: what it (and its children) waited on
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"{self.argv} still running after {timeout}s ({where}); "
                                 f"stdout={''.join(self.out)!r} stderr={''.join(self.err)!r}")
        for t in self.pumps:
            t.join(5)  # to the end of its output (bounded: a child it left may hold the pipes)
        return code, "".join(self.out), "".join(self.err)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


@atexit.register
def _kill_leftovers():
    for proc in Proc.running:
        proc.kill()


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
    except (FileNotFoundError, ProcessLookupError):  # it (or one of its threads) ended
        pass
    return out


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):  # it exited meanwhile
        return "gone"


def _wchan(pid):
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read().strip() or "-"
    except OSError:
        return "?"


def waiting_in(pid):
    """'pid state wchan' of pid and of its children: where a process that did not end was."""
    return "; ".join(f"{p} {s} {_wchan(p)}" for p, s in
                     [(pid, proc_state(pid))] + children(pid))


def zombies(pid):
    return [c for c, s in children(pid) if s == "Z"]


def wait_blocked(pid, *calls, timeout=10):
    """Until pid sleeps in one of calls ("ppoll", "accept4": terminal.blocked_in's names):
    what it does before that call is done. /proc/PID/syscall names a call only while the
    task sleeps in it: a "ppoll" is the program back in ppoll(), not on its way there."""
    from terminal import blocked_in

    def now():
        return (blocked_in(pid) or ("gone", None))[0]
    wait_until(lambda: now() in calls, timeout, f"{pid} asleep in {' or '.join(calls)} "
               f"(it is in {now()})")


def fds(pid):
    """fd number -> what it is ('socket:[inode]', 'pipe:[inode]', a path)."""
    out = {}
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return out  # it has exited meanwhile
    for fd in names:
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


def peer_unread(s):
    """Bytes sent on the connected socket s that its other end, on this host, has not read yet
    (that end's receive queue in /proc/net/tcp6 or tcp); None while there is no such end."""
    mine, theirs = s.getsockname()[1], s.getpeername()[1]
    for table in ("/proc/net/tcp6", "/proc/net/tcp"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if (int(cols[1].rsplit(":", 1)[1], 16) == theirs
                        and int(cols[2].rsplit(":", 1)[1], 16) == mine):
                    return int(cols[4].split(":")[1], 16)
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


def exit_on_sigterm():
    """A ctest timeout sends SIGTERM: exit instead, so that the atexit clean-ups still run.
    (Only the main thread may set it; a helper thread's caller has done so already.)"""
    import signal
    import threading
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


def scratch_dir(prefix):
    """A private temporary directory, removed when the test ends, a ctest timeout included
    (after our programs are killed: none of them still writes there)."""
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix=prefix)

    def remove():
        _kill_leftovers()
        shutil.rmtree(d, True)
    atexit.register(remove)
    exit_on_sigterm()
    return d


def main(scenarios):
    """Run the scenario named by argv[1]."""
    exit_on_sigterm()
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in scenarios:
        print(f"usage: {sys.argv[0]} SCENARIO; one of: {' '.join(scenarios)}")
        sys.exit(2)
    t0 = time.monotonic()
    scenarios[name]()
    print(f"{name}: ok ({time.monotonic() - t0:.2f} s)")


# --- fault matrix helpers (tests/fault/) ----------------------------------------------

TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def make_token(k):
    """A fresh valid token for client k (28 characters, no line end)."""
    import random
    return f"client{k}:" + "".join(random.choice(TOKEN_CHARS) for _ in range(20))


_held_ports = []


def free_port(family=socket.AF_INET6, host="::"):
    """A port nothing listens on, held until the test ends by a socket bound there with
    SO_REUSEADDR that never listens: nobody else's bind(0) or connect() takes it meanwhile,
    and our programs (SO_REUSEADDR too) can still bind it and listen there."""
    s = socket.socket(family)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # [::]: the IPv4 side too
    s.bind((host, 0))
    _held_ports.append(s)
    return s.getsockname()[1]


def wait_port_free(port, timeout=10):
    """Until nothing listens on port any more: a killed server's listening socket goes only
    with its last holder (the server once it has exited, a child forked just before, which
    had not closed its copy yet)."""
    wait_until(lambda: listening_inode(port) is None, timeout,
               f"port {port} still has a listener (inode {listening_inode(port)})")


def send_raw(port, data, how="whole", end="close", host="::1", gap=0.003):
    """Connect to host:port and send data: how = whole | bytes (one byte per segment) |
    cork (the data and the FIN in one segment). end = close | rst (SO_LINGER 0) | keep.
    Returns the socket when end is keep."""
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if how == "bytes":
        for i in range(len(data)):
            s.send(data[i:i + 1])
            time.sleep(gap)
    elif how == "cork":
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        s.send(data)
        s.shutdown(socket.SHUT_WR)  # uncorks: data and FIN leave together
    else:
        s.sendall(data)
    if end == "keep":
        return s
    if end == "rst":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return None


def one_error_line(err, prog, needle):
    """stderr is exactly one line 'prog: ...' containing needle."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    check(len(lines) == 1 and lines[0].startswith(prog + ": ") and needle in lines[0],
          f"expected one line '{prog}: ...{needle}...', got {err!r}")


def pipes(pid):
    return sorted(v for v in fds(pid).values() if v.startswith("pipe:"))


def wait_until(cond, timeout, what, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(step)
    raise AssertionError(f"not within {timeout}s: {what}")


def no_zombies(pid, timeout=2.0):
    wait_until(lambda: zombies(pid) == [], timeout, f"zombies of {pid}: {zombies(pid)}")


def set_subreaper():
    """Orphans of our programs (a killed server's sessions) become our children."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


# System V message queues from Python (ctypes; the stdlib has no msgget).
IPC_CREAT, IPC_EXCL, IPC_NOWAIT, MSG_NOERROR = 0o1000, 0o2000, 0o4000, 0o10000
IPC_RMID, IPC_SET, IPC_STAT = 0, 1, 2
_MSQID_DS_SIZE, _UID_OFF, _QBYTES_OFF = 120, 4, 88  # x86_64 glibc struct msqid_ds


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def msg_create(key, mode=0o600):
    qid = _libc().msgget(ctypes.c_int(key), IPC_CREAT | IPC_EXCL | mode)
    check(qid >= 0, f"msgget 0x{key:08x}: {os.strerror(ctypes.get_errno())}")
    return qid


def msg_id(key):
    qid = _libc().msgget(ctypes.c_int(key), 0)
    return qid if qid >= 0 else None


def msg_send(qid, mtype, data, nowait=True):
    buf = ctypes.create_string_buffer(struct.pack("q", mtype) + data, 8 + max(len(data), 1))
    r = _libc().msgsnd(qid, buf, ctypes.c_size_t(len(data)), IPC_NOWAIT if nowait else 0)
    return r == 0


def msg_take_all(qid):
    """Every message on the queue as (type, bytes), without waiting."""
    out, libc = [], _libc()
    buf = ctypes.create_string_buffer(8 + 8192)
    libc.msgrcv.restype = ctypes.c_ssize_t
    while True:
        n = libc.msgrcv(qid, buf, ctypes.c_size_t(8192), ctypes.c_long(0),
                        IPC_NOWAIT | MSG_NOERROR)
        if n < 0:
            return out
        out.append((struct.unpack("q", buf.raw[:8])[0], buf.raw[8:8 + n]))


def msg_remove(qid):
    if qid is None:  # no such queue: never msgctl(0, ...), that is somebody's queue id 0
        return
    _libc().msgctl(qid, IPC_RMID, None)


def msg_set_owner(qid, uid):
    ds = ctypes.create_string_buffer(_MSQID_DS_SIZE)
    libc = _libc()
    check(libc.msgctl(qid, IPC_STAT, ds) == 0, "IPC_STAT")
    struct.pack_into("I", ds, _UID_OFF, uid)
    check(libc.msgctl(qid, IPC_SET, ds) == 0, f"IPC_SET: {os.strerror(ctypes.get_errno())}")


def queue_tokens(key):
    """Take the IPv6 server's messages off its queue and remove it: (tokens, end text)."""
    qid = msg_id(key)
    check(qid is not None, f"no queue 0x{key:08x}")
    msgs = msg_take_all(qid)
    msg_remove(qid)
    toks = [m.rstrip(b"\0").decode() for t, m in msgs if t == 1]
    ends = [m.rstrip(b"\0").decode() for t, m in msgs if t == 2]
    return toks, ends


class FakeCourse:
    """A scripted course server for one ipv4-client: the test drives the bytes and the
    segment boundaries (script(conn) runs in a thread with the accepted socket)."""

    COLOUR = b"\033[1;36m"
    BANNER = b"v6lab course server: the IPv4/IPv6 token relay\n"
    TEXT = {1: "Student id (digits)", 2: "IPv6 address of your IPv6 server",
            3: "Port of your IPv6 server", 4: "Is your IPv6 server running and listening? (Y/N)",
            5: "Will it serve the 5 clients concurrently? (Y/N)",
            6: "Type OK to start the 5 IPv6 clients"}

    def __init__(self, script):
        self.ls = socket.create_server(("127.0.0.1", 0))
        self.port = self.ls.getsockname()[1]
        self.error = None
        self.result = {}
        self.buf = b""
        self.thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self.thread.start()

    @staticmethod
    def question(q):
        return f"[{q}/6] {FakeCourse.TEXT[q]}\n> ".encode()

    def _run(self, script):
        self.ls.settimeout(15)
        try:
            conn, _ = self.ls.accept()
            conn.settimeout(15)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.conn = conn
            script(self)
        except Exception as e:  # reported by join()
            self.error = e
        finally:
            self.ls.close()

    def send(self, data, split="whole"):
        """split: whole | bytes | random (segments of 1..7 bytes)."""
        import random
        if split == "whole":
            self.conn.sendall(data)
            return
        i = 0
        while i < len(data):
            n = 1 if split == "bytes" else random.randint(1, 7)
            self.conn.sendall(data[i:i + n])
            i += n
            time.sleep(0.002)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.conn.recv(4096)
            if not chunk:
                raise AssertionError(f"client closed; got {self.buf!r}")
            self.buf += chunk
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out.decode(errors="replace")

    def ask_all(self, split="whole"):
        """Each question after the colour escape, as ipv4-server sends them (the banner with
        question 1), each in one segment (split="whole": --framing merged); the answers."""
        answers = []
        self.send(self.COLOUR + self.BANNER + self.question(1), split)
        for q in range(1, 7):
            answers.append(self.line().strip())
            if q < 6:
                self.send(self.COLOUR + self.question(q + 1), split)
        return answers

    def join(self, timeout=30):
        self.thread.join(timeout)
        check(not self.thread.is_alive(), "fake course server still running")
        if self.error:
            raise self.error
