# SPDX-License-Identifier: MIT
"""scripts/check --batch DIR [-o OUT]: every subfolder of DIR is one submission, built and
checked in a sandbox of its own (sandbox.py); tutorials/reference/batch.md is the user's
documentation.

A submission: C sources (*.c, *.h), an optional Makefile, an optional check.conf of
`key = value` lines (# comments):
    server = ./server {v6port} 7002          the commands, as scripts/check takes them
    client = ./client {host} {port} 7002     (defaults: ./server {v6port}, ./client {host} {port})
    port = 7002                              P, the IPv6 server's port (default 7002)
    server_sources = eof-server.c listen6.c  what `cc -O1 -o server` builds
    client_sources = client.c                what `cc -O1 -o client` builds
With a Makefile, `make` builds (it must make the programs the commands name). Without one
nor *_sources: server.c + client.c if both exist, else the files with a main() that call
listen( (the server) and connect( (the client); the files without main() are linked into
both. Anything else: "add a check.conf".

Each submission, one after the other:
  1. its folder copied (symlinks as symlinks) to a scratch directory of its sandbox;
  2. the build, each command one sandbox run (at most --build-timeout s);
  3. `scripts/check --json -o OUT --v6-port P --timeout S --server .. --client ..` as one
     sandbox run (at most S + CHECK_MARGIN s): the course server, the student's programs,
     the tracing (scripts/trace, a session daemon of the check's own) and the analysis are
     all in it;
  4. one JSON line on stdout (and OUT/results.jsonl): name, build ("ok", "failed",
     "skipped"), result, verdict, tokens_followed, findings (kinds), exit (the check's, or
     null when it did not finish), reason (one line), seconds, isolation;
  5. its files in OUT/NAME/: build.log, check.stderr, check/ (the check's own directory:
     check.json, the trace, the diagram, the terminals).
Then a summary table on stderr (and OUT/summary.txt). stdout has the JSON lines only.

Reasons, first that applies: "fork bomb: reached pids.max (N processes)", "memory: more
than M MB (memory.events oom_kill)", "did not finish within S s" (build or check), "build
failed: <first error line>", "wrote outside its folder: <path> (kept in the sandbox)" (a
file left in the private /tmp, /var/tmp, /dev/shm, /run/lock; writes elsewhere are denied:
the programs run as nobody), else the check's own: its first error, or its verdict line and
the problems it saw.

Exit: 0 when every submission was checked (whatever the verdicts), 2 on a batch error (DIR
missing or without subfolders, OUT not empty, bad options), with one line on stderr."""
import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import sys
import time

from . import run, sandbox

PROG = "check --batch"
BUILD_TIMEOUT = 60
CHECK_TIMEOUT = 60        # the check's --timeout: the student's programs
CHECK_MARGIN = 150        # the tracing session, the analysis, on a loaded machine
DEFAULT_SERVER = "./server {v6port}"
DEFAULT_CLIENT = "./client {host} {port}"
KEYS = ("server", "client", "port", "server_sources", "client_sources")


class BatchError(Exception):
    """The batch itself cannot run: one line, exit 2."""


class Skip(Exception):
    """This submission cannot be checked: the reason, one line."""


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="scripts/check --batch", description="Build and check every subfolder of DIR "
        "(one submission each) in a sandbox of its own: one JSON line per submission on "
        "stdout, a summary table on stderr. tutorials/reference/batch.md",
        epilog="exit: 0 every submission was checked (whatever the verdicts); 2 a batch "
        "error (DIR missing, OUT not empty, bad options)")
    ap.add_argument("--batch", metavar="DIR", required=True, help="the submissions")
    ap.add_argument("-o", "--out", metavar="OUT", help="results.jsonl, summary.txt and "
                    "NAME/ for each submission: absent or empty (default ./batch-DATE-TIME)")
    ap.add_argument("--timeout", type=int, default=CHECK_TIMEOUT, metavar="S",
                    help=f"each check's --timeout (default {CHECK_TIMEOUT}); the whole check "
                         f"gets S + {CHECK_MARGIN} s")
    ap.add_argument("--build-timeout", type=int, default=BUILD_TIMEOUT, metavar="S",
                    help=f"each build command (default {BUILD_TIMEOUT})")
    ap.add_argument("--pids", type=int, default=sandbox.Limits.pids, metavar="N",
                    help=f"pids.max of each run (default {sandbox.Limits.pids}; the check "
                         "itself uses about 60)")
    ap.add_argument("--memory", type=int, default=sandbox.Limits.memory_mb, metavar="MB",
                    help=f"memory of each run, no swap (default {sandbox.Limits.memory_mb})")

    class _Exit(Exception):
        pass

    def error(message):
        raise BatchError(message)
    ap.error = error
    a = ap.parse_args(argv)
    if not run.MIN_TIMEOUT <= a.timeout <= run.MAX_TIMEOUT:
        raise BatchError(f"--timeout {a.timeout}: give {run.MIN_TIMEOUT} to "
                         f"{run.MAX_TIMEOUT} seconds")
    if a.build_timeout < 1 or a.pids < 16 or a.memory < 32:
        raise BatchError("--build-timeout >= 1, --pids >= 16, --memory >= 32")
    return a


