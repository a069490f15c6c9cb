#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The tutorial checker: runs every runnable command block of a tutorial, so none can rot.

Runnable blocks are fenced as ```sh; blocks fenced otherwise (```text, ```c, ...) are only
shown. Each runnable block runs with `bash -euo pipefail`, in order, from a scratch copy of
the repository's top (symlinks) in which build/ is the build being tested, so a tutorial
writes `build/bin/ipv4-server` exactly as a student types it. A block that fails fails the
tutorial, with the block and its output shown; so does a block still running after 240 s
(V6LAB_TUTORIAL_BLOCK_TIMEOUT), which is killed with all it started.

A block in a section headed "## Clean up" or "## Bring ... down" also runs when an earlier
block failed, so that a failed tutorial leaves no namespace, lab or process behind.

A tutorial that needs root says so with a line `<!-- requires: root -->`; without root it is
reported as skipped.

Usage: check_tutorial.py TUTORIAL.md BUILD_DIR
"""
import atexit
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
BLOCK_TIMEOUT = float(os.environ.get("V6LAB_TUTORIAL_BLOCK_TIMEOUT", 240))
PR_SET_CHILD_SUBREAPER = 36


CLEANUP = re.compile(r"## (Clean up|Bring .* down)\s*")


def runnable_blocks(text):
    """(line number, code, is a clean-up block) of each ```sh block."""
    blocks, lines = [], text.splitlines()
    i, cleanup = 0, False
    while i < len(lines):
        if lines[i].startswith("## "):
            cleanup = bool(CLEANUP.fullmatch(lines[i]))
        if re.fullmatch(r"\s*```sh\s*", lines[i]):
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not re.fullmatch(r"\s*```\s*", lines[i]):
                body.append(lines[i])
                i += 1
            blocks.append((start, "\n".join(body) + "\n", cleanup))
        i += 1
    return blocks


def run_block(code, work, env):
    """(failed, why, output) of one block. A block still running at its deadline is killed
    with everything it started (its own session), and what it started is reaped."""
    p = subprocess.Popen(["bash", "-euo", "pipefail", "-c", code], cwd=work, env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, errors="replace",
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=BLOCK_TIMEOUT)
        failed, why = p.returncode != 0, f"exit {p.returncode}"
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        try:
            out, _ = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # a process of another session holds the pipe
            out = ""
        failed, why = True, f"still running after {BLOCK_TIMEOUT:g} s"
        reap_group(p.pid)
    reap_orphans()
    return failed, why, out


def become_subreaper():
    """The orphans of a block (its background jobs) become the checker's children: PID 1
    may not reap them."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_group(pgid, timeout=5.0):
    """Wait for every process of a killed block (its session and process group): they are
    our children now (subreaper), but one may still be dying when the block's shell is reaped,
    and a WNOHANG wait would miss it: it would stay a zombie once we are gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-pgid, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.01)


def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def clean_up_after_failure(path, blocks, failed_at, work, env):
    """The clean-up blocks after the failed one, whatever they say."""
    for n, (line, code, cleanup) in enumerate(blocks, 1):
        if cleanup and n > failed_at:
            failed, why, output = run_block(code, work, env)
            print(f"{os.path.basename(path)}:{line}: clean-up block {n} run after the failure"
                  + (f": it failed too ({why}):\n{output}" if failed else ""))


def sandbox(top, build):
    d = tempfile.mkdtemp(prefix="v6lab-tutorial-")
    for name in os.listdir(top):
        if name == ".git" or name.startswith("build"):
            continue
        os.symlink(os.path.join(top, name), os.path.join(d, name))
    os.symlink(os.path.abspath(build), os.path.join(d, "build"))
    return d


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, build = sys.argv[1], sys.argv[2]
    top = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    with open(path) as f:
        text = f.read()
    if "<!-- requires: root -->" in text and os.geteuid() != 0:
        print(f"SKIP: {os.path.basename(path)} needs root")
        sys.exit(SKIP)
    blocks = runnable_blocks(text)
    if not blocks:  # a fence renamed to ```bash would otherwise pass, checking nothing
        print(f"{path}: no ```sh block to run")
        sys.exit(1)
    become_subreaper()
    work = sandbox(top, build)
    # symlinks only (what they point to stays); on every exit, a ctest timeout's SIGTERM too
    atexit.register(shutil.rmtree, work, True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    # scripts/setup, if a tutorial runs it, must rebuild the build under test in place
    env = dict(os.environ, V6LAB_BIN=os.path.join(work, "build", "bin"),
               V6LAB_BUILD=os.path.realpath(build))
    for n, (line, code, _) in enumerate(blocks, 1):
        t0 = time.monotonic()
        failed, why, output = run_block(code, work, env)
        if failed:
            print(f"{path}:{line}: block {n} failed ({why}):\n{code}\n--- output ---\n{output}")
            clean_up_after_failure(path, blocks, n, work, env)
            sys.exit(1)
        print(f"{os.path.basename(path)}:{line}: block {n} ok ({time.monotonic() - t0:.1f} s)")
    print(f"{os.path.basename(path)}: {len(blocks)} runnable block(s) ok")


if __name__ == "__main__":
    main()
