/* SPDX-License-Identifier: MIT */
/* acceptwatch's diagnosis (trace/bpf/aw_diagnose.c), without root or a kernel: synthetic event
 * sequences, folded, and the facts /proc would give at the end, for every verdict; and the
 * server that waits in poll() (or accept()) for connections that do not come. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "aw_diagnose.h"

#define PORT 7002
#define NS_SRV 4026532001u
#define NS_CLI 4026532002u
#define T0 1000000000000ULL /* when watching started */
#define MS 1000000ULL
#define LISTENER_INODE 4242

/* Drop reasons are looked up by name (their values change with every kernel): any values do. */
enum { R_NO_SOCKET = 2, R_NETFILTER_DROP = 7, R_TCP_LISTEN_OVERFLOW = 9, R_IP_NOPROTO = 11 };

static const unsigned char SRV6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xa5, [15] = 2 };
static const unsigned char CLI6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xa5, [15] = 1 };
static const unsigned char SRV4[16] = { 192, 0, 2, 2 };
static const unsigned char CLI4[16] = { 192, 0, 2, 1 };
static const unsigned char LOOP4[16] = { 127, 0, 0, 1 };
static const unsigned char MAPPED_CLI4[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 };
static const unsigned char ANY[16];

/* One run of the diagnosis: the events folded, the facts, the report. */
struct run {
	struct aw_enum_names drops, rsts;
	struct aw_netns_names netns;
	struct aw_diag d;
	struct aw_diag_facts f;
	struct aw_report r;
};

static int setup(void **state)
{
	static struct run run;

	memset(&run, 0, sizeof(run));
	if (aw_enum_init(&run.drops, 16) || aw_enum_init(&run.rsts, 4))
		return -1;
	aw_enum_set(&run.drops, R_NO_SOCKET, "SKB_DROP_REASON_NO_SOCKET", "SKB_DROP_REASON_");
	aw_enum_set(&run.drops, R_NETFILTER_DROP, "SKB_DROP_REASON_NETFILTER_DROP", "SKB_DROP_REASON_");
	aw_enum_set(&run.drops, R_TCP_LISTEN_OVERFLOW, "SKB_DROP_REASON_TCP_LISTEN_OVERFLOW",
		    "SKB_DROP_REASON_");
	aw_enum_set(&run.drops, R_IP_NOPROTO, "SKB_DROP_REASON_IP_NOPROTO", "SKB_DROP_REASON_");
	aw_enum_set(&run.rsts, 1, "SK_RST_REASON_NO_SOCKET", "SK_RST_REASON_");
	run.netns.ns[0].ino = NS_SRV;
	strcpy(run.netns.ns[0].name, "aw-srv");
	run.netns.ns[1].ino = NS_CLI;
	strcpy(run.netns.ns[1].name, "aw-cli");
	run.netns.n = 2;
	run.f = (struct aw_diag_facts){
		.port = PORT, .start_ns = T0, .end_ns = T0 + 5000 * MS,
		.drop_reasons = &run.drops, .rst_reasons = &run.rsts, .netns_names = &run.netns,
		.rst_netns_has_process = true,
	};
	*state = &run;
	return 0;
}

static int teardown(void **state)
{
	struct run *run = *state;

	aw_enum_free(&run->drops);
	aw_enum_free(&run->rsts);
	return 0;
}

/* ---- synthetic events: the server [2001:db8:a5::2]:7002 in aw-srv, its client ::1 ---- */

static struct aw_event ev(unsigned int type, unsigned long long at_ms)
{
	struct aw_event e = { .type = type, .ts_ns = T0 + at_ms * MS, .netns = NS_SRV,
			      .family = AF_INET6, .lport = PORT, .rport = 40000 };

	memcpy(e.laddr, SRV6, 16);
	memcpy(e.raddr, CLI6, 16);
	return e;
}

static struct aw_event by(struct aw_event e, unsigned int pid, const char *comm)
{
	e.pid = e.tid = pid;
	snprintf(e.comm, sizeof(e.comm), "%s", comm);
	return e;
}

static struct aw_event queue(struct aw_event e, unsigned int k, unsigned int m)
{
	e.flags |= AW_F_LISTENER;
	e.backlog = k;
	e.max_backlog = m;
	return e;
}

