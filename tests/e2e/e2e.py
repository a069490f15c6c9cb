#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""End-to-end scenarios of the exercise on 127.0.0.1 and ::1 with ephemeral ports.
Usage: e2e.py SCENARIO (CTest runs each as e2e.SCENARIO)."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from terminal import Terminal  # noqa: E402
from v6test import (BIN, TOP, FakeCourse, Proc, Student, TokenCatcher, check, children, fds, free_port, grades,  # noqa: E402
                    listening_inode, main, proc_state, queue_exists, queue_tokens, run,
                    run_student, start_ipv4_server, start_ipv6_server, scratch_dir, tcp_sockets,
                    wait_blocked, wait_until, zombies, no_zombies)

TMP = scratch_dir("v6lab-e2e-")
GRADES = os.path.join(TMP, "grades.jsonl")


def exercise(server_program="ipv6-server", v6args=()):
    """One whole run: returns (client out, ipv4-server out, ipv6-server out, client code, key)."""
    s6, v6port, key = start_ipv6_server(*v6args, program=server_program)
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES)
    c = run_student(v4port, v6port)
    code, out, err = c.finish(30)
    code4, out4, _ = s4.finish(10)
    code6, out6, err6 = s6.finish(10)
    check(code4 == (0 if code == 0 else 1), f"ipv4-server --once exit {code4}, client {code}")
    check(code6 == 0, f"ipv6-server exit {code6}: {err6}")
    check(not queue_exists(key), f"message queue 0x{key:08x} left behind")
    return out, out4, out6, code, key


def full_run():
    out, out4, out6, code, _ = exercise()
    check(code == 0, f"ipv4-client exit {code}: {out}")
    check("PASS: 5/5 tokens, concurrent: yes" in out, out)
    check(out6.count("accepted [::1]") == 5, out6)
    check(out6.count("token from") == 5, out6)
    g = grades(GRADES)[-1]
    check(g["verdict"] == "PASS" and g["tokens_ok"] == 5 and g["concurrent"] is True, g)
    check(g["student"] == "2021123456" and g["v6addr"] == "::1", g)
    for field in ("time", "peer", "v6port", "tokens_expected", "reason", "elapsed_ms"):
        check(field in g, f"grade line lacks {field}: {g}")
    # the reply was 145 bytes, as the 2021 clients sent
    check("sent 145 bytes" in out, out)


def sequential_server():
    out, _, _, code, _ = exercise("broken/sequential-ipv6-server")
    check(code == 0, f"ipv4-client exit {code}: {out}")
    check("PASS: 5/5 tokens, concurrent: no" in out, out)
    check(grades(GRADES)[-1]["concurrent"] is False, grades(GRADES)[-1])


def missing_token_exit_1():
    # The student's server collects 4 tokens and quits: client1 (it sends last) is missing.
    out, _, _, code, _ = exercise(v6args=("--tokens", 4))
    check(code == 1, f"ipv4-client exit {code}, expected 1 (FAIL): {out}")
    check("FAIL: 4/5 tokens" in out and "missing: client1" in out, out)


def dual_stack():
    # [::] takes IPv4 clients too; they show as IPv4-mapped addresses.
    s6, port, key = start_ipv6_server("--tokens", 2)
    for k in (1, 2):
        code, out, err = run("ipv6-client", "--addr", "127.0.0.1", "--port", port,
                             "--index", k).finish(10)
        check(code == 0 and f"client{k}: sent client{k}:" in out, out + err)
    code, out, err = s6.finish(10)
    check(code == 0 and out.count("accepted [::ffff:127.0.0.1]") == 2, out + err)
    toks, ends = queue_tokens(key)  # they wait on the queue (and it goes now)
    check(sorted(t.split(":")[0] for t in toks) == ["client1", "client2"] and ends == ["2"],
          f"queue holds {toks} {ends}")


