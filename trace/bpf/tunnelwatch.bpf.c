// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tunnelwatch, kernel side: the IPv6 packets carried inside IPv4 on one interface.
 *
 * Two tc programs (clsact ingress and egress; tc is what these kernels allow besides classic
 * tracepoints) decode each packet as far as it goes:
 *   [Ethernet] -> IPv4 -> UDP -> Teredo: [authentication] [origin indication] -> IPv6  (RFC 4380)
 *   [Ethernet] -> IPv4 protocol 41 -> IPv6                                             (RFC 4213)
 *   [Ethernet] -> IPv4 -> UDP 4789 -> VXLAN -> Ethernet -> IPv6                         (RFC 7348)
 *   and, on an interface without Ethernet (TUN, such as miredo's "teredo") or with --native,
 *   plain IPv6: the inside of a tunnel
 * then the inner IPv6 -> TCP (ports, flags, data length) or ICMPv6 (type, code); a Teredo
 * bubble (next header 59, no payload) is flagged. One event per decoded packet.
 *
 * Every byte is read with bpf_skb_load_bytes(), which fails instead of reading past the packet,
 * and every length field is checked against the layer that carries it. A packet that claims to
 * be a tunnel (UDP port 3544 or 4789, IPv4 protocol 41) and is not a whole one is counted by
 * where it broke (enum tw_malformed) and never reported as decoded. Teredo relays use other
 * ports than 3544 (the lab's relay: 3545), so other UDP packets are Teredo if they have its
 * shape: after the optional headers, an IPv6 header (version 6) whose payload length is exactly
 * what the UDP datagram holds; anything else there is not a tunnel and is not counted.
 *
 * The programs only look: they return TC_ACT_UNSPEC, so the packet goes on to whatever other
 * filter or default action the interface has, unchanged. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "tunnelwatch.h"

#define TC_ACT_UNSPEC (-1)
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_UDP_ 17
#define IPPROTO_IPV6_ 41
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define IPV6_HLEN 40
#define UDP_HLEN 8
#define TCP_HLEN 20
#define VXLAN_HLEN 8
#define VXLAN_FLAG_I 0x08
#define TEREDO_AUTH 0x0001   /* indicator of the authentication header */
#define TEREDO_ORIGIN 0x0000 /* indicator of the origin indication */
#define TEREDO_ORIGIN_LEN 8

const volatile bool l2 = true;           /* the interface has an Ethernet header */
const volatile bool show_native = false; /* report plain IPv6 too (always on an L3 interface) */
/* Wake the reader only once this much is queued (it also reads every 50 ms by itself): a
 * wake-up per packet would cost a context switch per packet of a bulk transfer. */
const volatile __u32 wakeup_bytes = 0;

struct tw_counters counters = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* What a decoding step did: go on, stop without counting (not a tunnel), or a malformed
 * packet (> 0: enum tw_malformed). */
#define GO_ON 0
#define NOT_TUNNEL (-1)

static __always_inline void count_bad(int why)
{
	if (why > 0 && why <= TW_BAD_MAX)
		__sync_fetch_and_add(&counters.malformed[why], 1);
}

/* The inner IPv6 packet at off, in a carrier that holds exactly avail bytes of it (or at most
 * avail when exact is false: native Ethernet frames and VXLAN's inner frame may be padded). */
static __always_inline int decode_ipv6(struct __sk_buff *skb, struct tw_event *e, __u32 off,
				       __u32 avail, bool exact)
{
	struct ipv6hdr ip6;
	struct tcphdr th;
	__u8 icmp[2];
	__u32 plen, doff;

	if (avail < IPV6_HLEN || bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)))
		return TW_BAD_IPV6;
	if (ip6.version != 6)
		return TW_BAD_IPV6;
	plen = bpf_ntohs(ip6.payload_len);
	if (exact ? IPV6_HLEN + plen != avail : IPV6_HLEN + plen > avail)
		return TW_BAD_IPV6;
	__builtin_memcpy(e->inner_saddr, &ip6.saddr, 16);
	__builtin_memcpy(e->inner_daddr, &ip6.daddr, 16);
	e->proto = ip6.nexthdr;
	e->payload_len = plen;
	off += IPV6_HLEN;

	switch (ip6.nexthdr) {
	case TW_PROTO_TCP:
		if (plen < TCP_HLEN || bpf_skb_load_bytes(skb, off, &th, sizeof(th)))
			return TW_BAD_TCP;
		doff = th.doff * 4;
		if (doff < TCP_HLEN || doff > plen)
			return TW_BAD_TCP;
		e->sport = bpf_ntohs(th.source);
		e->dport = bpf_ntohs(th.dest);
		/* byte 13 of the header: CWR ECE URG ACK PSH RST SYN FIN */
		if (bpf_skb_load_bytes(skb, off + 13, &e->tcp_flags, 1))
			return TW_BAD_TCP;
		e->payload_len = plen - doff;
		break;
	case TW_PROTO_ICMPV6:
		if (plen < 4 || bpf_skb_load_bytes(skb, off, icmp, sizeof(icmp)))
			return TW_BAD_ICMPV6;
		e->sport = icmp[0];
		e->dport = icmp[1];
		break;
	case TW_PROTO_NONE:
		if (plen == 0 && e->encap == TW_ENCAP_TEREDO)
			e->flags |= TW_F_BUBBLE;
		break;
	}
	return GO_ON;
}

