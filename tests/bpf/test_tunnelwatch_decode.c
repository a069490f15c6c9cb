/* SPDX-License-Identifier: MIT */
/* tunnelwatch's decoder (trace/bpf/tunnelwatch.bpf.c) in the kernel, on hand-built packets,
 * with bpf_prog_test_run: Teredo (port 3544, and another port by its shape), 6in4 and VXLAN
 * carrying TCP, ICMPv6 and a bubble; the Teredo authentication header and origin indication;
 * every truncation of a valid packet (never decoded), packets cut inside each layer with the
 * outer lengths made to fit (counted where they broke), wrong versions and lengths; and UDP that
 * is not a tunnel (neither decoded nor counted). Needs root: exits 77 (skipped) otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tunnelwatch.h"
#include "tunnelwatch.skel.h"

#define SKIP_CODE 77
#define MAX_EVENTS 8
#define PKT_MAX 512

static struct tunnelwatch_bpf *skel;
static struct ring_buffer *rb;
static struct tw_event got[MAX_EVENTS];
static int ngot;

static const unsigned char CLIENT6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x01, };
static const unsigned char TEREDO6[16] = { 0x20, 0x01, 0, 0, 0xc6, 0x33, 0x64, 0x0a, 0x80, 0,
					   0x63, 0xbf, 0x39, 0xcc, 0x9b, 0xfd };

/* ---- building packets ---- */

struct pkt {
	unsigned char b[PKT_MAX];
	unsigned int n;
	/* where each header starts, to fix lengths after the fact */
	unsigned int ip4, udp, ip6, l4;
};

static void put(struct pkt *p, const void *data, unsigned int n)
{
	assert_true(p->n + n <= PKT_MAX);
	memcpy(p->b + p->n, data, n);
	p->n += n;
}

static void put16(struct pkt *p, unsigned int v)
{
	unsigned char x[2] = { v >> 8, v & 0xff };

	put(p, x, 2);
}

static void eth(struct pkt *p, unsigned int type)
{
	static const unsigned char macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	put(p, macs, sizeof(macs));
	put16(p, type);
}

static void ipv4(struct pkt *p, unsigned int proto, const char *src, const char *dst)
{
	unsigned char h[20] = { 0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto };

	inet_pton(AF_INET, src, h + 12);
	inet_pton(AF_INET, dst, h + 16);
	p->ip4 = p->n;
	put(p, h, sizeof(h));
}

static void udp(struct pkt *p, unsigned int sport, unsigned int dport)
{
	p->udp = p->n;
	put16(p, sport);
	put16(p, dport);
	put16(p, 0); /* length: fix_lengths() */
	put16(p, 0);
}

static void ipv6(struct pkt *p, unsigned int next, const unsigned char *src, const unsigned char *dst)
{
	unsigned char h[8] = { 0x60, 0, 0, 0, 0, 0, next, 64 };

	p->ip6 = p->n;
	put(p, h, sizeof(h));
	put(p, src, 16);
	put(p, dst, 16);
}

static void tcp(struct pkt *p, unsigned int sport, unsigned int dport, unsigned int flags,
		unsigned int data)
{
	unsigned char h[20] = { 0 };

	h[0] = sport >> 8, h[1] = sport, h[2] = dport >> 8, h[3] = dport;
	h[12] = 5 << 4;
	h[13] = flags;
	h[14] = 0xff;
	p->l4 = p->n;
	put(p, h, sizeof(h));
	while (data--)
		put(p, "x", 1);
}

/* IPv4 total length, UDP length and IPv6 payload length from where each starts to the end. */
static void fix_lengths(struct pkt *p)
{
	unsigned int v;

	if (p->ip4) {
		v = p->n - p->ip4;
		p->b[p->ip4 + 2] = v >> 8, p->b[p->ip4 + 3] = v;
	}
	if (p->udp) {
		v = p->n - p->udp;
		p->b[p->udp + 4] = v >> 8, p->b[p->udp + 5] = v;
	}
	if (p->ip6) {
		v = p->n - p->ip6 - 40;
		p->b[p->ip6 + 4] = v >> 8, p->b[p->ip6 + 5] = v;
	}
}

/* Eth / IPv4 / UDP sport -> dport / IPv6 client -> Teredo / TCP 40000 -> 7002 flags */
static void teredo_tcp(struct pkt *p, unsigned int sport, unsigned int dport, unsigned int flags,
		       unsigned int data)
{
	memset(p, 0, sizeof(*p));
	eth(p, 0x0800);
	ipv4(p, 17, "198.51.100.20", "198.51.100.2");
	udp(p, sport, dport);
	ipv6(p, 6, CLIENT6, TEREDO6);
	tcp(p, 40000, 7002, flags, data);
	fix_lengths(p);
}

