#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""acceptwatch scenarios, each with a known cause, in network namespaces made here.

    acceptwatch_test.py BUILD_BIN SCENARIO

Topology (created and removed by each run, names unique to the run):
    netns aw-cli-<tag>  192.0.2.1 / 2001:db8:a5::1  ==veth==  netns aw-srv-<tag>  192.0.2.2 / 2001:db8:a5::2
The server side is a small Python listener (or the real ipv6-server for "assignment" and the
poll_wait_* scenarios), the client side plain connect()s; acceptwatch runs in the host
namespace and sees both. Exit 77 = skipped.
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from v6test import wait_blocked, wait_until  # noqa: E402  (they raise AssertionError)

SKIP = 77
CLI4, SRV4 = "192.0.2.1", "192.0.2.2"
CLI6, SRV6 = "2001:db8:a5::1", "2001:db8:a5::2"

# The listener run inside srv: bind, listen, print "ready", then accept (or not).
LISTENER = r"""
import socket, sys, time
family, addr, port, backlog, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
s = socket.socket(socket.AF_INET6 if family == "6" else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if family == "6":
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind((addr, port))
s.listen(backlog)
print("ready", flush=True)
if mode == "accept":
    c, peer = s.accept()
    print("accepted", peer[0], flush=True)
    c.close()
else:
    time.sleep(60)
"""

# The client run inside cli: N connections at once, held open for HOLD seconds.
CLIENT = r"""
import socket, sys, time, errno
addr, port, n, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
family = socket.AF_INET6 if ":" in addr else socket.AF_INET
socks = []
for i in range(n):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex((addr, port))
    socks.append(s)
    time.sleep(0.05)
time.sleep(hold)
"""


