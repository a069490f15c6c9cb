/* SPDX-License-Identifier: MIT */
/* The IPv4 leg's questions and answer validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "v6lab/proto.h"

static struct prefix6 allow[3];

static int setup(void **state)
{
	(void)state;
	parse_prefix6("::1/128", &allow[0]);
	parse_prefix6("2001::/32", &allow[1]);
	parse_prefix6("2001:db8::/32", &allow[2]);
	return 0;
}

static enum answer_check check(int q, const char *s, struct answers *a, char *why)
{
	return proto_check_answer(q, s, allow, 3, a, why, 384);
}

static void question_text_and_number(void **state)
{
	(void)state;
	char buf[256];
	for (int q = 1; q <= V6_QUESTIONS; q++) {
		int n = proto_question(q, 5, buf, sizeof(buf));
		assert_int_equal(n, (int)strlen(buf));
		assert_true(n > 3 && strcmp(buf + n - 3, V6_PROMPT_END) == 0);
		assert_int_equal(proto_question_number(buf), q);
	}
	proto_question(Q_CONCURRENT, 5, buf, sizeof(buf));
	assert_string_equal(buf, "[5/6] Will it serve the 5 clients concurrently? (Y/N)\n> ");
	assert_int_equal(proto_question(7, 5, buf, sizeof(buf)), -1);
	/* a number is read from the last line only */
	assert_int_equal(proto_question_number("error: x\n[3/6] Port\n> "), 3);
	assert_int_equal(proto_question_number("[3/6] Port\n"), 0);
	assert_int_equal(proto_question_number("no number\n> "), 0);
	/* each question follows the colour packet (--framing merged: in the same read) */
	assert_int_equal(proto_question_number("\033[1;36m[2/6] IPv6 address\n> "), 2);
	assert_int_equal(proto_question_number("\033[1;36merror: x\n\033[1;36m[4/6] Is\n> "), 4);
	assert_int_equal(proto_question_number("\033[1;36[2/6] IPv6 address\n> "), 0);
}

/* What the server sent, shown on the student's terminal: colours only. */
static void for_terminal(void **state)
{
	(void)state;
	char a[] = "\033[1;36m[1/6] Student id\n> ";
	assert_string_equal(proto_for_terminal(a, true), "\033[1;36m[1/6] Student id\n> ");
	char b[] = "\033]52;c;ZXZpbA==\a\033[2J\033[H\033]0;title\033\\x\ty\r\bz\x7f\033[0m";
	assert_string_equal(proto_for_terminal(b, true), "x\tyz\033[0m");
	char c[] = "cut \033]52;c;never ended", d[] = "cut \033[1;3", e[] = "\033";
	assert_string_equal(proto_for_terminal(c, true), "cut ");
	assert_string_equal(proto_for_terminal(d, true), "cut ");
	assert_string_equal(proto_for_terminal(e, true), "");
	char f[] = "\033[?1049h\033[1;36;5m\033(0ok";
	assert_string_equal(proto_for_terminal(f, true), "\033[1;36;5mok");
	/* NO_COLOR, or not a terminal: the colours go too */
	char g[] = "\033[1;36m[1/6] Student id\n> \033[0m\033[2J";
	assert_string_equal(proto_for_terminal(g, false), "[1/6] Student id\n> ");
}

static void chomp_both_line_ends(void **state)
{
	(void)state;
	char a[] = "OK\r\n", b[] = "OK\n", c[] = "OK";
	assert_string_equal(proto_chomp(a), "OK");
	assert_string_equal(proto_chomp(b), "OK");
	assert_string_equal(proto_chomp(c), "OK");
}

static void student_id(void **state)
{
	(void)state;
	struct answers a = { 0 };
	char why[384];
	assert_int_equal(check(Q_STUDENT_ID, "2021123456", &a, why), ANSWER_OK);
	assert_string_equal(a.student, "2021123456");
	assert_int_equal(check(Q_STUDENT_ID, "", &a, why), ANSWER_RETRY);
	assert_int_equal(check(Q_STUDENT_ID, "12a", &a, why), ANSWER_RETRY);
	assert_int_equal(check(Q_STUDENT_ID, "123456789012345678901234567890123", &a, why),
			 ANSWER_RETRY);
}

static void ipv6_address(void **state)
{
	(void)state;
	struct answers a = { 0 };
	char why[384];
	assert_int_equal(check(Q_V6_ADDR, "2001:0:53aa:64c:1c:2e55:a7b3:fe8b", &a, why), ANSWER_OK);
	assert_string_equal(a.v6addr, "2001:0:53aa:64c:1c:2e55:a7b3:fe8b");
	assert_int_equal(check(Q_V6_ADDR, "::1", &a, why), ANSWER_OK);
	assert_int_equal(check(Q_V6_ADDR, "2001:db8:1::100", &a, why), ANSWER_OK);

	assert_int_equal(check(Q_V6_ADDR, "127.0.0.1", &a, why), ANSWER_RETRY);
	assert_non_null(strstr(why, "IPv4 address"));
	assert_int_equal(check(Q_V6_ADDR, "fe80::1", &a, why), ANSWER_RETRY);
	assert_non_null(strstr(why, "outside the prefixes"));
	assert_non_null(strstr(why, "2001::/32"));
	assert_int_equal(check(Q_V6_ADDR, "2002::1", &a, why), ANSWER_RETRY);
	assert_int_equal(check(Q_V6_ADDR, "hello", &a, why), ANSWER_RETRY);
	assert_non_null(strstr(why, "not an IPv6 address"));
}

static void port(void **state)
{
	(void)state;
	struct answers a = { 0 };
	char why[384];
	assert_int_equal(check(Q_V6_PORT, "7002", &a, why), ANSWER_OK);
	assert_int_equal(a.port, 7002);
	assert_int_equal(check(Q_V6_PORT, "65535", &a, why), ANSWER_OK);
	assert_int_equal(check(Q_V6_PORT, "0", &a, why), ANSWER_RETRY);
	assert_int_equal(check(Q_V6_PORT, "65536", &a, why), ANSWER_RETRY);
	assert_int_equal(check(Q_V6_PORT, "-1", &a, why), ANSWER_RETRY);
	assert_int_equal(check(Q_V6_PORT, "70 02", &a, why), ANSWER_RETRY);
	assert_int_equal(check(Q_V6_PORT, "", &a, why), ANSWER_RETRY);
}

static void confirmations(void **state)
{
	(void)state;
	struct answers a = { 0 };
	char why[384];
	assert_int_equal(check(Q_READY, "Y", &a, why), ANSWER_OK);
	assert_int_equal(check(Q_READY, "y", &a, why), ANSWER_OK);
	assert_int_equal(check(Q_CONCURRENT, "yes", &a, why), ANSWER_OK);
	assert_int_equal(check(Q_READY, "N", &a, why), ANSWER_FAIL);
	assert_non_null(strstr(why, "start your IPv6 server"));
	assert_int_equal(check(Q_CONCURRENT, "maybe", &a, why), ANSWER_RETRY);
	assert_int_equal(check(Q_START, "OK", &a, why), ANSWER_OK);
	assert_int_equal(check(Q_START, "ok", &a, why), ANSWER_OK);
	assert_int_equal(check(Q_START, "Y", &a, why), ANSWER_RETRY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(question_text_and_number),
		cmocka_unit_test(chomp_both_line_ends),
		cmocka_unit_test(for_terminal),
		cmocka_unit_test(student_id),
		cmocka_unit_test(ipv6_address),
		cmocka_unit_test(port),
		cmocka_unit_test(confirmations),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