/* Teredo: skip the authentication header and the origin indication, then IPv6. strict: the
 * datagram is on port 3544 and must be Teredo; otherwise only its shape says it is. */
static __always_inline int decode_teredo(struct __sk_buff *skb, struct tw_event *e, __u32 off,
					 __u32 len, bool strict)
{
	__u8 auth[4];
	__u8 origin[TEREDO_ORIGIN_LEN];
	__u16 indicator;
	__u32 n;
	int r;

	e->encap = TW_ENCAP_TEREDO;
	if (len >= 2 && !bpf_skb_load_bytes(skb, off, &indicator, 2) &&
	    bpf_ntohs(indicator) == TEREDO_AUTH) {
		/* indicator, ID-len, AU-len, client id, auth value, nonce (8), confirmation (1) */
		if (len < sizeof(auth) || bpf_skb_load_bytes(skb, off, auth, sizeof(auth)))
			return strict ? TW_BAD_TEREDO : NOT_TUNNEL;
		n = sizeof(auth) + auth[2] + auth[3] + 8 + 1;
		if (n > len)
			return strict ? TW_BAD_TEREDO : NOT_TUNNEL;
		e->flags |= TW_F_TEREDO_AUTH;
		off += n;
		len -= n;
	}
	if (len >= 2 && !bpf_skb_load_bytes(skb, off, &indicator, 2) &&
	    bpf_ntohs(indicator) == TEREDO_ORIGIN) {
		if (len < TEREDO_ORIGIN_LEN || bpf_skb_load_bytes(skb, off, origin, sizeof(origin)))
			return strict ? TW_BAD_TEREDO : NOT_TUNNEL;
		/* the mapped port and IPv4 address, each bit inverted */
		e->origin_port = (__u16)~(((__u16)origin[2] << 8) | origin[3]);
		__builtin_memcpy(&e->origin_addr, origin + 4, 4);
		e->origin_addr = ~e->origin_addr;
		e->flags |= TW_F_TEREDO_ORIGIN;
		off += TEREDO_ORIGIN_LEN;
		len -= TEREDO_ORIGIN_LEN;
	}
	r = decode_ipv6(skb, e, off, len, true);
	/* Without port 3544, what is not an IPv6 header of the right length is not Teredo. */
	if (r == TW_BAD_IPV6 && !strict)
		return NOT_TUNNEL;
	return r;
}

/* VXLAN: the 8-byte header with the I flag, then an Ethernet frame. Not IPv6 inside (ARP,
 * IPv4): not ours, not malformed. */
static __always_inline int decode_vxlan(struct __sk_buff *skb, struct tw_event *e, __u32 off,
					__u32 len)
{
	__u8 vx[VXLAN_HLEN];
	__u16 type;

	e->encap = TW_ENCAP_VXLAN;
	if (len < VXLAN_HLEN + ETH_HLEN || bpf_skb_load_bytes(skb, off, vx, sizeof(vx)) ||
	    !(vx[0] & VXLAN_FLAG_I) || bpf_skb_load_bytes(skb, off + VXLAN_HLEN + 12, &type, 2))
		return TW_BAD_VXLAN;
	if (bpf_ntohs(type) != ETH_P_IPV6)
		return NOT_TUNNEL;
	off += VXLAN_HLEN + ETH_HLEN;
	return decode_ipv6(skb, e, off, len - VXLAN_HLEN - ETH_HLEN, false);
}