class Skip(Exception):
    pass


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def sh(*args, ns=None, check_rc=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check_rc and p.returncode:
        raise Failure(f"{' '.join(cmd)} failed: {p.stderr.strip()}")
    return p.stdout


def snmp(ns, proto, name):
    """One counter of /proc/net/snmp in network namespace ns, e.g. ("Tcp", "OutRsts")."""
    lines = sh("cat", "/proc/net/snmp", ns=ns).splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith(proto + ":"):
            return int(dict(zip(names.split(), values.split()))[name])
    raise Failure(f"no {proto} {name} in /proc/net/snmp of {ns}")


def established(pid, port):
    """The ESTABLISHED connections on local port `port` in pid's network namespace."""
    n = 0
    for table in ("tcp6", "tcp"):
        with open(f"/proc/{pid}/net/{table}") as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                n += cols[3] == "01" and int(cols[1].rsplit(":", 1)[1], 16) == port
    return n


def ephemeral_low():
    """The lowest port the kernel hands out as an ephemeral one."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    return max(low, 20001)


class Lab:
    """Two namespaces joined by a veth pair; removed on every exit path."""

    def __init__(self):
        tag = f"{os.getpid()}-{random.randrange(1 << 16):04x}"
        self.srv, self.cli = f"aw-srv-{tag}", f"aw-cli-{tag}"
        self.procs = []
        # Below the ephemeral range: acceptwatch -P watches the port in every namespace, and
        # any socket of the host on it (a test's client's source port, a --port 0 server)
        # would add its handshakes and SYNs to this lab's (bpf.acceptwatch.stream saw it
        # once, with the tutorials running beside it).
        self.port = random.randrange(20000, ephemeral_low())

    def __enter__(self):
        for ns in (self.srv, self.cli):
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", "v-cli", "netns", self.cli, "type", "veth",
           "peer", "name", "v-srv", "netns", self.srv)
        for ns, dev, a4, a6 in ((self.cli, "v-cli", CLI4, CLI6), (self.srv, "v-srv", SRV4, SRV6)):
            sh("ip", "addr", "add", f"{a4}/24", "dev", dev, ns=ns)
            sh("ip", "addr", "add", f"{a6}/64", "dev", dev, "nodad", ns=ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
            sh("ip", "link", "set", dev, "up", ns=ns)
        # A SYN sent before the veth pair has its carrier is lost (and retried only after 1 s).
        for _ in range(100):
            if all(" UP " in sh("ip", "-br", "link", "show", "dev", dev, ns=ns)
                   for ns, dev in ((self.cli, "v-cli"), (self.srv, "v-srv"))):
                break
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for ns in (self.srv, self.cli):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        return False

    def spawn(self, ns, *args, **kw):
        cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
        self.procs.append(p)
        return p

    def listener(self, family, addr, backlog=16, mode="accept"):
        p = self.spawn(self.srv, sys.executable, "-c", LISTENER, family, addr, self.port, backlog, mode)
        line = p.stdout.readline()
        if line.strip() != "ready":
            raise Failure(f"listener did not start: {line!r} {p.stderr.read()}")
        return p

    def clients(self, addr, n=1, hold=3.0):
        return self.spawn(self.cli, sys.executable, "-c", CLIENT, addr, self.port, n, hold)

    def nft(self, ns, ruleset):
        p = subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=ruleset,
                           capture_output=True, text=True)
        check(p.returncode == 0, f"nft failed: {p.stderr.strip()}")


class Watch:
    """acceptwatch running in the host namespace; waits until it is attached."""

    def __init__(self, lab, *args):
        self.p = lab.spawn(None, AW, *args)
        self.log = []  # stderr lines but the start line (-v), read as they come
        for line in self.p.stderr:
            if line.startswith("acceptwatch: watching") or line.startswith("acceptwatch: tracing"):
                # the rest of stderr by a thread of ours (not by communicate(): only stdout)
                self.err_pump = threading.Thread(target=self._read_err, args=(self.p.stderr,),
                                                 daemon=True)
                self.err_pump.start()
                self.p.stderr = None
                return
            self.log.append(line)
        msg = "".join(self.log).strip()
        last = msg.splitlines()[-1] if msg else ""  # its own one-line error (-v: after libbpf's)
        # Root was checked before: the one missing feature that may be a skip is kernel BTF.
        if self.p.wait() == 1 and last.startswith("acceptwatch: kernel BTF"):
            raise Skip(last)
        raise Failure(f"acceptwatch did not start: {msg}")

    def _read_err(self, stream):
        for line in stream:
            self.log.append(line)

    def said(self, text):
        return any(text in line for line in self.log)

    def wait_said(self, text, timeout=10):
        """Until it has said text on stderr (it runs on)."""
        wait_until(lambda: self.said(text) or self.p.poll() is not None, timeout,
                   f"acceptwatch to say {text!r}: {self.log}")
        check(self.said(text), f"acceptwatch ended without saying {text!r}: {self.log}")

    def finish(self, timeout):
        """Its exit: (stdout, stderr)."""
        out, _ = self.p.communicate(timeout=timeout)
        self.err_pump.join(5)
        return out, "".join(self.log)

    def verdict(self, timeout=30):
        out, err = self.finish(timeout)
        print(out, end="")
        lines = [l for l in out.splitlines() if l.startswith("{")]
        check(len(lines) == 1, f"expected one JSON verdict, got {out!r} {err!r}")
        return json.loads(lines[0])

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        out, _ = self.finish(10)
        return [json.loads(l) for l in out.splitlines() if l.startswith("{")]


def diagnose(lab, seconds, *extra):
    return Watch(lab, "-P", lab.port, "--json", "--diagnose", seconds, *extra)


def expect_verdict(v, name):
    check(v["verdict"] == name, f"verdict {v['verdict']!r}, expected {name!r}: {v['message']}")


# Run inside cli: IPv6 SYNs for PORT from [2001:db8:77::1]:40000, sent COUNT times inside a tunnel
# to the server's IPv4 address. "6in4": IPv4 protocol 41, to 2001:db8:77::2. "teredo": UDP from
# port 3544 with an origin indication, to a Teredo address; "teredo-relay": UDP between other
# ports (a relay's), to a Teredo address. Nothing on the server side decapsulates them.
TUNNEL_SENDER = r"""
import ipaddress, socket, struct, sys, time
kind, server, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
dst = "2001:db8:77::2" if kind == "6in4" else "2001:0:c633:640a:8000:f227:bdff:fffd"
tcp = struct.pack("!HHIIBBHHH", 40000, port, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
ip6 = (struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + ipaddress.IPv6Address("2001:db8:77::1").packed
       + ipaddress.IPv6Address(dst).packed + tcp)
if kind == "6in4":
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 41)
    dest, payload = (server, 0), ip6
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 3544 if kind == "teredo" else 3545))
    dest, payload = (server, 40000), (bytes(8) if kind == "teredo" else b"") + ip6
for _ in range(count):
    s.sendto(payload, dest)
    time.sleep(0.2)