static struct aw_event syn(unsigned long long at)
{
	struct aw_event e = ev(AW_SYN, at);

	e.tcpflags = AW_TCP_SYN;
	return e;
}

static struct aw_event tcp_state(unsigned long long at, int from, int to)
{
	struct aw_event e = ev(AW_STATE, at);

	e.oldstate = from;
	e.newstate = to;
	return e;
}

static struct aw_event listening(unsigned long long at, unsigned int pid)
{
	struct aw_event e = queue(by(ev(AW_LISTEN, at), pid, "ipv6-server"), 0, 16);

	memcpy(e.laddr, ANY, 16);
	e.oldstate = 7;
	e.newstate = 10;
	return e;
}

static struct aw_event accept_wait(unsigned long long at, unsigned int pid, int fd)
{
	struct aw_event e = queue(by(ev(AW_ACCEPT_WAIT, at), pid, "ipv6-server"), 0, 16);

	e.fd = fd;
	return e;
}

static struct aw_event accept_ret(unsigned long long at, unsigned int pid, int ret)
{
	struct aw_event e = by(ev(AW_ACCEPT, at), pid, "ipv6-server");

	e.fd = 3;
	e.ret = ret;
	e.lat_ns = 1500 * 1000; /* 1.5 ms */
	return e;
}

static struct aw_event drop(unsigned long long at, unsigned int reason, unsigned char tcpflags)
{
	struct aw_event e = ev(AW_DROP, at);

	e.reason = reason;
	e.tcpflags = tcpflags;
	return e;
}

static struct aw_event tunnelled(struct aw_event e, unsigned int tunnel)
{
	e.tunnel = tunnel;
	e.outer_saddr = 0x140064c6; /* 198.100.0.20 in network order */
	e.outer_sport = tunnel == AW_TUN_TEREDO ? 3545 : 0;
	return e;
}

static struct aw_event poll_ev(unsigned int type, unsigned long long at, unsigned int call,
			       bool ready)
{
	struct aw_event e = queue(by(ev(type, at), 200, "ipv6-server"), 0, 16);

	memcpy(e.laddr, ANY, 16);
	e.fd = 3;
	e.call = call;
	if (ready)
		e.flags |= AW_F_READY;
	return e;
}

/* ---- running it ---- */

static void fold(struct run *run, const struct aw_event *events, size_t n)
{
	for (size_t i = 0; i < n; i++)
		aw_diag_fold(&run->d, &events[i], &run->drops);
}

#define FOLD(run, ...)                                                                   \
	do {                                                                             \
		const struct aw_event evs_[] = { __VA_ARGS__ };                          \
		fold(run, evs_, sizeof(evs_) / sizeof(evs_[0]));                         \
	} while (0)

static const struct aw_report *verdict(struct run *run)
{
	aw_diag_verdict(&run->d, &run->f, &run->r);
	return &run->r;
}

/* The evidence line that contains text, or NULL. */
static const char *evidence(const struct aw_report *r, const char *text)
{
	for (int i = 0; i < r->n; i++)
		if (strstr(r->evidence[i], text))
			return r->evidence[i];
	return NULL;
}

static void print(const struct aw_report *r)
{
	printf("verdict: %s\n", r->message);
	for (int i = 0; i < r->n; i++)
		printf("  - %s\n", r->evidence[i]);
}

/* ---- every verdict ---- */

static void accepted(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	FOLD(run, listening(10, 200), accept_wait(11, 200, 3), syn(1000), tcp_state(1000, 10, 3),
	     tcp_state(1000, 3, 1), queue(ev(AW_BACKLOG, 1000), 1, 16), accept_ret(1001, 200, 5));
	assert_true(aw_diag_finished(&run->d));
	r = verdict(run);
	print(r);
	assert_string_equal(r->verdict, "accepted");
	assert_string_equal(r->message, "accept() returned fd 5 to pid 200 (ipv6-server) for [2001:db8:a5::1]:40000 on port 7002, after blocking 1.5 ms");
	assert_non_null(evidence(r, "1 SYN for port 7002 reached the host; first from [2001:db8:a5::1]:40000 to [2001:db8:a5::2]:7002, netns aw-srv"));
	assert_non_null(evidence(r, "1 handshake reached SYN_RECV, 1 ESTABLISHED"));
	assert_non_null(evidence(r, "accept() called 1 time; last by pid 200 (ipv6-server) on fd 3"));
	assert_null(evidence(r, "no accept() call"));
}

