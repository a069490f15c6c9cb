#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The tutorial checker itself: a failed block fails the tutorial and stops it, and the
tutorial's clean-up blocks still run (a lab or namespace is not left behind); a block that
hangs is stopped at its deadline with what it started in the background.

Usage: checker_test.py BUILD_DIR"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

TUTORIAL = """# A tutorial that breaks

```sh
echo up > {state}/lab
```

## 1. The step that fails

```sh
echo ran > {state}/step1
false
```

```sh
echo ran > {state}/step2
```

## Clean up

```sh
rm {state}/lab
echo ran > {state}/cleanup
```
"""

HANGS = """# A tutorial that hangs

```sh
sleep 600 > /dev/null &
echo $! > {state}/pid
wait
```
"""


def run_checker(d, name, text, **env):
    md = os.path.join(d, "tutorials", name)
    with open(md, "w") as f:
        f.write(text)
    r = subprocess.run([sys.executable, os.path.join(HERE, "check_tutorial.py"), md, BUILD],
                       capture_output=True, text=True, env=dict(os.environ, **env))
    return r.returncode, r.stdout + r.stderr


def alive(pid):
    """Running, or a zombie nobody reaped (PID 1 here does not)."""
    return os.path.exists(f"/proc/{pid}")


def main():
    global BUILD
    BUILD = sys.argv[1]
    problems = []
    with tempfile.TemporaryDirectory(prefix="v6lab-checker-") as d:
        state = os.path.join(d, "state")
        os.mkdir(state)
        os.mkdir(os.path.join(d, "tutorials"))
        rc, out = run_checker(d, "09-breaks.md", TUTORIAL.format(state=state))
        ran = sorted(os.listdir(state))
        if rc != 1:
            problems.append(f"a failing block: exit {rc}, not 1")
        if "block 2 failed (exit 1)" not in out:
            problems.append("the failed block is not named")
        if ran != ["cleanup", "step1"]:
            problems.append(f"files left {ran}: the block after the failure must not run, the "
                            "clean-up block must (and remove the 'lab')")
        if "clean-up block 4 run after the failure" not in out:
            problems.append("the clean-up run is not reported")
        first = out

        rc, out = run_checker(d, "09-hangs.md", HANGS.format(state=state),
                              V6LAB_TUTORIAL_BLOCK_TIMEOUT="2")
        with open(os.path.join(state, "pid")) as f:
            pid = int(f.read())
        if rc != 1 or "block 1 failed (still running after 2 s)" not in out:
            problems.append(f"a hanging block: exit {rc}, not reported as still running")
        if alive(pid):
            problems.append(f"the hanging block's background job (pid {pid}) is left "
                            "behind (running or unreaped)")
            os.kill(pid, 9)
        if problems:
            print("\n".join(problems) + "\n--- checker output ---\n" + first + "\n" + out)
            sys.exit(1)
    print("a failed block stops the tutorial; its clean-up block ran; a hanging block is "
          "killed with its background job")


if __name__ == "__main__":
    main()
