/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the trace layer: what the wrappers compute for an event's fields, only
 * when that event is enabled (lttng_ust_tracepoint_enabled), so that an untraced run
 * pays nothing for them.
 */
#ifndef V6LAB_TRACE_H
#define V6LAB_TRACE_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "v6lab_tp_common.h"

/*
 * Find the tokens ("client" + digit 1-9 + ":" + exactly 20 [A-Za-z0-9]) in buf[0..n)
 * and write them to out, comma-separated and NUL-terminated ("" when none).
 * Returns how many were found (all are counted even if out is too small for them).
 */
int v6lab_tp_tokens(const void *buf, ssize_t n, char *out, size_t outsz);

/* What fd is: V6LAB_TP_FDKIND_SOCKET, _PIPE, ... (_CLOSED if fstat fails). */
int v6lab_tp_fdkind(int fd);

/* The numeric host of a socket address ("::1", "127.0.0.1", "" if none) and its port. */
struct v6lab_tp_addr {
	int family;
	int port;
	char host[46]; /* INET6_ADDRSTRLEN */
};
void v6lab_tp_addr(const struct sockaddr *sa, socklen_t len, struct v6lab_tp_addr *out);

/* msgget's outcome field (V6LAB_TP_MSGGET_*) from its key, flags and result. */
int v6lab_tp_msgget_outcome(int key, int flags, int id);

#endif
