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

/* The red team's reply: 1 real token, 16 copies, 16 unknown tokens, 64 empty items (1021
 * bytes). Every problem is named or counted, and the line is whole, with its "\n". */
static void many_problems_one_line(void **state)
{
	(void)state;
	struct verdict v;
	char reply[2048], buf[V6_VERDICT_LINE_MAX];
	size_t n = (size_t)snprintf(reply, sizeof(reply), "%s", issued[0]);
	for (int i = 0; i < 16; i++)
		n += (size_t)snprintf(reply + n, sizeof(reply) - n, ",%s", issued[0]);
	for (int i = 0; i < 16; i++)
		n += (size_t)snprintf(reply + n, sizeof(reply) - n, ",client%d:ZZZZZZZZZZZZZZZZZZZ%c",
				      1 + i % 5, 'a' + i);
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(reply + n, sizeof(reply) - n, ",");
	snprintf(reply + n, sizeof(reply) - n, "\n");
	assert_int_equal(strlen(reply), 1021);
	verdict_check(reply, issued, 5, CONCURRENCY_YES, &v);
	int len = verdict_line(&v, buf, sizeof(buf));
	assert_true(len > 0 && (size_t)len < sizeof(buf));
	assert_int_equal(buf[len - 1], '\n');
	assert_ptr_equal(strchr(buf, '\n'), buf + len - 1);
	assert_int_equal(v.ok, 1);
	/* 4 missing, 16 unknown, 16 duplicates, 64 empty items: those past a list's room counted */
	assert_non_null(strstr(buf, "missing: client2 client3 client4 client5; unknown: client1 "));
	assert_non_null(strstr(buf, " more; duplicate: client1 "));
	assert_non_null(strstr(buf, "; malformed: '' ''"));
	assert_non_null(strstr(buf, " and 32 more\n")); /* 64 empty items, 32 shown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pass_in_any_order),
		cmocka_unit_test(each_problem_named),
		cmocka_unit_test(empty_and_garbage),
		cmocka_unit_test(fail_before_reply),
		cmocka_unit_test(many_problems_one_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
