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
#include "v6lab/verdict.h"

/* Clients that run together (ipv4-server's N): their send times are fixed together. */
struct course_group;

struct course_client {
	/* what to do */
	struct sockaddr_storage target;
	socklen_t target_len;
	int index;
	token_t token;
	int64_t connect_at_ms; /* now_ms() times; 0 = at once */
	struct course_group *group; /* if set, the group fixes when this client sends */
	int send_delay_ms; /* else wait this long after connecting */
	int connect_timeout_ms;
	int eof_timeout_ms; /* after sending, wait this long for the server to close */
	/* what happened (now_ms() times, 0 = did not happen) */
	int64_t connected_ms, sent_ms, eof_ms;
	int64_t connect_begun_ms; /* when its connect() began (in a group: the next one waits) */
	bool connect_over;        /* in a group: its connect() returned, or it never will */
	bool sends_last; /* connected first of the group, so it was told to send last */
	int error; /* errno of the step that failed, 0 if none */
	const char *failed_step; /* "connect", "write", ... */
};

/* Connect, wait for its send time, write the 30-byte token, shut down writing (the FIN:
 * a server may read until EOF), wait for the server to close. */
void course_client_run(struct course_client *c);

/*
 * ipv4-server's test of a student server: n clients connect one after another, 20 ms
 * apart at the least, and each only once the one before it is connected (or has tried for
 * COURSE_CONNECT_GAP_MS: a lost SYN must not hold the others back): the handshakes then
 * complete in the clients' order, and the accept queue of a server that serves one at a
 * time is in that order, however late the client threads run. Once all are connected (or have failed, or COURSE_CONNECT_PHASE_MS has passed)
 * they send in the reverse order of their connections, stagger_ms apart: the one that
 * connected first sends last. A client that connects later than that sends at once.
 * Returns course_concurrency() of what happened.
 */
enum concurrency course_run_clients(struct course_client c[], int n,
				    const struct sockaddr *target, socklen_t len, int stagger_ms);

/* Over a tunnel the first SYN to a new peer is often lost and sent again 1 s later
 * (Teredo: the relay's bubbles open the path first); a listen() backlog that is full drops
 * SYNs too. The sends wait this long at most for the last connection. */
#define COURSE_CONNECT_PHASE_MS 2500
/* How long a client waits for the one before it to connect before connecting itself. */
#define COURSE_CONNECT_GAP_MS 100

/*
 * Concurrent is what a server that serves one connection at a time cannot do: serve (read
 * to the end and close) another client's connection while the client that connected first
 * has not sent yet. Such a server accepted that client first (its accept queue is in the
 * order the connections were made) and is stuck with it until it sends: it closes nobody
 * else's connection before. So:
 *   YES      some other client's connection was closed before the first one sent;
 *   NO       every client sent, some were closed, none before the first one sent;
 *   UNKNOWN  it could not be seen: fewer than 2 clients, a client could not connect or
 *            send, or the server closed no connection at all.
 * It holds whether the server's children read 30 bytes or until EOF, whatever its listen()
 * backlog, and over a tunnel that delays some SYNs (the order that counts is the order in
 * which the connections were made, not the clients' numbers).
 */
enum concurrency course_concurrency(const struct course_client c[], int n);

#endif
