/* SPDX-License-Identifier: MIT */
/* tunnelwatch's tables (trace/bpf/tw_flows.c), without root or a kernel: a connection's two
 * directions fold into one flow whose client is who sent the SYN (even when the first packet
 * seen is the server's), handshake and reset counts, bubbles, the outer mappings, what a Teredo
 * address says of its NAT mapping, and tcpdump's flag notation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "tw_flows.h"

/* 2001:0:c633:640a:8000:63bf:39cc:9bfd: server 198.51.100.10, cone, mapped 198.51.100.2:40000 */
static const unsigned char TEREDO6[16] = { 0x20, 0x01, 0, 0, 0xc6, 0x33, 0x64, 0x0a,
					   0x80, 0, 0x63, 0xbf, 0x39, 0xcc, 0x9b, 0xfd };
static const unsigned char COURSE6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x01 };

static unsigned int v4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

/* A Teredo TCP segment: from the course client (to_student) or from the student's server. */
static struct tw_event seg(bool to_student, unsigned char flags, unsigned long long ts)
{
	struct tw_event e;

	memset(&e, 0, sizeof(e));
	e.encap = TW_ENCAP_TEREDO;
	e.proto = TW_PROTO_TCP;
	e.tcp_flags = flags;
	e.ts_ns = ts;
	e.pkt_len = 100;
	if (to_student) {
		memcpy(e.inner_saddr, COURSE6, 16), memcpy(e.inner_daddr, TEREDO6, 16);
		e.sport = 41000, e.dport = 7002;
		e.outer_saddr = v4("198.51.100.20"), e.outer_sport = 3545;
		e.outer_daddr = v4("198.51.100.2"), e.outer_dport = 40000;
	} else {
		memcpy(e.inner_saddr, TEREDO6, 16), memcpy(e.inner_daddr, COURSE6, 16);
		e.sport = 7002, e.dport = 41000;
		e.outer_saddr = v4("198.51.100.2"), e.outer_sport = 40000;
		e.outer_daddr = v4("198.51.100.20"), e.outer_dport = 3545;
	}
	return e;
}

static void one_connection_one_flow(void **state)
{
	static struct tw_tables t;
	struct tw_event e;
	const struct tw_flow *f;

	(void)state;
	tw_tables_init(&t);
	/* seen first: a stray segment from the server's side, then the handshake */
	e = seg(false, TW_TCP_ACK, 1), tw_tables_add(&t, &e);
	e = seg(true, TW_TCP_SYN, 2), tw_tables_add(&t, &e);
	e = seg(true, TW_TCP_SYN, 3), tw_tables_add(&t, &e); /* retransmitted */
	e = seg(false, TW_TCP_SYN | TW_TCP_ACK, 4), tw_tables_add(&t, &e);
	e = seg(true, TW_TCP_ACK, 5), tw_tables_add(&t, &e);
	e = seg(false, TW_TCP_RST, 6), tw_tables_add(&t, &e);
	assert_int_equal(t.nflows, 1);
	f = &t.flows[0];
	assert_true(f->a_from_syn);
	assert_memory_equal(f->a.addr, COURSE6, 16); /* the client: it sent the SYN */
	assert_int_equal(f->a.port, 41000);
	assert_int_equal(f->b.port, 7002);
	assert_int_equal(f->packets, 6);
	assert_int_equal(f->bytes, 600);
	assert_int_equal(f->syn, 2);
	assert_int_equal(f->synack, 1);
	assert_int_equal(f->rst, 1);
	assert_int_equal(f->first_ns, 1);
	assert_int_equal(f->last_ns, 6);

	/* another port is another flow */
	e = seg(true, TW_TCP_SYN, 7);
	e.sport = 41001;
	tw_tables_add(&t, &e);
	assert_int_equal(t.nflows, 2);
}

static void mappings_and_teredo_address(void **state)
{
	static struct tw_tables t;
	struct tw_teredo_addr ta;
	struct tw_event e;
	int i, student = -1;

	(void)state;
	tw_tables_init(&t);
	e = seg(true, TW_TCP_SYN, 1), tw_tables_add(&t, &e);
	e = seg(false, TW_TCP_SYN | TW_TCP_ACK, 2), tw_tables_add(&t, &e);
	assert_int_equal(t.nmappings, 2); /* the student behind the NAT, the course behind the relay */
	for (i = 0; i < t.nmappings; i++)
		if (!memcmp(t.mappings[i].inner, TEREDO6, 16))
			student = i;
	assert_true(student >= 0);
	assert_int_equal(t.mappings[student].outer_addr, v4("198.51.100.2"));
	assert_int_equal(t.mappings[student].outer_port, 40000);
	assert_int_equal(t.mappings[student].from, 1);
	assert_int_equal(t.mappings[student].to, 1);

	assert_true(tw_teredo_decode(TEREDO6, &ta));
	assert_int_equal(ta.server, v4("198.51.100.10"));
	assert_int_equal(ta.mapped_addr, v4("198.51.100.2"));
	assert_int_equal(ta.mapped_port, 40000);
	assert_true(ta.cone);
	assert_false(tw_teredo_decode(COURSE6, &ta));
}

static void bubbles_and_icmp(void **state)
{
	static struct tw_tables t;
	struct tw_event e;

	(void)state;
	tw_tables_init(&t);
	e = seg(false, 0, 1);
	e.proto = TW_PROTO_NONE, e.flags = TW_F_BUBBLE, e.sport = e.dport = 0;
	tw_tables_add(&t, &e);
	e.ts_ns = 2;
	tw_tables_add(&t, &e);
	assert_int_equal(t.nflows, 1);
	assert_int_equal(t.flows[0].bubbles, 2);
	assert_int_equal(t.flows[0].syn, 0);
	/* ICMPv6 type and code are not ports: echo request and reply are one flow */
	e = seg(true, 0, 3);
	e.proto = TW_PROTO_ICMPV6, e.sport = 128, e.dport = 0;
	tw_tables_add(&t, &e);
	e = seg(false, 0, 4);
	e.proto = TW_PROTO_ICMPV6, e.sport = 129, e.dport = 0;
	tw_tables_add(&t, &e);
	assert_int_equal(t.nflows, 2);
	assert_int_equal(t.flows[1].packets, 2);
}

static void tcpdump_flags(void **state)
{
	char b[12];

	(void)state;
	assert_string_equal(tw_tcp_flags(TW_TCP_SYN, b, sizeof(b)), "S");
	assert_string_equal(tw_tcp_flags(TW_TCP_SYN | TW_TCP_ACK, b, sizeof(b)), "S.");
	assert_string_equal(tw_tcp_flags(TW_TCP_ACK, b, sizeof(b)), ".");
	assert_string_equal(tw_tcp_flags(TW_TCP_PSH | TW_TCP_ACK, b, sizeof(b)), "P.");
	assert_string_equal(tw_tcp_flags(TW_TCP_FIN | TW_TCP_ACK, b, sizeof(b)), "F.");
	assert_string_equal(tw_tcp_flags(TW_TCP_FIN | TW_TCP_PSH | TW_TCP_ACK, b, sizeof(b)), "FP.");
	assert_string_equal(tw_tcp_flags(TW_TCP_RST, b, sizeof(b)), "R");
	assert_string_equal(tw_tcp_flags(TW_TCP_RST | TW_TCP_ACK, b, sizeof(b)), "R.");
	assert_string_equal(tw_tcp_flags(0, b, sizeof(b)), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_connection_one_flow),
		cmocka_unit_test(mappings_and_teredo_address),
		cmocka_unit_test(bubbles_and_icmp),
		cmocka_unit_test(tcpdump_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
