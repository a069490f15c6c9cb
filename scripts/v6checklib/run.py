# SPDX-License-Identifier: MIT
"""One check: a student's server and client against v6lab's course server, traced, then
analysed (tutorials/reference/check.md is the user's documentation).

    opts = Options(server="eof-server {v6port}", client="read-twice-client {host} {port}")
    validate(opts)            # UsageError(one line) for bad input
    report = check(opts)      # the dict `scripts/check --json` prints; also DIR/check.json
    exit_code(report)         # 0 PASS and nothing found, 1 FAIL or findings, 2 error

How it goes:
  1. validate: the commands (split as a shell would; no shell runs them), their programs
     exist, --client has {port}; port P is free on this machine (else UsageError: another
     --v6-port); -o DIR is absent or empty (default ./check-DATE-TIME).
  2. `scripts/trace -o DIR/trace -- python3 scripts/check --_session DIR/spec.json`: the
     session (session.py) runs as the traced command, so scripts/v6trace keeps its
     processes only; everything of it is bounded by --timeout, and scripts/trace by that
     plus TRACE_MARGIN (then its process group is stopped).
  3. `scripts/v6trace tokens|lint|summary --json` and `diagram --svg --mermaid` and `report -o report.html` on the trace;
     the IPC objects the student's programs made and left are removed (ipc.py).
  4. The report: verdict (the course server's), the session (session.json), tokens,
     findings, what was cleaned up, errors, files.

For scripts/check --batch (batch.py; cli.py hands it the whole argv): call validate() then
check() as functions once per submission, or run `scripts/check --json ...` as a subprocess
and read its one JSON object (exit 2 with one line on stderr and no JSON: bad input); both
give the same report. check() keeps no state between calls and may run in threads, each
with its own -o DIR and --v6-port (P must be free for each; keys and FIFO paths in the
commands must differ too). It does not change the calling process (the subreaper is the
session's own process); it starts scripts/trace, which may start and stop a per-user session
daemon.

As an ordinary user (not root) whose HOME has no usable ~/.lttng (nobody's /nonexistent, a
HOME of another user), LTTNG_HOME and XDG_RUNTIME_DIR point to a private directory for the
check's own session daemon (both together: scripts/trace keeps its daemon mark in the
latter), removed afterwards."""
import datetime
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Optional

from . import ipc

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK = os.path.join(TOP, "scripts", "check")
TRACE = os.path.join(TOP, "scripts", "trace")
V6TRACE = os.path.join(TOP, "scripts", "v6trace")
DEFAULT_PORT = 7002        # the assignment's
DEFAULT_ID = "2021000001"  # scripts/exercise's
DEFAULT_TIMEOUT = 120
MIN_TIMEOUT, MAX_TIMEOUT = 20, 3600
TRACE_MARGIN = 90          # starting and stopping the tracing session, on a loaded machine
ANALYSIS_TIMEOUT = 120     # each scripts/v6trace command
COURSE_ROLES = ("ipv4-server", "ipv6-client")


class UsageError(Exception):
    """Bad input: one line for the user, exit 2."""


@dataclass
class Options:
    server: str
    client: str
    v6_port: int = DEFAULT_PORT
    id: str = DEFAULT_ID
    out: Optional[str] = None
    timeout: int = DEFAULT_TIMEOUT
    bin: Optional[str] = None  # the course server's directory (default V6LAB_BIN or build/bin)
    cwd: Optional[str] = None  # where the student's programs run (default the current one)


# --- 1. validate ------------------------------------------------------------------------

def bin_dir(opts):
    return os.path.abspath(opts.bin or os.environ.get("V6LAB_BIN")
                           or os.path.join(TOP, "build", "bin"))


def split_command(what, text, cwd):
    """argv of a --server / --client command; UsageError names what is wrong."""
    try:
        argv = shlex.split(text)
    except ValueError as e:
        raise UsageError(f"the {what} command: {e}: {text!r}")
    if not argv:
        raise UsageError(f"the {what} command is empty")
    prog = argv[0]
    if "/" in prog:
        path = os.path.join(cwd, prog)
        if not os.path.exists(path):
            raise UsageError(f"the {what} command: no such program: {prog}")
        if os.path.isdir(path) or not os.access(path, os.X_OK):
            raise UsageError(f"the {what} command: {prog} is not an executable program")
    elif shutil.which(prog) is None:
        raise UsageError(f"the {what} command: no such program: {prog} (not on PATH; "
                         f"give its path, e.g. ./{prog})")
    return argv