/* accept() was already blocked at start, and the client is IPv4 on a dual-stack socket. */
static void accepted_early_v4mapped(void **state)
{
	struct run *run = *state;
	struct aw_event e = accept_ret(2500, 300, 4);
	const struct aw_report *r;

	e.flags |= AW_F_EARLY;
	e.fd = -1;
	e.lat_ns = 0;
	memcpy(e.raddr, MAPPED_CLI4, 16);
	FOLD(run, e);
	r = verdict(run);
	assert_string_equal(r->verdict, "accepted");
	assert_string_equal(r->message, "accept() returned fd 4 to pid 300 (ipv6-server) for [::ffff:192.0.2.1]:40000 (IPv4-mapped) on port 7002, after >= 2.50 s (it was already blocked when acceptwatch started)");
}

static void accept_error(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	/* "try again" errors are no verdict: still watching */
	FOLD(run, accept_ret(10, 200, -EAGAIN), accept_ret(20, 200, -EINTR),
	     accept_ret(30, 200, -512 /* ERESTARTSYS */), accept_ret(40, 200, -ECONNABORTED));
	assert_false(aw_diag_finished(&run->d));
	FOLD(run, accept_ret(50, 200, -EMFILE));
	assert_true(aw_diag_finished(&run->d));
	r = verdict(run);
	assert_string_equal(r->verdict, "accept_error");
	assert_string_equal(r->message, "accept() failed in pid 200 (ipv6-server): EMFILE (Too many open files)");
}

static void dropped_by_firewall(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	/* A listener freeing a duplicate SYN it answered is not the cause. */
	FOLD(run, syn(100), drop(100, R_NETFILTER_DROP, AW_TCP_SYN), syn(1100),
	     drop(1100, R_NETFILTER_DROP, AW_TCP_SYN), queue(drop(1200, 1, AW_TCP_SYN), 0, 16));
	r = verdict(run);
	print(r);
	assert_string_equal(r->verdict, "dropped");
	assert_string_equal(r->message, "SYN arrived but was dropped by the kernel: reason NETFILTER_DROP (2 packets to [2001:db8:a5::2]:7002, netns aw-srv): a firewall rule on this host drops it: see nft list ruleset / iptables -S");
	assert_non_null(evidence(r, "2 SYNs dropped, reason NETFILTER_DROP"));
	assert_non_null(evidence(r, "1 other packet of port 7002 dropped; first: SYN to [2001:db8:a5::2]:7002 in netns aw-srv, reason 1"));
	assert_non_null(evidence(r, "no accept() call on port 7002 was seen"));
}

static void not_accepting(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	FOLD(run, syn(100), tcp_state(100, 10, 3), tcp_state(100, 3, 1), queue(ev(AW_BACKLOG, 100), 1, 16));
	assert_false(aw_diag_finished(&run->d));
	r = verdict(run);
	assert_string_equal(r->verdict, "not_accepting");
	assert_string_equal(r->message, "connections established but no process is calling accept() on port 7002 (backlog 1/16, 1 established)");
	assert_non_null(evidence(r, "accept queue: 1/16 now, peak 1"));
	assert_non_null(evidence(r, "no accept() call on port 7002 was seen"));
}

static void overflow(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	FOLD(run, syn(100), tcp_state(100, 10, 3), tcp_state(100, 3, 1), queue(ev(AW_BACKLOG, 100), 1, 1),
	     syn(150), tcp_state(150, 10, 3), tcp_state(150, 3, 1), queue(ev(AW_BACKLOG, 150), 2, 1),
	     queue(syn(200), 2, 1), drop(200, R_TCP_LISTEN_OVERFLOW, AW_TCP_ACK));
	r = verdict(run);
	print(r);
	assert_string_equal(r->verdict, "overflow");
	assert_string_equal(r->message, "listen queue overflow: 2 connections established but never accepted (backlog 2/1), 2 later handshake packets ignored or dropped: no process is calling accept() on port 7002");
	assert_non_null(evidence(r, "1 SYN arrived while the accept queue was full"));
	assert_non_null(evidence(r, "1 packet dropped with reason TCP_LISTEN_OVERFLOW"));
}