def wrong_tokens_named():
    catcher = TokenCatcher()
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES, "--reply-timeout", 10)
    st = Student(v4port)
    first = st.read_until()
    check(first.startswith("\033[1;36m") and "[1/6]" in first, repr(first))
    for a in ("42", "::1", str(catcher.port), "Y", "Y"):
        st.answer(a)
    st.s.sendall(b"OK\r\n")  # "\r\n" line ends are fine
    check(catcher.done.wait(10), "the course clients did not all connect")
    t = catcher.tokens
    reply = ",".join([t[1], t[1], "client3:XXXXXXXXXXXXXXXXXXXX", t[3], t[4], t[5], "junk"])
    st.s.sendall((reply + "\n").encode())
    rest = st.rest()
    code, out4, _ = s4.finish(10)
    check(code == 1, f"ipv4-server --once exit {code}, expected 1")
    check("FAIL: 4/5 tokens, concurrent: yes; missing: client2; unknown: client3; "
          "duplicate: client1; malformed: 'junk'" in rest, rest)
    check(grades(GRADES)[-1]["reason"].startswith("missing: client2"), grades(GRADES)[-1])


def bad_answers():
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES)
    st = Student(v4port)
    st.read_until()
    expect = [("abc", "error: a student id is 1 to 31 digits", 1),
              ("2021123456", None, 2),
              ("127.0.0.1", "is an IPv4 address", 2),
              ("fe80::1", "is outside the prefixes", 2),
              ("::1", None, 3),
              ("70000", "is not a port", 3),
              ("7002", None, 4),
              ("maybe", "answer Y or N", 4),
              ("y", None, 5)]
    for answer, error, next_q in expect:
        msg = st.answer(answer)
        if error:
            check(error in msg, f"after {answer!r}: {msg!r}")
        check(f"[{next_q}/6]" in msg, f"after {answer!r} expected question {next_q}: {msg!r}")
    msg = st.answer("N")  # not concurrent: the session ends
    check("FAIL: 0/5 tokens" in msg and "concurrent server" in msg, msg)
    code, _, _ = s4.finish(10)
    check(code == 1, f"exit {code}")
    check(grades(GRADES)[-1]["verdict"] == "FAIL", grades(GRADES)[-1])


def too_many_bad_answers():
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES)
    st = Student(v4port)
    st.read_until()
    st.answer("x")
    st.answer("y")
    msg = st.answer("z")
    check("FAIL: 0/5 tokens" in msg and "no valid answer to question 1 after 3 tries" in msg, msg)
    check(s4.finish(10)[0] == 1, "exit code")


def nothing_listening():
    # The student names a port where nothing listens: FAIL at once, and the real
    # ipv4-client gives up waiting for the queue as soon as the verdict comes.
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES)
    free = free_port()
    t0 = time.monotonic()
    code, out, err = run_student(v4port, free).finish(30)
    check(code == 1, f"exit {code}: {out} {err}")
    check("could not connect" in out and "Connection refused" in out, out)
    check(time.monotonic() - t0 < 10, "the client waited for tokens that could not come")
    s4.finish(10)


def child_closes_listener():
    # While a child waits for its token: the child must not hold the listening socket,
    # the parent must hold no connected socket, and no child may stay a zombie.
    s6, port, key = start_ipv6_server("--tokens", 2)
    lsock = f"socket:[{listening_inode(port)}]"
    slow = run("ipv6-client", "--addr", "::1", "--port", port, "--index", 1, "--delay-ms", 1500)
    child = int(s6.wait_for(r"accepted .*\(child (\d+)\)").group(1))
    wait_blocked(child, "poll", "ppoll")  # waiting for its token: done with what it closes before
    kids = children(s6.pid)
    check(len(kids) == 1, f"one child expected: {kids}")
    child_sockets = tcp_sockets(kids[0][0])
    check(lsock not in child_sockets, f"child keeps the listening socket: {child_sockets}")
    check(len(child_sockets) == 1, f"child: one connected socket expected: {child_sockets}")
    parent_sockets = tcp_sockets(s6.pid)
    check(parent_sockets == [lsock], f"parent holds other TCP sockets: {parent_sockets}")
    # the token pipe: both ends in the parent, only the write end in the child
    parent_pipes = [v for v in fds(s6.pid).values() if v.startswith("pipe:")]
    token_pipe = [p for p in set(parent_pipes) if parent_pipes.count(p) == 2]
    check(len(token_pipe) == 1, f"parent: one pipe with both ends expected: {fds(s6.pid)}")
    child_pipes = list(fds(kids[0][0]).values()).count(token_pipe[0])
    check(child_pipes == 1, f"child holds {child_pipes} end(s) of the token pipe, not 1")
    # a quick second client: its child finishes first and must be reaped at once
    run("ipv6-client", "--addr", "::1", "--port", port, "--index", 2).finish(10)
    quick = int(s6.wait_for(r"accepted .*\(child (\d+)\)").group(1))
    wait_until(lambda: proc_state(quick) in ("Z", "gone"), 10, f"child {quick} ends")
    # reaped at once: while the parent is still asleep in the ppoll() its SIGCHLD is about
    # to end, it is a zombie for an instant, so that is not the moment to look
    no_zombies(s6.pid, 1.0)
    slow.finish(10)
    code, out, err = s6.finish(10)
    check(code == 0, err)
    os.system(f"ipcrm -Q {key} 2>/dev/null")