/* ---- running the program ---- */

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	assert_int_equal(size, sizeof(struct tw_event));
	if (ngot < MAX_EVENTS)
		memcpy(&got[ngot], data, sizeof(struct tw_event));
	ngot++;
	return 0;
}

/* Run tw_ingress (or tw_egress) on n bytes of p; the events it sent are in got[]. */
static void run_prog(const struct pkt *p, unsigned int n, bool egress)
{
	struct bpf_program *prog = egress ? skel->progs.tw_egress : skel->progs.tw_ingress;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = n, .repeat = 1);
	int err;

	ngot = 0;
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);
	if (err)
		fprintf(stderr, "bpf_prog_test_run on %u bytes: %s\n", n, strerror(-err));
	assert_int_equal(err, 0);
	assert_int_equal((int)o.retval, -1); /* TC_ACT_UNSPEC: the packet goes on unchanged */
	ring_buffer__consume(rb);
}

static unsigned long long bad(int why)
{
	return skel->bss->counters.malformed[why];
}

/* Run p cut to n bytes; it must not be decoded, and be counted as `why` (or nowhere: 0). */
static void expect_malformed(const struct pkt *p, unsigned int n, int why)
{
	unsigned long long before[TW_BAD_MAX + 1];
	int i;

	memcpy(before, (const void *)skel->bss->counters.malformed, sizeof(before));
	run_prog(p, n, false);
	assert_int_equal(ngot, 0);
	for (i = 1; i <= TW_BAD_MAX; i++) {
		if (i == why)
			assert_int_equal(bad(i), before[i] + 1);
		else
			assert_int_equal(bad(i), before[i]);
	}
}

/* ---- decoded packets ---- */

static void teredo_port_3544_syn(void **state)
{
	struct pkt p;
	struct in_addr a;

	(void)state;
	teredo_tcp(&p, 3544, 40000, TW_TCP_SYN, 0);
	run_prog(&p, p.n, false);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].encap, TW_ENCAP_TEREDO);
	assert_int_equal(got[0].dir, TW_DIR_IN);
	assert_int_equal(got[0].proto, TW_PROTO_TCP);
	assert_int_equal(got[0].sport, 40000);
	assert_int_equal(got[0].dport, 7002);
	assert_int_equal(got[0].tcp_flags, TW_TCP_SYN);
	assert_int_equal(got[0].payload_len, 0);
	assert_int_equal(got[0].outer_sport, 3544);
	assert_int_equal(got[0].outer_dport, 40000);
	assert_int_equal(got[0].pkt_len, p.n);
	assert_int_equal(got[0].flags, 0);
	inet_pton(AF_INET, "198.51.100.20", &a);
	assert_int_equal(got[0].outer_saddr, a.s_addr);
	assert_memory_equal(got[0].inner_saddr, CLIENT6, 16);
	assert_memory_equal(got[0].inner_daddr, TEREDO6, 16);
}

/* A relay's port (the lab's 3545): Teredo by its shape; egress. */
static void teredo_other_port_by_shape(void **state)
{
	struct pkt p;

	(void)state;
	teredo_tcp(&p, 3545, 40000, TW_TCP_SYN | TW_TCP_ACK, 5);
	run_prog(&p, p.n, true);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].encap, TW_ENCAP_TEREDO);
	assert_int_equal(got[0].dir, TW_DIR_OUT);
	assert_int_equal(got[0].tcp_flags, TW_TCP_SYN | TW_TCP_ACK);
	assert_int_equal(got[0].payload_len, 5);
}

/* The server's bubble to a client: authentication header, origin indication, next header 59. */
static void teredo_auth_origin_bubble(void **state)
{
	static const unsigned char auth[4] = { 0, 1, 2, 3 }; /* ID-len 2, AU-len 3 */
	static const unsigned char rest[2 + 3 + 8 + 1] = { 'i', 'd', 'a', 'u', 'v' };
	unsigned char origin[8] = { 0, 0, (unsigned char)~(40000 >> 8), (unsigned char)~40000 };
	struct in_addr mapped;
	struct pkt p;
	int i;

	(void)state;
	inet_pton(AF_INET, "198.51.100.2", &mapped);
	for (i = 0; i < 4; i++)
		origin[4 + i] = ~((unsigned char *)&mapped.s_addr)[i];
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 17, "198.51.100.10", "198.51.100.2");
	udp(&p, 3544, 40000);
	put(&p, auth, sizeof(auth));
	put(&p, rest, sizeof(rest));
	put(&p, origin, sizeof(origin));
	ipv6(&p, 59, CLIENT6, TEREDO6);
	fix_lengths(&p);
	run_prog(&p, p.n, false);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].flags, TW_F_TEREDO_AUTH | TW_F_TEREDO_ORIGIN | TW_F_BUBBLE);
	assert_int_equal(got[0].proto, TW_PROTO_NONE);
	assert_int_equal(got[0].origin_port, 40000);
	assert_int_equal(got[0].origin_addr, mapped.s_addr);
	assert_int_equal(got[0].payload_len, 0);

	/* the auth header's lengths run past the datagram: counted as Teredo, not decoded */
	p.b[p.udp + 8 + 3] = 200;
	expect_malformed(&p, p.n, TW_BAD_TEREDO);
}

