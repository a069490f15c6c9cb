/* SPDX-License-Identifier: MIT */
/* The course server's concurrency judgement on synthetic timelines, one per server shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "v6lab/course.h"

/* Five clients connected 20 ms apart in the order given by `order` (its first sends last),
 * sending 200 ms apart in the reverse order, the last send at 900 ms. */
static void timeline(struct course_client c[5], const int order[5])
{
	memset(c, 0, 5 * sizeof(*c));
	for (int k = 0; k < 5; k++) {
		struct course_client *x = &c[order[k]];
		x->connected_ms = 1 + 20 * k;
		x->sent_ms = 900 - 200 * k;
	}
	c[order[0]].sends_last = true;
}

static const int in_order[5] = { 0, 1, 2, 3, 4 };

/* Children that close right after their token (30 bytes or EOF alike): each closed 1 ms
 * after its send, the four others before the first connection's send. */
static void concurrent_server(void **state)
{
	(void)state;
	struct course_client c[5];
	timeline(c, in_order);
	for (int i = 0; i < 5; i++)
		c[i].eof_ms = c[i].sent_ms + 1;
	assert_int_equal(course_concurrency(c, 5), CONCURRENCY_YES);
}

/* One connection at a time: nothing is closed before the first connection's token came. */
static void sequential_server(void **state)
{
	(void)state;
	struct course_client c[5];
	timeline(c, in_order);
	for (int i = 0; i < 5; i++)
		c[i].eof_ms = 901 + i;
	assert_int_equal(course_concurrency(c, 5), CONCURRENCY_NO);
	/* the seed's accept-fork-sleep(2)-read-pipe loop: closes come 2 s apart, all after */
	for (int i = 0; i < 5; i++)
		c[i].eof_ms = 901 + 2000 * i;
	assert_int_equal(course_concurrency(c, 5), CONCURRENCY_NO);
}

/* Over Teredo client 1's first SYN was lost: client 2 connected first, so a sequential
 * server is stuck on client 2, and client 1's early close is what a concurrent server
 * does... */
static void first_syn_lost(void **state)
{
	(void)state;
	static const int order[5] = { 1, 2, 3, 4, 0 };
	struct course_client c[5];
	timeline(c, order);
	for (int i = 0; i < 5; i++)
		c[i].eof_ms = c[i].sent_ms + 1;
	assert_int_equal(course_concurrency(c, 5), CONCURRENCY_YES);
	/* ...while a sequential one closes nothing before client 2's send, client 1 included */
	for (int i = 0; i < 5; i++)
		c[i].eof_ms = 901 + i;
	assert_int_equal(course_concurrency(c, 5), CONCURRENCY_NO);
}

static void cannot_be_seen(void **state)
{
	(void)state;
	struct course_client c[5];
	timeline(c, in_order);
	/* the server closed no connection (a parent that keeps them all) */
	assert_int_equal(course_concurrency(c, 5), CONCURRENCY_UNKNOWN);
	/* a client could not connect: nobody was seen served before the first one's send */
	for (int i = 0; i < 5; i++)
		c[i].eof_ms = 901 + i;
	c[3].connected_ms = c[3].sent_ms = c[3].eof_ms = 0;
	assert_int_equal(course_concurrency(c, 5), CONCURRENCY_UNKNOWN);
	/* the first one never sent */
	timeline(c, in_order);
	c[0].sent_ms = 0;
	assert_int_equal(course_concurrency(c, 5), CONCURRENCY_UNKNOWN);
	/* one client only: nothing to compare */
	timeline(c, in_order);
	c[0].sends_last = false;
	assert_int_equal(course_concurrency(c, 1), CONCURRENCY_UNKNOWN);
}

/* A client that could not connect does not hide what the others showed. */
static void failed_client_after_evidence(void **state)
{
	(void)state;
	struct course_client c[5];
	timeline(c, in_order);
	for (int i = 0; i < 5; i++)
		c[i].eof_ms = c[i].sent_ms + 1;
	c[1].connected_ms = c[1].sent_ms = c[1].eof_ms = 0;
	assert_int_equal(course_concurrency(c, 5), CONCURRENCY_YES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(concurrent_server),
		cmocka_unit_test(sequential_server),
		cmocka_unit_test(first_syn_lost),
		cmocka_unit_test(cannot_be_seen),
		cmocka_unit_test(failed_client_after_evidence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