"""

# ---- scenarios ----

def normal_accept_ipv6(lab):
    w = diagnose(lab, 10)
    srv = lab.listener("6", "::")
    lab.clients(SRV6, 1, 1)
    v = w.verdict()
    expect_verdict(v, "accepted")
    a = v["accept"]
    check(a["pid"] == srv.pid, f"accept by {a}, not the listener's pid {srv.pid}")
    check(a["remote"] == CLI6 and not a["v4mapped"], f"peer {a['remote']}")
    check(not a["early"], "accept() was entered after acceptwatch started")
    check(v["syns"] >= 1 and v["established"] >= 1 and v["accept_calls"] >= 1, f"events: {v}")
    check(CLI6 in v["message"], v["message"])


def normal_accept_ipv4(lab):
    # A plain IPv4 listener: the peer is 192.0.2.1.
    w = diagnose(lab, 10)
    lab.listener("4", "0.0.0.0")
    lab.clients(SRV4, 1, 1)
    v = w.verdict()
    expect_verdict(v, "accepted")
    check(v["accept"]["remote"] == CLI4 and not v["accept"]["v4mapped"], f"peer {v['accept']}")
    check(v["syns"] >= 1 and v["established"] >= 1, f"events: {v}")
    # A dual-stack listener: the same client shows up IPv4-mapped, and is labelled so.
    w = diagnose(lab, 10)
    lab.listener("6", "::")
    lab.clients(SRV4, 1, 1)
    v = w.verdict()
    expect_verdict(v, "accepted")
    check(v["accept"]["remote"] == "::ffff:" + CLI4 and v["accept"]["v4mapped"], f"{v['accept']}")
    check("IPv4-mapped" in v["message"], v["message"])


def nothing_listening(lab):
    w = diagnose(lab, 2)
    rsts = snmp(lab.srv, "Tcp", "OutRsts")
    lab.clients(SRV4, 1, 1.5)
    # Later (the first one has had its RST), a SYN for the port in another namespace too: the
    # verdict says where they were seen.
    wait_until(lambda: snmp(lab.srv, "Tcp", "OutRsts") > rsts, 10, f"an RST from {lab.srv}")
    lab.spawn(lab.cli, sys.executable, "-c", CLIENT, "127.0.0.1", lab.port, 1, 0.5)
    v = w.verdict()
    expect_verdict(v, "rst_no_listener")
    check(v["syns"] >= 2 and v["rst_sent"] >= 1, f"events: {v}")
    check(f"{SRV4}:{lab.port}" in v["message"], v["message"])
    check(any("RST" in e and "NO_SOCKET" in e for e in v["evidence"]), v["evidence"])
    seen = [e for e in v["evidence"] if "SYNs were seen in 2 network namespaces" in e]
    check(seen and lab.srv in seen[0] and lab.cli in seen[0], f"namespaces not named: {v['evidence']}")


def bound_elsewhere(lab):
    srv = lab.listener("4", "127.0.0.1", mode="hold")
    w = diagnose(lab, 2)
    lab.clients(SRV4, 1, 1.5)
    v = w.verdict()
    expect_verdict(v, "rst_no_listener")
    check(v["rst_sent"] >= 1, f"events: {v}")
    hint = [e for e in v["evidence"] if "bound to another address" in e]
    check(hint and f"127.0.0.1:{lab.port}" in hint[0] and f"pid {srv.pid}" in hint[0],
          f"no 'bound to another address' evidence naming pid {srv.pid}: {v['evidence']}")


def never_accepts(lab):
    # listen(1): the queue holds 2 (full when > 1). One client first: established, not accepted.
    lab.listener("6", "::", backlog=1, mode="hold")
    w = diagnose(lab, 2)
    lab.clients(SRV6, 1, 5)
    v = w.verdict()
    expect_verdict(v, "not_accepting")
    check(v["established"] >= 1 and v["peak_backlog"] == 1 and v["max_backlog"] == 1, f"{v}")
    check("no process is calling accept()" in v["message"], v["message"])
    # Then more clients than the queue holds: overflow.
    w = diagnose(lab, 3)
    lab.clients(SRV6, 4, 4)
    v = w.verdict()
    expect_verdict(v, "overflow")
    check(v["peak_backlog"] > v["max_backlog"], f"queue never full: {v}")
    check(v["syns_full"] + v["drops_overflow"] >= 1, f"no overflow drops: {v}")
    check("backlog 2/1" in v["message"], v["message"])


def nft_input_drop(lab):
    lab.nft(lab.srv, f"""table inet awtest {{
  chain input {{ type filter hook input priority 0; tcp dport {lab.port} drop; }}
}}""")
    lab.listener("6", "::")
    w = diagnose(lab, 2)
    lab.clients(SRV6, 1, 1.5)
    v = w.verdict()
    expect_verdict(v, "dropped")
    check(v["drop_reason"] == "NETFILTER_DROP", f"reason {v.get('drop_reason')}")
    check(v["drops_syn"] >= 1 and v["syns"] >= 1 and v["established"] == 0, f"{v}")
    check("netfilter" in v["message"].lower() and lab.srv in v["message"], v["message"])


def synack_lost(lab):
    # The client side drops the server's SYN-ACKs: a broken return path.
    lab.nft(lab.cli, f"""table inet awtest {{
  chain input {{ type filter hook input priority 0;
    tcp sport {lab.port} tcp flags & (syn | ack) == (syn | ack) drop; }}
}}""")
    lab.listener("6", "::")
    # the first SYN-ACK retransmission comes 1 s after the SYN: leave room for a slow start
    w = diagnose(lab, 5)
    lab.clients(SRV6, 1, 5)
    v = w.verdict()
    expect_verdict(v, "synack_retrans")
    check(v["synack_retrans"] >= 1 and v["established"] == 0, f"{v}")
    check(v.get("other_drop_reason") == "NETFILTER_DROP", f"SYN-ACK drop not seen: {v}")
    check("return path" in v["message"], v["message"])


def accept_before_start(lab):
    srv = lab.listener("6", "::")
    wait_blocked(srv.pid, "accept4", "accept")  # it is now blocked in accept()
    w = diagnose(lab, 10)
    lab.clients(SRV6, 1, 1)
    v = w.verdict()
    expect_verdict(v, "accepted")
    a = v["accept"]
    check(a["early"] and a["pid"] == srv.pid, f"not seen as an early accept() of pid {srv.pid}: {a}")
    check(a["remote"] == CLI6, f"peer {a['remote']}")
    check("already blocked" in v["message"], v["message"])


def assignment(lab):
    server, client = os.path.join(BIN, "ipv6-server"), os.path.join(BIN, "ipv6-client")
    if not (os.access(server, os.X_OK) and os.access(client, os.X_OK)):
        raise Failure(f"{server} / {client} not built: build first")
    key = 0x61770000 + random.randrange(1 << 16)
    w = Watch(lab, "-P", lab.port, "--json")
    srv = lab.spawn(lab.srv, server, "--port", lab.port, "--tokens", 5, "--queue-key", hex(key))
    try:
        line = srv.stdout.readline()
        check("listening on" in line, f"ipv6-server did not start: {line!r}")
        for k in range(1, 6):
            c = lab.spawn(lab.cli, client, "--addr", SRV6, "--port", lab.port, "--index", k)
            if c.wait(timeout=20):
                raise Failure(f"ipv6-client {k} failed: {c.stderr.read()}")
        srv.wait(timeout=30)  # its accept events are in (written before accept() returns)
        events = w.stop()  # and read: stop() reads the ring buffer to its end
    finally:
        subprocess.run(["ipcrm", "-Q", hex(key)], capture_output=True)
    accepts = [e for e in events if e["event"] == "accept" and e["ret"] >= 0]
    mine = [e for e in accepts if e["pid"] == srv.pid]
    check(len(mine) == 5, f"{len(mine)} accepts in ipv6-server pid {srv.pid}, expected 5: {accepts}")
    check(all(e["remote"] == CLI6 and e["lport"] == lab.port for e in mine), f"{mine}")
    check(all(e["netns"] == mine[0]["netns"] for e in mine), "accepts in different namespaces")


def handshakes(events, port):
    """Per client port: the state changes seen, and the queue lengths reported after them."""
    seen = {}
    for e in events:
        if e["event"] == "state" and e["lport"] == port:
            seen.setdefault(e["rport"], []).append(f"{e['oldstate']}>{e['newstate']}")
    queued = [(e["backlog"], e["max_backlog"]) for e in events
              if e["event"] == "queued" and e["lport"] == port]
    return seen, queued


def stream(lab):
    """Streaming (no --diagnose): the handshake, and the accept queue read from the listener,
    for a listener that was there before acceptwatch (learnt through sock:sk_data_ready, which
    is then detached) and for one that listens after it started (no sk_data_ready at all).
    SYN lines only with --syn: netif_receive_skb is not attached without it."""
    old = lab.listener("6", "::", backlog=8, mode="hold")
    w = Watch(lab, "-P", lab.port, "--json", "-v")
    check(w.said("sk_data_ready attached until"), f"sk_data_ready not attached for the old listener: {w.log}")
    check(w.said("netif_receive_skb not attached"), f"{w.log}")
    lab.clients(SRV6, 2, 2)
    wait_until(lambda: established(old.pid, lab.port) == 2, 10, "the 2 handshakes")
    w.wait_said("sk_data_ready detached")
    events = w.stop()
    seen, queued = handshakes(events, lab.port)
    check(len(seen) == 2 and all(v[:2] == ["LISTEN>SYN_RECV", "SYN_RECV>ESTABLISHED"]
                                 for v in seen.values()), f"handshakes {seen}")
    check(queued == [(1, 8), (2, 8)], f"queue lengths {queued}, expected 1/8 then 2/8")
    check(not [e for e in events if e["event"] == "syn"], "syn events without --syn")
    check(w.said("sk_data_ready detached"), f"sk_data_ready never detached: {w.log}")
    old.kill()
    old.wait()

    # A listener that starts after acceptwatch: known from its listen(), nothing to learn.
    w = Watch(lab, "-P", lab.port, "--json", "-v", "--syn")
    check(w.said("sk_data_ready not needed") and w.said("netif_receive_skb attached"), f"{w.log}")
    new = lab.listener("6", "::", backlog=4, mode="hold")
    lab.clients(SRV6, 3, 2)
    wait_until(lambda: established(new.pid, lab.port) == 3, 10, "the 3 handshakes")
    events = w.stop()
    seen, queued = handshakes(events, lab.port)
    check(len(seen) == 3, f"handshakes {seen}")
    check(queued == [(1, 4), (2, 4), (3, 4)], f"queue lengths {queued}, expected 1/4, 2/4, 3/4")
    syns = [e for e in events if e["event"] == "syn" and e["lport"] == lab.port]
    check(len(syns) == 3 and all(e["remote"] == CLI6 for e in syns), f"--syn: {syns}")
    check(not w.said("detached"), f"{w.log}")


def tunnel(lab, kind, reason, hint):
    """A SYN that reaches the host inside a tunnel nobody takes off: verdict and stream."""
    w = diagnose(lab, 2)
    first = lab.spawn(lab.cli, sys.executable, "-c", TUNNEL_SENDER, kind, SRV4, lab.port, 3)
    v = w.verdict()
    expect_verdict(v, "tunnel_not_delivered")
    check(v["tunnel"] == kind.split("-")[0] and v["tunnel_syns"] >= 1 and v["syns"] == 0, f"{v}")
    check(v.get("tunnel_drop_reason") == reason and v["tunnel_drops"] >= 1,
          f"drop reason {v.get('tunnel_drop_reason')}, expected {reason}")
    check(hint in v["message"] and CLI4 in v["message"] and lab.srv in v["message"], v["message"])
    # Streaming: each SYN shows its inner endpoints and the tunnel it came in.
    first.wait(timeout=10)
    w = Watch(lab, "-P", lab.port, "--json", "--syn")
    dropped = ("Ip", "InUnknownProtos") if kind == "6in4" else ("Udp", "NoPorts")
    before = snmp(lab.srv, *dropped)
    sender = lab.spawn(lab.cli, sys.executable, "-c", TUNNEL_SENDER, kind, SRV4, lab.port, 2)
    sender.wait(timeout=10)
    wait_until(lambda: snmp(lab.srv, *dropped) >= before + 2, 10,
               f"the 2 packets counted in {' '.join(dropped)} of {lab.srv}")
    events = w.stop()
    full_kind, kind = kind, kind.split("-")[0]
    syns = [e for e in events if e["event"] == "syn" and e.get("tunnel") == kind]
    check(len(syns) == 2, f"{len(syns)} {kind} SYN events, expected 2: {events}")
    e = syns[0]
    check(e["lport"] == lab.port and e["remote"] == "2001:db8:77::1" and e["rport"] == 40000 and
          e["outer_source"] == CLI4, f"{e}")
    check(e.get("outer_sport") == {"teredo": 3544, "teredo-relay": 3545}.get(full_kind), f"{e}")
    drops = [e for e in events if e["event"] == "drop" and e.get("tunnel") == kind]
    check(len(drops) == 2 and drops[0]["reason"] == reason, f"drops {drops}")


def tunnel_6in4(lab):
    lab.listener("6", "::")
    tunnel(lab, "6in4", "IP_NOPROTO", "no 6in4 (sit) tunnel")


def tunnel_teredo(lab):
    # From the Teredo server's port 3544, then from a relay's port: both are seen as Teredo.
    lab.listener("6", "::")
    tunnel(lab, "teredo", "NO_SOCKET", "is the Teredo client (miredo) running?")
    tunnel(lab, "teredo-relay", "NO_SOCKET", "is the Teredo client (miredo) running?")


def lost_events(lab):
    """A reader that falls behind loses events when the ring buffer is full: it says how many,
    at the end, instead of showing a partial story as the whole one."""
    load = os.path.join(BIN, "v6lab-acceptload")
    if not os.access(load, os.X_OK):
        raise Failure(f"{load} not built: build first")
    srv = lab.spawn(lab.srv, load, "server", lab.port, "accept-loop")
    check(srv.stdout.readline().strip() == "ready", "v6lab-acceptload server did not start")
    w = Watch(lab, "-P", lab.port)
    w.p.send_signal(signal.SIGSTOP)  # the reader falls behind: 1 MiB holds ~8300 events
    n = int(sh(load, "client", lab.port, "accept-loop", 1, 1, ns=lab.srv))
    w.p.send_signal(signal.SIGCONT)
    w.p.send_signal(signal.SIGINT)
    out, err = w.finish(20)
    shown = out.count("\n") - 1  # minus the header
    lost = [l for l in err.splitlines() if "events were lost" in l]
    check(n > 3000, f"only {n} connections: not enough to fill the ring buffer")
    check(len(lost) == 1, f"no 'events were lost' line after {n} connections: {err!r}")
    count = int(lost[0].split()[1])
    check(count > 0 and shown > 1000, f"lost {count}, shown {shown}")
    # every connection makes 6 events here: handshake (3), accept-wait, accept, close (and
    # 10 connections' worth more: those the client cut at the end of its second, in flight).
    # Besides, the kernel frees some FIN/ACKs of closing connections (drop events, about 1 in
    # 1000 connections on an idle machine, 1 in 100 on a loaded one): the shown part says how
    # often, and three times that rate over all events bounds them.
    drops = sum(1 for line in out.splitlines()[1:] if line.split()[1:2] == ["drop"])
    extra = 6 * 10 + -(-3 * drops * (shown + count) // shown)
    check(6 * n <= shown + count <= 6 * n + extra,
          f"{shown} shown + {count} lost, not 6 events x {n} connections (+ {extra} for "
          f"{drops} drops shown)")
    print(f"{n} connections: {shown} events shown ({drops} drops), {count} lost")


# Run inside srv: listen on PORT now, and on PORT+1 once told (a line on stdin), then accept
# one connection there.
TWO_PORTS = r"""
import socket, sys
port = int(sys.argv[1])
def listen(p):
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", p))
    s.listen(4)
    return s