static void sixin4_tcp(void **state)
{
	struct pkt p;

	(void)state;
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 41, "192.0.2.1", "192.0.2.2");
	ipv6(&p, 6, CLIENT6, TEREDO6);
	tcp(&p, 40000, 7002, TW_TCP_RST, 0);
	fix_lengths(&p);
	run_prog(&p, p.n, false);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].encap, TW_ENCAP_6IN4);
	assert_int_equal(got[0].tcp_flags, TW_TCP_RST);
	assert_int_equal(got[0].outer_sport, 0);
	assert_int_equal(got[0].outer_dport, 0);

	/* a fragment: the inner packet is not all here */
	p.b[p.ip4 + 6] = 0x20;
	expect_malformed(&p, p.n, TW_BAD_FRAGMENT);
	p.b[p.ip4 + 6] = 0;
	/* the IPv4 header says more than the frame holds */
	p.b[p.ip4 + 3] += 1;
	expect_malformed(&p, p.n, TW_BAD_IPV4);
}

static void vxlan_tcp_and_icmpv6(void **state)
{
	static const unsigned char vx[8] = { 0x08, 0, 0, 0, 0, 0, 42, 0 };
	struct pkt p;

	(void)state;
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 17, "198.51.100.2", "198.51.100.30");
	udp(&p, 4790, 4789);
	put(&p, vx, sizeof(vx));
	eth(&p, 0x86DD);
	ipv6(&p, 58, TEREDO6, CLIENT6);
	put(&p, "\x80\x00\x00\x00\x00\x01\x00\x01", 8); /* echo request */
	fix_lengths(&p);
	run_prog(&p, p.n, false);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].encap, TW_ENCAP_VXLAN);
	assert_int_equal(got[0].proto, TW_PROTO_ICMPV6);
	assert_int_equal(got[0].sport, 128); /* ICMPv6 type */
	assert_int_equal(got[0].dport, 0);   /* code */
	assert_int_equal(got[0].outer_dport, 4789);

	/* no I flag */
	p.b[p.udp + 8] = 0;
	expect_malformed(&p, p.n, TW_BAD_VXLAN);
	p.b[p.udp + 8] = 0x08;
	/* ARP inside: not IPv6, neither decoded nor counted */
	p.b[p.udp + 8 + 8 + 12] = 0x08, p.b[p.udp + 8 + 8 + 13] = 0x06;
	expect_malformed(&p, p.n, 0);
}

/* ---- what must not be decoded ---- */

/* Every truncation of a valid packet (lengths left as they were): never decoded. */
static void every_truncation(void **state)
{
	struct pkt p;
	unsigned int n;

	(void)state;
	teredo_tcp(&p, 3544, 40000, TW_TCP_SYN | TW_TCP_PSH | TW_TCP_ACK, 30);
	/* from the whole IPv4 header on: bpf_prog_test_run refuses a shorter IPv4 frame */
	for (n = 14 + 20; n < p.n; n++) {
		run_prog(&p, n, false);
		assert_int_equal(ngot, 0);
	}
	run_prog(&p, p.n, false);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].payload_len, 30);
}

