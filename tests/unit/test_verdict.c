/* SPDX-License-Identifier: MIT */
/* The course server's check of "t1,...,t5\n": every kind of wrong reply is named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "v6lab/verdict.h"

static token_t issued[5] = {
	"client1:AAAAAAAAAAAAAAAAAAAA", "client2:BBBBBBBBBBBBBBBBBBBB",
	"client3:CCCCCCCCCCCCCCCCCCCC", "client4:DDDDDDDDDDDDDDDDDDDD",
	"client5:EEEEEEEEEEEEEEEEEEEE",
};

static const char *line(const char *reply, struct verdict *v)
{
	static char buf[1024];
	verdict_check(reply, issued, 5, CONCURRENCY_YES, v);
	verdict_line(v, buf, sizeof(buf));
	return buf;
}

static void pass_in_any_order(void **state)
{
	(void)state;
	struct verdict v;
	char reply[256];
	snprintf(reply, sizeof(reply), "%s,%s,%s,%s,%s\n", issued[4], issued[2], issued[0],
		 issued[3], issued[1]);
	assert_int_equal(strlen(reply), 145); /* the size the 2021 clients sent */
	assert_string_equal(line(reply, &v), "PASS: 5/5 tokens, concurrent: yes\n");
	assert_true(v.pass);
	/* "\r\n" line end, and no line end at all (peer closed) */
	snprintf(reply, sizeof(reply), "%s,%s,%s,%s,%s\r\n", issued[0], issued[1], issued[2],
		 issued[3], issued[4]);
	assert_true(line(reply, &v) && v.pass);
	reply[strlen(reply) - 2] = '\0';
	assert_true(line(reply, &v) && v.pass);
}

static void each_problem_named(void **state)
{
	(void)state;
	struct verdict v;
	char reply[512];
	/* client2 missing, client1 twice, an unknown client3 token, a malformed item */
	snprintf(reply, sizeof(reply), "%s,%s,client3:XXXXXXXXXXXXXXXXXXXX,%s,%s,%s,oops\n",
		 issued[0], issued[0], issued[2], issued[3], issued[4]);
	line(reply, &v);
	assert_false(v.pass);
	assert_int_equal(v.ok, 4);
	assert_string_equal(v.reason,
			    "missing: client2; unknown: client3; duplicate: client1; malformed: 'oops'");
}

static void empty_and_garbage(void **state)
{
	(void)state;
	struct verdict v;
	assert_string_equal(line("\n", &v), "FAIL: 0/5 tokens, concurrent: yes; empty reply; "
					     "missing: client1 client2 client3 client4 client5\n");
	line("\x1b[31mhello\x01,\n", &v);
	assert_false(v.pass);
	assert_non_null(strstr(v.reason, "malformed: '?[31mhello?' ''"));
}

static void fail_before_reply(void **state)
{
	(void)state;
	struct verdict v;
	char buf[256];
	verdict_fail(&v, 5, CONCURRENCY_UNKNOWN, "no answer to question 2 in time");
	verdict_line(&v, buf, sizeof(buf));
	assert_string_equal(buf, "FAIL: 0/5 tokens, concurrent: unknown; no answer to question 2 in time\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pass_in_any_order),
		cmocka_unit_test(each_problem_named),
		cmocka_unit_test(empty_and_garbage),
		cmocka_unit_test(fail_before_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
