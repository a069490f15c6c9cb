// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tunnelwatch's output (see tw_print.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "tw_print.h"

#define ADDR_LEN INET6_ADDRSTRLEN
#define EP_LEN (INET6_ADDRSTRLEN + 8)

static const char *ipv4_str(unsigned int a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, ADDR_LEN);
}

static const char *ipv6_str(const unsigned char *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, ADDR_LEN);
}

static double rel_s(unsigned long long ts, unsigned long long start)
{
	return ts > start ? (ts - start) / 1e9 : 0.0;
}

/* One packet, described once: every string both renderers need. */
struct tw_view {
	const char *dir, *encap, *proto; /* proto: "tcp", "icmpv6", "none" or NULL (a number) */
	char outer_src[ADDR_LEN], outer_dst[ADDR_LEN];
	char inner_src[ADDR_LEN], inner_dst[ADDR_LEN];
	char flags[12];
	char origin[ADDR_LEN];
	bool tcp, icmp, outer, ports, bubble, auth, has_origin;
};

static void describe(const struct tw_event *e, struct tw_view *v)
{
	memset(v, 0, sizeof(*v));
	v->dir = e->dir == TW_DIR_OUT ? "out" : "in";
	v->encap = tw_encap_name(e->encap);
	v->proto = tw_proto_name(e->proto);
	v->outer = e->encap != TW_ENCAP_NONE;
	v->ports = e->encap == TW_ENCAP_TEREDO || e->encap == TW_ENCAP_VXLAN;
	if (v->outer) {
		ipv4_str(e->outer_saddr, v->outer_src);
		ipv4_str(e->outer_daddr, v->outer_dst);
	}
	ipv6_str(e->inner_saddr, v->inner_src);
	ipv6_str(e->inner_daddr, v->inner_dst);
	v->tcp = e->proto == TW_PROTO_TCP;
	v->icmp = e->proto == TW_PROTO_ICMPV6;
	if (v->tcp)
		tw_tcp_flags(e->tcp_flags, v->flags, sizeof(v->flags));
	v->bubble = e->flags & TW_F_BUBBLE;
	v->auth = e->flags & TW_F_TEREDO_AUTH;
	v->has_origin = e->flags & TW_F_TEREDO_ORIGIN;
	if (v->has_origin)
		ipv4_str(e->origin_addr, v->origin);
}

static const char *icmpv6_type_name(unsigned int type)
{
	switch (type) {
	case 1: return "unreachable";
	case 2: return "packet too big";
	case 3: return "time exceeded";
	case 128: return "echo request";
	case 129: return "echo reply";
	case 133: return "router solicitation";
	case 134: return "router advertisement";
	case 135: return "neighbor solicitation";
	case 136: return "neighbor advertisement";
	}
	return NULL;
}

static void packet_text(FILE *out, const struct tw_event *e, const struct tw_view *v, double t)
{
	const char *icmp_name;

	fprintf(out, "%10.6f %-3s %-6s ", t, v->dir, v->encap);
	if (v->ports)
		fprintf(out, "%s:%u > %s:%u: ", v->outer_src, e->outer_sport, v->outer_dst,
			e->outer_dport);
	else if (v->outer)
		fprintf(out, "%s > %s: ", v->outer_src, v->outer_dst);
	if (v->tcp) {
		fprintf(out, "[%s]:%u > [%s]:%u tcp %s len %u", v->inner_src, e->sport, v->inner_dst,
			e->dport, v->flags, e->payload_len);
	} else {
		fprintf(out, "%s > %s ", v->inner_src, v->inner_dst);
		if (v->bubble)
			fprintf(out, "bubble");
		else if (v->icmp && (icmp_name = icmpv6_type_name(e->sport)))
			fprintf(out, "icmpv6 %s", icmp_name);
		else if (v->icmp)
			fprintf(out, "icmpv6 type %u code %u", e->sport, e->dport);
		else if (v->proto)
			fprintf(out, "%s len %u", v->proto, e->payload_len);
		else
			fprintf(out, "proto %u len %u", e->proto, e->payload_len);
	}
	if (v->auth)
		fprintf(out, " (teredo auth)");
	if (v->has_origin)
		fprintf(out, " (teredo origin %s:%u)", v->origin, e->origin_port);
	fputc('\n', out);
}

static void json_str_or_null(FILE *out, const char *key, const char *s, bool present)
{
	if (present)
		fprintf(out, ",\"%s\":\"%s\"", key, s);
	else
		fprintf(out, ",\"%s\":null", key);
}

static void json_num_or_null(FILE *out, const char *key, unsigned int n, bool present)
{
	if (present)
		fprintf(out, ",\"%s\":%u", key, n);
	else
		fprintf(out, ",\"%s\":null", key);
}

