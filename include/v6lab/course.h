/* SPDX-License-Identifier: MIT */
/*
 * The course's IPv6 token clients: ipv6-client runs one, ipv4-server runs N at once
 * against the student's server.
 */
#ifndef V6LAB_COURSE_H
#define V6LAB_COURSE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "v6lab/token.h"

/* Clients that run together (ipv4-server's N): each sends only once all are connected. */
struct course_group;

struct course_client {
	/* what to do */
	struct sockaddr_storage target;
	socklen_t target_len;
	int index;
	token_t token;
	int64_t connect_at_ms; /* now_ms() times; 0 = at once */
	int64_t send_at_ms;
	struct course_group *group; /* if set, send_at_ms counts from when all are connected */
	int send_delay_ms; /* then wait this long after connecting */
	int connect_timeout_ms;
	int eof_timeout_ms; /* after sending, wait this long for the server to close */
	/* what happened (now_ms() times, 0 = did not happen) */
	int64_t connected_ms, sent_ms, eof_ms;
	int error; /* errno of the step that failed, 0 if none */
	const char *failed_step; /* "connect", "write", ... */
};

/* Connect, wait until send_at_ms, write the 30-byte token, wait for the server to close. */
void course_client_run(struct course_client *c);

/*
 * ipv4-server's test of a student server: n clients connect one after another (client 1
 * first) and send their tokens in reverse order, stagger_ms apart, so client 1 sends last.
 * A server that serves one connection at a time closes nobody's connection before
 * client 1 has sent; a concurrent one closes the others' first.
 * Returns "yes", "no" or "unknown" (when that could not be seen: a client failed).
 */
const char *course_run_clients(struct course_client c[], int n, const struct sockaddr *target,
			       socklen_t len, int stagger_ms);

#endif
