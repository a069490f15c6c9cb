/* SPDX-License-Identifier: MIT */
/*
 * The System V message queue between the student's two programs, which are not related
 * (no common parent to share a pipe): the IPv6 server puts the tokens on it, the IPv4
 * client takes them off and removes it.
 *
 * msgsnd() and msgrcv() have no timeout: while they block, queue_put_tokens() and
 * queue_take_tokens() use ITIMER_REAL and a SIGALRM handler of their own. The program's
 * SIGALRM action is restored after each call; a timer of its own (alarm()) is cancelled,
 * so set one only after them, as the pipe-eof broken server does.
 */
#ifndef V6LAB_QUEUE_H
#define V6LAB_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "v6lab/token.h"

/* Default key: 'v' '6' then the IPv6 server's port, so both programs agree on it
 * without a file (the assignment forbids files) and two students on one host differ. */
#define V6_QUEUE_KEY_BASE 0x76360000
key_t queue_key_for_port(uint16_t port);
/* --queue-key: decimal or 0x hex, not 0 (IPC_PRIVATE). */
bool parse_queue_key(const char *s, key_t *key);

/* The message, as in the assignment: a type and a text; msgsz excludes the long. */
struct token_msg {
	long mtype;
	char text[256];
};
#define V6_MSG_TOKEN 1L /* text: one token */
#define V6_MSG_END 2L	/* text: how many tokens were sent, in decimal */

/*
 * IPv6 server side: create the queue (mode 0600). A queue left at that key by an earlier
 * run is reported and replaced when it belongs to us; someone else's is refused.
 * Returns the id, or -1 with a one-line reason in err.
 */
int queue_create(key_t key, char *err, size_t errsz);
/* Put n tokens then the end message. Returns 0, or -1 with errno (ETIMEDOUT if full too long). */
int queue_put_tokens(int id, const token_t tokens[], int n, int64_t deadline_ms);

/*
 * IPv4 client side: wait for the queue to exist and take tokens off it until the end
 * message, at most max, all before deadline_ms. Returns how many, or -1 with a one-line
 * reason in err. The queue is removed once read. If watch_fd (>= 0) becomes readable
 * first, it gives up with errno ECANCELED: the course server has already answered.
 */
int queue_take_tokens(key_t key, token_t tokens[], int max, int64_t deadline_ms, int watch_fd,
		      char *err, size_t errsz);

#endif