first = listen(port)
print("ready", flush=True)
sys.stdin.readline()
second = listen(port + 1)
print("ready", flush=True)
c, _ = second.accept()
print("accepted", flush=True)
"""


def pid_follows_listen(lab):
    """-p PID on a process that already listens: its ports now, and the ones it listens on
    later, are watched."""
    srv = lab.spawn(lab.srv, sys.executable, "-c", TWO_PORTS, lab.port, stdin=subprocess.PIPE)
    check(srv.stdout.readline().strip() == "ready", "the listener did not start")
    w = Watch(lab, "-p", srv.pid, "--json")
    srv.stdin.write("go\n")
    srv.stdin.flush()
    check(srv.stdout.readline().strip() == "ready", "the second listen() failed")
    lab.spawn(lab.cli, sys.executable, "-c", CLIENT, SRV6, lab.port + 1, 1, 1)
    check(srv.stdout.readline().strip() == "accepted", "no connection accepted")
    events = w.stop()  # its events are in (accept() has returned): stop() reads them all
    listens = [e for e in events if e["event"] == "listen" and e["newstate"] == "LISTEN"]
    check([e["lport"] for e in listens] == [lab.port + 1] and listens[0]["pid"] == srv.pid,
          f"the later listen() on {lab.port + 1} not seen: {events}")
    accepts = [e for e in events if e["event"] == "accept" and e["ret"] >= 0]
    check(len(accepts) == 1 and accepts[0]["lport"] == lab.port + 1 and
          accepts[0]["pid"] == srv.pid, f"accepts {accepts}")


# Run inside srv: listen on PORT, then wait for it to be readable with MODE (epoll, select,
# poll), 0.3 s at a time, forever, never calling accept().
POLLER = r"""
import select, socket, sys
mode, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", port))
s.listen(8)
if mode == "epoll":
    ep = select.epoll()
    ep.register(s.fileno(), select.EPOLLIN)
    wait = lambda: ep.poll(0.3)
