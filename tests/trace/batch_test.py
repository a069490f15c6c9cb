# SPDX-License-Identifier: MIT
"""scripts/check --batch (scripts/v6checklib/batch.py, sandbox.py): batch_test.py SCENARIO

  corpus   a batch of copies of the corpus (tests/students/) in a temp dir: the eof pair,
           leaky-server and htons-server (each with read-twice-client and a check.conf);
           each submission's result, verdict and exit.
  hostile  a fork bomb, an endless-loop server (never listens, never exits), a 10 GB
           allocation, a program that writes outside its folder (/tmp and the project tree),
           a build that never ends and one that fails: each ends with its reason, the batch
           goes on; afterwards no process, cgroup, namespace, IPC object or file is left.

Root and a cgroup (v2, or v1 pids+memory with the unified v2 hierarchy) are needed (SKIP
otherwise): the sandbox is namespaces, a cgroup and uid nobody."""
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
from trace_test import lttng_or_skip  # noqa: E402
from v6test import TOP, check, skip  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "scripts"))
from v6checklib import sandbox  # noqa: E402

CHECK = os.path.join(TOP, "scripts", "check")
STUDENTS = os.path.join(TOP, "tests", "students")
NOBODY = 65534
CLIENT = ["read-twice-client.c", "fetch-queue.c", "sysv.c", "student.h"]
SERVER = ["handoff-queue.c", "listen6.c", "sysv.c", "student.h"]


def needs_root():
    if os.geteuid() != 0:
        skip("the batch's sandbox (namespaces, cgroup, uid nobody) needs root")
    if sandbox.Cgroup.layout() is None:
        skip("no usable cgroup (v2 with pids and memory, or v1 pids+memory and unified v2)")
    lttng_or_skip()


def conf(d, server_sources, client_sources, server="./server {v6port} 7002",
         client="./client {host} {port} 7002"):
    with open(os.path.join(d, "check.conf"), "w") as f:
        f.write(f"# made by batch_test.py\nserver = {server}\nclient = {client}\n"
                f"server_sources = {' '.join(server_sources)}\n"
                f"client_sources = {' '.join(client_sources)}\n")


def submission(batch, name, files=(), extra=None):
    d = os.path.join(batch, name)
    os.mkdir(d)
    for f in files:
        shutil.copy(os.path.join(STUDENTS, f), d)
    for fname, text in (extra or {}).items():
        with open(os.path.join(d, fname), "w") as f:
            f.write(text)
    return d