def port_free(port):
    """None if nothing listens on port (IPv6 and IPv4), else why not."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        # SO_REUSEADDR: a port with connections in TIME_WAIT, or held by a socket bound the
        # same way and never listening (a test keeping it for us), is free for the student.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        return None
    except OSError as e:
        return e
    finally:
        s.close()


def validate(opts):
    """Check the options before anything runs; fills in the defaults. UsageError if bad."""
    opts.cwd = os.path.abspath(opts.cwd or os.getcwd())
    if not (isinstance(opts.v6_port, int) and 1 <= opts.v6_port <= 65535):
        raise UsageError(f"--v6-port {opts.v6_port}: give a port from 1 to 65535")
    if not (str(opts.id).isdigit() and 1 <= len(str(opts.id)) <= 31):
        raise UsageError(f"--id {opts.id!r}: a student id is 1 to 31 digits")
    if not MIN_TIMEOUT <= opts.timeout <= MAX_TIMEOUT:
        raise UsageError(f"--timeout {opts.timeout}: give {MIN_TIMEOUT} to {MAX_TIMEOUT} "
                         "seconds")
    if not opts.server:
        raise UsageError("no --server 'COMMAND...': the student's IPv6 server to check")
    if not opts.client:
        raise UsageError("no --client 'COMMAND... {host} {port}': the student's IPv4 client")
    server = split_command("--server", opts.server, opts.cwd)
    client = split_command("--client", opts.client, opts.cwd)
    if not any("{port}" in a for a in client):
        raise UsageError("the --client command has no {port}: the course server's port is "
                         "known only when the check runs (e.g. --client './client {host} "
                         "{port}')")
    if any("{port}" in a or "{host}" in a for a in server):
        raise UsageError("the --server command has {port} or {host}: those are the course "
                         "server's; the IPv6 server's port is {v6port}")
    course = os.path.join(bin_dir(opts), "ipv4-server")
    if not os.access(course, os.X_OK):
        raise UsageError(f"no course server {course}: build v6lab first (scripts/setup), or "
                         "set V6LAB_BIN")
    err = port_free(opts.v6_port)
    if err is not None:
        import errno
        if err.errno == errno.EADDRINUSE:
            raise UsageError(f"port {opts.v6_port} is in use on this machine (something "
                             "listens there): give a free one with --v6-port")
        if err.errno == errno.EACCES:
            raise UsageError(f"port {opts.v6_port} needs root (below 1024): give one from "
                             "1024 up with --v6-port")
        raise UsageError(f"port {opts.v6_port}: {err.strerror} (is IPv6 on?)")
    opts.out = out_dir(opts.out)
    return server, client


def out_dir(wanted):
    """The absolute output directory, made now: -o DIR (absent or empty), else a fresh
    ./check-DATE-TIME."""
    if wanted:
        if os.path.exists(wanted):
            if not os.path.isdir(wanted):
                raise UsageError(f"-o {wanted}: exists and is not a directory")
            if os.listdir(wanted):
                raise UsageError(f"-o {wanted}: not empty (a check writes a trace of its own: "
                                 "give a new or empty directory)")
        try:
            os.makedirs(wanted, exist_ok=True)
        except OSError as e:
            raise UsageError(f"-o {wanted}: {e.strerror}")
        if not os.access(wanted, os.W_OK):
            raise UsageError(f"-o {wanted}: not writable")
        return os.path.abspath(wanted)
    base = "check-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        d = base if n == 1 else f"{base}-{n}"
        try:
            os.mkdir(d)
            return os.path.abspath(d)
        except FileExistsError:
            continue
        except OSError as e:
            raise UsageError(f"cannot make {d} here: {e.strerror} (give -o DIR)")
    raise UsageError(f"cannot make {base}: too many checks this second (give -o DIR)")


# --- 2. the traced session ------------------------------------------------------------

def lttng_env():
    """(environment for scripts/trace, private directory to remove or None)."""
    env = dict(os.environ)
    if os.geteuid() == 0:
        return env, None
    home = env.get("LTTNG_HOME") or env.get("HOME") or ""
    dot = os.path.join(home, ".lttng")
    usable = home and os.path.isdir(home) and (
        os.access(dot, os.W_OK | os.X_OK) if os.path.isdir(dot) else os.access(home, os.W_OK))
    if usable:
        return env, None
    private = tempfile.mkdtemp(prefix="v6lab-check-lttng-")
    env["LTTNG_HOME"] = env["XDG_RUNTIME_DIR"] = private
    return env, private


def _stop(p, grace):
    """SIGTERM to scripts/trace's process group (its session closes), SIGKILL after grace."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10)):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def traced_session(opts, spec, errors):
    """Run the session under scripts/trace; its session.json, or None (errors says why)."""
    d = opts.out
    spec_path = os.path.join(d, "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f, indent=1)
    env, private = lttng_env()
    env["V6LAB_BIN"] = spec["bin"]  # scripts/trace's preload: the same build's
    log = os.path.join(d, "trace.log")
    argv = [TRACE, "-o", os.path.join(d, "trace"), "--", sys.executable, CHECK,
            "--_session", spec_path]
    try:
        with open(log, "w") as f:
            # A process group of its own: stopped as one on a timeout; Ctrl-C is passed on.
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=f,
                                 stderr=subprocess.STDOUT, env=env, cwd=opts.cwd,
                                 start_new_session=True)
            try:
                p.wait(opts.timeout + TRACE_MARGIN)
            except subprocess.TimeoutExpired:
                errors.append(f"the traced session did not end within {opts.timeout} + "
                              f"{TRACE_MARGIN} s: stopped it")
                _stop(p, 30)
            except KeyboardInterrupt:
                errors.append("interrupted (Ctrl-C): the student's programs were stopped")
                os.killpg(p.pid, signal.SIGINT)
                try:
                    p.wait(60)
                except (subprocess.TimeoutExpired, KeyboardInterrupt):
                    _stop(p, 10)
    finally:
        if private:
            shutil.rmtree(private, ignore_errors=True)
    try:
        with open(os.path.join(d, "session.json")) as f:
            session = json.load(f)
    except (OSError, ValueError):
        lines = [ln for ln in open(log).read().splitlines() if ln.strip()]
        errors.append("the session did not run: "
                      + (lines[-1] if lines else f"scripts/trace exit {p.returncode}"))
        return None
    text = open(log).read()
    if "WARNING: events were discarded" in text:
        errors.append("the tracer discarded events: the analysis may miss hops (raise "
                      "V6LAB_TRACE_SUBBUF)")
    return session