/* Cut inside each layer, with the outer lengths made to fit the cut: counted there. */
static void cut_inside_each_layer(void **state)
{
	struct pkt p;

	(void)state;
	/* inside the UDP header: port 3544 seen, but no whole UDP header */
	teredo_tcp(&p, 3544, 40000, TW_TCP_SYN, 0);
	p.n = p.udp + 6;
	p.ip6 = 0, p.udp = 0;
	fix_lengths(&p);
	expect_malformed(&p, p.n, 0); /* no whole UDP header: nothing claims to be a tunnel */
	/* UDP length larger than the IPv4 payload */
	teredo_tcp(&p, 3544, 40000, TW_TCP_SYN, 0);
	p.b[p.udp + 5] += 4;
	expect_malformed(&p, p.n, TW_BAD_UDP);
	/* inside the IPv6 header */
	teredo_tcp(&p, 3544, 40000, TW_TCP_SYN, 0);
	p.n = p.ip6 + 30;
	p.ip6 = 0;
	fix_lengths(&p);
	expect_malformed(&p, p.n, TW_BAD_IPV6);
	/* inside the TCP header, the IPv6 payload length saying so */
	teredo_tcp(&p, 3544, 40000, TW_TCP_SYN, 0);
	p.n = p.l4 + 10;
	fix_lengths(&p);
	expect_malformed(&p, p.n, TW_BAD_TCP);
	/* a TCP data offset past the segment */
	teredo_tcp(&p, 3544, 40000, TW_TCP_SYN, 0);
	p.b[p.l4 + 12] = 15 << 4;
	expect_malformed(&p, p.n, TW_BAD_TCP);
	/* a 2-byte ICMPv6 message */
	teredo_tcp(&p, 3544, 40000, TW_TCP_SYN, 0);
	p.b[p.ip6 + 6] = 58;
	p.n = p.l4 + 2;
	fix_lengths(&p);
	expect_malformed(&p, p.n, TW_BAD_ICMPV6);
	/* origin indication cut short (the datagram holds only its first 4 bytes) */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 17, "198.51.100.10", "198.51.100.2");
	udp(&p, 3544, 40000);
	put(&p, "\0\0\x63\xbf", 4);
	fix_lengths(&p);
	expect_malformed(&p, p.n, TW_BAD_TEREDO);
}

static void wrong_version_and_length(void **state)
{
	struct pkt p;

	(void)state;
	/* on port 3544: malformed IPv6 */
	teredo_tcp(&p, 3544, 40000, TW_TCP_SYN, 0);
	p.b[p.ip6] = 0x50;
	expect_malformed(&p, p.n, TW_BAD_IPV6);
	teredo_tcp(&p, 3544, 40000, TW_TCP_SYN, 0);
	p.b[p.ip6 + 5] -= 1; /* payload length one short of the datagram */
	expect_malformed(&p, p.n, TW_BAD_IPV6);
	/* on another port the same packets do not have Teredo's shape: not a tunnel, not counted */
	teredo_tcp(&p, 3545, 40000, TW_TCP_SYN, 0);
	p.b[p.ip6] = 0x50;
	expect_malformed(&p, p.n, 0);
	teredo_tcp(&p, 3545, 40000, TW_TCP_SYN, 0);
	p.b[p.ip6 + 5] -= 1;
	expect_malformed(&p, p.n, 0);
}

/* DNS, plain IPv4 TCP, an ARP frame: not tunnels. */
static void not_tunnels(void **state)
{
	struct pkt p;
	unsigned long long decoded = skel->bss->counters.decoded;

	(void)state;
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 17, "192.0.2.1", "192.0.2.53");
	udp(&p, 40000, 53);
	put(&p, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	fix_lengths(&p);
	expect_malformed(&p, p.n, 0);
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0800);
	ipv4(&p, 6, "192.0.2.1", "192.0.2.2");
	tcp(&p, 40000, 50000, TW_TCP_SYN, 0);
	fix_lengths(&p);
	expect_malformed(&p, p.n, 0);
	memset(&p, 0, sizeof(p));
	eth(&p, 0x0806);
	put(&p, "\0\1\x08\0\6\4\0\1", 8);
	expect_malformed(&p, p.n, 0);
	/* native IPv6 on an Ethernet interface without --native */
	memset(&p, 0, sizeof(p));
	eth(&p, 0x86DD);
	ipv6(&p, 6, CLIENT6, TEREDO6);
	tcp(&p, 40000, 7002, TW_TCP_SYN, 0);
	fix_lengths(&p);
	expect_malformed(&p, p.n, 0);
	assert_int_equal(skel->bss->counters.decoded, decoded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(teredo_port_3544_syn),
		cmocka_unit_test(teredo_other_port_by_shape),
		cmocka_unit_test(teredo_auth_origin_bubble),
		cmocka_unit_test(sixin4_tcp),
		cmocka_unit_test(vxlan_tcp_and_icmpv6),
		cmocka_unit_test(every_truncation),
		cmocka_unit_test(cut_inside_each_layer),
		cmocka_unit_test(wrong_version_and_length),
		cmocka_unit_test(not_tunnels),
	};
	int err, rc;

	if (geteuid() != 0) {
		printf("SKIP: loading tc programs needs root\n");
		return SKIP_CODE;
	}
	skel = tunnelwatch_bpf__open();
	if (!skel) {
		printf("FAIL: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	err = tunnelwatch_bpf__load(skel);
	if (err) {
		printf("FAIL: loading tunnelwatch's tc programs: %s\n", strerror(-err));
		return 1;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
	if (!rb) {
		printf("FAIL: ring buffer: %s\n", strerror(errno));
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	ring_buffer__free(rb);
	tunnelwatch_bpf__destroy(skel);
	return rc;
}
