# SPDX-License-Identifier: MIT
"""scripts/check: a student's submission against v6lab's course server, traced end to end.

cli.py (the command line) -> run.py (one check: validate, trace the session, analyse,
report) -> session.py (the traced command: the course server, the student's server and
client, the answers typed on terminal.py's pseudo-terminal, every wait bounded, everything
reaped: procs.py) -> scripts/v6trace (tokens, lint, diagram) -> ipc.py (what the programs
left, removed) -> report.py (the text). `scripts/check --batch DIR` is batch.py's (run.py
says how it can run one check). User documentation: tutorials/reference/check.md."""