elif mode == "select":
    wait = lambda: select.select([s], [], [], 0.3)
else:
    p = select.poll()
    p.register(s, select.POLLIN)
    wait = lambda: p.poll(300)
print("ready", flush=True)
while True:
    wait()
"""


def start_ipv6_server(lab, tokens):
    """build/bin/ipv6-server in srv on the lab's port, listening; (process, queue key)."""
    server = os.path.join(BIN, "ipv6-server")
    if not os.access(server, os.X_OK):
        raise Failure(f"{server} not built: build first")
    key = 0x61770000 + random.randrange(1 << 16)
    srv = lab.spawn(lab.srv, server, "--port", lab.port, "--tokens", tokens, "--queue-key", hex(key))
    line = srv.stdout.readline()
    check("listening on" in line, f"ipv6-server did not start: {line!r}")
    return srv, key


def poll_wait_no_client(lab):
    """ipv6-server waits in ppoll() on its listener, and no client comes: the verdict names the
    wait and speaks of the SYNs that did not come, not of a missing accept() call. First with
    the server in ppoll() before acceptwatch starts (only /proc shows it), then with the server
    started after it (its ppoll() calls are seen as they are made)."""
    srv, key = start_ipv6_server(lab, 5)
    try:
        wait_blocked(srv.pid, "ppoll")
        v = diagnose(lab, 2).verdict()
        expect_verdict(v, "no_syn")
        want = f"ipv6-server (pid {srv.pid}) waits in ppoll() on the listening socket"
        check(want in v["message"] and "the connections do not reach it" in v["message"],
              v["message"])
        check(any(e.startswith(want + f" [::]:{lab.port} (fd ") for e in v["evidence"]),
              f"no '{want}' evidence: {v['evidence']}")
        check(not any("no accept() call" in e for e in v["evidence"]), v["evidence"])
        check([(w["pid"], w["call"], w["now"], w["calls"]) for w in v["waiting"]] ==
              [(srv.pid, "ppoll", True, 0)], f"waiting: {v['waiting']}")
        srv.kill()
        srv.wait()
        subprocess.run(["ipcrm", "-Q", hex(key)], capture_output=True)

        w = diagnose(lab, 2)
        srv, key = start_ipv6_server(lab, 5)
        v = w.verdict()
        expect_verdict(v, "no_syn")
        check(f"ipv6-server (pid {srv.pid}) waits in ppoll()" in v["message"], v["message"])
        mine = [w for w in v["waiting"] if w["pid"] == srv.pid]
        check(len(mine) == 1 and mine[0]["now"] and mine[0]["calls"] >= 1 and
              v["poll_calls"] >= 1, f"its ppoll() calls not seen: {v['waiting']}")
    finally:
        subprocess.run(["ipcrm", "-Q", hex(key)], capture_output=True)