static void packet_json(FILE *out, const struct tw_event *e, const struct tw_view *v, double t)
{
	fprintf(out, "{\"type\":\"packet\",\"t\":%.6f,\"dir\":\"%s\",\"encap\":\"%s\"", t, v->dir,
		v->encap);
	json_str_or_null(out, "outer_src", v->outer_src, v->outer);
	json_num_or_null(out, "outer_sport", e->outer_sport, v->ports);
	json_str_or_null(out, "outer_dst", v->outer_dst, v->outer);
	json_num_or_null(out, "outer_dport", e->outer_dport, v->ports);
	fprintf(out, ",\"inner_src\":\"%s\",\"inner_dst\":\"%s\"", v->inner_src, v->inner_dst);
	if (v->proto)
		fprintf(out, ",\"proto\":\"%s\"", v->proto);
	else
		fprintf(out, ",\"proto\":%u", e->proto);
	json_num_or_null(out, "sport", e->sport, v->tcp);
	json_num_or_null(out, "dport", e->dport, v->tcp);
	json_str_or_null(out, "flags", v->flags, v->tcp);
	json_num_or_null(out, "icmp_type", e->sport, v->icmp);
	json_num_or_null(out, "icmp_code", e->dport, v->icmp);
	fprintf(out, ",\"len\":%u,\"bytes\":%u,\"bubble\":%s,\"teredo_auth\":%s", e->payload_len,
		e->pkt_len, v->bubble ? "true" : "false", v->auth ? "true" : "false");
	if (v->has_origin)
		fprintf(out, ",\"teredo_origin\":\"%s:%u\"", v->origin, e->origin_port);
	else
		fprintf(out, ",\"teredo_origin\":null");
	fprintf(out, "}\n");
}

void tw_print_packet(FILE *out, const struct tw_event *e, unsigned long long start_ns, bool json)
{
	struct tw_view v;

	describe(e, &v);
	if (json)
		packet_json(out, e, &v, rel_s(e->ts_ns, start_ns));
	else
		packet_text(out, e, &v, rel_s(e->ts_ns, start_ns));
}

/* ---- tables ---- */

static const char *endpoint_str(const struct tw_flow *f, const struct tw_endpoint *x, char *buf)
{
	char a[ADDR_LEN];

	ipv6_str(x->addr, a);
	if (f->proto == TW_PROTO_TCP)
		snprintf(buf, EP_LEN, "[%s]:%u", a, x->port);
	else
		snprintf(buf, EP_LEN, "%s", a);
	return buf;
}

static const char *flow_proto(const struct tw_flow *f, char *buf)
{
	const char *p = tw_proto_name(f->proto);

	if (f->bubbles && f->bubbles == f->packets)
		return "bubble";
	if (p)
		return p;
	snprintf(buf, 8, "%u", f->proto);
	return buf;
}

/* What the Teredo address says of its mapping, against the outer address that carried it. */
static void teredo_check(const struct tw_mapping *m, char *buf, size_t n)
{
	struct tw_teredo_addr ta;
	char server[ADDR_LEN], mapped[ADDR_LEN];

	buf[0] = 0;
	if (m->encap != TW_ENCAP_TEREDO || !tw_teredo_decode(m->inner, &ta))
		return;
	ipv4_str(ta.server, server);
	ipv4_str(ta.mapped_addr, mapped);
	snprintf(buf, n, "Teredo address: server %s, mapped %s:%u, %s", server, mapped,
		 ta.mapped_port,
		 ta.mapped_addr == m->outer_addr && ta.mapped_port == m->outer_port
			 ? "matches"
			 : "differs from the outer address (another NAT mapping, or a relay)");
}

static void tables_text(FILE *out, const struct tw_tables *t, const struct tw_counters *c,
			unsigned long long start, double now, bool final)
{
	char a[EP_LEN], b[EP_LEN], p[8], outer[EP_LEN], inner[ADDR_LEN], check[256];
	bool any = false;
	unsigned int i;
	int k;

	fprintf(out, "%s at %.3f s: %d inner flow%s\n", final ? "tunnelwatch: summary" : "tunnelwatch:",
		now, t->nflows, t->nflows == 1 ? "" : "s");
	if (t->nflows)
		fprintf(out, "  %-6s %-6s %-46s %-46s %6s %8s %4s %7s %4s %10s %10s\n", "ENCAP",
			"PROTO", "CLIENT (first SYN) OR FIRST SENDER", "SERVER OR PEER", "PKTS",
			"BYTES", "SYN", "SYN-ACK", "RST", "FIRST", "LAST");
	for (k = 0; k < t->nflows; k++) {
		const struct tw_flow *f = &t->flows[k];

		fprintf(out, "  %-6s %-6s %-46s %-46s %6llu %8llu %4llu %7llu %4llu %10.6f %10.6f\n",
			tw_encap_name(f->encap), flow_proto(f, p), endpoint_str(f, &f->a, a),
			endpoint_str(f, &f->b, b), f->packets, f->bytes, f->syn, f->synack, f->rst,
			rel_s(f->first_ns, start), rel_s(f->last_ns, start));
	}
	if (t->flows_dropped)
		fprintf(out, "  (%llu packets of flows past the first %d not counted)\n",
			t->flows_dropped, TW_MAX_FLOWS);
	if (t->nmappings)
		fprintf(out, "outer mappings (outer IPv4:port -> the inner IPv6 address it carried):\n");
	for (k = 0; k < t->nmappings; k++) {
		const struct tw_mapping *m = &t->mappings[k];
		char o4[ADDR_LEN];

		ipv4_str(m->outer_addr, o4);
		if (m->encap == TW_ENCAP_6IN4)
			snprintf(outer, sizeof(outer), "%s", o4);
		else
			snprintf(outer, sizeof(outer), "%s:%u", o4, m->outer_port);
		teredo_check(m, check, sizeof(check));
		fprintf(out, "  %-6s %-21s %-39s from %llu, to %llu%s%s\n", tw_encap_name(m->encap),
			outer, ipv6_str(m->inner, inner), m->from, m->to, check[0] ? "  " : "", check);
	}
	if (t->mappings_dropped)
		fprintf(out, "  (%llu more not kept: at most %d)\n", t->mappings_dropped,
			TW_MAX_MAPPINGS);
	fprintf(out, "packets: %llu seen, %llu IPv6 decoded, %llu lost (ring buffer full); malformed:",
		c->packets, c->decoded, c->lost);
	for (i = 1; i <= TW_BAD_MAX; i++)
		if (c->malformed[i]) {
			fprintf(out, " %s %llu", tw_malformed_name(i), c->malformed[i]);
			any = true;
		}
	fprintf(out, "%s\n", any ? "" : " none");
}