# --- 3. analysis ------------------------------------------------------------------------

def v6trace(args, errors, ok=(0, 1)):
    """Output of `scripts/v6trace ARGS` (parsed if --json), or None (errors says why)."""
    try:
        p = subprocess.run([V6TRACE, *args], capture_output=True, text=True,
                           timeout=ANALYSIS_TIMEOUT)
    except subprocess.TimeoutExpired:
        errors.append(f"scripts/v6trace {args[0]} took more than {ANALYSIS_TIMEOUT} s")
        return None
    if p.returncode not in ok:
        last = [ln for ln in p.stderr.splitlines() if ln.strip()][-1:] or [""]
        errors.append(f"scripts/v6trace {args[0]} failed (exit {p.returncode}): {last[0]}")
        return None
    if "--json" not in args:
        return p.stdout
    try:
        return json.loads(p.stdout)
    except ValueError:
        errors.append(f"scripts/v6trace {args[0]} --json printed no JSON")
        return None


def token_report(doc, expected):
    """The tokens, as the report shows them: v6trace's flows, and how many were followed
    through the student's programs (no flag, and a hop by a process not of the course)."""
    flows = doc["tokens"] if doc else []
    through = [fl for fl in flows
               if not fl["flags"] and any(h["role"] not in COURSE_ROLES for h in fl["hops"])]
    return {"expected": expected, "seen": len(flows), "followed": len(through),
            "summary": doc["summary"] if doc else None, "flows": flows}