def poll_wait_accepts(lab):
    """ipv6-server in ppoll() on its listener, and clients do come: the verdict is the accept();
    streamed with --poll, the ppoll() that returns with the listener ready, then accept()."""
    client = os.path.join(BIN, "ipv6-client")
    srv, key = start_ipv6_server(lab, 3)
    try:
        wait_blocked(srv.pid, "ppoll")
        w = diagnose(lab, 10)
        c = lab.spawn(lab.cli, client, "--addr", SRV6, "--port", lab.port, "--index", 1)
        v = w.verdict()
        expect_verdict(v, "accepted")
        a = v["accept"]
        check(a["pid"] == srv.pid and not a["early"] and a["remote"] == CLI6, f"accept: {a}")
        check(c.wait(timeout=20) == 0, f"ipv6-client 1 failed: {c.stderr.read()}")

        w = Watch(lab, "-P", lab.port, "--json", "--poll")
        for k in (2, 3):  # the second one comes while ppoll() waits, entered after the start
            c = lab.spawn(lab.cli, client, "--addr", SRV6, "--port", lab.port, "--index", k)
            check(c.wait(timeout=20) == 0, f"ipv6-client {k} failed: {c.stderr.read()}")
        srv.wait(timeout=30)  # all 3 tokens in: it has returned from its last ppoll()
        events = w.stop()
    finally:
        subprocess.run(["ipcrm", "-Q", hex(key)], capture_output=True)
    mine = [e for e in events if e.get("pid") == srv.pid and e["event"] in ("poll-wait", "poll-done", "accept")]
    check(all(e["lport"] == lab.port for e in mine), f"{mine}")
    woken = [e for e, then in zip(mine, mine[1:])
             if e["event"] == "poll-done" and e["call"] == "ppoll" and e["ready"] and e["ret"] >= 1
             and then["event"] == "accept" and then["ret"] >= 0]
    check(woken, f"no ppoll() that returned with the listener ready, then accept(): {mine}")
    check(all(e["fd"] == woken[0]["fd"] for e in mine if e["event"] == "poll-wait"),
          f"poll-wait on another fd than the listener's: {mine}")