# --- a submission: check.conf, the build -------------------------------------------------

def read_conf(folder):
    conf = {}
    path = os.path.join(folder, "check.conf")
    if not os.path.exists(path):
        return conf
    with open(path, errors="replace") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, eq, value = line.partition("=")
            key, value = key.strip(), value.strip()
            if not eq or key not in KEYS:
                raise Skip(f"check.conf line {n}: expected one of {', '.join(KEYS)} = VALUE: "
                           f"{line[:80]!r}")
            conf[key] = value
    if "port" in conf:
        if not conf["port"].isdigit() or not 1024 <= int(conf["port"]) <= 65535:
            raise Skip(f"check.conf: port {conf['port']!r}: give 1024 to 65535")
    return conf


MAIN = re.compile(r"\bmain\s*\(")


def sources(folder, conf):
    """{"server": [files], "client": [files]} for cc, or None when a Makefile builds."""
    if "server_sources" in conf or "client_sources" in conf:
        if not ("server_sources" in conf and "client_sources" in conf):
            raise Skip("check.conf: give both server_sources and client_sources")
        out = {}
        for role in ("server", "client"):
            files = shlex.split(conf[f"{role}_sources"])
            for f in files:
                if "/" in f or not os.path.isfile(os.path.join(folder, f)):
                    raise Skip(f"check.conf: {role}_sources: no file {f!r} in the folder")
            out[role] = files
        return out
    if os.path.exists(os.path.join(folder, "Makefile")) or \
            os.path.exists(os.path.join(folder, "makefile")):
        return None
    cs = sorted(f for f in os.listdir(folder) if f.endswith(".c"))
    text = {f: open(os.path.join(folder, f), errors="replace").read() for f in cs}
    mains = [f for f in cs if MAIN.search(text[f])]
    shared = [f for f in cs if f not in mains]
    if "server.c" in mains and "client.c" in mains:
        return {"server": ["server.c", *shared], "client": ["client.c", *shared]}
    srv = [f for f in mains if "listen(" in text[f]]
    cli = [f for f in mains if "connect(" in text[f] and f not in srv]
    if len(srv) == 1 and len(cli) == 1 and len(mains) == 2:
        return {"server": [srv[0], *shared], "client": [cli[0], *shared]}
    raise Skip(f"cannot tell the server from the client ({len(mains)} file(s) with a main: "
               f"{' '.join(mains) or 'none'}): add a check.conf (server_sources = ..., "
               "client_sources = ...)")


def first_error(log_path):
    try:
        lines = [ln.strip() for ln in open(log_path, errors="replace") if ln.strip()]
    except OSError:
        return "no output"
    for ln in lines:
        if "error" in ln.lower() and not ln.startswith("make:"):
            return ln[:200]
    return (lines[-1][:200] if lines else "no output")


# --- one submission ----------------------------------------------------------------------

def env_for(bin_dir):
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent",
            "LANG": "C.UTF-8", "V6LAB_BIN": bin_dir}


def limit_reason(r, limits, what):
    if r.pids_max:
        return f"fork bomb: reached pids.max ({limits.pids} processes) ({what})"
    if r.oom_kills:
        return f"memory: more than {limits.memory_mb} MB (memory.events oom_kill) ({what})"
    return None


def check_reason(report, stderr_path, r):
    if report is None:
        err = [ln.strip() for ln in open(stderr_path, errors="replace") if ln.strip()] \
            if os.path.exists(stderr_path) else []
        return (err[-1][:200] if err else f"the check printed no report (exit {r.code}, "
                f"signal {r.signal})")
    if report.get("errors"):
        return report["errors"][0][:200]
    s = report.get("session") or {}
    probs = [p["kind"] for p in s.get("problems", [])]
    line = report.get("verdict_line") or "no verdict"
    return line + (f"; problems: {', '.join(probs)}" if probs else "")


