# SPDX-License-Identifier: MIT
"""The project's one version: CMakeLists.txt's project(v6lab VERSION ...), read the way
scripts/lib.sh reads it for the shell scripts."""
import os
import re

_TOP = os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "..")


def version():
    """CMakeLists.txt's in a source tree; installed, the VERSION file beside the scripts."""
    try:
        with open(os.path.join(_TOP, "CMakeLists.txt")) as f:
            m = re.search(r"^project\(v6lab VERSION ([0-9.]+)", f.read(), re.M)
        return m.group(1) if m else "unknown"
    except OSError:
        pass
    try:
        with open(os.path.join(_TOP, "VERSION")) as f:
            return f.read().strip() or "unknown"
    except OSError:
        return "unknown"
