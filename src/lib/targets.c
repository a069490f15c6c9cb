/* SPDX-License-Identifier: MIT */
#include "v6lab/targets.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>

bool teredo_client(const struct in6_addr *a, struct in_addr *client)
{
	static const unsigned char teredo[4] = { 0x20, 0x01, 0x00, 0x00 };
	if (memcmp(a->s6_addr, teredo, sizeof(teredo)) != 0)
		return false;
	uint32_t obfuscated;
	memcpy(&obfuscated, a->s6_addr + 12, sizeof(obfuscated));
	client->s_addr = ~obfuscated;
	return true;
}

/* The IPv4 address of a peer (IPv4, or IPv4-mapped IPv6); false for a real IPv6 one. */
static bool peer_ipv4(const struct sockaddr_storage *peer, struct in_addr *v4)
{
	if (peer->ss_family == AF_INET) {
		*v4 = ((const struct sockaddr_in *)peer)->sin_addr;
		return true;
	}
	const struct in6_addr *a = &((const struct sockaddr_in6 *)peer)->sin6_addr;
	if (peer->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(a))
		return false;
	memcpy(&v4->s_addr, a->s6_addr + 12, sizeof(v4->s_addr));
	return true;
}

const char *peer_group(const struct sockaddr_storage *peer, char *buf, size_t bufsz)
{
	struct in_addr v4;
	if (peer_ipv4(peer, &v4))
		return inet_ntop(AF_INET, &v4, buf, (socklen_t)bufsz) ? buf : "?";
	struct in6_addr net = ((const struct sockaddr_in6 *)peer)->sin6_addr;
	memset(net.s6_addr + 8, 0, 8);
	char text[INET6_ADDRSTRLEN];
	inet_ntop(AF_INET6, &net, text, sizeof(text));
	snprintf(buf, bufsz, "%s/64", text);
	return buf;
}

static bool is_v4mapped_any(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a) && memcmp(a->s6_addr + 12, "\0\0\0\0", 4) == 0;
}

static bool is_loopback(const struct in6_addr *a)
{
	return IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a) || is_v4mapped_any(a) ||
	       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

bool is_local_address(const struct in6_addr *a)
{
	if (is_loopback(a))
		return true;
	struct ifaddrs *ifs, *i;
	bool local = false;
	if (getifaddrs(&ifs) != 0)
		return true; /* cannot tell: take it as the course host's own */
	for (i = ifs; i && !local; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET6)
			local = IN6_ARE_ADDR_EQUAL(a, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr);
		else if (i->ifa_addr->sa_family == AF_INET && IN6_IS_ADDR_V4MAPPED(a))
			local = memcmp(a->s6_addr + 12,
				       &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4) == 0;
	}
	freeifaddrs(ifs);
	return local;
}

static bool peer_on_course_host(const struct sockaddr_storage *peer)
{
	struct in_addr v4;
	if (peer_ipv4(peer, &v4))
		return (ntohl(v4.s_addr) >> 24) == 127;
	return is_loopback(&((const struct sockaddr_in6 *)peer)->sin6_addr);
}

/* Would a connection to [target]:port reach the listening socket own? A listener on an
 * unspecified address takes every local address of its family ([::] also the IPv4-mapped
 * ones: dual stack); one on a given address only that address. Connecting to :: or to
 * ::ffff:0.0.0.0 reaches loopback. */
static bool reaches(const struct in6_addr *target, uint16_t port,
		    const struct sockaddr_storage *own)
{
	struct in6_addr t = *target;
	if (IN6_IS_ADDR_UNSPECIFIED(&t))
		t = in6addr_loopback;
	else if (is_v4mapped_any(&t))
		inet_pton(AF_INET6, "::ffff:127.0.0.1", &t);
	if (own->ss_family == AF_INET) {
		const struct sockaddr_in *l = (const struct sockaddr_in *)own;
		if (port != ntohs(l->sin_port) || !IN6_IS_ADDR_V4MAPPED(&t))
			return false;
		return l->sin_addr.s_addr == htonl(INADDR_ANY)
			       ? is_local_address(&t)
			       : memcmp(t.s6_addr + 12, &l->sin_addr, 4) == 0;
	}
	if (own->ss_family == AF_INET6) {
		const struct sockaddr_in6 *l = (const struct sockaddr_in6 *)own;
		if (port != ntohs(l->sin6_port))
			return false;
		return IN6_IS_ADDR_UNSPECIFIED(&l->sin6_addr) ? is_local_address(&t)
							       : IN6_ARE_ADDR_EQUAL(&t, &l->sin6_addr);
	}
	return false;
}

enum answer_check target_check(const struct in6_addr *target, uint16_t port,
			       const struct target_rules *r, char *why, size_t whysz)
{
	char text[INET6_ADDRSTRLEN], mine[INET_ADDRSTRLEN], theirs[INET_ADDRSTRLEN];
	struct in_addr client, peer;
	inet_ntop(AF_INET6, target, text, sizeof(text));

	if (is_loopback(target) && !peer_on_course_host(r->peer)) {
		snprintf(why, whysz, "%s is the course host itself: give the address of your own "
			 "IPv6 server", text);
		return ANSWER_RETRY;
	}
	if (port && r->own && reaches(target, port, r->own)) {
		snprintf(why, whysz, "[%s]:%u is this course server itself: give the port of your "
			 "IPv6 server", text, port);
		return ANSWER_RETRY;
	}
	if (r->teredo_check && teredo_client(target, &client) && !peer_on_course_host(r->peer) &&
	    (!peer_ipv4(r->peer, &peer) || peer.s_addr != client.s_addr)) {
		inet_ntop(AF_INET, &client, theirs, sizeof(theirs));
		if (!peer_ipv4(r->peer, &peer) || !inet_ntop(AF_INET, &peer, mine, sizeof(mine)))
			snprintf(mine, sizeof(mine), "IPv6");
		snprintf(why, whysz, "%s is the Teredo address of a client behind %s, but you "
			 "connect from %s: give your own IPv6 server's address", text, theirs, mine);
		return ANSWER_RETRY;
	}
	return ANSWER_OK;
}
