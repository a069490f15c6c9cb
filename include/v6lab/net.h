/* SPDX-License-Identifier: MIT */
/* Addresses and TCP endpoints, IPv4 and IPv6 alike. */
#ifndef V6LAB_NET_H
#define V6LAB_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* "[2001:db8::1]:7002" or "127.0.0.1:50000": big enough for any of them. */
#define V6_ADDRSTR_LEN (INET6_ADDRSTRLEN + 8)

/* Parse a decimal port 1..65535 (0 too when allow_zero: "pick a free port"). */
bool parse_port(const char *s, bool allow_zero, uint16_t *port);

/* Parse a numeric IPv4 or IPv6 address into ss (port set too). */
bool parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);

/* Text form of a socket address: "[addr]:port" for IPv6, "addr:port" for IPv4. */
const char *sockaddr_text(const struct sockaddr *sa, char *buf, size_t bufsz);

/* An IPv6 prefix such as 2001::/32, for the course server's allow list. */
struct prefix6 {
	struct in6_addr addr;
	int len;
};
bool parse_prefix6(const char *s, struct prefix6 *p);
bool prefix6_contains(const struct prefix6 *p, const struct in6_addr *a);

/*
 * A listening TCP socket on bind_addr:port (port 0: the kernel picks one; *bound_port
 * tells which). An IPv6 address listens dual-stack (IPV6_V6ONLY off), so [::] also
 * accepts IPv4 clients, whose addresses then show as ::ffff:a.b.c.d. The socket is
 * non-blocking, for a poll() loop: accept() fails with EAGAIN when the connection poll()
 * saw is gone. Returns the fd, or -1 with a one-line reason in err.
 */
int tcp_listen(const char *bind_addr, uint16_t port, int backlog, uint16_t *bound_port,
	       char *err, size_t errsz);

/* Connect to addr:port within timeout_ms. Returns the fd, or -1 with errno (ETIMEDOUT). */
int tcp_connect(const struct sockaddr *sa, socklen_t len, int timeout_ms);

#endif
