/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tunnelwatch: the packet both sides share (the tc program writes one per tunnelled IPv6
 * packet into the ring buffer, the loader reads it). Fixed-size fields only: vmlinux.h and the
 * C library must both compile this. */
#ifndef V6LAB_TUNNELWATCH_H
#define V6LAB_TUNNELWATCH_H

/* How the IPv6 packet travelled on the interface. */
enum tw_encap {
	TW_ENCAP_NONE = 0, /* native IPv6 (a TUN such as miredo's "teredo": the tunnel's inside) */
	TW_ENCAP_TEREDO,   /* IPv4 -> UDP -> [auth] [origin] -> IPv6 (RFC 4380) */
	TW_ENCAP_6IN4,     /* IPv4 protocol 41 -> IPv6 (RFC 4213) */
	TW_ENCAP_VXLAN,    /* IPv4 -> UDP 4789 -> VXLAN -> Ethernet -> IPv6 (RFC 7348) */
	TW_ENCAP_MAX = TW_ENCAP_VXLAN
};

/* Where decoding stopped on a packet that claimed to be a tunnel (port 3544 or 4789, IPv4
 * protocol 41) but was not a whole one: counted, never shown as a decoded packet. */
enum tw_malformed {
	TW_BAD_NONE = 0,
	TW_BAD_IPV4,      /* outer IPv4 header truncated or its length wrong */
	TW_BAD_FRAGMENT,  /* outer IPv4 fragment: the inner packet is not in this one */
	TW_BAD_UDP,       /* UDP header truncated or its length wrong */
	TW_BAD_TEREDO,    /* Teredo authentication or origin indication truncated */
	TW_BAD_VXLAN,     /* VXLAN header (I flag) or inner Ethernet header wrong or truncated */
	TW_BAD_IPV6,      /* inner IPv6 header truncated, version not 6, or payload length wrong */
	TW_BAD_TCP,       /* inner TCP header truncated or its data offset wrong */
	TW_BAD_ICMPV6,    /* inner ICMPv6 header truncated */
	TW_BAD_MAX = TW_BAD_ICMPV6
};

enum tw_dir {
	TW_DIR_IN = 0,  /* tc ingress: the packet arrived on the interface */
	TW_DIR_OUT = 1, /* tc egress: the packet leaves through it */
};

enum tw_pkt_flags {
	TW_F_TEREDO_AUTH = 1 << 0,   /* a Teredo authentication header came first */
	TW_F_TEREDO_ORIGIN = 1 << 1, /* a Teredo origin indication (the client's mapped address) */
	TW_F_BUBBLE = 1 << 2,        /* a Teredo bubble: IPv6 next header 59, no payload */
};

#define TW_TEREDO_PORT 3544
#define TW_VXLAN_PORT 4789
#define TW_PROTO_NONE 59 /* IPv6 "no next header" */
#define TW_PROTO_TCP 6
#define TW_PROTO_ICMPV6 58

/* TCP header flag bits as on the wire (byte 13). */
#define TW_TCP_FIN 0x01
#define TW_TCP_SYN 0x02
#define TW_TCP_RST 0x04
#define TW_TCP_PSH 0x08
#define TW_TCP_ACK 0x10

struct tw_event {
	unsigned long long ts_ns;   /* CLOCK_MONOTONIC */
	unsigned int ifindex;
	unsigned int pkt_len;       /* the whole packet on the wire (skb->len) */
	unsigned char dir;          /* enum tw_dir */
	unsigned char encap;        /* enum tw_encap */
	unsigned char flags;        /* enum tw_pkt_flags */
	unsigned char proto;        /* inner IPv6 next header: 6, 58, 59 or another */
	/* outer IPv4 header and UDP ports (encap != NONE; ports 0 for 6in4), network order */
	unsigned int outer_saddr;
	unsigned int outer_daddr;
	unsigned short outer_sport; /* host order */
	unsigned short outer_dport;
	/* the origin indication's mapped address (TW_F_TEREDO_ORIGIN), de-obfuscated */
	unsigned int origin_addr;   /* network order */
	unsigned short origin_port; /* host order */
	/* inner TCP: ports, flags, payload bytes; ICMPv6: sport = type, dport = code */
	unsigned short sport;
	unsigned short dport;
	unsigned char tcp_flags;
	unsigned char pad;
	unsigned short payload_len; /* TCP data bytes, or the IPv6 payload for other protocols */
	unsigned char inner_saddr[16];
	unsigned char inner_daddr[16];
};

/* Counters the tc program keeps (global, read by the loader from .bss). */
struct tw_counters {
	unsigned long long packets;           /* every packet the program saw */
	unsigned long long decoded;           /* tunnelled IPv6 packets sent as events */
	unsigned long long lost;              /* decoded, but the ring buffer was full */
	unsigned long long malformed[TW_BAD_MAX + 1];
};

#endif