def many_students():
    # One course server, three students at once: all served, and afterwards the server
    # holds only its listening socket and has no zombie.
    s4, v4port = start_ipv4_server("--grades", GRADES)
    base = fds(s4.pid)
    servers = [start_ipv6_server() for _ in range(3)]
    clients = [run_student(v4port, port, "::1", "--id", 2021123456 + i)  # one id per session
               for i, (_, port, _) in enumerate(servers)]
    for c in clients:
        code, out, err = c.finish(30)
        check(code == 0 and "PASS: 5/5 tokens, concurrent: yes" in out, out + err)
    for s6, _, key in servers:
        check(s6.finish(10)[0] == 0, "ipv6-server exit")
        check(not queue_exists(key), "queue left")
    wait_until(lambda: all(st == "Z" for _, st in children(s4.pid)), 10, "the sessions end")
    no_zombies(s4.pid, 1.0)  # reaped at once (a zombie for the instant before ppoll wakes)
    check(tcp_sockets(s4.pid) == [f"socket:[{listening_inode(v4port)}]"],
          f"TCP sockets left open: {tcp_sockets(s4.pid)}")
    files = {fd: v for fd, v in fds(s4.pid).items() if v.startswith("/") and "/dev/shm/" not in v}
    base_files = {fd: v for fd, v in base.items() if v.startswith("/") and "/dev/shm/" not in v}
    check(files == base_files, f"files left open: {base_files} -> {files}")
    s4.kill()
    check(len([g for g in grades(GRADES) if g["verdict"] == "PASS"]) >= 3, "grades")


def interactive_answers():
    # As in the assignment: the answers typed on stdin, one of them wrong (asked again).
    s6, v6port, key = start_ipv6_server()
    s4, v4port = start_ipv4_server("--once", "--grades", GRADES)
    c = run("ipv4-client", "--server", "127.0.0.1", "--port", v4port, stdin=subprocess.PIPE)
    c.p.stdin.write(f"12x\n2021123456\n::1\n{v6port}\ny\nY\nok\n")
    c.p.stdin.close()
    code, out, err = c.finish(30)
    check(code == 0 and "PASS: 5/5 tokens, concurrent: yes" in out, out + err)
    check(out.count("[1/6] Student id") == 2 and "error: a student id is" in out, out)
    check(s4.finish(10)[0] == 0 and s6.finish(10)[0] == 0, "servers' exit codes")
    check(not queue_exists(key), "queue left")


def colour_only_on_terminal():
    """The course server's colour escapes reach ipv4-client's output only on a terminal, and
    never with NO_COLOR set (no-color.org: any value but the empty string)."""
    def verdict_after_questions(fc):
        fc.ask_all()
        fc.send(b"Starting 5 IPv6 clients.\nFAIL: 0/5 tokens, concurrent: unknown; no\n")
        fc.conn.close()

    def client(fc):
        return [os.path.join(BIN, "ipv4-client"), "--server", "127.0.0.1", "--port",
                str(fc.port), "--id", "2021123456", "--v6-addr", "::1", "--v6-port", "7002",
                "--yes"]

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    for where, no_color, coloured in (("terminal", None, True), ("terminal", "1", False),
                                      ("pipe", None, False), ("terminal", "", True)):
        e = dict(env, **({} if no_color is None else {"NO_COLOR": no_color}))
        fc = FakeCourse(verdict_after_questions)
        if where == "terminal":
            with Terminal(client(fc), env=e) as t:
                code = t.wait(20)
                out = t.transcript()
        else:
            code, out, _ = Proc(client(fc), env=e).finish(20)
        fc.join()
        what = f"on a {where}, NO_COLOR={no_color!r}"
        check(code == 1 and "[6/6]" in out and "FAIL: 0/5" in out, f"{what}: {out!r}")
        check(("\033[1;36m" in out) == coloured and ("\033" in out) == coloured,
              f"{what}: colours {'expected' if coloured else 'shown'}: {out!r}")


