# SPDX-License-Identifier: MIT
"""v6trace's package: reader (bt2, one fast pipeline), spec (the token's format, from
include/v6lab/token.h), state (one pass: processes, descriptors, IPC objects, roles from
behaviour), tokens (the token flow), lint (the classic mistakes: a table of rules over the
state), export (Chrome JSON), diagram (SVG / Mermaid), cli."""
