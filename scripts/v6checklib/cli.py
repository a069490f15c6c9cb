# SPDX-License-Identifier: MIT
"""scripts/check's command line: one submission (run.py), or --batch DIR (batch.py)."""
import argparse
import importlib.util
import json
import sys

from . import report, run
from v6tracelib.version import version  # the project's one version (scripts/ is on the path)

PROG = "check"
DESCRIPTION = """\
Check a student's IPv6 server and IPv4 client against v6lab's course server, traced end to
end: the course server starts on a free port, then your server, then your client on a
terminal of its own; the six answers (ID, ::1, P, Y, Y, OK) are typed one line each time it
reads the terminal. Prints the verdict, each token hop by hop, the classic mistakes found in
the trace (scripts/v6trace lint) and where the trace and the diagram are.

In the commands, {host} and {port} are the course server's address and port (the client
needs {port}); {v6port} is P. They are split as a shell would, but no shell runs them."""
EPILOG = """\
examples:
  scripts/check --server 'build/bin/ipv6-server --port {v6port}' \\
                --client 'build/bin/ipv4-client --server {host} --port {port}'
  scripts/check --server './server 7002' --client './client {host} {port}'
  scripts/check --v6-port 7010 --json -o /tmp/c1 \\
                --server './server {v6port}' --client './client {host} {port}'
  scripts/check --batch SUBMISSIONS [-o OUT]     (many submissions: see its --help)

exit: 0 PASS and nothing found; 1 FAIL, or findings, or a problem of the programs (one
never finished, an object left behind); 2 an error (bad input, port P taken, the check
could not run). Documentation: tutorials/reference/check.md"""

# Options of the single mode that take a value (to find --batch among the others).
_VALUED = {"--server", "--client", "--v6-port", "--id", "-o", "--out", "--timeout"}


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"{PROG}: {message} (scripts/check --help)", file=sys.stderr)
        sys.exit(2)


def parser():
    ap = _Parser(prog="scripts/check", description=DESCRIPTION, epilog=EPILOG,
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"check (v6lab) {version()}")
    ap.add_argument("--server", metavar="'CMD...'", help="the student's IPv6 server")
    ap.add_argument("--client", metavar="'CMD... {host} {port} ...'",
                    help="the student's IPv4 client")
    ap.add_argument("--v6-port", type=int, default=run.DEFAULT_PORT, metavar="P",
                    help=f"the port your server listens on, typed as answer 3 (default "
                         f"{run.DEFAULT_PORT}, the assignment's); must be free here")
    ap.add_argument("--id", default=run.DEFAULT_ID, help="the student id typed as answer 1 "
                    f"(default {run.DEFAULT_ID})")
    ap.add_argument("-o", "--out", metavar="DIR", help="where the trace, the diagram and the "
                    "logs go: absent or empty (default ./check-DATE-TIME)")
    ap.add_argument("--json", action="store_true", help="print one JSON object (the report; "
                    "also written to DIR/check.json)")
    ap.add_argument("--timeout", type=int, default=run.DEFAULT_TIMEOUT, metavar="S",
                    help=f"the student's programs get at most S seconds in all (default "
                         f"{run.DEFAULT_TIMEOUT}); then they are stopped")
    return ap


def _batch_wanted(argv):
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--batch" or a.startswith("--batch="):
            return True
        i += 2 if a in _VALUED else 1
    return False


def batch(argv):
    if importlib.util.find_spec("v6checklib.batch") is None:
        print(f"{PROG}: --batch is not available: this v6lab has no scripts/v6checklib/"
              "batch.py yet (check one submission with --server and --client)", file=sys.stderr)
        return 2
    from . import batch as b
    return b.main(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_session"] and len(argv) == 2:  # run.py's traced command
        from . import session
        return session.main(argv[1])
    if _batch_wanted(argv):
        return batch(argv)
    a = parser().parse_args(argv)
    opts = run.Options(server=a.server, client=a.client, v6_port=a.v6_port, id=a.id,
                       out=a.out, timeout=a.timeout)
    try:
        commands = run.validate(opts)
    except run.UsageError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 2
    if not a.json and sys.stderr.isatty():
        print(f"{PROG}: running the session in {opts.out} (at most {opts.timeout} s) ...",
              file=sys.stderr)
    r = run.check(opts, commands)
    if a.json:
        json.dump(r, sys.stdout, indent=1)
        print()
    else:
        sys.stdout.write(report.text(r))
    return r["exit"]
