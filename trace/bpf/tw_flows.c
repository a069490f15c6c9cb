// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tunnelwatch's flow and mapping tables (see tw_flows.h), and the names of its enums. */
#include <stdio.h>
#include <string.h>

#include "tw_flows.h"

void tw_tables_init(struct tw_tables *t)
{
	memset(t, 0, sizeof(*t));
}

static bool same_endpoint(const struct tw_endpoint *x, const unsigned char *addr,
			  unsigned short port)
{
	return x->port == port && !memcmp(x->addr, addr, 16);
}

static void set_endpoint(struct tw_endpoint *x, const unsigned char *addr, unsigned short port)
{
	memcpy(x->addr, addr, 16);
	x->port = port;
}

static bool has_ports(unsigned int proto)
{
	return proto == TW_PROTO_TCP;
}

static bool is_syn(const struct tw_event *e)
{
	return e->proto == TW_PROTO_TCP && (e->tcp_flags & (TW_TCP_SYN | TW_TCP_ACK)) == TW_TCP_SYN;
}

static void add_flow(struct tw_tables *t, const struct tw_event *e)
{
	unsigned short sport = has_ports(e->proto) ? e->sport : 0;
	unsigned short dport = has_ports(e->proto) ? e->dport : 0;
	struct tw_flow *f = NULL;
	bool forward = true;
	int i;

	for (i = 0; i < t->nflows; i++) {
		struct tw_flow *c = &t->flows[i];

		if (c->encap != e->encap || c->proto != e->proto)
			continue;
		if (same_endpoint(&c->a, e->inner_saddr, sport) &&
		    same_endpoint(&c->b, e->inner_daddr, dport)) {
			f = c;
			break;
		}
		if (same_endpoint(&c->b, e->inner_saddr, sport) &&
		    same_endpoint(&c->a, e->inner_daddr, dport)) {
			f = c;
			forward = false;
			break;
		}
	}
	if (!f) {
		if (t->nflows == TW_MAX_FLOWS) {
			t->flows_dropped++;
			return;
		}
		f = &t->flows[t->nflows++];
		memset(f, 0, sizeof(*f));
		f->encap = e->encap;
		f->proto = e->proto;
		set_endpoint(&f->a, e->inner_saddr, sport);
		set_endpoint(&f->b, e->inner_daddr, dport);
		f->first_ns = e->ts_ns;
	}
	/* The client is who sent the SYN: a flow first seen from its server's side turns round. */
	if (is_syn(e) && !f->a_from_syn) {
		if (!forward) {
			struct tw_endpoint tmp = f->a;

			f->a = f->b;
			f->b = tmp;
		}
		f->a_from_syn = true;
	}
	f->packets++;
	f->bytes += e->pkt_len;
	f->last_ns = e->ts_ns;
	if (e->proto == TW_PROTO_TCP) {
		if (is_syn(e))
			f->syn++;
		else if ((e->tcp_flags & (TW_TCP_SYN | TW_TCP_ACK)) == (TW_TCP_SYN | TW_TCP_ACK))
			f->synack++;
		if (e->tcp_flags & TW_TCP_RST)
			f->rst++;
	}
	if (e->flags & TW_F_BUBBLE)
		f->bubbles++;
}

static void add_mapping(struct tw_tables *t, const struct tw_event *e, unsigned int outer,
			unsigned short port, const unsigned char *inner, bool from)
{
	struct tw_mapping *m = NULL;
	int i;

	for (i = 0; i < t->nmappings; i++) {
		struct tw_mapping *c = &t->mappings[i];

		if (c->encap == e->encap && c->outer_addr == outer && c->outer_port == port &&
		    !memcmp(c->inner, inner, 16)) {
			m = c;
			break;
		}
	}
	if (!m) {
		if (t->nmappings == TW_MAX_MAPPINGS) {
			t->mappings_dropped++;
			return;
		}
		m = &t->mappings[t->nmappings++];
		memset(m, 0, sizeof(*m));
		m->encap = e->encap;
		m->outer_addr = outer;
		m->outer_port = port;
		memcpy(m->inner, inner, 16);
		m->first_ns = e->ts_ns;
	}
	if (from)
		m->from++;
	else
		m->to++;
	m->last_ns = e->ts_ns;
}

void tw_tables_add(struct tw_tables *t, const struct tw_event *e)
{
	add_flow(t, e);
	if (e->encap == TW_ENCAP_NONE)
		return;
	/* The outer source carried the inner source; the outer destination is where the inner
	 * destination is reached. (VXLAN's outer ports are the tunnel's, not a host's: kept.) */
	add_mapping(t, e, e->outer_saddr, e->outer_sport, e->inner_saddr, true);
	add_mapping(t, e, e->outer_daddr, e->outer_dport, e->inner_daddr, false);
}

bool tw_is_teredo_addr(const unsigned char *a)
{
	return a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0;
}

bool tw_teredo_decode(const unsigned char *a, struct tw_teredo_addr *out)
{
	unsigned int mapped;

	if (!tw_is_teredo_addr(a))
		return false;
	memcpy(&out->server, a + 4, 4);
	out->cone = a[8] & 0x80;
	out->mapped_port = (unsigned short)~((a[10] << 8) | a[11]);
	memcpy(&mapped, a + 12, 4);
	out->mapped_addr = ~mapped;
	return true;
}

const char *tw_tcp_flags(unsigned char flags, char *buf, unsigned long n)
{
	/* tcpdump's order: F S R P U E W, then '.' for ACK */
	static const struct {
		unsigned char bit;
		char c;
	} order[] = { { 0x01, 'F' }, { 0x02, 'S' }, { 0x04, 'R' }, { 0x08, 'P' },
		      { 0x20, 'U' }, { 0x40, 'E' }, { 0x80, 'W' }, { 0x10, '.' } };
	unsigned long i, k = 0;

	if (!flags) {
		snprintf(buf, n, "none");
		return buf;
	}
	for (i = 0; i < sizeof(order) / sizeof(order[0]) && k + 1 < n; i++)
		if (flags & order[i].bit)
			buf[k++] = order[i].c;
	buf[k] = 0;
	return buf;
}

const char *tw_encap_name(unsigned int encap)
{
	static const char *names[] = { "none", "teredo", "6in4", "vxlan" };

	return encap <= TW_ENCAP_MAX ? names[encap] : "?";
}

const char *tw_malformed_name(unsigned int why)
{
	static const char *names[] = { "none", "ipv4", "fragment", "udp", "teredo",
				       "vxlan", "ipv6", "tcp", "icmpv6" };

	return why <= TW_BAD_MAX ? names[why] : "?";
}

const char *tw_proto_name(unsigned int proto)
{
	switch (proto) {
	case TW_PROTO_TCP:
		return "tcp";
	case TW_PROTO_ICMPV6:
		return "icmpv6";
	case TW_PROTO_NONE:
		return "none";
	}
	return NULL;
}