static void synack_retrans(void **state)
{
	struct run *run = *state;
	struct aw_event a = ev(AW_SYNACK_RETRANS, 1100), b = ev(AW_SYNACK_RETRANS, 3100);
	const struct aw_report *r;

	a.count = 1;
	b.count = 2;
	FOLD(run, syn(100), tcp_state(100, 10, 3), a, b);
	r = verdict(run);
	assert_string_equal(r->verdict, "synack_retrans");
	assert_string_equal(r->message, "handshake not completed: SYN-ACK retransmitted 2 times to [2001:db8:a5::1]:40000: the final ACK is not coming back (return path broken: NAT mapping, asymmetric route, firewall on the way back)");
	assert_non_null(evidence(r, "2 SYN-ACK retransmissions (highest #2)"));
}

static struct aw_event rst4(void)
{
	struct aw_event e = ev(AW_RST_SENT, 100);

	e.family = AF_INET;
	memcpy(e.laddr, SRV4, 16);
	memcpy(e.raddr, CLI4, 16);
	e.reason = 1;
	return e;
}

static void rst_no_listener(void **state)
{
	struct run *run = *state;
	struct aw_owned_listener l = { .l = { .netns = NS_SRV, .family = AF_INET6, .port = PORT },
				       .pid = 300 };
	struct aw_event s = syn(100);
	const struct aw_report *r;

	s.family = AF_INET;
	memcpy(s.laddr, SRV4, 16);
	memcpy(s.raddr, CLI4, 16);
	FOLD(run, s, rst4());
	assert_ptr_equal(aw_diag_rst(&run->d), &run->d.rst);
	/* nothing at all in that namespace */
	run->f.rst_netns_has_process = false;
	r = verdict(run);
	assert_string_equal(r->verdict, "rst_no_listener");
	assert_string_equal(r->message, "RST sent: nothing listens on 192.0.2.2:7002 (netns aw-srv): bound to another address? wrong port? v6only?");
	assert_non_null(evidence(r, "1 SYN for port 7002 reached the host; first from 192.0.2.1:40000 to 192.0.2.2:7002, netns aw-srv"));
	assert_non_null(evidence(r, "1 RST sent from port 7002 (reason NO_SOCKET)"));
	assert_non_null(evidence(r, "no process runs in that network namespace"));
	/* a process, but no listener on the port */
	run->f.rst_netns_has_process = true;
	r = verdict(run);
	assert_non_null(evidence(r, "no socket listens on port 7002 in that namespace"));
	/* an IPv6-only wildcard listener, for an IPv4 client */
	strcpy(l.comm, "python3");
	run->f.rst_listeners = &l;
	run->f.n_rst_listeners = 1;
	r = verdict(run);
	assert_non_null(evidence(r, "a listener on [::]:7002 (pid 300 python3) is IPv6-only (IPV6_V6ONLY): IPv4 clients are refused"));
	/* bound to 127.0.0.1 */
	l.l.family = AF_INET;
	memcpy(l.l.addr, LOOP4, 16);
	r = verdict(run);
	print(r);
	assert_non_null(evidence(r, "a listener on port 7002 is bound to another address: 127.0.0.1:7002 (pid 300 python3); bind to the address clients use, or to 0.0.0.0 / ::"));
}

static void nosocket_drops(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	FOLD(run, syn(100), drop(100, R_NO_SOCKET, AW_TCP_SYN));
	assert_null(aw_diag_rst(&run->d));
	r = verdict(run);
	assert_string_equal(r->verdict, "rst_no_listener");
	assert_string_equal(r->message, "SYNs dropped with reason NO_SOCKET: nothing listens on port 7002");
	assert_non_null(evidence(r, "1 packet dropped with reason NO_SOCKET"));
}