def one(name, folder, out_dir, a, limits):
    t0 = time.monotonic()
    res = {"name": name, "build": "skipped", "result": None, "verdict": None,
           "tokens_followed": None, "findings": [], "exit": None, "reason": None,
           "seconds": None, "isolation": None, "peak": None}
    bin_dir = run.bin_dir(run.Options(server="", client=""))
    # The build's directory: the course server, the preload (lib/) scripts/trace injects.
    box = sandbox.Sandbox(name, limits, expose=(run.TOP, os.path.dirname(bin_dir)))
    res["isolation"] = box.describe()
    os.makedirs(out_dir)
    try:
        try:
            conf = read_conf(folder)
            srcs = sources(folder, conf)
        except Skip as e:
            res["reason"] = str(e)
            return res
        except OSError as e:
            res["reason"] = f"cannot read the submission: {e}"
            return res
        src = os.path.join(box.dir, "src")
        shutil.copytree(folder, src, symlinks=True)
        box.chown_tree(box.dir)
        env = env_for(bin_dir)
        # 2. the build
        build_log = os.path.join(out_dir, "build.log")
        if srcs is None:
            cmds = [["make"]]
        else:
            cmds = [["cc", "-O1", "-o", role, *files] for role, files in srcs.items()]
        with open(build_log, "w") as log:
            for cmd in cmds:
                log.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
                log.flush()
                r = box.run(cmd, src, a.build_timeout, env, log)
                why = limit_reason(r, limits, "build")
                if why or r.timed_out:
                    res["build"] = "failed"
                    res["reason"] = why or f"did not finish within {a.build_timeout} s (build)"
                    return res
                if r.code != 0:
                    log.flush()
                    res["build"] = "failed"
                    res["reason"] = f"build failed: {first_error(build_log)}"
                    return res
        res["build"] = "ok"
        # 3. the check
        port = int(conf.get("port", run.DEFAULT_PORT))
        check_out = os.path.join(box.dir, "check")
        stdout_path = os.path.join(box.base, "check.stdout")
        stderr_path = os.path.join(out_dir, "check.stderr")
        argv = [run.CHECK, "--json", "-o", check_out, "--v6-port", str(port),
                "--timeout", str(a.timeout), "--server", conf.get("server", DEFAULT_SERVER),
                "--client", conf.get("client", DEFAULT_CLIENT)]
        limit = a.timeout + CHECK_MARGIN
        with open(stdout_path, "w") as so, open(stderr_path, "w") as se:
            r = box.run(argv, src, limit, env, so, se)
        report = None
        try:
            with open(stdout_path) as f:
                report = json.load(f)
        except (OSError, ValueError):
            pass
        if report is not None:
            res["result"] = report.get("result")
            res["verdict"] = report.get("verdict")
            res["tokens_followed"] = (report.get("tokens") or {}).get("followed")
            res["findings"] = sorted({f["kind"] for f in report.get("findings") or []})
        res["peak"] = {"pids": r.pids_peak, "memory_mb": r.memory_peak_mb}
        if not (r.timed_out or r.pids_max or r.oom_kills):
            res["exit"] = r.code
        outside = box.outside()
        res["reason"] = (limit_reason(r, limits, "check")
                         or (f"did not finish within {limit} s" if r.timed_out else None)
                         or (f"wrote outside its folder: {', '.join(outside[:3])} (kept in "
                             "the sandbox)" if outside else None)
                         or check_reason(report, stderr_path, r))
        if os.path.isdir(check_out):
            shutil.copytree(check_out, os.path.join(out_dir, "check"), symlinks=True)
        return res
    finally:
        box.close()
        res["seconds"] = round(time.monotonic() - t0, 1)


# --- the batch -------------------------------------------------------------------------

def out_dir(wanted):
    if not wanted:
        wanted = "batch-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    if os.path.exists(wanted) and (not os.path.isdir(wanted) or os.listdir(wanted)):
        raise BatchError(f"-o {wanted}: exists and is not an empty directory")
    os.makedirs(wanted, exist_ok=True)
    return os.path.abspath(wanted)


def table(rows):
    head = ("submission", "build", "result", "exit", "tokens", "s", "reason")
    cells = [[r["name"], r["build"], r["result"] or "-",
              "-" if r["exit"] is None else str(r["exit"]),
              "-" if r["tokens_followed"] is None else f"{r['tokens_followed']}/5",
              f"{r['seconds']:.0f}", r["reason"] or ""] for r in rows]
    widths = [max(len(head[i]), *(len(c[i]) for c in cells)) for i in range(len(head) - 1)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)) + "  " + head[-1]]
    for c in cells:
        lines.append("  ".join(x.ljust(w) for x, w in zip(c, widths)) + "  " + c[-1])
    total = sum(r["seconds"] for r in rows)
    lines.append(f"{len(rows)} submission(s) in {total:.0f} s "
                 f"({total / max(len(rows), 1):.1f} s each); isolation: "
                 f"{rows[0]['isolation'] if rows else '-'}")
    return "\n".join(lines) + "\n"


def main(argv):
    try:
        a = parse_args(argv)
        if not os.path.isdir(a.batch):
            raise BatchError(f"--batch {a.batch}: no such directory")
        names = sorted(n for n in os.listdir(a.batch) if not n.startswith(".")
                       and os.path.isdir(os.path.join(a.batch, n))
                       and not os.path.islink(os.path.join(a.batch, n)))
        if not names:
            raise BatchError(f"--batch {a.batch}: no subfolder (one per submission)")
        out = out_dir(a.out)
    except BatchError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    sandbox.set_subreaper()
    limits = sandbox.Limits(pids=a.pids, memory_mb=a.memory)
    rows = []
    with open(os.path.join(out, "results.jsonl"), "w") as jl:
        for name in names:
            safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
            r = one(name, os.path.abspath(os.path.join(a.batch, name)),
                    os.path.join(out, safe), a, limits)
            line = json.dumps(r)
            print(line, flush=True)
            jl.write(line + "\n")
            jl.flush()
            rows.append(r)
    text = table(rows)
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text)
    sys.stderr.write(text + f"results: {out}/results.jsonl\n")
    return 0
