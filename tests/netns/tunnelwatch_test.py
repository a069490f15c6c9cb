#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tunnelwatch against an independent decoder (tshark), on real tunnels in namespaces.

    tunnelwatch_test.py BUILD_BIN SCENARIO

lab_teredo   `scripts/lab up` (a lab named tw-<pid>), then `scripts/lab run` with three
             observers: tunnelwatch --json on the NAT router's WAN link, tshark capturing the
             same link, tunnelwatch on the student's `teredo` TUN (no Ethernet header). The inner
             TCP flows and their SYN / SYN-ACK / RST counts tunnelwatch reports equal those of
             tshark's Teredo dissector (heuristic on, for the relay's port 3545); its tables
             agree with its packets; the student's Teredo address maps to the NAT's public
             address and port, and the address itself says so ("matches"); on the TUN, the same
             five connections arrive as plain IPv6.
lab_vxlan    `scripts/lab up --tunnel vxlan` (srv's IPv6 through a kernel VXLAN tunnel across the
             NAT to the relay), `scripts/lab run` PASSes, and tunnelwatch on the WAN link equals
             tshark's VXLAN dissector; the student's address is carried from the NAT's 4789.
vxlan        two namespaces, a kernel VXLAN device in each over a veth, IPv6 over it, five TCP
             connections: tunnelwatch on the veth equals tshark's VXLAN dissector.
errors       bad command lines: one line each, exit 1.
leftovers    SIGKILL leaves the filters (no clean-up possible): `tunnelwatch --detach` removes
             them and the qdisc tunnelwatch made; the next run after another SIGKILL removes
             them itself; two runs at once both see every packet and leave nothing.
Exit 77 (skipped) without root, tshark, miredo or tunnelwatch.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import v6test  # noqa: E402
from v6test import check, skip  # noqa: E402

BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else v6test.BIN
TW = os.path.join(BIN, "tunnelwatch")
LAB = os.path.join(v6test.TOP, "scripts", "lab")
NAME = f"tw-{os.getpid()}"
PORT = 20000 + os.getpid() % 10000
ENV = dict(os.environ, V6LAB_LAB=NAME, V6LAB_BIN=BIN,
           PATH=os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin")
DEADLINE = 100


class Deadline(Exception):
    pass


def on_signal(signum, _frame):
    raise Deadline(f"{signal.Signals(signum).name}: stopping (what the test made is removed)")


def sh(*argv, timeout=30, ok=True):
    r = subprocess.run(list(map(str, argv)), capture_output=True, text=True, errors="replace",
                       timeout=timeout, stdin=subprocess.DEVNULL, env=ENV)
    if ok:
        check(r.returncode == 0, f"{' '.join(map(str, argv))}: exit {r.returncode}: {r.stdout}{r.stderr}")
    return r


def start_tunnelwatch(iface, netns, *extra):
    tw = v6test.Proc([TW, "-i", iface, "--netns", netns, "--json", *extra], env=ENV)
    tw.wait_for(r"tunnelwatch: watching", timeout=20)
    return tw


def stop_tunnelwatch(tw):
    """SIGINT, then its packets and its final summary."""
    tw.p.send_signal(signal.SIGINT)
    code, out, err = tw.finish(timeout=20)
    check(code == 0, f"tunnelwatch exited {code}: {err}")
    objs = [json.loads(line) for line in out.splitlines() if line.strip()]
    packets = [o for o in objs if o["type"] == "packet"]
    summaries = [o for o in objs if o["type"] == "summary" and o["final"]]
    check(len(summaries) == 1, f"{len(summaries)} final summaries:\n{out}\n{err}")
    return packets, summaries[0], err


def start_tshark(netns, iface, pcap):
    ts = v6test.Proc(["ip", "netns", "exec", netns, "tshark", "-i", iface, "-w", pcap], env=ENV)
    ts.wait_for(r"Capturing on", timeout=30)
    return ts


def stop_tshark(ts):
    # dumpcap gets packets from the kernel a block at a time, a block handed over when full or
    # when its timeout (a fraction of a second) expires: what is still in an open block when it
    # stops would be missing from the file. Let the last block go first.
    time.sleep(1.5)
    ts.p.send_signal(signal.SIGINT)
    code, out, err = ts.finish(timeout=20)
    check(code == 0, f"tshark exited {code}: {err}")


def tshark_tcp(pcap, tunnel, *prefs):
    """(src, sport, dst, dport, flags) of every TCP segment inside `tunnel`, by tshark."""
    r = sh("tshark", "-r", pcap, *prefs, "-Y", f"{tunnel} && tcp", "-T", "fields",
           "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ipv6.dst", "-e", "tcp.dstport",
           "-e", "tcp.flags", "-E", "separator=,")
    segs = []
    for line in r.stdout.splitlines():
        src, sport, dst, dport, flags = line.split(",")
        segs.append((socket.inet_pton(socket.AF_INET6, src), int(sport),
                     socket.inet_pton(socket.AF_INET6, dst), int(dport), int(flags, 16)))
    return segs


def tw_tcp(packets, encap):
    return [(socket.inet_pton(socket.AF_INET6, p["inner_src"]), p["sport"],
             socket.inet_pton(socket.AF_INET6, p["inner_dst"]), p["dport"], p["flags"])
            for p in packets if p["encap"] == encap and p["proto"] == "tcp"]


def flow_key(s):
    a, b = (s[0], s[1]), (s[2], s[3])
    return (a, b) if a < b else (b, a)


def counts(segs, flags_of):
    """Per flow: [segments, SYN, SYN-ACK, RST]."""
    out = {}
    for s in segs:
        c = out.setdefault(flow_key(s), [0, 0, 0, 0])
        f = flags_of(s[4])
        c[0] += 1
        c[1] += f == "S"
        c[2] += f == "SA"
        c[3] += "R" in f
    return out


def tshark_flags(v):
    syn, ack, rst = v & 0x02, v & 0x10, v & 0x04
    return ("S" if syn and not ack else "SA" if syn and ack else "") + ("R" if rst else "")


def tw_flags(s):
    syn, ack = "S" in s, "." in s
    return ("S" if syn and not ack else "SA" if syn and ack else "") + ("R" if "R" in s else "")


def compare(tw_segs, ts_segs, what):
    mine, theirs = counts(tw_segs, tw_flags), counts(ts_segs, tshark_flags)
    check(theirs, f"{what}: tshark decoded no TCP inside the tunnel")
    check(set(mine) == set(theirs), f"{what}: flows differ: tunnelwatch {len(mine)}, tshark {len(theirs)}")
    for k in theirs:
        check(mine[k] == theirs[k], f"{what}: flow {k}: tunnelwatch [segments, SYN, SYN-ACK, RST] "
              f"{mine[k]}, tshark {theirs[k]}")
    return mine


def check_tables(packets, summary, encap, what):
    """The final table's flows say what the packets said."""
    mine = counts(tw_tcp(packets, encap), tw_flags)
    rows = {flow_key((socket.inet_pton(socket.AF_INET6, f["src"]), f["sport"],
                      socket.inet_pton(socket.AF_INET6, f["dst"]), f["dport"], None)):
            [f["packets"], f["syn"], f["synack"], f["rst"]]
            for f in summary["flows"] if f["encap"] == encap and f["proto"] == "tcp"}
    check(rows == mine, f"{what}: the summary's flows {rows} are not the packets' {mine}")
    check(not any(summary["malformed"].values()), f"{what}: malformed packets: {summary['malformed']}")
    check(summary["lost"] == 0, f"{what}: {summary['lost']} packets lost")


def lab(*args, timeout=40):
    return sh(LAB, *args, timeout=timeout, ok=False)


def lab_up(*args):
    r = lab("up", *args)
    check(r.returncode == 0, f"scripts/lab up {' '.join(args)} failed: {r.stdout}{r.stderr}")
    m = re.search(r"student's (?:Teredo|IPv6) address ([0-9a-f:]+)", r.stdout)
    check(m, f"no student address: {r.stdout}")
    return m.group(1)


def lab_vxlan(tmp):
    r = lab("up", "--tunnel", "gre")
    check(r.returncode == 2 and r.stderr.strip() == "lab: up: --tunnel 'gre': give teredo or vxlan"
          and not os.path.exists(f"/run/v6lab/lab-{NAME}"), f"up --tunnel gre: {r.returncode} {r.stderr!r}")
    addr = lab_up("--tunnel", "vxlan")
    check(addr == "2001:db8:2::2", f"VXLAN lab: student address {addr}")
    r = lab("status")
    check(r.returncode == 0 and "student's IPv6 address (VXLAN): 2001:db8:2::2" in r.stdout
          and "VXLAN keepalive running" in r.stdout, f"status: {r.stdout}")
    r = lab("stop-miredo", "srv")
    check(r.returncode == 2 and "has no miredo: it was made with --tunnel vxlan" in r.stderr,
          f"stop-miredo in a VXLAN lab: {r.returncode} {r.stderr!r}")
    pcap = os.path.join(tmp, "wan0.pcap")
    wan = start_tunnelwatch("wan0", f"v6lab-{NAME}-nat")
    ts = start_tshark(f"v6lab-{NAME}-nat", "wan0", pcap)
    run = lab("run", "--port", PORT, timeout=60)
    stop_tshark(ts)
    packets, summary, _ = stop_tunnelwatch(wan)
    check(run.returncode == 0 and "PASS: 5/5" in run.stdout and "(VXLAN)" in run.stdout,
          f"scripts/lab run: {run.stdout}{run.stderr}")
    flows = compare(tw_tcp(packets, "vxlan"), tshark_tcp(pcap, "vxlan"), "wan0 (VXLAN)")
    student = socket.inet_pton(socket.AF_INET6, addr)
    to_student = [k for k in flows if (student, PORT) in k]
    check(len(to_student) == 5 and all(flows[k][1] >= 1 and flows[k][2] >= 1 for k in to_student),
          f"wan0 (VXLAN): not 5 connections to [{addr}]:{PORT}, each with its SYN and SYN-ACK: {flows}")
    check_tables(packets, summary, "vxlan", "wan0 (VXLAN)")
    maps = [mp for mp in summary["mappings"] if mp["inner"] == addr]
    check(maps and all(mp["outer"] == "198.51.100.2" and mp["outer_port"] == 4789 for mp in maps),
          f"wan0 (VXLAN): mapping of {addr}: {maps}")
    print(f"  wan0 (VXLAN): {len(packets)} packets, {len(flows)} TCP flows, equal to tshark's; "
          f"{addr} carried from 198.51.100.2:4789")


def lab_teredo(tmp):
    addr = lab_up()
    pcap = os.path.join(tmp, "wan0.pcap")
    wan = start_tunnelwatch("wan0", f"v6lab-{NAME}-nat")
    tun = start_tunnelwatch("teredo", f"v6lab-{NAME}-srv")
    ts = start_tshark(f"v6lab-{NAME}-nat", "wan0", pcap)
    run = lab("run", "--port", PORT, timeout=60)
    stop_tshark(ts)
    wan_packets, wan_summary, _ = stop_tunnelwatch(wan)
    tun_packets, tun_summary, tun_err = stop_tunnelwatch(tun)
    check(run.returncode == 0 and "PASS: 5/5" in run.stdout, f"scripts/lab run: {run.stdout}{run.stderr}")

    # 1. wan0: tunnelwatch and tshark see the same inner flows and handshakes
    flows = compare(tw_tcp(wan_packets, "teredo"),
                    tshark_tcp(pcap, "teredo", "-o", "teredo.heuristic_teredo:TRUE"), "wan0")
    student = socket.inet_pton(socket.AF_INET6, addr)
    to_student = [k for k in flows if (student, PORT) in k]
    # (a SYN may be retransmitted: the relay's first contact with the client takes a bubble)
    check(len(to_student) == 5 and all(flows[k][1] >= 1 and flows[k][2] >= 1 for k in to_student),
          f"wan0: not 5 connections to [{addr}]:{PORT}, each with its SYN and SYN-ACK: {flows}")
    check_tables(wan_packets, wan_summary, "teredo", "wan0")
    # the NAT mapping: the student's Teredo address behind 198.51.100.2, as the address says
    maps = [mp for mp in wan_summary["mappings"] if mp["inner"] == addr]
    check(maps and all(mp["outer"] == "198.51.100.2" and mp.get("teredo", {}).get("matches")
                       for mp in maps), f"wan0: mapping of {addr}: {maps}")
    # the relay's port is not 3544: decoded by the Teredo shape
    check(any(p["outer_sport"] == 3545 or p["outer_dport"] == 3545 for p in wan_packets),
          "wan0: nothing through the relay's port 3545")
    print(f"  wan0: {len(wan_packets)} packets, {len(flows)} TCP flows, equal to tshark's; "
          f"{addr} mapped from 198.51.100.2:{maps[0]['outer_port']}")

    # 2. the student's TUN: the same connections as plain IPv6, no Ethernet header
    check("no link header" in tun_err, f"teredo TUN not seen as L3: {tun_err}")
    tun_flows = counts(tw_tcp(tun_packets, "none"), tw_flags)
    check(set(tun_flows) == set(to_student), f"teredo TUN: flows {set(tun_flows)}, wan0 {set(to_student)}")
    check_tables(tun_packets, tun_summary, "none", "teredo TUN")
    print(f"  teredo TUN: the same {len(tun_flows)} connections, plain IPv6")


def vxlan(tmp):
    a, b = f"{NAME}-a", f"{NAME}-b"
    try:
        for n in (a, b):
            sh("ip", "netns", "add", n)
        sh("ip", "-n", a, "link", "add", "u0", "type", "veth", "peer", "name", "u0", "netns", b)
        for n, v4, peer, v6 in ((a, "192.0.2.1", "192.0.2.2", "2001:db8:42::1"),
                                (b, "192.0.2.2", "192.0.2.1", "2001:db8:42::2")):
            sh("ip", "-n", n, "addr", "add", f"{v4}/24", "dev", "u0")
            sh("ip", "-n", n, "link", "set", "u0", "up")
            sh("ip", "-n", n, "link", "set", "lo", "up")
            sh("ip", "-n", n, "link", "add", "vx0", "type", "vxlan", "id", "42", "local", v4,
               "remote", peer, "dstport", "4789", "dev", "u0")
            sh("ip", "-n", n, "addr", "add", f"{v6}/64", "dev", "vx0", "nodad")
            sh("ip", "-n", n, "link", "set", "vx0", "up")
        pcap = os.path.join(tmp, "u0.pcap")
        tw = start_tunnelwatch("u0", a)
        ts = start_tshark(a, "u0", pcap)
        server = subprocess.Popen(
            ["ip", "netns", "exec", b, sys.executable, "-c",
             "import socket\ns=socket.socket(socket.AF_INET6); s.bind(('::', 7042)); s.listen(8)\n"
             "print('listening', flush=True)\nfor _ in range(5):\n c,_=s.accept(); c.recv(64); c.close()"],
            stdout=subprocess.PIPE, text=True)
        check(server.stdout.readline().strip() == "listening", "the VXLAN test server did not start")
        sh("ip", "netns", "exec", a, sys.executable, "-c",
           "import socket\nfor i in range(5):\n"
           " c=socket.create_connection(('2001:db8:42::2', 7042), timeout=10); c.sendall(b'token %d' % i); c.close()")
        server.wait(10)
        stop_tshark(ts)
        packets, summary, _ = stop_tunnelwatch(tw)
        flows = compare(tw_tcp(packets, "vxlan"), tshark_tcp(pcap, "vxlan"), "vxlan")
        check(len(flows) == 5 and all(c[1] >= 1 and c[2] >= 1 for c in flows.values()),
              f"vxlan: not 5 connections, each with its SYN and SYN-ACK: {flows}")
        check_tables(packets, summary, "vxlan", "vxlan")
        print(f"  vxlan: {len(packets)} packets, 5 TCP flows, equal to tshark's")
    finally:
        for n in (a, b):
            subprocess.run(["ip", "netns", "del", n], capture_output=True)


def tc_state(ns, dev):
    q = sh("ip", "netns", "exec", ns, "tc", "qdisc", "show", "dev", dev).stdout
    f = "".join(sh("ip", "netns", "exec", ns, "tc", "filter", "show", "dev", dev, d).stdout
                for d in ("ingress", "egress"))
    return "clsact" in q, len(re.findall(r"handle \S+ tw_(?:ingress|egress):", f))


def leftovers(tmp):
    ns = f"{NAME}-k"
    try:
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "add", "k0", "type", "veth", "peer", "name", "k1")
        for d in ("k0", "k1", "lo"):
            sh("ip", "-n", ns, "link", "set", d, "up")
        check(tc_state(ns, "k0") == (False, 0), f"k0 has a clsact or filters: {tc_state(ns, 'k0')}")

        def killed_run():
            tw = start_tunnelwatch("k0", ns)
            tw.p.kill()
            tw.p.wait()
            check(tc_state(ns, "k0") == (True, 2), f"after SIGKILL: {tc_state(ns, 'k0')}")

        killed_run()
        r = sh(TW, "--detach", "-i", "k0", "--netns", ns)
        check("removed 2 filters" in r.stdout and "clsact" in r.stdout, f"--detach: {r.stdout}")
        check(tc_state(ns, "k0") == (False, 0), f"after --detach: {tc_state(ns, 'k0')}")

        killed_run()
        r = sh(TW, "-i", "k0", "--netns", ns, "-d", "1")
        check("removed 2 filters that a tunnelwatch killed earlier left" in r.stderr, f"next run: {r.stderr}")
        check(tc_state(ns, "k0") == (False, 0), f"after the next run: {tc_state(ns, 'k0')}")

        # two at once: each sees every packet (6in4 sent through the veth), nothing is left
        one, two = start_tunnelwatch("k0", ns), start_tunnelwatch("k0", ns)
        check(tc_state(ns, "k0") == (True, 4), f"two runs: {tc_state(ns, 'k0')}")
        send = ("import socket\n"
                "s=socket.socket(socket.AF_INET, socket.SOCK_RAW, 41)\n"
                "ip6=bytes([0x60,0,0,0,0,20,6,64])+socket.inet_pton(socket.AF_INET6,'2001:db8::1')"
                "+socket.inet_pton(socket.AF_INET6,'2001:db8::2')\n"
                "tcp=bytes([0x9c,0x40,0x1b,0x5a])+bytes(8)+bytes([0x50,2,0xff,0xff])+bytes(4)\n"
                "for _ in range(3): s.sendto(ip6+tcp, ('192.0.2.9', 0))\n")
        sh("ip", "-n", ns, "addr", "add", "192.0.2.8/24", "dev", "k0")
        sh("ip", "-n", ns, "neigh", "add", "192.0.2.9", "lladdr", "02:00:00:00:00:09", "dev", "k0")
        sh("ip", "netns", "exec", ns, sys.executable, "-c", send)
        first, _, _ = stop_tunnelwatch(one)
        check(tc_state(ns, "k0") == (True, 2), f"one of two ended: {tc_state(ns, 'k0')}")
        second, _, _ = stop_tunnelwatch(two)
        for got in (first, second):
            syns = [p for p in got if p["encap"] == "6in4" and p["flags"] == "S" and p["dport"] == 7002]
            check(len(syns) == 3, f"a run saw {len(syns)} of the 3 SYNs in 6in4: {got}")
        check(tc_state(ns, "k0") == (False, 0), f"after both: {tc_state(ns, 'k0')}")
        print("  SIGKILL: --detach and the next run remove what it left; two runs at once: ok")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def reap():
    """The lab's daemons (miredo, the VXLAN keepalive) came to us (subreaper) when `scripts/lab`
    exited; `down` killed them: wait for them."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def remove_stale():
    """Labs and namespaces of earlier runs of this test whose process is gone (a timeout)."""
    for d in os.listdir("/run/v6lab") if os.path.isdir("/run/v6lab") else []:
        m = re.fullmatch(r"lab-(tw-(\d+))", d)
        if m and not os.path.exists(f"/proc/{m.group(2)}"):
            print(f"removing lab {m.group(1)} left by an earlier run")
            lab("--name", m.group(1), "down")
    for n in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split():
        m = re.fullmatch(r"tw-(\d+)-[abk]", n)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            subprocess.run(["ip", "netns", "del", n], capture_output=True)


def errors(_tmp):
    """Each bad command line: exit 1, one line naming what was wrong and what to do."""
    cases = [([], "which interface? give -i IFACE"),
             (["-i", "nosuch0"], "no interface 'nosuch0' in this network namespace"),
             (["-i", "lo", "--netns", f"{NAME}-none"], f"--netns {NAME}-none: cannot open /run/netns/{NAME}-none"),
             (["-i", "lo", "-d", "0"], "invalid -d seconds: '0'"),
             (["-i", "lo", "--interval", "x"], "invalid --interval seconds: 'x'"),
             (["-i", "lo", "extra"], "unexpected argument 'extra'"),
             (["-i", "../lo"], "-i '../lo': not an interface name")]
    for args, want in cases:
        r = sh(TW, *args, ok=False)
        lines = r.stderr.splitlines()
        check(r.returncode == 1 and len(lines) == 1 and want in lines[0] and not r.stdout,
              f"tunnelwatch {args}: exit {r.returncode}, {r.stdout!r} {r.stderr!r}")
    print(f"  {len(cases)} bad command lines: one line each, exit 1")


SCENARIOS = {"lab_teredo": lab_teredo, "lab_vxlan": lab_vxlan, "vxlan": vxlan, "leftovers": leftovers, "errors": errors}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in SCENARIOS:
        print(f"usage: {sys.argv[0]} BUILD_BIN {'|'.join(SCENARIOS)}", file=sys.stderr)
        sys.exit(2)
    name = sys.argv[2]
    if os.geteuid() != 0:
        skip("needs root (network namespaces, tc, eBPF)")
    if not os.access(TW, os.X_OK):
        skip(f"no tunnelwatch in {BIN} (built with V6LAB_BPF=OFF?)")
    tools = ["ip", "tc"] + (["tshark"] if name in ("lab_teredo", "lab_vxlan", "vxlan") else []) + \
        (["miredo", "miredo-server", "nft"] if name == "lab_teredo" else [])
    for tool in tools:
        if not shutil.which(tool, path=ENV["PATH"]):
            skip(f"{tool} is missing (apt-get install tshark miredo miredo-server nftables iproute2, or scripts/setup)")
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
        signal.signal(s, on_signal)
    signal.alarm(DEADLINE)
    v6test.set_subreaper()
    remove_stale()
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="v6lab-tw-")
    os.chmod(tmp, 0o755)  # dumpcap may write as another user
    try:
        SCENARIOS[name](tmp)
    finally:
        signal.alarm(0)
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        for proc in v6test.Proc.running:
            proc.kill()
        if name.startswith("lab_"):
            r = lab("down")
            if r.returncode != 0 or os.path.exists(f"/run/v6lab/lab-{NAME}"):
                print(f"lab {NAME} not fully down: {r.stdout}{r.stderr}")
                sys.exit(1)
        shutil.rmtree(tmp, ignore_errors=True)
        reap()
    print(f"{name}: ok ({time.monotonic() - t0:.1f} s)")


if __name__ == "__main__":
    main()
