# SPDX-License-Identifier: MIT
"""A sandbox for one untrusted submission (scripts/check --batch, batch.py; the user's
documentation is tutorials/reference/batch.md).

    box = Sandbox("alice", Limits())    # a scratch directory, a cgroup (root)
    r = box.run(argv, cwd, timeout)     # a Run: code, signal, timed_out, pids_max, oom_kills
    box.outside()                       # what the programs wrote in /tmp, /var/tmp, /dev/shm
    box.close()                         # kill what is left, remove cgroups and scratch

As root ("isolation": "root"), each run() is, for everything it starts:
  - a fresh cgroup: cgroup v2 (pids.max, memory.max, memory.swap.max 0, cgroup.kill), or
    on a hybrid machine (v1 controllers) a v1 pids and a v1 memory cgroup for the limits
    (pids.max; memory.limit_in_bytes = memory.memsw.limit_in_bytes) and a cgroup in the
    unified v2 hierarchy for cgroup.kill. Limits hit are read afterwards: pids.events
    "max", memory.events / memory.oom_control "oom_kill".
  - new network, IPC and mount namespaces (the inner process, `python3 sandbox.py
    --_inner SPEC`, calls unshare(2) itself; lo is brought up): ports and System V keys
    never collide with the machine or another submission, and every IPC object goes with
    the namespace. In the mount namespace /tmp, /var/tmp, /dev/shm and /run/lock (the
    world-writable places) are bind mounts of the sandbox's own directories, so what the
    programs write there is kept in the sandbox (and listed by outside()).
  - the uid and gid of `nobody`, no supplementary groups, no_new_privs: the rest of the
    file system (the project tree, other submissions, which live in a 0700 directory) is
    not writable; only the sandbox's directories are nobody's.
  - rlimits: no core files, file size at most Limits.fsize.
  - a wall-clock timeout: then the whole cgroup is killed (cgroup.kill).
  The network namespace has no process left once the cgroup is empty, so it goes too.

Not root, or no usable cgroup ("isolation": "rlimits"): the rlimits above plus
RLIMIT_AS (memory) and a process group of its own, killed on the timeout; no namespaces,
no uid change (say so: ports and keys may collide, writes anywhere the user may write).

LTTng-UST inside: the programs talk to lttng-sessiond over Unix sockets under LTTNG_HOME
and shared memory under /dev/shm; as nobody the check starts its own session daemon in
the same namespaces (run.py: a private LTTNG_HOME), so the private /dev/shm and /tmp hold
both ends. A new IPC namespace does not touch either (System V objects only)."""
import ctypes
import json
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

MB = 1024 * 1024
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET = 0x00020000, 0x08000000, 0x40000000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 38, 36
# The world-writable places, private in the mount namespace (name of the sandbox's dir,
# mode), and /run/lttng (root's session daemon: its application socket is world-connectable;
# hidden, the programs register only with the check's own daemon).
PRIVATE = (("/tmp", "tmp", 0o1777), ("/var/tmp", "var-tmp", 0o1777),
           ("/dev/shm", "shm", 0o1777), ("/run/lock", "lock", 0o1777),
           ("/run/lttng", "lttng", 0o755))
# What the check and LTTng themselves leave there (not the student's).
OWN_PREFIXES = ("v6lab-check-lttng-", "v6lab-trace-", "lttng-ust-", "ust-shm-", "lttng-",
                "sem.lttng")
CG = "/sys/fs/cgroup"
RUN_BASE = "/run/v6lab-batch"


@dataclass
class Limits:
    # Everything the run starts counts: the check itself (course server, session daemon
    # and its threads, the analysis) takes about 60 tasks and 80 MB of them.
    pids: int = 256           # processes and threads
    memory_mb: int = 512      # no swap
    fsize_mb: int = 512       # largest file


