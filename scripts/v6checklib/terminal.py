# SPDX-License-Identifier: MIT
"""A program on a terminal of its own, and a person typing at it.

    with Terminal([program, arg, ...]) as t:
        for line in ("2021123456", "::1", "7002", "Y", "Y", "OK"):
            t.type_line(line)
        code = t.wait(30)
        print(t.transcript())

The program gets a pseudo-terminal as stdin, stdout and stderr, as in a terminal window
(what it prints and the echo of what was typed are in transcript()). type_line() types a
line only once the program is blocked in read() on fd 0 (/proc/PID/syscall), and returns
once that read() has returned (/proc/PID/io syscr has counted it), so the next type_line()
waits for the program's next read of its terminal, never for the read it just answered.
Each line is one read() for a program in the terminal's line mode, as when a person types
it and presses Enter.

Every wait is bounded; one that runs out raises TerminalTimeout, which says what the
program printed and where it was blocked. The pseudo-terminal's descriptors are closed by
close() (a with block, or the exit of the test at the latest), which kills the program if
it still runs. Linux on x86_64 or aarch64 (the system call numbers); needs the right to
read another process's /proc/PID/syscall (root, or the program's own user).

scripts/check types the answers with it; tests/lib/terminal.py (the tests' and tutorial 04's
name for it) imports it from here."""
import atexit
import os
import platform
import select
import subprocess
import sys
import threading
import time

# The system calls a student's program blocks in, by number; the others are named by it.
_SYSCALLS = {
    "x86_64": {0: "read", 1: "write", 2: "open", 7: "poll", 23: "select", 35: "nanosleep",
               42: "connect", 43: "accept", 45: "recvfrom", 61: "wait4", 69: "msgsnd",
               70: "msgrcv", 202: "futex", 230: "clock_nanosleep", 257: "openat",
               270: "pselect6", 271: "ppoll", 288: "accept4"},
    "aarch64": {56: "openat", 63: "read", 64: "write", 72: "pselect6", 73: "ppoll",
                98: "futex", 101: "nanosleep", 115: "clock_nanosleep", 188: "msgrcv",
                189: "msgsnd", 202: "accept", 203: "connect", 207: "recvfrom", 242: "accept4",
                260: "wait4"},
}.get(platform.machine(), {})


class TerminalTimeout(AssertionError):
    pass