def poll_wait_kinds(lab):
    """A server that waits in epoll_wait(), select() or poll() (0.3 s at a time) on its
    listener, started before acceptwatch (its epoll set too: the loader tells the BPF side):
    each is named, and its calls are seen."""
    calls = {"epoll": ("epoll_wait", "epoll_pwait", "epoll_pwait2"), "select": ("select", "pselect6"),
             "poll": ("poll", "ppoll")}
    for mode, names in calls.items():
        srv = lab.spawn(lab.srv, sys.executable, "-c", POLLER, mode, lab.port)
        check(srv.stdout.readline().strip() == "ready", f"the {mode} server did not start")
        v = diagnose(lab, 2).verdict()
        srv.kill()
        srv.wait()
        expect_verdict(v, "no_syn")
        mine = [w for w in v["waiting"] if w["pid"] == srv.pid]
        check(len(mine) == 1 and mine[0]["call"] in names and mine[0]["calls"] >= 1,
              f"{mode}: waiting {v['waiting']}")
        said = f"python3 (pid {srv.pid}) wait"
        check(any(e.startswith(said) and f"{mine[0]['call']}() on the listening socket" in e
                  for e in v["evidence"]), f"{mode}: {v['evidence']}")


def errors(lab):
    """Every error is one clear line: bad arguments, missing port, no privileges."""
    cases = [(["-P", "0"], "invalid port"), (["-P", "x"], "invalid port"),
             (["--diagnose", "3"], "needs the port"), (["-4", "-6"], "exclude each other"),
             (["--netns", "no-such-netns-here"], "--netns"), (["-p", "999999999"], "no such process")]
    check(shutil.which("setpriv"), "setpriv (util-linux) is missing: cannot drop root here")
    cases.append((["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", AW,
                   "-P", "80"], "needs root"))
    for args, want in cases:
        cmd = args if args[0] == "setpriv" else [AW] + args
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        lines = p.stderr.splitlines()
        check(p.returncode == 1 and len(lines) == 1 and want in lines[0],
              f"{cmd}: rc {p.returncode}, stderr {p.stderr!r} (want exit 1 and one line)")
    h = subprocess.run([AW, "--help"], capture_output=True, text=True)
    check(h.returncode == 0 and "USAGE" in h.stdout and "EXAMPLES" in h.stdout, "--help")