def analyse(trace_dir, files, errors):
    tokens = v6trace(["tokens", trace_dir, "--json"], errors)
    lint = v6trace(["lint", trace_dir, "--json"], errors)
    summary = v6trace(["summary", trace_dir, "--json"], errors, ok=(0,))
    if v6trace(["diagram", trace_dir, "--svg", files["diagram"], "--mermaid",
                files["mermaid"]], errors, ok=(0,)) is None:
        files["diagram"] = files["mermaid"] = None
    if v6trace(["report", trace_dir, "-o", files["html"]], errors, ok=(0,)) is None:
        files["html"] = None
    return tokens, lint, summary


# --- 4. the report --------------------------------------------------------------------

def check(opts, argv=None):
    """Run one check (validate() first, or pass its argv pair); the report dict."""
    if argv is None:
        argv = validate(opts)
    server, client = argv
    d = opts.out
    started = time.time()
    errors = []
    spec = {"dir": d, "bin": bin_dir(opts), "server": server, "client": client,
            "v6port": opts.v6_port, "timeout": opts.timeout, "cwd": opts.cwd,
            "answers": [str(opts.id), "::1", str(opts.v6_port), "Y", "Y", "OK"]}
    trace_dir = os.path.join(d, "trace")
    files = {"dir": d, "trace": trace_dir, "diagram": os.path.join(d, "diagram.svg"),
             "mermaid": os.path.join(d, "diagram.mmd"), "report": os.path.join(d, "check.json"),
             "html": os.path.join(d, "report.html"),
             "course_log": os.path.join(d, "course-server.log"),
             "grades": os.path.join(d, "grades.jsonl"),
             "server_terminal": os.path.join(d, "server-terminal.txt"),
             "client_terminal": os.path.join(d, "client-terminal.txt")}
    session = traced_session(opts, spec, errors)
    tokens = lint = None
    cleaned = []
    if session is not None:
        if session.get("error"):
            errors.append(f"the session: {session['error']}")
        if session.get("interrupted") and not errors:
            errors.append(f"interrupted ({session['interrupted']}): the student's programs "
                          "were stopped")
        tokens, lint, summary = analyse(trace_dir, files, errors)
        if summary is not None:
            vpids = {p["vpid"] for p in summary["processes"]}
            try:
                cleaned = ipc.left_and_removed(ipc.made(trace_dir, vpids), opts.cwd, started)
            except Exception as e:  # noqa: BLE001: a cleanup that failed is reported
                errors.append(f"looking for what the programs left: {e}")
    course = (session or {}).get("course", {})
    grade = course.get("grade")
    verdict = grade["verdict"] if grade else None
    if session is not None and verdict is None and not session["problems"]:
        errors.append("no verdict from the course server"
                      + (f" within the check's bound of {opts.timeout} s"
                         if session.get("timed_out") else "")
                      + f" (see {files['course_log']})")
    for k, v in files.items():  # only what was written (the report comes last)
        if k not in ("dir", "report") and v and not os.path.exists(v):
            files[k] = None
    if session is None:
        files["report"] = None
    report = {
        "verdict": verdict, "verdict_line": course.get("verdict_line"), "grade": grade,
        "student": {"id": str(opts.id), "v6port": opts.v6_port, "server": opts.server,
                    "client": opts.client},
        "session": session,
        "tokens": token_report(tokens, grade["tokens_expected"] if grade else 5),
        "findings": lint["findings"] if lint else [],
        "cleaned": cleaned,
        "errors": errors,
        "files": files,
    }
    report["exit"] = exit_code(report)
    report["result"] = {0: "PASS", 2: "ERROR"}.get(report["exit"]) or \
        ("FINDINGS" if verdict == "PASS" else "FAIL")
    if session is not None:
        with open(files["report"], "w") as f:
            json.dump(report, f, indent=1)
    return report


def problems(report):
    """What the session itself saw go wrong (session.py), and the objects left behind."""
    return [p["text"] for p in (report["session"] or {}).get("problems", [])]


def exit_code(report):
    """2 if the check could not do its job; 1 if the student's programs did not (FAIL, no
    verdict because of them, a finding, a problem, an object left); 0 otherwise."""
    if report["errors"] or report["session"] is None:
        return 2
    if report["verdict"] != "PASS" or report["findings"] or problems(report) \
            or report["cleaned"]:
        return 1
    return 0
