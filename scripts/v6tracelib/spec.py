# SPDX-License-Identifier: MIT
"""What the analysis knows of v6lab's formats, each from its one source.

- The token's format: the V6_TOKEN_* defines of include/v6lab/token.h, which the programs
  and the trace layer's token finder (trace/tokens.c) are built from too.
- The enums (role, kind, family, outcome, cmd, result): not here. Every trace carries them
  in its CTF metadata (the providers' LTTNG_UST_TRACEPOINT_ENUM lists), and the reader takes
  each enum field's labels from there (reader._labels)."""
import os
import re

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN_HEADER = os.path.join(TOP, "include", "v6lab", "token.h")


def defines(path):
    """NAME -> value of the `#define NAME VALUE` lines of a C header whose value is a string
    literal or integer arithmetic on earlier defines."""
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*#\s*define\s+(\w+)\s+(.+?)\s*(?:/\*.*)?$", line)
            if not m:
                continue
            name, value = m.groups()
            lit = re.fullmatch(r'"([^"\\]*)"', value)
            if lit:
                out[name] = lit.group(1)
                continue
            expr = re.sub(r"[A-Za-z_]\w*", lambda w: str(out.get(w.group(0), "?")), value)
            if re.fullmatch(r"[\d\s+\-*()]+", expr):
                out[name] = eval(expr, {"__builtins__": {}})  # digits and + - * ( ) only
    return out


def _token_format():
    try:
        d = defines(TOKEN_HEADER)
        return (d["V6_TOKEN_PREFIX"], d["V6_TOKEN_PREFIX_LEN"], d["V6_TOKEN_RANDOM_LEN"],
                d["V6_TOKEN_LEN"], d["V6_TOKEN_WIRE_LEN"], d["V6_MAX_CLIENTS"])
    except (OSError, KeyError) as e:
        raise RuntimeError(f"{TOKEN_HEADER}: cannot read the token's format ({e!r}): "
                           "scripts/v6trace runs from a v6lab source tree") from None


(TOKEN_PREFIX, TOKEN_PREFIX_LEN, TOKEN_RANDOM_LEN, TOKEN_LEN, TOKEN_WIRE_LEN,
 MAX_CLIENTS) = _token_format()
K_AT = len(TOKEN_PREFIX)  # "client" K ":": where a token's client number is


def token_index(token):
    """K of "clientK:...", 0 when the token has no client number."""
    k = token[K_AT:K_AT + 1]
    return int(k) if k.isdigit() else 0
