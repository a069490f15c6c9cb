# SPDX-License-Identifier: MIT
"""A program on a terminal of its own, and a person typing at it: the tests' (and tutorial
04's) name for scripts/v6checklib/terminal.py, where the code lives since scripts/check types
the answers with it too. Same API (Terminal, TerminalTimeout, blocked_in) and the same CLI:

    terminal.py [--timeout S] LINE... -- PROGRAM [ARG...]"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts"))
from v6checklib.terminal import (Terminal, TerminalTimeout, blocked_in,  # noqa: E402,F401
                                 main)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
