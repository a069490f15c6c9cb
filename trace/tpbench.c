/* SPDX-License-Identifier: MIT */
/*
 * v6lab-tpbench: what one v6lab tracepoint costs, for scripts/bench-trace.
 * Prints ns per iteration of a bare loop, of a one-field event (v6lab_process:fork_entry) and of
 * the widest one the wrappers fire (v6lab_io:read with a token), with or without a
 * session: run it plain, then under scripts/trace, and compare.
 *
 * usage: v6lab-tpbench [ITERATIONS]   (default 2000000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "v6lab_io.h"
#include "v6lab_process.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;
	static const char token[] = "client1:abcdefghijABCDEFGHIJ";
	volatile int sink = 0;

	if (n < 1) {
		fprintf(stderr, "usage: v6lab-tpbench [ITERATIONS]\n");
		return 2;
	}
	int64_t t0 = now_ns();
	for (long i = 0; i < n; i++)
		sink = sink + 1; /* the loop alone */
	int64_t t1 = now_ns();
	for (long i = 0; i < n; i++)
		lttng_ust_tracepoint(v6lab_process, fork_entry, 0);
	int64_t t2 = now_ns();
	for (long i = 0; i < n; i++)
		lttng_ust_tracepoint(v6lab_io, read, 0, 3, 1, (size_t)4096, (ssize_t)30, 0, 1, token);
	int64_t t3 = now_ns();
	/* Per iteration, loop included: a disabled tracepoint costs about what the bare loop
	 * does, so subtracting would leave noise. */
	printf("loop %.2f ns, fork_entry %.2f ns, read %.2f ns (per iteration, %ld iterations)\n",
	       (double)(t1 - t0) / n, (double)(t2 - t1) / n, (double)(t3 - t2) / n, n);
	return 0;
}
