/* SPDX-License-Identifier: MIT */
/* The course server's grade log: one JSON object per session, one line each. */
#ifndef V6LAB_GRADES_H
#define V6LAB_GRADES_H

#include <stdint.h>

#include "v6lab/verdict.h"

struct grade {
	const char *student, *peer, *v6addr;
	int v6port;
	const struct verdict *verdict;
	int64_t elapsed_ms;
};

/* Append one line (a single write with O_APPEND, then fsync: never a torn line).
 * Returns 0, or -1 with errno. */
int grades_append(const char *path, const struct grade *g);
/* The JSON line itself (exposed for the unit test). Returns its length. */
int grades_format(const struct grade *g, long long unix_time, char *buf, size_t bufsz);

#endif