def exercise_script():
    """scripts/exercise: --help, an unknown option, a bad id; and when the client fails, it
    ends at once instead of waiting for ever for an ipv6-server that gets no tokens."""
    script = os.path.join(TOP, "scripts", "exercise")
    env = dict(os.environ)
    code, out, err = Proc([script, "--help"], env=env).finish(10)
    check(code == 0 and "Usage: scripts/exercise [STUDENT_ID]" in out and not err, out + err)
    for argv, what in ((["--id"], "unknown option '--id'"), (["12a"], "must be digits"),
                       (["1", "2"], "one STUDENT_ID at most")):
        code, out, err = Proc([script, *argv], env=env).finish(10)
        check(code == 2 and err.count("\n") == 1 and what in err and not out, f"{argv}: {err!r}")
    # An IPv6 server listening on IPv4 only: the course clients cannot reach [::1], the
    # course server FAILs the student at once, and the ipv6-server waits for tokens in vain.
    wrapper = os.path.join(TMP, "v4-only-server")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nexec {os.path.join(BIN, 'ipv6-server')} --bind 127.0.0.1 \"$@\"\n")
    os.chmod(wrapper, 0o755)
    t0 = time.monotonic()
    p = Proc([script], env=dict(env, V6LAB_IPV6_SERVER=wrapper))
    code, out, err = p.finish(30)
    check(code == 1 and "FAIL: 0/5" in out and "stopped by signal 15" in out, out + err)
    check(time.monotonic() - t0 < 20, f"took {time.monotonic() - t0:.1f} s")
    key = int(re.search(r"message queue key (0x[0-9a-f]+)", out).group(1), 16)
    check(not queue_exists(key), f"queue 0x{key:08x} left")


def versions():
    """Every program's --version prints the one project version (CMakeLists.txt's)."""
    with open(os.path.join(TOP, "CMakeLists.txt")) as f:
        version = re.search(r"project\(v6lab VERSION ([0-9.]+)", f.read()).group(1)
    names = ["ipv4-server", "ipv4-client", "ipv6-server", "ipv6-client"]
    if os.path.exists(os.path.join(BIN, "acceptwatch")):  # built with the eBPF tools
        names += ["acceptwatch", "tunnelwatch"]
    for name in names:
        code, out, err = run(name, "--version").finish(10)
        check(code == 0 and out == f"{name} (v6lab) {version}\n" and not err, f"{name}: {out!r}")
        code, out, _ = run(name, "--help").finish(10)
        check(code == 0 and "--version" in out, f"{name} --help does not name --version")


def setup_progress():
    """scripts/setup says each step in one line (no more tens of seconds of silence); on a
    terminal the build's own progress shows too, in a log (a pipe) only the steps. It runs
    on the build under test, which is up to date: nothing is rebuilt."""
    env = dict(os.environ, V6LAB_BUILD=os.path.dirname(BIN))
    env.pop("V6LAB_CMAKE_ARGS", None)
    setup = os.path.join(TOP, "scripts", "setup")
    p = subprocess.run([setup], capture_output=True, text=True, env=env, timeout=300)
    lines = p.stdout.splitlines()
    check(p.returncode == 0 and lines and all(ln.startswith("setup: ") for ln in lines),
          f"through a pipe: exit {p.returncode}, {p.stdout!r} {p.stderr[-500:]!r}")
    for step in ("configuring ", "building in ", "built in "):
        check(any(ln.startswith("setup: " + step) for ln in lines), f"no '{step}' line: {lines}")
    with Terminal([setup], env=env) as t:
        code = t.wait(300)
        out = t.transcript()
    check(code == 0 and "setup: building in " in out and "Built target" in out,
          f"on a terminal: exit {code}, {out[-800:]!r}")


# scripts/NAME -> does it refuse an unknown first option itself (lib.sh "none"), or parse
# its options (and --help) itself. Every one answers --help and --version.
SCRIPTS = {"bench-preload": True, "bench-trace": True, "demo": True, "setup": True,
           "exercise": True, "test": False, "test-sanitize": False, "trace": True, "lab": True,
           "fuzz": True, "bench-v6trace": True, "bench-acceptwatch": True, "check": True,
           "v6trace": True, "bench-tunnelwatch": True, "v6lab": True}