static void tables_json(FILE *out, const struct tw_tables *t, const struct tw_counters *c,
			unsigned long long start, double now, bool final)
{
	char a[ADDR_LEN], b[ADDR_LEN], p[8], o4[ADDR_LEN];
	unsigned int i;
	int k;

	fprintf(out, "{\"type\":\"summary\",\"final\":%s,\"t\":%.6f,\"flows\":[", final ? "true" : "false", now);
	for (k = 0; k < t->nflows; k++) {
		const struct tw_flow *f = &t->flows[k];
		bool ports = f->proto == TW_PROTO_TCP;

		fprintf(out, "%s{\"encap\":\"%s\",\"proto\":\"%s\",\"src\":\"%s\"", k ? "," : "",
			tw_encap_name(f->encap), flow_proto(f, p), ipv6_str(f->a.addr, a));
		json_num_or_null(out, "sport", f->a.port, ports);
		fprintf(out, ",\"dst\":\"%s\"", ipv6_str(f->b.addr, b));
		json_num_or_null(out, "dport", f->b.port, ports);
		fprintf(out, ",\"src_sent_syn\":%s,\"packets\":%llu,\"bytes\":%llu,\"syn\":%llu,"
			"\"synack\":%llu,\"rst\":%llu,\"bubbles\":%llu,\"first\":%.6f,\"last\":%.6f}",
			f->a_from_syn ? "true" : "false", f->packets, f->bytes, f->syn, f->synack,
			f->rst, f->bubbles, rel_s(f->first_ns, start), rel_s(f->last_ns, start));
	}
	fprintf(out, "],\"flows_dropped\":%llu,\"mappings\":[", t->flows_dropped);
	for (k = 0; k < t->nmappings; k++) {
		const struct tw_mapping *m = &t->mappings[k];
		struct tw_teredo_addr ta;

		fprintf(out, "%s{\"encap\":\"%s\",\"outer\":\"%s\"", k ? "," : "",
			tw_encap_name(m->encap), ipv4_str(m->outer_addr, o4));
		json_num_or_null(out, "outer_port", m->outer_port, m->encap != TW_ENCAP_6IN4);
		fprintf(out, ",\"inner\":\"%s\",\"from\":%llu,\"to\":%llu", ipv6_str(m->inner, a),
			m->from, m->to);
		if (m->encap == TW_ENCAP_TEREDO && tw_teredo_decode(m->inner, &ta)) {
			ipv4_str(ta.server, a);
			ipv4_str(ta.mapped_addr, b);
			fprintf(out, ",\"teredo\":{\"server\":\"%s\",\"mapped\":\"%s\",\"mapped_port\":%u,"
				"\"matches\":%s}", a, b, ta.mapped_port,
				ta.mapped_addr == m->outer_addr && ta.mapped_port == m->outer_port
					? "true" : "false");
		}
		fprintf(out, "}");
	}
	fprintf(out, "],\"mappings_dropped\":%llu,\"packets\":%llu,\"decoded\":%llu,\"lost\":%llu,"
		"\"malformed\":{", t->mappings_dropped, c->packets, c->decoded, c->lost);
	for (i = 1; i <= TW_BAD_MAX; i++)
		fprintf(out, "%s\"%s\":%llu", i > 1 ? "," : "", tw_malformed_name(i), c->malformed[i]);
	fprintf(out, "}}\n");
}

void tw_print_tables(FILE *out, const struct tw_tables *t, const struct tw_counters *c,
		     unsigned long long start_ns, unsigned long long now_ns, bool json, bool final)
{
	if (json)
		tables_json(out, t, c, start_ns, rel_s(now_ns, start_ns), final);
	else
		tables_text(out, t, c, start_ns, rel_s(now_ns, start_ns), final);
	fflush(out);
}