/* The outer IPv4 header at off: protocol 41 or UDP, then the tunnel it says. */
static __always_inline int decode_ipv4(struct __sk_buff *skb, struct tw_event *e, __u32 off)
{
	struct iphdr ip;
	struct udphdr uh;
	__u32 ihl, tot, frag, ulen;
	bool claimed, teredo_port, vxlan_port;

	if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) || ip.version != 4)
		return NOT_TUNNEL;
	if (ip.protocol != IPPROTO_IPV6_ && ip.protocol != IPPROTO_UDP_)
		return NOT_TUNNEL;
	ihl = ip.ihl * 4;
	tot = bpf_ntohs(ip.tot_len);
	frag = bpf_ntohs(ip.frag_off);
	e->outer_saddr = ip.saddr;
	e->outer_daddr = ip.daddr;

	if (ip.protocol == IPPROTO_IPV6_) {
		e->encap = TW_ENCAP_6IN4;
		if (ihl < sizeof(ip) || tot < ihl || off + tot > skb->len)
			return TW_BAD_IPV4;
		if (frag & (IP_MF | IP_OFFSET))
			return TW_BAD_FRAGMENT;
		return decode_ipv6(skb, e, off + ihl, tot - ihl, true);
	}

	/* UDP: a later fragment has no UDP header, so nothing says it is a tunnel */
	if (frag & IP_OFFSET)
		return NOT_TUNNEL;
	if (ihl < sizeof(ip) || bpf_skb_load_bytes(skb, off + ihl, &uh, sizeof(uh)))
		return NOT_TUNNEL;
	e->outer_sport = bpf_ntohs(uh.source);
	e->outer_dport = bpf_ntohs(uh.dest);
	teredo_port = e->outer_sport == TW_TEREDO_PORT || e->outer_dport == TW_TEREDO_PORT;
	vxlan_port = e->outer_sport == TW_VXLAN_PORT || e->outer_dport == TW_VXLAN_PORT;
	claimed = teredo_port || vxlan_port;
	if (tot < ihl + UDP_HLEN || off + tot > skb->len)
		return claimed ? TW_BAD_IPV4 : NOT_TUNNEL;
	if (frag & IP_MF)
		return claimed ? TW_BAD_FRAGMENT : NOT_TUNNEL;
	ulen = bpf_ntohs(uh.len);
	if (ulen < UDP_HLEN || ulen > tot - ihl)
		return claimed ? TW_BAD_UDP : NOT_TUNNEL;
	off += ihl + UDP_HLEN;
	ulen -= UDP_HLEN;
	if (vxlan_port)
		return decode_vxlan(skb, e, off, ulen);
	return decode_teredo(skb, e, off, ulen, teredo_port);
}

static __always_inline int watch(struct __sk_buff *skb, __u8 dir)
{
	struct tw_event e = {};
	__u32 off = 0;
	__u16 type;
	int r;

	__sync_fetch_and_add(&counters.packets, 1);
	if (l2) {
		if (bpf_skb_load_bytes(skb, 12, &type, 2))
			return TC_ACT_UNSPEC;
		type = bpf_ntohs(type);
		off = ETH_HLEN;
	} else {
		type = bpf_ntohs(skb->protocol);
	}
	if (type == ETH_P_IP) {
		r = decode_ipv4(skb, &e, off);
	} else if (type == ETH_P_IPV6 && (show_native || !l2)) {
		e.encap = TW_ENCAP_NONE;
		r = decode_ipv6(skb, &e, off, skb->len - off, false);
		if (r == TW_BAD_IPV6)
			r = NOT_TUNNEL; /* not a tunnel's inside: count only what a tunnel carried */
	} else {
		return TC_ACT_UNSPEC;
	}
	if (r == NOT_TUNNEL)
		return TC_ACT_UNSPEC;
	if (r != GO_ON) {
		count_bad(r);
		return TC_ACT_UNSPEC;
	}
	e.ts_ns = bpf_ktime_get_ns();
	e.ifindex = skb->ifindex;
	e.pkt_len = skb->len;
	e.dir = dir;
	__sync_fetch_and_add(&counters.decoded, 1);
	if (bpf_ringbuf_output(&events, &e, sizeof(e),
			       wakeup_bytes && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_bytes
				       ? BPF_RB_NO_WAKEUP : 0))
		__sync_fetch_and_add(&counters.lost, 1);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int tw_ingress(struct __sk_buff *skb)
{
	return watch(skb, TW_DIR_IN);
}

SEC("tc")
int tw_egress(struct __sk_buff *skb)
{
	return watch(skb, TW_DIR_OUT);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