SCENARIOS = {f.__name__: f for f in (errors, normal_accept_ipv6, normal_accept_ipv4, nothing_listening,
                                     bound_elsewhere, never_accepts, nft_input_drop, synack_lost,
                                     accept_before_start, assignment, stream, tunnel_6in4,
                                     tunnel_teredo, lost_events, pid_follows_listen,
                                     poll_wait_no_client, poll_wait_accepts, poll_wait_kinds)}


def main():
    global AW, BIN
    if len(sys.argv) != 3 or sys.argv[2] not in SCENARIOS:
        print(f"usage: {sys.argv[0]} BUILD_BIN {{{','.join(SCENARIOS)}}}", file=sys.stderr)
        return 2
    BIN, name = sys.argv[1], sys.argv[2]
    AW = os.path.join(BIN, "acceptwatch")
    try:
        if os.geteuid() != 0:
            raise Skip("needs root (network namespaces and eBPF)")
        if not os.access(AW, os.X_OK):  # registered only when V6LAB_BPF is on: it must be there
            raise Failure(f"{AW} not built: build first")
        for tool in ("ip", "nft") if "nft" in name or "synack" in name else ("ip",):
            if not shutil.which(tool):
                raise Skip(f"'{tool}' is not installed")
        if name == "errors":
            errors(None)
        else:
            with Lab() as lab:
                SCENARIOS[name](lab)
    except Skip as e:
        print(f"SKIP {name}: {e}")
        return SKIP
    except (Failure, AssertionError, subprocess.TimeoutExpired) as e:
        print(f"FAIL {name}: {e}")
        return 1
    print(f"PASS {name}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # ctest timeout: still clean up
    sys.exit(main())
