/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* acceptwatch's names and formats (the role of bcc's *_helpers): kernel enums, TCP states,
 * errno names, network namespace names, endpoints, durations, tunnels, calls. Pure, but for
 * aw_netns_refresh(), which reads /run/netns. */
#ifndef V6LAB_AW_NAMES_H
#define V6LAB_AW_NAMES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "acceptwatch.h"

/* The names of a kernel enum (skb_drop_reason, sk_rst_reason), by value, prefix removed. */
struct aw_enum_names {
	char **names;
	unsigned int n;
};

/* Room for values 0..max (each set later with aw_enum_set); -1 if out of memory. */
int aw_enum_init(struct aw_enum_names *en, unsigned int max);
/* Name value v, without prefix if it starts with it. */
void aw_enum_set(struct aw_enum_names *en, unsigned int v, const char *name, const char *prefix);
void aw_enum_free(struct aw_enum_names *en);
/* The name of v, or v as a number (in buf) if it has none. */
const char *aw_enum_name(const struct aw_enum_names *en, unsigned int v, char *buf, size_t n);
bool aw_enum_is(const struct aw_enum_names *en, unsigned int v, const char *name);

/* The names in /run/netns, by inode: a snapshot, refreshed on demand. */
#define AW_NETNS_NAMES 64
struct aw_netns_names {
	struct {
		unsigned int ino;
		char name[NAME_MAX + 1];
	} ns[AW_NETNS_NAMES];
	int n;
	time_t scanned; /* when it was last read (aw_netns_lookup reads it at most once a second) */
};

void aw_netns_refresh(struct aw_netns_names *t);
/* The name of netns ino in the snapshot, or NULL. */
const char *aw_netns_name(const struct aw_netns_names *t, unsigned int ino);
/* The same, reading /run/netns again (at most once a second) when ino is not in it. */
const char *aw_netns_lookup(struct aw_netns_names *t, unsigned int ino);
/* Its name, or its inode number, in buf. */
const char *aw_netns_label(const struct aw_netns_names *t, unsigned int ino, char *buf, size_t n);

const char *aw_tcp_state(int state);
/* "-ECONNRESET", or "-512" for an errno without a name. */
const char *aw_errno_str(int err, char *buf, size_t n);
/* "poll", "ppoll", "epoll_wait", ... */
const char *aw_call_name(unsigned int call);

bool aw_is_v4mapped(int family, const unsigned char *a);
const char *aw_addr_str(int family, const unsigned char *a, char *buf, size_t n);
/* "192.0.2.1:80" or "[2001:db8::1]:80" */
const char *aw_endpoint(int family, const unsigned char *a, unsigned short port, char *buf,
			size_t n);
/* An event's remote end, "[::ffff:10.0.0.1]:4242 (IPv4-mapped)" for dual-stack sockets. */
const char *aw_peer_str(const struct aw_event *e, char *buf, size_t n);
/* "12.3 us", "4.5 ms", "1.50 s" */
const char *aw_duration(unsigned long long ns, char *buf, size_t n);
/* "SYN,ACK", "-" for none */
const char *aw_flags_str(unsigned char tcpflags, char *buf, size_t n);
/* enum aw_tunnel: "6in4", "teredo" (json) or "Teredo" */
const char *aw_tunnel_name(unsigned int tunnel, bool json);
/* The outer header of a tunnelled packet: "Teredo from 192.0.2.1:3544", "6in4 from ..." */
const char *aw_tunnel_str(const struct aw_event *e, char *buf, size_t n);

#endif
