/* SPDX-License-Identifier: MIT */
#include "v6lab/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "v6lab/wrap.h"

bool parse_port(const char *s, bool allow_zero, uint16_t *port)
{
	char *end;
	if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 5)
		return false;
	unsigned long v = strtoul(s, &end, 10);
	if (*end != '\0' || v > 65535 || (v == 0 && !allow_zero))
		return false;
	*port = (uint16_t)v;
	return true;
}

bool parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port); /* network byte order: the classic bug is forgetting it */
		*len = sizeof(*s6);
		return true;
	}
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return true;
	}
	return false;
}

const char *sockaddr_text(const struct sockaddr *sa, char *buf, size_t bufsz)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(buf, bufsz, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, bufsz, "%s:%u", host, ntohs(s4->sin_port));
	} else {
		snprintf(buf, bufsz, "(family %d)", sa->sa_family);
	}
	return buf;
}

bool parse_prefix6(const char *s, struct prefix6 *p)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(addr))
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET6, addr, &p->addr) != 1)
		return false;
	p->len = 128;
	if (slash) {
		char *end;
		if (slash[1] < '0' || slash[1] > '9')
			return false;
		long len = strtol(slash + 1, &end, 10);
		if (*end != '\0' || len < 0 || len > 128)
			return false;
		p->len = (int)len;
	}
	return true;
}

bool prefix6_contains(const struct prefix6 *p, const struct in6_addr *a)
{
	int full = p->len / 8, rest = p->len % 8;
	if (memcmp(p->addr.s6_addr, a->s6_addr, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (p->addr.s6_addr[full] & mask) == (a->s6_addr[full] & mask);
}

int tcp_listen(const char *bind_addr, uint16_t port, int backlog, uint16_t *bound_port,
	       char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char text[V6_ADDRSTR_LEN];
	int on = 1, off = 0;

	if (!parse_addr(bind_addr, port, &ss, &len)) {
		snprintf(err, errsz, "bind address '%s' is not a numeric IPv4 or IPv6 address "
			 "(use e.g. :: or 0.0.0.0)", bind_addr);
		return -1;
	}
	sockaddr_text((struct sockaddr *)&ss, text, sizeof(text));

	int fd = Socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0) {
		snprintf(err, errsz, "socket: %s", strerror(errno));
		return -1;
	}
	/* Restart at once on the same port after a run (TIME_WAIT would refuse the bind). */
	Setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/* Dual stack: [::] also takes IPv4 clients (their addresses show as ::ffff:a.b.c.d). */
	if (ss.ss_family == AF_INET6)
		Setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));

	if (Bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int e = errno;
		snprintf(err, errsz, "bind %s: %s%s", text, strerror(e),
			 e == EADDRINUSE ? " (another program listens there: stop it or choose "
					   "another --port)"
			 : e == EADDRNOTAVAIL ? " (no interface has that address: bind to :: instead)"
					      : "");
		Close(fd);
		return -1;
	}
	if (Listen(fd, backlog) < 0) {
		snprintf(err, errsz, "listen %s: %s", text, strerror(errno));
		Close(fd);
		return -1;
	}
	if (bound_port) {
		len = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &len);
		*bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							      : ((struct sockaddr_in *)&ss)->sin_port);
	}
	/* Non-blocking: a connection poll() saw can be gone (reset) by the time accept() runs,
	 * and a blocking accept() would then wait for the next client, pipe and all. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

int tcp_connect(const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	int fd = Socket(sa->sa_family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	/* On Linux SO_SNDTIMEO also bounds connect(): it then fails with EINPROGRESS. */
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	Setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (Connect(fd, sa, len) < 0) {
		int e = errno;
		if (e == EINTR)
			continue; /* the kernel goes on connecting: connect() again waits for it */
		if (e == EISCONN)
			break; /* it completed while we were interrupted */
		Close(fd);
		/* EINPROGRESS (first call) or EALREADY (after EINTR): the time ran out */
		errno = (e == EINPROGRESS || e == EALREADY) ? ETIMEDOUT : e;
		return -1;
	}
	return fd;
}