def _state(pid):
    """The process's state letter (R, S, Z...), None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def blocked_in(pid):
    """(system call name, first argument) the process is blocked in; ("running", None) when
    it is not in a system call, None when it is gone."""
    try:
        with open(f"/proc/{pid}/syscall") as f:
            fields = f.read().split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except PermissionError:  # an exiting process's (a zombie's) syscall cannot be read
        if _state(pid) in (None, "Z", "X"):
            return None
        raise
    if not fields or not fields[0].lstrip("-").isdigit():
        return ("running", None)
    nr = int(fields[0])
    if nr < 0:
        return ("running", None)  # stopped, not in a system call
    return (_SYSCALLS.get(nr, f"syscall {nr}"), int(fields[1], 16) if len(fields) > 1 else None)


def _reads_done(pid):
    """How many read() calls the process has completed (syscr), None when it is gone."""
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("syscr:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


class Terminal:
    """argv run on a new pseudo-terminal; see the module's doc string."""

    _open = []

    def __init__(self, argv, env=None, cwd=None, new_session=False):
        """new_session: the program leads a session (and process group) of its own, so that
        killing that group ends what it started too (the terminal is not its controlling
        terminal then: it only reads and writes it)."""
        self.argv = [str(a) for a in argv]
        self.name = os.path.basename(self.argv[0])
        master, slave = os.openpty()  # neither is inherited by other children
        try:
            self.p = subprocess.Popen(self.argv, stdin=slave, stdout=slave, stderr=slave,
                                      env=env, cwd=cwd, start_new_session=new_session)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.pid = self.p.pid
        self._master = master
        os.set_blocking(master, False)  # see _drain()
        self._out = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.typed = []
        Terminal._open.append(self)

    def _read(self):
        """Keep what the program writes (it would block once the terminal's buffer is full)."""
        while not self._stop.is_set():
            if select.select([self._master], [], [], 0.05)[0] and not self._drain():
                return

    def _drain(self):
        """Take all the program has written so far. A non-blocking read of the master side
        first flushes what the kernel still holds on its way from the program's side
        (n_tty_read() flushes the terminal's buffer work before it says EAGAIN), so what
        the program wrote before it blocked is all there when this returns. False once
        nobody holds the terminal any more (EIO)."""
        with self._lock:
            while self._master >= 0:
                try:
                    data = os.read(self._master, 4096)
                except BlockingIOError:
                    return True
                except OSError:  # EIO: the program (and any child of it) has closed it
                    return False
                if not data:
                    return False
                self._out += data
            return False

    def transcript(self):
        """What the terminal shows: the program's output and the echo of the typed lines,
        up to what the program has written by now."""
        self._drain()
        with self._lock:
            text = bytes(self._out).decode(errors="replace")
        return text.replace("\r\n", "\n")

    def state(self):
        code = self.p.poll()
        if code is not None:
            return f"exited with code {code}"
        where = blocked_in(self.pid)
        if where is None:
            return "gone"
        name, arg = where
        return "running" if name == "running" else f"blocked in {name}({arg})"

    def _fail(self, what, why):
        shown = self.transcript().replace("\033", "^[")
        raise TerminalTimeout(
            f"{self.name} (pid {self.pid}): {what}: {why}; it is {self.state()}; typed so "
            f"far {self.typed!r}; the terminal shows:\n"
            + "".join(f"  | {line}\n" for line in shown.split("\n")))

    def _wait(self, cond, timeout, what, step=0.002):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():
                return
            if self.p.poll() is not None:
                self._fail(what, "it exited first")
            time.sleep(step)
        self._fail(what, f"not within {timeout} s")

    def wait_blocked(self, syscall, arg=None, timeout=10):
        """Wait until the program is blocked in that system call (with that first argument)."""
        def there():
            where = blocked_in(self.pid)
            return where is not None and where[0] == syscall and arg in (None, where[1])
        what = f"blocked in {syscall}({'' if arg is None else arg})"
        self._wait(there, timeout, what)

    def wait_shown(self, text, timeout=10):
        """Wait until the terminal shows text (the program has printed it)."""
        self._wait(lambda: text in self.transcript(), timeout, f"showing {text!r}")

    def reading(self):
        """The program is blocked reading its terminal."""
        return blocked_in(self.pid) == ("read", 0)

    def type_line(self, line, timeout=15, unless=None):
        """Type line and Enter once the program reads its terminal; return True when it has
        read it. unless: a condition that makes a person stop typing (the verdict is on the
        screen, say): once it holds, nothing more is typed and type_line returns False."""
        stop = unless or (lambda: False)
        self._wait(lambda: stop() or self.reading(), timeout,
                   f"waiting to read its terminal (read(0)) for the line {line!r}")
        if stop():
            return False
        reads = _reads_done(self.pid)
        os.write(self._master, f"{line}\n".encode())
        self.typed.append(str(line))
        self._wait(lambda: _reads_done(self.pid) != reads, timeout,
                   f"its read() of the line {line!r} to return")
        return True

    def wait(self, timeout=30):
        """The exit code; TerminalTimeout if it still runs after timeout seconds."""
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self._fail("the exit", f"not within {timeout} s")
        finally:
            self._reader.join(0.5)  # what it printed last

    def close(self):
        """Kill the program if it still runs, then close the terminal."""
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self._stop.set()
        self._reader.join(2)
        with self._lock:
            if self._master >= 0:
                os.close(self._master)
                self._master = -1
        if self in Terminal._open:
            Terminal._open.remove(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@atexit.register
def _close_all():
    for t in list(Terminal._open):
        t.close()


def main(argv):
    """terminal.py [--timeout S] LINE... -- PROGRAM [ARG...]: run PROGRAM on a terminal of its
    own, type each LINE when it reads its terminal, show what the terminal showed, and exit
    with PROGRAM's code (124 when it was still running after S seconds, default 60)."""
    import argparse
    if "--" not in argv:
        sys.exit("usage: terminal.py [--timeout S] LINE... -- PROGRAM [ARG...]")
    cut = argv.index("--")
    ap = argparse.ArgumentParser(prog="terminal.py", description=main.__doc__)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("lines", nargs="*")
    opts = ap.parse_args(argv[:cut])
    if not argv[cut + 1:]:
        sys.exit("terminal.py: no PROGRAM after --")
    deadline = time.monotonic() + opts.timeout
    with Terminal(argv[cut + 1:]) as t:
        try:
            for line in opts.lines:
                if t.p.poll() is not None:
                    break
                t.type_line(line, timeout=max(0.1, deadline - time.monotonic()))
            code = t.wait(max(0.1, deadline - time.monotonic()))
        except TerminalTimeout as e:
            sys.stdout.write(t.transcript())
            print(f"terminal.py: {str(e).splitlines()[0]}", file=sys.stderr)
            return 124
        sys.stdout.write(t.transcript())
        return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