static void tunnel_6in4(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	FOLD(run, tunnelled(syn(100), AW_TUN_6IN4),
	     tunnelled(drop(100, R_IP_NOPROTO, AW_TCP_SYN), AW_TUN_6IN4));
	r = verdict(run);
	print(r);
	assert_string_equal(r->verdict, "tunnel_not_delivered");
	assert_string_equal(r->message, "SYN for port 7002 arrived inside 6in4 from 198.100.0.20 (netns aw-srv) but never came out of the tunnel, dropped with reason IP_NOPROTO: nothing on this host takes IPv4 protocol 41: there is no 6in4 (sit) tunnel; create it, with this remote, on the host the tunnel broker points to");
	assert_non_null(evidence(r, "no SYN for port 7002 was received on any interface outside a tunnel"));
	assert_non_null(evidence(r, "1 tunnel packet carrying a SYN for port 7002 dropped, reason IP_NOPROTO (6in4 from 198.100.0.20)"));
}

static void tunnel_teredo(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	FOLD(run, tunnelled(syn(100), AW_TUN_TEREDO));
	r = verdict(run);
	assert_string_equal(r->verdict, "tunnel_not_delivered");
	assert_non_null(strstr(r->message, "inside Teredo from 198.100.0.20:3545 (netns aw-srv) but never came out of the tunnel: the Teredo client (miredo) did not hand it"));
	FOLD(run, tunnelled(drop(100, R_NO_SOCKET, AW_TCP_SYN), AW_TUN_TEREDO));
	r = verdict(run);
	assert_non_null(strstr(r->message, ", dropped with reason NO_SOCKET: nothing receives that UDP port on this host: is the Teredo client (miredo) running?"));
}

static void syn_unanswered(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	FOLD(run, syn(100), syn(1100), syn(3100));
	r = verdict(run);
	assert_string_equal(r->verdict, "syn_unanswered");
	assert_string_equal(r->message, "3 SYNs reached port 7002 but no handshake, RST or drop followed");
}

static void no_syn(void **state)
{
	struct run *run = *state;
	const struct aw_report *r = verdict(run);

	print(r);
	assert_string_equal(r->verdict, "no_syn");
	assert_string_equal(r->message, "no SYN reached this host for port 7002 in 5 s (look upstream: NAT, port forwarding, firewall, tunnel)");
	assert_string_equal(r->evidence[0], "no SYN for port 7002 was received on any interface (nor inside 6in4 or Teredo)");
	assert_string_equal(r->evidence[1], "no accept() call on port 7002 was seen");
	assert_int_equal(r->n, 2);
	assert_int_equal(r->nwaiting, 0);
}

/* SYNs in the client's namespace too (a router sees them): named, unless --netns. */
static void syns_in_two_namespaces(void **state)
{
	struct run *run = *state;
	struct aw_event there = syn(100);
	const struct aw_report *r;

	there.netns = NS_CLI;
	FOLD(run, there, syn(101));
	r = verdict(run);
	assert_non_null(evidence(r, "SYNs were seen in 2 network namespaces (aw-cli, aw-srv)"));
	run->f.netns_filter = NS_SRV;
	r = verdict(run);
	assert_null(evidence(r, "network namespaces"));
}

static void lost_events(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	run->f.lost_events = 12;
	r = verdict(run);
	assert_string_equal(r->evidence[r->n - 1], "12 events were lost (the ring buffer was full): this verdict may miss some");
}

/* ---- a server that waits for the connection in poll(), or in accept() ---- */

static const struct aw_listener any_listener = {
	.netns = NS_SRV, .family = AF_INET6, .port = PORT, .inode = LISTENER_INODE
};

static const struct aw_waiter ppoll_waiter = {
	.pid = 200, .tid = 200, .comm = "ipv6-server", .call = AW_CALL_PPOLL, .fd = 3,
	.inode = LISTENER_INODE
};

static void waiting_now(struct run *run, const struct aw_waiter *w, int n)
{
	run->f.listeners = &any_listener;
	run->f.nlisteners = 1;
	run->f.waiters = w;
	run->f.nwaiters = n;
}

/* Tutorial 06: ipv6-server waits in ppoll() since before acceptwatch started (only /proc
 * sees it), and no SYN comes. */