def run_batch(batch, out, *args, timeout=600):
    t0 = time.monotonic()
    p = subprocess.Popen([CHECK, "--batch", batch, "-o", out, *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    stdout, stderr = p.communicate(timeout=timeout)
    secs = time.monotonic() - t0
    print(stderr)
    check(p.returncode == 0, f"batch exit {p.returncode}: {stderr}")
    rows = {}
    for line in stdout.splitlines():
        r = json.loads(line)  # stdout is JSON lines only
        rows[r["name"]] = r
    with open(os.path.join(out, "results.jsonl")) as f:
        check(len(f.read().splitlines()) == len(rows), "results.jsonl differs from stdout")
    print(f"batch: {len(rows)} submission(s) in {secs:.1f} s")
    return rows, p.pid


def corpus():
    needs_root()
    tmp = tempfile.mkdtemp(prefix="v6lab-batch-test-")
    try:
        batch, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        os.mkdir(batch)
        for name, main, extra in (("eof", "eof-server.c", ()),
                                  ("leaky", "leaky-server.c", ("eof-server.c",)),
                                  ("htons", "htons-server.c", ("eof-server.c",))):
            d = submission(batch, name, {main, *extra, *SERVER, *CLIENT})
            conf(d, [main, "handoff-queue.c", "listen6.c", "sysv.c"],
                 ["read-twice-client.c", "fetch-queue.c", "sysv.c"])
        rows, _ = run_batch(batch, out, "--timeout", "30")
        want = {"eof": ("PASS", 0), "leaky": ("PASS", 1), "htons": ("FAIL", 1)}
        check(set(rows) == set(want), f"submissions: {sorted(rows)}")
        for name, r in rows.items():
            print(f"  {name}: {r['result']} exit {r['exit']} in {r['seconds']} s: {r['reason']}")
        for name, (verdict, code) in want.items():
            r = rows[name]
            check(r["build"] == "ok", f"{name}: build {r['build']}: {r['reason']}")
            check(r["isolation"].startswith("root:"), f"{name}: isolation {r['isolation']}")
            check(r["verdict"] == verdict, f"{name}: verdict {r['verdict']}, not {verdict}: "
                  f"{json.dumps(r)}")
            check(r["exit"] == code, f"{name}: exit {r['exit']}, not {code}: {json.dumps(r)}")
            check(os.path.exists(os.path.join(out, name, "check", "check.json")),
                  f"{name}: no check.json in OUT/{name}/check")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- hostile -----------------------------------------------------------------------------

TRIVIAL_CLIENT = ("#include <sys/socket.h>\n/* never connect(): it only exits */\n"
                  "int main(void) { return 0; }\n")
HOSTILE = {
    "bomb": {"server.c": "#include <unistd.h>\nint main(void) { for (;;) fork(); }\n",
             "client.c": TRIVIAL_CLIENT},
    "loop": {"server.c": "int main(void) { volatile unsigned long n = 0; for (;;) n++; }\n",
             "client.c": TRIVIAL_CLIENT},
    "memory": {"server.c": "#include <stdlib.h>\n#include <string.h>\n"
               "int main(void) { for (int i = 0; i < 160; i++) { char *p = malloc(64 << 20);"
               " if (!p) return 1; memset(p, 1, 64 << 20); } return 0; }\n",
               "client.c": TRIVIAL_CLIENT},
    "build-fails": {"server.c": "int main(void) { return 0 }\n", "client.c": TRIVIAL_CLIENT},
    "build-hangs": {"Makefile": "all:\n\tsleep 600\n"},
}


def evil_c(paths):
    writes = "".join(f'  f = fopen("{p}", "w"); if (f) {{ fputs("evil\\n", f); fclose(f); }}\n'
                     for p in paths)
    return ("#include <stdio.h>\n__attribute__((constructor)) static void evil(void)\n"
            "{\n  FILE *f;\n" + writes + "}\n")


def ns_inodes():
    out = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        for ns in ("net", "ipc", "mnt"):
            try:
                out.add((ns, os.stat(f"/proc/{pid}/ns/{ns}").st_ino))
            except OSError:
                pass
    return out


def nobody_procs():
    out = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid == NOBODY:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                        out.add(int(pid))
        except (OSError, IndexError):
            pass
    return out


def nobody_ipc():
    out = set()
    for kind in ("msg", "shm", "sem"):
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        head = open(f"/proc/sysvipc/{kind}").readline().split()
        for row in rows:
            cols = dict(zip(head, row.split()))
            if cols.get("uid") == str(NOBODY):
                out.add((kind, cols.get("key"), cols.get("msqid") or cols.get("shmid")
                         or cols.get("semid")))
    return out


def cgroups(batch_pid):
    return glob.glob(f"/sys/fs/cgroup/**/v6lab-batch-{batch_pid}-*", recursive=True)


def hostile():
    needs_root()
    tmp = tempfile.mkdtemp(prefix="v6lab-batch-test-")
    tag = "%08x" % random.getrandbits(32)
    evil = [f"/tmp/v6lab-evil-{tag}", os.path.join(TOP, f"v6lab-evil-{tag}")]
    try:
        batch, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        os.mkdir(batch)
        for name, files in HOSTILE.items():
            submission(batch, name, extra=files)
        d = submission(batch, "evil", {"eof-server.c", *SERVER, *CLIENT},
                       extra={"evil.c": evil_c(evil)})
        conf(d, ["eof-server.c", "handoff-queue.c", "listen6.c", "sysv.c", "evil.c"],
             ["read-twice-client.c", "fetch-queue.c", "sysv.c"])
        ns0, procs0, ipc0 = ns_inodes(), nobody_procs(), nobody_ipc()
        runs0 = set(os.listdir(sandbox.RUN_BASE)) if os.path.isdir(sandbox.RUN_BASE) else set()
        rows, pid = run_batch(batch, out, "--timeout", "20", "--build-timeout", "10")
        for name in sorted(rows):
            r = rows[name]
            print(f"  {name}: build {r['build']}, exit {r['exit']} in {r['seconds']} s: "
                  f"{r['reason']}")
        want = {
            "bomb": "fork bomb: reached pids.max",
            "memory": "memory: more than",
            "build-fails": "build failed: ",
            "build-hangs": "did not finish within 10 s (build)",
            "evil": f"wrote outside its folder: /tmp/v6lab-evil-{tag}",
        }
        check(set(rows) == set(want) | {"loop"}, f"submissions: {sorted(rows)}")
        for name, start in want.items():
            check(rows[name]["reason"].startswith(start),
                  f"{name}: reason {rows[name]['reason']!r}, not {start!r}...")
        check("error" in rows["build-fails"]["reason"], rows["build-fails"]["reason"])
        # The endless loop: the check itself stops it (it never listens: server-not-listening,
        # or the check's own error), well before the batch's bound of 20 + 150 s.
        lp = rows["loop"]
        check(lp["build"] == "ok" and lp["exit"] in (1, 2) and lp["verdict"] != "PASS"
              and lp["reason"] and lp["seconds"] < 120, f"loop: {json.dumps(lp)}")
        # Afterwards: nothing of the batch left.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (nobody_procs() - procs0 or cgroups(pid)):
            time.sleep(0.2)
        check(not (nobody_procs() - procs0), f"processes left: {nobody_procs() - procs0}")
        check(not cgroups(pid), f"cgroups left: {cgroups(pid)}")
        left_ns = {(k, i) for k, i in ns_inodes() - ns0 if k in ("net", "ipc")}
        # A namespace left would have a process in it; another test's may come and go, so
        # only those of nobody's processes count (ours ran as nobody).
        check(not (nobody_procs() - procs0) or not left_ns, f"namespaces left: {left_ns}")
        check(not (nobody_ipc() - ipc0), f"IPC objects left: {nobody_ipc() - ipc0}")
        for p in evil:
            check(not os.path.exists(p), f"the evil submission wrote {p}")
        runs = set(os.listdir(sandbox.RUN_BASE)) if os.path.isdir(sandbox.RUN_BASE) else set()
        check(runs <= runs0, f"sandboxes left in {sandbox.RUN_BASE}: {runs - runs0}")
    finally:
        for p in evil:
            if os.path.exists(p):
                os.unlink(p)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    import atexit  # noqa: F401
    scenarios = {"corpus": corpus, "hostile": hostile}
    if len(sys.argv) != 2 or sys.argv[1] not in scenarios:
        sys.exit(f"usage: batch_test.py {'|'.join(scenarios)}")
    scenarios[sys.argv[1]]()
    print("PASS")
