# SPDX-License-Identifier: MIT
"""The student's processes as /proc shows them: who is in a process group, what listens,
where a process is blocked; and ending them all, orphans included (the session is a
subreaper: PID 1 of a container may never reap what a student's server leaves)."""
import ctypes
import os
import signal
import time

from .terminal import blocked_in

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    """Orphans of what we start (a student server's children) become our children."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def _stat(pid):
    """(state, ppid, pgrp) of pid, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields[0], int(fields[1]), int(fields[2])


def state(pid):
    s = _stat(pid)
    return s[0] if s else "gone"


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"


def children(pid=None):
    """(pid, state) of the children of pid (default: ours)."""
    pid = pid or os.getpid()
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [(int(c), state(int(c))) for c in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def group(pgid):
    """The live pids of process group pgid."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            s = _stat(int(name))
            if s and s[2] == pgid and s[0] != "Z":
                out.append(int(name))
    return out


def _inodes(pid):
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return set()
    out = set()
    for fd in names:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


def _addr(hexaddr):
    """The text form of a /proc/net/tcp{,6} address."""
    import socket
    raw = bytes.fromhex(hexaddr)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))  # host-order words
    return socket.inet_ntop(socket.AF_INET6, words)


def listening(pids):
    """[(address, port)] of the TCP sockets in LISTEN that any of pids holds."""
    inodes = set()
    for pid in pids:
        inodes |= _inodes(pid)
    out = []
    for table in ("/proc/net/tcp6", "/proc/net/tcp"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:
                addr, port = cols[1].rsplit(":", 1)
                out.append((_addr(addr), int(port, 16)))
    return sorted(set(out))


def _fd_kind(pid, fd):
    try:
        what = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return "?"
    if what.startswith("/dev/pts/") or what == "/dev/ptmx":
        return "its terminal"
    if what.startswith(("socket:", "pipe:")):
        return f"a {what.split(':')[0]}"
    return what


def connected_to(port):
    """Whether a TCP connection to 127.0.0.1:port exists (in any state but LISTEN)."""
    try:
        with open("/proc/net/tcp") as f:
            rows = [line.split() for line in f.readlines()[1:]]
    except OSError:
        return False
    return any(r[2] == f"0100007F:{port:04X}" and r[3] != "0A" for r in rows)


def where(pid):
    """Where pid is, for a person: 'blocked in read() on fd 3 (a socket)', 'blocked in
    msgrcv() on message queue id 28', 'running', 'a zombie'; None when it is gone."""
    st = state(pid)
    if st == "gone":
        return None
    if st == "Z":
        return "a zombie"
    b = blocked_in(pid)
    if b is None:
        return None
    name, arg = b
    if name == "running":
        return "running (not blocked in a system call)"
    if name in ("msgrcv", "msgsnd"):
        return f"blocked in {name}() on message queue id {arg}"
    if name in ("read", "write", "recvfrom", "accept", "accept4", "connect"):
        return f"blocked in {name}() on fd {arg} ({_fd_kind(pid, arg)})"
    if name in ("nanosleep", "clock_nanosleep"):
        return f"sleeping ({name})"
    if name == "wait4":
        return "blocked in waitpid()"
    return f"blocked in {name}()"


def stop_group(pgid, grace=2.0):
    """SIGTERM to process group pgid (a student's program may clean up on it), then SIGKILL
    after grace seconds to whatever is still in it. True if something was there."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and group(pgid):
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return True


def reap_orphans(ours, timeout=5.0):
    """Kill and reap our children that are not in ours (pids we started ourselves): what the
    student's programs left. Returns [(pid, command name, state it was in)]."""
    found, seen = [], set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [(p, s) for p, s in children() if p not in ours]
        if not left:
            break
        for pid, st in left:
            if pid not in seen:
                seen.add(pid)
                found.append((pid, comm(pid), st))
            try:
                if st != "Z":
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
    return found