static void no_syn_while_polling(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	waiting_now(run, &ppoll_waiter, 1);
	r = verdict(run);
	print(r);
	assert_string_equal(r->verdict, "no_syn");
	assert_string_equal(r->message, "no SYN reached this host for port 7002 in 5 s, while ipv6-server (pid 200) waits in ppoll() on the listening socket: the server is ready, the connections do not reach it (look upstream: NAT, port forwarding, firewall, tunnel)");
	assert_non_null(evidence(r, "ipv6-server (pid 200) waits in ppoll() on the listening socket [::]:7002 (fd 3)"));
	assert_null(evidence(r, "no accept() call"));
	assert_int_equal(r->nwaiting, 1);
	assert_true(r->waiting[0].now);
	assert_int_equal(r->waiting[0].calls, 0);
}

/* The BPF side saw its calls (it started polling after acceptwatch): counted with it; and
 * one it saw that /proc no longer shows "waited". */
static void polls_seen_by_bpf(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	FOLD(run, listening(10, 200), poll_ev(AW_POLL_WAIT, 11, AW_CALL_PPOLL, false),
	     poll_ev(AW_POLL_DONE, 511, AW_CALL_PPOLL, false),
	     poll_ev(AW_POLL_WAIT, 512, AW_CALL_PPOLL, false));
	assert_int_equal(run->d.poll_calls, 2);
	waiting_now(run, &ppoll_waiter, 1);
	r = verdict(run);
	assert_int_equal(r->nwaiting, 1);
	assert_int_equal(r->waiting[0].calls, 2);
	assert_true(r->waiting[0].now);
	assert_non_null(evidence(r, "ipv6-server (pid 200) waits in ppoll() on the listening socket [::]:7002 (fd 3)"));
	/* gone by the end: what the BPF side saw */
	waiting_now(run, NULL, 0);
	r = verdict(run);
	print(r);
	assert_string_equal(r->verdict, "no_syn");
	assert_non_null(strstr(r->message, "while ipv6-server (pid 200) waited in ppoll() on the listening socket: the server was ready"));
	assert_non_null(evidence(r, "ipv6-server (pid 200) waited in ppoll() on the listening socket [::]:7002 (fd 3): 2 calls, none woken by a connection"));
	assert_null(evidence(r, "no accept() call"));
}

/* Tutorial 06, miredo stopped: the verdict is the tunnel's; the evidence names the wait. */
static void tunnel_while_polling(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	FOLD(run, tunnelled(syn(100), AW_TUN_TEREDO),
	     tunnelled(drop(100, R_NO_SOCKET, AW_TCP_SYN), AW_TUN_TEREDO));
	waiting_now(run, &ppoll_waiter, 1);
	r = verdict(run);
	print(r);
	assert_string_equal(r->verdict, "tunnel_not_delivered");
	assert_non_null(evidence(r, "ipv6-server (pid 200) waits in ppoll() on the listening socket [::]:7002 (fd 3)"));
	assert_null(evidence(r, "no accept() call"));
}

/* poll() said a connection is there, and accept() never came: the server's own bug. */
static void woken_but_no_accept(void **state)
{
	struct run *run = *state;
	const struct aw_report *r;

	FOLD(run, poll_ev(AW_POLL_WAIT, 10, AW_CALL_POLL, false), syn(100), tcp_state(100, 10, 3),
	     tcp_state(100, 3, 1), queue(ev(AW_BACKLOG, 100), 1, 16),
	     poll_ev(AW_POLL_DONE, 100, AW_CALL_POLL, true),
	     poll_ev(AW_POLL_WAIT, 101, AW_CALL_POLL, false),
	     poll_ev(AW_POLL_DONE, 101, AW_CALL_POLL, true));
	r = verdict(run);
	print(r);
	assert_string_equal(r->verdict, "not_accepting");
	assert_string_equal(r->message, "connections established but no process is calling accept() on port 7002 (backlog 1/16, 1 established): ipv6-server (pid 200) was woken by poll() on the listening socket 2 times, and did not call accept()");
	assert_non_null(evidence(r, "ipv6-server (pid 200) waited in poll() on the listening socket [::]:7002 (fd 3): 2 calls, 2 woken by a connection"));
}

