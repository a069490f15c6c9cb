#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The exercise through scripts/lab: the student's IPv6 server behind a NAT on a Teredo address.

    lab_test.py BUILD_BIN

1. `scripts/lab up` (a lab named test-<pid>), `scripts/lab run`: PASS, concurrent: yes; the
   IPv6 server saw its 5 course clients come from the course's native IPv6 address through its
   teredo interface, the course server saw the student from the NAT's public address.
2. Lab note failure scenario 2, a host firewall on the tunnel interface
   (`iifname "teredo" tcp dport P drop` in srv): the exercise FAILs with the course client's
   connect error, and `acceptwatch --diagnose` names the drop (NETFILTER_DROP in srv).
3. The rule removed: PASS again.
The lab is always brought down (also on failure, SIGTERM or the internal deadline); labs left by
a test process that no longer exists are removed first. Exit 77 (skipped) without root, miredo
or acceptwatch.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import v6test  # noqa: E402
from v6test import check, skip  # noqa: E402

BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else v6test.BIN
LAB = os.path.join(v6test.TOP, "scripts", "lab")
NAME = f"test-{os.getpid()}"
SRV_NS = f"v6lab-{NAME}-srv"
COURSE6, NAT_WAN = "2001:db8:1::100", "198.51.100.2"
PORT = 20000 + os.getpid() % 10000   # its own port: the queue key comes from it
DEADLINE = 80                          # seconds; ctest's TIMEOUT is the backstop
ENV = dict(os.environ, V6LAB_LAB=NAME, V6LAB_BIN=BIN,
           PATH=os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin")


class Deadline(Exception):
    pass


def on_signal(signum, _frame):
    raise Deadline(f"{signal.Signals(signum).name}: stopping (lab {NAME} is brought down)")


def lab(*args, timeout=40):
    r = subprocess.run([LAB, *map(str, args)], env=ENV, capture_output=True, text=True,
                       errors="replace", timeout=timeout, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout, r.stderr


def rx_packets():
    code, out, _ = lab("exec", "srv", "cat", "/sys/class/net/teredo/statistics/rx_packets")
    check(code == 0, "no teredo interface in srv")
    return int(out)


def remove_stale_labs():
    """Labs of earlier runs of this test whose process is gone (killed by a timeout)."""
    try:
        names = os.listdir("/run/v6lab")
    except FileNotFoundError:
        return
    for d in names:
        m = re.fullmatch(r"lab-(test-(\d+))", d)
        if m and not os.path.exists(f"/proc/{m.group(2)}"):
            print(f"removing lab {m.group(1)} left by an earlier run")
            lab("--name", m.group(1), "down")


def run_exercise(expect_code):
    t0 = time.monotonic()
    code, out, err = lab("run", "--port", PORT)
    print(f"  run: exit {code} in {time.monotonic() - t0:.1f} s")
    check(code == expect_code, f"scripts/lab run exited {code}, expected {expect_code}:\n{out}\n{err}")
    return out


def student_section(out):
    """The ipv6-server's own lines of the run's output."""
    m = re.search(r"== ipv6-server[^\n]*\n(.*?)\n== ", out, re.S)
    check(m, f"no ipv6-server section in:\n{out}")
    return m.group(1)


def expect_pass(out, addr):
    check("PASS: 5/5 tokens, concurrent: yes" in out, f"no PASS with concurrency:\n{out}")
    v6 = student_section(out)
    peers = re.findall(r"accepted \[([0-9a-f:]+)\]:\d+", v6)
    check(peers == [COURSE6] * 5, f"ipv6-server accepted {peers}, expected 5 from {COURSE6}:\n{v6}")
    tokens = re.findall(rf"token from \[{re.escape(COURSE6)}\]:\d+ \(child \d+\): client(\d):", v6)
    check(sorted(tokens) == list("12345"), f"tokens from {COURSE6}: {tokens}:\n{v6}")
    check(re.search(rf"session {re.escape(NAT_WAN)}:\d+ student \d+ -> \[{re.escape(addr)}\]:{PORT}: PASS",
                    out), f"the course server did not see the student from the NAT {NAT_WAN}:\n{out}")


def scenario():
    t0 = time.monotonic()
    code, out, err = lab("up")
    check(code == 0, f"scripts/lab up failed ({code}): {out}{err}")
    print(f"  up in {time.monotonic() - t0:.1f} s: {out.strip()}")
    code, status, _ = lab("status")
    m = re.search(r"student's Teredo address: (2001:0:[0-9a-f:]+)", status)
    check(code == 0 and m, f"no Teredo address in status:\n{status}")
    addr = m.group(1)

    # 1. The exercise works through NAT + Teredo; the clients came in on teredo.
    rx0 = rx_packets()
    out = run_exercise(0)
    expect_pass(out, addr)
    rx = rx_packets() - rx0
    # each of the 5 connections brings at least its SYN, its token and its FIN in on teredo
    check(rx >= 15, f"only {rx} packets came in on srv's teredo interface during the run")
    print(f"  PASS: 5 clients from {COURSE6} via teredo ({rx} packets in), student seen as {NAT_WAN}")

    # 2. A host firewall on the tunnel interface: SYNs arrive on teredo and are dropped.
    code, _, err = lab("exec", "srv", "nft", "add table inet student-fw;"
                       " add chain inet student-fw input { type filter hook input priority 0; };"
                       f" add rule inet student-fw input iifname \"teredo\" tcp dport {PORT} drop")
    check(code == 0, f"nft: {err}")
    aw = v6test.Proc([os.path.join(BIN, "acceptwatch"), "-P", str(PORT), "--netns", SRV_NS,
                      "--diagnose", "16"])
    try:
        aw.wait_for(r"watching port", timeout=20)
        out = run_exercise(1)
        code, verdict, aw_err = aw.finish(timeout=25)
    finally:
        aw.kill()
    want = f"course client 1 could not connect [{addr}]:{PORT} (Connection timed out)"
    check(f"FAIL: 0/5 tokens, concurrent: unknown; {want}" in out, f"no FAIL '{want}':\n{out}")
    check(code == 2, f"acceptwatch --diagnose exited {code} (2 = no accept()): {verdict}{aw_err}")
    first = verdict.splitlines()[0] if verdict else ""
    check("dropped by the kernel" in first and "NETFILTER_DROP" in first and f"netns {SRV_NS}" in first
          and f"[{addr}]:{PORT}" in first, f"acceptwatch does not name the drop:\n{verdict}{aw_err}")
    check(re.search(rf"first from \[{re.escape(COURSE6)}\]:\d+ to \[{re.escape(addr)}\]:{PORT}", verdict),
          f"acceptwatch: SYNs not from {COURSE6}:\n{verdict}")
    print(f"  firewall: FAIL as expected; acceptwatch: {first}")

    # 3. Fixed: the rule removed, it passes again.
    code, _, err = lab("exec", "srv", "nft", "delete", "table", "inet", "student-fw")
    check(code == 0, f"nft delete: {err}")
    expect_pass(run_exercise(0), addr)
    print("  fixed: PASS again")


def main():
    if os.geteuid() != 0:
        skip("needs root (network namespaces, miredo, eBPF)")
    for tool in ("miredo", "miredo-server", "nft", "ip"):
        if not shutil.which(tool, path=ENV["PATH"]):
            skip(f"{tool} is missing (apt-get install miredo miredo-server nftables iproute2, or scripts/setup)")
    if not os.access(os.path.join(BIN, "acceptwatch"), os.X_OK):
        skip(f"no acceptwatch in {BIN} (built with V6LAB_BPF=OFF?)")
    if not os.path.exists("/dev/net/tun"):
        skip("no /dev/net/tun (Teredo needs the TUN driver)")
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
        signal.signal(s, on_signal)
    signal.alarm(DEADLINE)
    remove_stale_labs()
    t0 = time.monotonic()
    try:
        scenario()
    finally:
        signal.alarm(0)
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)  # let the lab come down
        code, out, err = lab("down")
        left = [n for n in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                          text=True).stdout.split() if n.startswith(f"v6lab-{NAME}-")]
        if code != 0 or left or os.path.exists(f"/run/v6lab/lab-{NAME}"):
            print(f"lab {NAME} not fully down (exit {code}, namespaces {left}): {out}{err}")
            sys.exit(1)
    print(f"lab: ok ({time.monotonic() - t0:.1f} s)")


if __name__ == "__main__":
    main()
