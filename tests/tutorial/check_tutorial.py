#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The tutorial checker: runs every runnable command block of a tutorial, so none can rot.

Runnable blocks are fenced as ```sh; blocks fenced otherwise (```text, ```c, ...) are only
shown. Each runnable block runs with `bash -euo pipefail`, in order, from a scratch copy of
the repository's top (symlinks) in which build/ is the build being tested, so a tutorial
writes `build/bin/ipv4-server` exactly as a student types it. A block that fails fails the
tutorial, with the block and its output shown.

A tutorial that needs root says so with a line `<!-- requires: root -->`; without root it is
reported as skipped.

Usage: check_tutorial.py TUTORIAL.md BUILD_DIR
"""
import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77
BLOCK_TIMEOUT = 240


def runnable_blocks(text):
    """(line number, code) of each ```sh block."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if re.fullmatch(r"\s*```sh\s*", lines[i]):
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not re.fullmatch(r"\s*```\s*", lines[i]):
                body.append(lines[i])
                i += 1
            blocks.append((start, "\n".join(body) + "\n"))
        i += 1
    return blocks


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
    work = sandbox(top, build)
    # symlinks only (what they point to stays); on every exit, a ctest timeout's SIGTERM too
    atexit.register(shutil.rmtree, work, True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    # scripts/setup, if a tutorial runs it, must rebuild the build under test in place
    env = dict(os.environ, V6LAB_BIN=os.path.join(work, "build", "bin"),
               V6LAB_BUILD=os.path.realpath(build))
    for n, (line, code) in enumerate(blocks, 1):
        t0 = time.monotonic()
        try:
            r = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=work, env=env,
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               errors="replace", timeout=BLOCK_TIMEOUT)
            failed = r.returncode != 0
            output = r.stdout + r.stderr
            why = f"exit {r.returncode}"
        except subprocess.TimeoutExpired as e:
            failed, why = True, f"still running after {BLOCK_TIMEOUT}s"
            output = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        if failed:
            print(f"{path}:{line}: block {n} failed ({why}):\n{code}\n--- output ---\n{output}")
            sys.exit(1)
        print(f"{os.path.basename(path)}:{line}: block {n} ok ({time.monotonic() - t0:.1f} s)")
    print(f"{os.path.basename(path)}: {len(blocks)} runnable block(s) ok")


if __name__ == "__main__":
    main()
