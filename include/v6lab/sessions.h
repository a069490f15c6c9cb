/* SPDX-License-Identifier: MIT */
/*
 * What the course server's running sessions have claimed: a student id and a target (the
 * student's IPv6 server). Two sessions must never test the same server at once: each one's
 * course clients would hand that server tokens of the other session, and its student would
 * send some of them back and FAIL (`unknown: client5 ...`). And one student runs one session
 * at a time.
 *
 * Each session is a process of its own, so the table is shared memory (an anonymous
 * MAP_SHARED mapping, made before the first fork and inherited by every session) under a
 * process-shared mutex. The mutex is robust: a session killed while it holds it does not
 * lock the others out (the next one to lock is told, EOWNERDEAD, and goes on: a session
 * only ever writes its own entry, and the server clears that entry when it reaps it).
 */
#ifndef V6LAB_SESSIONS_H
#define V6LAB_SESSIONS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "v6lab/proto.h"

struct session_table;

/* A table for max sessions at once, shared with every process forked afterwards (never
 * unmapped: it lives as long as the server). NULL with errno. */
struct session_table *session_table_create(int max);

/* The calling session (getpid()) claims a student id: ANSWER_FAIL, why saying so, while
 * another running session holds it. */
enum answer_check session_claim_student(struct session_table *t, const char *student,
					char *why, size_t whysz);

/* The calling session claims the target [addr]:port: ANSWER_RETRY, why saying so, while
 * another running session's target is the same server. The addresses of this host (::1,
 * ::, ::ffff:127.0.0.1, its interfaces') are one: a server listening on [::] has them all. */
enum answer_check session_claim_target(struct session_table *t, const struct in6_addr *addr,
				       uint16_t port, char *why, size_t whysz);

/* Forget what session pid claimed: the session itself once its verdict is known, the
 * server when it reaps it (a session that crashed or was killed leaves no claim behind). */
void session_release(struct session_table *t, pid_t pid);

#endif