def scripts_cli():
    """Every script answers --help (its usage, exit 0) and --version (the project's), and
    one that takes no option says so in one line, exit 2, before doing anything."""
    with open(os.path.join(TOP, "CMakeLists.txt")) as f:
        version = re.search(r"project\(v6lab VERSION ([0-9.]+)", f.read()).group(1)
    for name, refuses in SCRIPTS.items():
        path = os.path.join(TOP, "scripts", name)
        code, out, err = Proc([path, "--version"]).finish(20)
        check(code == 0 and out == f"{name} (v6lab) {version}\n", f"{name} --version: {out!r} {err!r}")
        code, out, err = Proc([path, "--help"]).finish(20)
        check(code == 0 and f"scripts/{name}" in out and not err, f"{name} --help: {out!r} {err!r}")
        if refuses:
            code, out, err = Proc([path, "--no-such-option"]).finish(20)
            check(code == 2 and err.count("\n") == 1 and "--no-such-option" in err,
                  f"{name} --no-such-option: exit {code}, {out!r} {err!r}")


def bad_command_lines():
    cases = [("ipv6-server", ["--port", "70000"], "--port '70000'"),
             ("ipv6-server", ["--tokens", "0"], "--tokens '0'"),
             ("ipv6-server", ["--bind", "nowhere"], "not a numeric"),
             ("ipv4-server", ["--allow", "10.0.0.0/8"], "--allow '10.0.0.0/8'"),
             ("ipv4-client", [], "--server is required"),
             ("ipv4-client", ["--server", "::1"], "not a numeric IPv4 address"),
             ("ipv6-client", ["--addr", "::1"], "--addr and --port are required"),
             ("ipv6-client", ["--addr", "::1", "--port", "1", "--token", "abc"], "--token 'abc'")]
    for prog, args, needle in cases:
        code, out, err = run(prog, *args).finish(5)
        check(code == 2, f"{prog} {args}: exit {code}")
        lines = err.strip().splitlines()
        check(len(lines) == 1 and needle in lines[0] and lines[0].startswith(prog + ": "),
              f"{prog} {args}: {err!r}")


# A reader that quits early (head, grep -q, grep -m N) at the end of a pipeline: the writer
# before it gets SIGPIPE when it writes after that, and under `set -o pipefail` (every
# script, every tutorial block) the pipeline then fails, or not, by timing (tutorial 02
# failed CI so: exit 141). Read everything instead: sed -n 1p, grep ... >/dev/null.
EARLY_QUIT = re.compile(r"\|\s*(head\b|grep\s+(-[A-Za-z]*[qm]|--quiet|--silent|--max-count))")


def no_sigpipe_pipelines():
    """No script and no runnable tutorial block ends a pipeline with a reader that quits
    early."""
    found = []
    paths = [os.path.join(TOP, ".ci", "run")]
    for d in ("scripts", "tutorials", os.path.join("tutorials", "reference")):
        for name in sorted(os.listdir(os.path.join(TOP, d))):
            paths.append(os.path.join(TOP, d, name))
    checked = 0
    for path in paths:
        if not os.path.isfile(path):
            continue
        with open(path, errors="replace") as f:
            text = f.read()
        if path.endswith(".md"):  # the ```sh blocks only: what check_tutorial.py runs
            lines = []
            for block in re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M):
                lines += block.splitlines()
        elif text.startswith("#!") and ("bash" in text.split("\n")[0] or "sh" in text.split("\n")[0]):
            lines = text.splitlines()
        else:
            continue
        checked += 1
        for n, line in enumerate(lines, 1):
            code = line.split(" #")[0] if not line.lstrip().startswith("#") else ""
            if EARLY_QUIT.search(code):
                found.append(f"{os.path.relpath(path, TOP)}: {line.strip()}")
    check(checked >= 10, f"only {checked} files checked")
    check(not found, "a pipeline ends in a reader that quits early (SIGPIPE under pipefail):\n  "
          + "\n  ".join(found))


if __name__ == "__main__":
    main({f.__name__: f for f in (full_run, sequential_server, missing_token_exit_1, dual_stack,
                                  wrong_tokens_named, bad_answers, too_many_bad_answers,
                                  nothing_listening, child_closes_listener, many_students,
                                  interactive_answers, bad_command_lines,
                                  colour_only_on_terminal, exercise_script, versions,
                                  scripts_cli, setup_progress, no_sigpipe_pipelines)})
