/* SPDX-License-Identifier: MIT */
/* The course server's check of the student's reply "t1,t2,t3,t4,t5\n". */
#ifndef V6LAB_VERDICT_H
#define V6LAB_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include "v6lab/token.h"

struct verdict {
	bool pass;
	int expected;	 /* tokens issued */
	int ok;		 /* issued tokens found in the reply, once each */
	const char *concurrent; /* "yes", "no" or "unknown" */
	char reason[512];	/* empty on PASS; else what was wrong, each problem named */
};

/* Check a reply (line end included or not) against the n issued tokens. */
void verdict_check(const char *reply, const token_t issued[], int n, const char *concurrent,
		   struct verdict *v);
/* A verdict for a session that ended before the reply (reason given). */
void verdict_fail(struct verdict *v, int expected, const char *concurrent, const char *reason);
/* "PASS: 5/5 tokens, concurrent: yes\n" or "FAIL: 3/5 tokens, concurrent: yes; missing: ...\n" */
int verdict_line(const struct verdict *v, char *buf, size_t bufsz);

#endif
