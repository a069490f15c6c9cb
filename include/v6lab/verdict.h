/* SPDX-License-Identifier: MIT */
/* The course server's check of the student's reply "t1,t2,t3,t4,t5\n". */
#ifndef V6LAB_VERDICT_H
#define V6LAB_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "v6lab/token.h"

/* Did the student's server serve the course clients concurrently? UNKNOWN: it could not be
 * seen (a client failed, or the server closed no connection). course.h says how it is judged. */
enum concurrency { CONCURRENCY_UNKNOWN, CONCURRENCY_NO, CONCURRENCY_YES };
/* "yes", "no", "unknown": the verdict line's word (and the trace's). */
const char *concurrency_word(enum concurrency c);
/* "true", "false", "null": the grade log's JSON value. */
const char *concurrency_json(enum concurrency c);

/* A reason is at most this long, however many problems it names: each list of them is cut
 * short with "and N more" (verdict.c), so neither the reason nor the verdict line is ever cut. */
#define V6_REASON_MAX 512
/* Room for the whole verdict line: "FAIL: 9/9 tokens, concurrent: unknown; " + reason + "\n". */
#define V6_VERDICT_LINE_MAX (V6_REASON_MAX + 64)

struct verdict {
	bool pass;
	int expected;	 /* tokens issued */
	int ok;		 /* issued tokens found in the reply, once each */
	enum concurrency concurrent;
	char reason[V6_REASON_MAX]; /* empty on PASS; else what was wrong, each problem named */
};

/* Check a reply (line end included or not) against the n issued tokens. */
void verdict_check(const char *reply, const token_t issued[], int n, enum concurrency concurrent,
		   struct verdict *v);
/* A verdict for a session that ended before the reply (reason given). */
void verdict_fail(struct verdict *v, int expected, enum concurrency concurrent,
		  const char *reason);
/* "PASS: 5/5 tokens, concurrent: yes\n" or "FAIL: 3/5 tokens, concurrent: yes; missing: ...\n" */
int verdict_line(const struct verdict *v, char *buf, size_t bufsz);

#endif
