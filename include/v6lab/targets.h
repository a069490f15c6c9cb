/* SPDX-License-Identifier: MIT */
/*
 * Whom the course server's clients may be sent to, beyond the --allow prefixes: a student
 * names a target for five connections from the course host, so a target must be the
 * student's own server, not the course host's other ports, not someone else's machine.
 */
#ifndef V6LAB_TARGETS_H
#define V6LAB_TARGETS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "v6lab/proto.h"

/* The public IPv4 address a Teredo address (2001:0::/32) embeds: its client's, as the NAT
 * in front of it shows it (RFC 4380: the last 32 bits, inverted). False if not Teredo. */
bool teredo_client(const struct in6_addr *a, struct in_addr *client);

/* What a peer's sessions are counted as: its IPv4 address, or its IPv6 /64 (one subscriber
 * has 2^64 addresses): "192.0.2.7", "2001:db8:1:2::/64". */
const char *peer_group(const struct sockaddr_storage *peer, char *buf, size_t bufsz);

/* Is a an address of this host (loopback, unspecified, or one of its interfaces')? */
bool is_local_address(const struct in6_addr *a);

struct target_rules {
	const struct sockaddr_storage *peer; /* the student, as the course server sees it */
	const struct sockaddr_storage *own;  /* the course server's listening socket (bound
					      * address and port; [::] is dual stack) */
	bool teredo_check;		     /* a Teredo target must embed the student's address */
};

/*
 * Check a target the student named (port 0: not named yet). ANSWER_RETRY with the reason in
 * why when: it is the course host's loopback and the student is not on the course host
 * (a port scan of the course host); a connection to it would reach the course server's own
 * listening socket (its port on an address it listens on: an IPv6 server on [::1] with the
 * same port number as a course server on 0.0.0.0 is another socket, and is taken); it is
 * a Teredo address whose client is not the student (the student's IPv4 client and IPv6
 * server sit behind the same NAT, so they show the same public address). A student on the
 * course host (loopback) may name any Teredo address: the tutorials' case.
 */
enum answer_check target_check(const struct in6_addr *target, uint16_t port,
			       const struct target_rules *r, char *why, size_t whysz);

#endif
