#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""End-to-end scenarios of the exercise on 127.0.0.1 and ::1 with ephemeral ports.
Usage: e2e.py SCENARIO (CTest runs each as e2e.SCENARIO)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from v6test import (Student, TokenCatcher, check, children, fds, free_port, grades,  # noqa: E402
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
    clients = [run_student(v4port, port) for _, port, _ in servers]
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


if __name__ == "__main__":
    main({f.__name__: f for f in (full_run, sequential_server, missing_token_exit_1, dual_stack,
                                  wrong_tokens_named, bad_answers, too_many_bad_answers,
                                  nothing_listening, child_closes_listener, many_students,
                                  interactive_answers, bad_command_lines)})
