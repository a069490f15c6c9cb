#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The four programs through one whole exercise under valgrind memcheck: no error, no
definitely lost block (--error-exitcode, --errors-for-leak-kinds=definite), the forked
children of both servers included (--trace-children=yes follows them through fork too).
Skipped (77) without valgrind or in a sanitizer build (ASan and valgrind do not mix)."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from v6test import BIN, Proc, check, queue_exists, scratch_dir, skip  # noqa: E402

if not shutil.which("valgrind"):
    skip("valgrind is not installed (apt-get install valgrind)")
if b"__asan_init" in open(os.path.join(BIN, "ipv6-server"), "rb").read():
    skip("this is a sanitizer build: valgrind cannot run ASan programs")

TMP = scratch_dir("v6lab-valgrind-")
VG = ["valgrind", "--tool=memcheck", "--error-exitcode=99", "--leak-check=full",
      "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
      "--trace-children=yes", "--child-silent-after-fork=no", "--track-fds=no",
      f"--log-file={TMP}/%p.log"]


def vg(name, *args):
    return Proc(VG + [os.path.join(BIN, name), *map(str, args)])


s6 = vg("ipv6-server", "--port", 0)
m = s6.wait_for(r"listening on \[.*\]:(\d+).*queue key (0x[0-9a-f]+)", 60)
v6port, key = int(m.group(1)), int(m.group(2), 16)
s4 = vg("ipv4-server", "--port", 0, "--once", "--grades", f"{TMP}/grades.jsonl")
v4port = int(s4.wait_for(r"listening on [\d.]+:(\d+)", 60).group(1))
c = vg("ipv4-client", "--server", "127.0.0.1", "--port", v4port, "--id", 42, "--v6-addr", "::1",
       "--v6-port", v6port, "--yes")
code, out, err = c.finish(120)
check(code == 0 and "PASS: 5/5" in out, f"ipv4-client exit {code}: {out} {err}")
check(s4.finish(60)[0] == 0, "ipv4-server")
check(s6.finish(60)[0] == 0, "ipv6-server")
check(not queue_exists(key), "queue left")
# ipv6-client too: one more server for it alone.
s6b = vg("ipv6-server", "--port", 0, "--tokens", 1)
m = s6b.wait_for(r"listening on \[.*\]:(\d+).*queue key (0x[0-9a-f]+)", 60)
code, out, err = vg("ipv6-client", "--addr", "::1", "--port", m.group(1)).finish(60)
check(code == 0, f"ipv6-client exit {code}: {err}")
check(s6b.finish(60)[0] == 0, "ipv6-server")
subprocess.run(["ipcrm", "-Q", str(int(m.group(2), 16))], stderr=subprocess.DEVNULL)

logs = sorted(n for n in os.listdir(TMP) if n.endswith(".log"))
# one log per process: ipv6-server and its 5 children, ipv4-server, ipv4-client; then
# ipv6-server, its child and ipv6-client. Fewer: valgrind did not follow them all.
check(len(logs) >= 11, f"only {len(logs)} valgrind logs: {logs}")
bad = []
for name in logs:
    text = open(os.path.join(TMP, name)).read()
    if "ERROR SUMMARY: 0 errors" not in text:
        bad.append(name)
    if "definitely lost:" in text and "definitely lost: 0 bytes" not in text:
        bad.append(name)
check(not bad, "valgrind reports:\n" + "\n".join(open(os.path.join(TMP, b)).read() for b in set(bad)))
print(f"valgrind: {len(logs)} processes, 0 errors, 0 definitely lost")