@dataclass
class Run:
    code: int = None          # exit code, or None
    signal: str = None        # the signal that ended it
    timed_out: bool = False
    seconds: float = 0.0
    pids_max: int = 0         # times pids.max refused a fork
    oom_kills: int = 0
    pids_peak: int = None
    memory_peak_mb: float = None
    notes: list = field(default_factory=list)


def libc():
    return ctypes.CDLL(None, use_errno=True)


def set_subreaper():
    """Orphans of what we start come back to us (PID 1 here may not reap them)."""
    libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap():
    """Reap any child that has ended (orphans handed to us as subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _read(path, default=None):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _keyed(text, key):
    """N of a line "key N" in a flat-keyed cgroup file (0 if absent)."""
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key and parts[1].isdigit():
            return int(parts[1])
    return 0


def _own_path(controller):
    """This process's cgroup path in a v1 controller's hierarchy, or ("" key) the v2 one."""
    for line in (_read("/proc/self/cgroup") or "").splitlines():
        _, ctrls, path = line.split(":", 2)
        if (controller == "" and ctrls == "") or controller in ctrls.split(","):
            return path
    return None


class Cgroup:
    """One cgroup for one run: v2, or hybrid (v1 pids + v1 memory + v2 for cgroup.kill)."""

    @staticmethod
    def layout():
        """"v2", "hybrid", or None (no usable cgroup: not root, or neither)."""
        if os.geteuid() != 0:
            return None
        ctrls = (_read(f"{CG}/cgroup.controllers") or "").split()
        if "pids" in ctrls and "memory" in ctrls:
            return "v2"
        if os.path.exists(f"{CG}/pids/cgroup.procs") and \
                os.path.exists(f"{CG}/memory/cgroup.procs") and \
                os.path.exists(f"{CG}/unified/cgroup.procs"):
            return "hybrid"
        return None

    def __init__(self, name, limits):
        self.kind = self.layout()
        self.limits = limits
        self.dirs = []
        try:
            if self.kind == "v2":
                # The root's children (the root may hold processes; ours may not, with
                # controllers enabled below it).
                have = _read(f"{CG}/cgroup.subtree_control", "").split()
                for c in ("pids", "memory"):
                    if c not in have:
                        _write(f"{CG}/cgroup.subtree_control", f"+{c}")
                self.v2 = self._mkdir(f"{CG}/{name}")
                _write(f"{self.v2}/pids.max", str(limits.pids))
                _write(f"{self.v2}/memory.max", str(limits.memory_mb * MB))
                if os.path.exists(f"{self.v2}/memory.swap.max"):
                    _write(f"{self.v2}/memory.swap.max", "0")
                self.pids = self.mem = self.v2
            else:
                self.pids = self._mkdir(f"{CG}/pids{_own_path('pids') or '/'}".rstrip("/")
                                        + f"/{name}")
                self.mem = self._mkdir(f"{CG}/memory{_own_path('memory') or '/'}"
                                       .rstrip("/") + f"/{name}")
                self.v2 = self._mkdir(f"{CG}/unified{_own_path('') or '/'}".rstrip("/")
                                      + f"/{name}")
                _write(f"{self.pids}/pids.max", str(limits.pids))
                _write(f"{self.mem}/memory.limit_in_bytes", str(limits.memory_mb * MB))
                try:
                    _write(f"{self.mem}/memory.memsw.limit_in_bytes",
                           str(limits.memory_mb * MB))
                except OSError:
                    pass  # no swap accounting: no swap to limit
        except OSError:
            self.remove()
            raise

    def _mkdir(self, d):
        os.mkdir(d)
        self.dirs.append(d)
        return d

    def join(self):
        """In the child, before exec: this process into every directory of the cgroup."""
        pid = str(os.getpid())
        for d in self.dirs:
            _write(f"{d}/cgroup.procs", pid)

    def procs(self):
        out = set()
        for d in self.dirs:
            out |= {int(x) for x in (_read(f"{d}/cgroup.procs") or "").split()}
        return out

    def stats(self, run):
        run.pids_max = _keyed(_read(f"{self.pids}/pids.events"), "max")
        peak = (_read(f"{self.pids}/pids.peak") or "").strip()
        run.pids_peak = int(peak) if peak.isdigit() else None
        if self.kind == "v2":
            run.oom_kills = _keyed(_read(f"{self.mem}/memory.events"), "oom_kill")
            peak = (_read(f"{self.mem}/memory.peak") or "").strip()
        else:
            run.oom_kills = _keyed(_read(f"{self.mem}/memory.oom_control"), "oom_kill")
            peak = (_read(f"{self.mem}/memory.max_usage_in_bytes") or "").strip()
        run.memory_peak_mb = round(int(peak) / MB, 1) if peak.isdigit() else None

    def kill(self, wait=20):
        """Kill every process in the cgroup; True once it is empty."""
        deadline = time.monotonic() + wait
        while True:
            left = self.procs()
            if not left:
                return True
            try:
                _write(f"{self.v2}/cgroup.kill", "1")
            except OSError:
                pass
            for pid in left:  # v1 only, or a kernel without cgroup.kill
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            reap()
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def remove(self):
        for d in reversed(self.dirs):
            for _ in range(100):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    reap()
                    time.sleep(0.05)
        self.dirs = []


class Sandbox:
    """Scratch directories and, as root, the namespaces and the cgroup of each run."""

    def __init__(self, name, limits=None, parent=None, expose=()):
        """expose: directories the runs need (the project, V6LAB_BIN): where one lies in a
        private place (a build in /tmp), it is bind-mounted there read-only."""
        self.limits = limits or Limits()
        self.name = name
        self.root = os.geteuid() == 0 and Cgroup.layout() is not None
        self.isolation = "root" if self.root else "rlimits"
        # As root the scratch directories live under a 0700 directory of root's, so that
        # nobody reaches only its own (given as the inner's cwd and bind mounts).
        # As root, not under /tmp (private in the mount namespace): /run/v6lab-batch (0711,
        # root's), where nobody can list the other sandboxes.
        if parent is None and self.root:
            parent = RUN_BASE
            os.makedirs(parent, mode=0o711, exist_ok=True)
            os.chmod(parent, 0o711)
        self.base = tempfile.mkdtemp(prefix="v6lab-batch-", dir=parent)
        os.chmod(self.base, 0o711 if self.root else 0o700)
        self.dir = os.path.join(self.base, "box")    # the submission's folder and outputs
        os.mkdir(self.dir)
        self.private = {}
        if self.root:
            nobody = pwd.getpwnam("nobody")
            self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
            os.chown(self.dir, self.uid, self.gid)
            priv = os.path.join(self.base, "private")
            os.mkdir(priv, 0o700)
            for where, sub, mode in PRIVATE:
                if os.path.isdir(where) and not os.path.islink(where):
                    d = os.path.join(priv, sub)
                    os.mkdir(d)
                    os.chmod(d, mode)
                    self.private[where] = d
        # {private dir's path of an exposed directory: the real one}; the first component
        # of each, in its private place, is the sandbox's (not the student's).
        self.expose, self.own = {}, set()
        for path in expose:
            path = os.path.realpath(path)
            for where, d in self.private.items():
                rel = os.path.relpath(path, where)
                if rel != "." and not rel.startswith(".."):
                    self.expose[os.path.join(d, rel)] = path
                    self.own.add(os.path.join(where, rel.split("/")[0]))
        self.runs = 0

    def describe(self):
        if self.root:
            lim = self.limits
            return (f"root: cgroup {Cgroup.layout()} (pids {lim.pids}, memory "
                    f"{lim.memory_mb} MB, no swap), network, IPC and mount namespaces, "
                    "uid nobody")
        return ("rlimits: not root or no cgroup: rlimits (memory, file size, core) and a "
                "process group only, no namespaces")

    def chown_tree(self, path):
        if not self.root:
            return
        for d, dirs, files in os.walk(path):
            os.lchown(d, self.uid, self.gid)
            for f in files:
                os.lchown(os.path.join(d, f), self.uid, self.gid)

    def run(self, argv, cwd, timeout, env=None, stdout=None, stderr=None, poll=0.25):
        """Run argv in the sandbox; a Run. stdout, stderr: files (stderr default stdout).
        As root, the run ends at once (its cgroup killed) when pids.max refused a fork or
        the OOM killer killed one of its processes: r.pids_max, r.oom_kills say so."""
        r = Run()
        self.runs += 1
        spec = {"argv": list(argv), "cwd": cwd, "env": env or {}, "root": self.root,
                "uid": getattr(self, "uid", None), "gid": getattr(self, "gid", None),
                "private": self.private, "expose": self.expose, "fsize": self.limits.fsize_mb * MB,
                "memory": self.limits.memory_mb * MB}
        inner = [sys.executable, os.path.abspath(__file__), "--_inner", json.dumps(spec)]
        cg = None
        if self.root:
            cg = Cgroup(f"v6lab-batch-{os.getpid()}-{self.name[:40]}-{self.runs}",
                        self.limits)
        t0 = time.monotonic()
        try:
            p = subprocess.Popen(inner, stdin=subprocess.DEVNULL, stdout=stdout,
                                 stderr=stderr or subprocess.STDOUT, start_new_session=True,
                                 preexec_fn=cg.join if cg else None, close_fds=True)
            deadline = t0 + timeout
            while True:
                try:
                    p.wait(poll)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if cg:
                    cg.stats(r)
                    if r.pids_max or r.oom_kills:
                        break
                if time.monotonic() > deadline:
                    r.timed_out = True
                    break
            if cg:
                cg.stats(r)
                if not cg.kill():
                    r.notes.append("some processes could not be killed")
            else:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
            p.wait()
            reap()
            if p.returncode < 0:
                r.signal = signal.Signals(-p.returncode).name
            else:
                r.code = p.returncode
        finally:
            if cg:
                cg.kill()
                cg.remove()
        r.seconds = round(time.monotonic() - t0, 1)
        return r

    def outside(self):
        """Paths (as the programs saw them) written in the private world-writable places,
        but what the check and LTTng leave there themselves."""
        out = []
        for where, d in self.private.items():
            for name in sorted(os.listdir(d)):
                path = os.path.join(where, name)
                if not name.startswith(OWN_PREFIXES) and path not in self.own:
                    out.append(path)
        return out

    def close(self):
        shutil.rmtree(self.base, ignore_errors=True)


# --- the inner process: namespaces, mounts, nobody, rlimits, then exec ---------------------

def _mount(c, source, target, flags):
    if c.mount(source.encode() if source else b"none", target.encode(), None, flags,
               None) != 0:
        sys.exit(f"sandbox: mount {source or ''} on {target}: "
                 f"{os.strerror(ctypes.get_errno())}")


def _inner(spec):
    c = libc()
    if spec["root"]:
        if c.unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            sys.exit(f"sandbox: unshare: {os.strerror(e)}")
        _mount(c, None, "/", MS_REC | MS_PRIVATE)  # nothing propagates back
        # What the check needs from a private place, first (read-only), then the private
        # places, each with what was mounted in it (MS_REC).
        for target, path in spec["expose"].items():
            os.makedirs(target, exist_ok=True)
            _mount(c, path, target, MS_BIND | MS_REC)
            _mount(c, None, target, MS_REMOUNT | MS_BIND | MS_RDONLY)
        for where, d in spec["private"].items():
            _mount(c, d, where, MS_BIND | MS_REC)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(spec["uid"])
        c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    else:
        resource.setrlimit(resource.RLIMIT_AS, (spec["memory"] * 4, spec["memory"] * 4))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (spec["fsize"], spec["fsize"]))
    os.chdir(spec["cwd"])
    env = spec["env"]
    os.execvpe(spec["argv"][0], spec["argv"], env)


if __name__ == "__main__" and sys.argv[1:2] == ["--_inner"]:
    _inner(json.loads(sys.argv[2]))
