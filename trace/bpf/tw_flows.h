/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tunnelwatch's tables, folded from the packets (pure: no I/O, no globals):
 *   flows     one row per inner conversation (both directions of a TCP connection are one
 *             flow), with packets, bytes, SYN / SYN-ACK / RST counts, first and last seen
 *   mappings  which outer IPv4 address and port carried which inner IPv6 address (the NAT
 *             mapping of a Teredo client), and what a Teredo address itself says about it */
#ifndef V6LAB_TW_FLOWS_H
#define V6LAB_TW_FLOWS_H

#include <stdbool.h>

#include "tunnelwatch.h"

#define TW_MAX_FLOWS 1024
#define TW_MAX_MAPPINGS 256

struct tw_endpoint {
	unsigned char addr[16];
	unsigned short port; /* 0 for protocols without ports */
};

struct tw_flow {
	unsigned char encap; /* enum tw_encap */
	unsigned char proto; /* inner next header */
	/* a = the side that sent the first SYN (or the first packet seen, without a SYN) */
	struct tw_endpoint a, b;
	bool a_from_syn;     /* a is known to be the client: its SYN was seen */
	unsigned long long packets, bytes; /* bytes: whole packets on the interface */
	unsigned long long syn, synack, rst, bubbles;
	unsigned long long first_ns, last_ns;
};

struct tw_mapping {
	unsigned char encap;
	unsigned int outer_addr;    /* network order */
	unsigned short outer_port;  /* host order; 0 for 6in4 */
	unsigned char inner[16];
	unsigned long long from, to; /* packets the inner address sent / received through it */
	unsigned long long first_ns, last_ns;
};

struct tw_tables {
	struct tw_flow flows[TW_MAX_FLOWS];
	int nflows;
	unsigned long long flows_dropped; /* packets of flows past TW_MAX_FLOWS */
	struct tw_mapping mappings[TW_MAX_MAPPINGS];
	int nmappings;
	unsigned long long mappings_dropped;
};

/* What a Teredo address (2001:0::/32) says: its server, and the client's mapped address and
 * port (stored inverted in the address, RFC 4380 4). */
struct tw_teredo_addr {
	unsigned int server;      /* network order */
	unsigned int mapped_addr; /* network order */
	unsigned short mapped_port;
	bool cone;                /* the "cone" flag bit */
};

void tw_tables_init(struct tw_tables *t);
/* Fold one decoded packet into the flow and mapping tables. */
void tw_tables_add(struct tw_tables *t, const struct tw_event *e);

bool tw_is_teredo_addr(const unsigned char *a);
/* Decode a Teredo address; false if a is not in 2001:0::/32. */
bool tw_teredo_decode(const unsigned char *a, struct tw_teredo_addr *out);

/* "S", "S.", ".", "P.", "F.", "R", "R.", "FP." as tcpdump prints them; "none" for no flags. */
const char *tw_tcp_flags(unsigned char flags, char *buf, unsigned long n);
const char *tw_encap_name(unsigned int encap);
const char *tw_malformed_name(unsigned int why);
const char *tw_proto_name(unsigned int proto); /* "tcp", "icmpv6", "none", or NULL */

#endif