/* Blocked in accept4() since before start (no accept-wait event): /proc names it. */
static void accept_waiter_before_start(void **state)
{
	struct run *run = *state;
	struct aw_waiter w = ppoll_waiter;
	const struct aw_report *r;

	w.call = AW_CALL_ACCEPT4;
	snprintf(w.comm, sizeof(w.comm), "python3");
	waiting_now(run, &w, 1);
	r = verdict(run);
	assert_string_equal(r->message, "no SYN reached this host for port 7002 in 5 s, while python3 (pid 200) waits in accept4() on the listening socket: the server is ready, the connections do not reach it (look upstream: NAT, port forwarding, firewall, tunnel)");
	assert_non_null(evidence(r, "python3 (pid 200) waits in accept4() on the listening socket [::]:7002 (fd 3)"));
	/* its accept() seen by the BPF side: that line, not a second one */
	FOLD(run, accept_wait(10, 200, 3));
	r = verdict(run);
	assert_non_null(evidence(r, "accept() called 1 time; last by pid 200 (ipv6-server) on fd 3"));
	assert_null(evidence(r, "waits in accept4()"));
}

/* Several threads in the same call are one; poll and accept of one process are two; an
 * epoll waiter is named by its call. A poll-done without its poll-wait counts nothing. */
static void waiters_once_each(void **state)
{
	struct run *run = *state;
	struct aw_waiter w[4] = { ppoll_waiter, ppoll_waiter, ppoll_waiter, ppoll_waiter };
	const struct aw_report *r;

	w[1].tid = 201;
	w[2].call = AW_CALL_ACCEPT;
	w[3].pid = w[3].tid = 400;
	w[3].call = AW_CALL_EPOLL_WAIT;
	snprintf(w[3].comm, sizeof(w[3].comm), "nginx");
	FOLD(run, poll_ev(AW_POLL_DONE, 10, AW_CALL_PPOLL, true));
	assert_int_equal(run->d.npollers, 0);
	waiting_now(run, w, 4);
	r = verdict(run);
	print(r);
	assert_int_equal(r->nwaiting, 3);
	assert_non_null(evidence(r, "ipv6-server (pid 200) waits in ppoll()"));
	assert_non_null(evidence(r, "ipv6-server (pid 200) waits in accept()"));
	assert_non_null(evidence(r, "nginx (pid 400) waits in epoll_wait() on the listening socket [::]:7002 (fd 3)"));
	/* the verdict names one in poll and friends */
	assert_non_null(strstr(r->message, "while ipv6-server (pid 200) waits in ppoll()"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(accepted_early_v4mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(accept_error, setup, teardown),
		cmocka_unit_test_setup_teardown(dropped_by_firewall, setup, teardown),
		cmocka_unit_test_setup_teardown(not_accepting, setup, teardown),
		cmocka_unit_test_setup_teardown(overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(synack_retrans, setup, teardown),
		cmocka_unit_test_setup_teardown(rst_no_listener, setup, teardown),
		cmocka_unit_test_setup_teardown(nosocket_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(tunnel_6in4, setup, teardown),
		cmocka_unit_test_setup_teardown(tunnel_teredo, setup, teardown),
		cmocka_unit_test_setup_teardown(syn_unanswered, setup, teardown),
		cmocka_unit_test_setup_teardown(no_syn, setup, teardown),
		cmocka_unit_test_setup_teardown(syns_in_two_namespaces, setup, teardown),
		cmocka_unit_test_setup_teardown(lost_events, setup, teardown),
		cmocka_unit_test_setup_teardown(no_syn_while_polling, setup, teardown),
		cmocka_unit_test_setup_teardown(polls_seen_by_bpf, setup, teardown),
		cmocka_unit_test_setup_teardown(tunnel_while_polling, setup, teardown),
		cmocka_unit_test_setup_teardown(woken_but_no_accept, setup, teardown),
		cmocka_unit_test_setup_teardown(accept_waiter_before_start, setup, teardown),
		cmocka_unit_test_setup_teardown(waiters_once_each, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
