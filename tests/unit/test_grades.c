/* SPDX-License-Identifier: MIT */
/* The grade log line: valid JSON whatever a student typed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "v6lab/grades.h"

static void line_format(void **state)
{
	(void)state;
	struct verdict v;
	char buf[2048];
	verdict_fail(&v, 5, CONCURRENCY_NO, "malformed: 'a\"b\\c\x01'");
	struct grade g = { .student = "123", .peer = "127.0.0.1:4000", .v6addr = "::1",
			   .v6port = 7002, .verdict = &v, .elapsed_ms = 42 };
	int n = grades_format(&g, 0, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf,
		"{\"time\":\"1970-01-01T00:00:00Z\",\"student\":\"123\",\"peer\":\"127.0.0.1:4000\","
		"\"v6addr\":\"::1\",\"v6port\":7002,\"tokens_expected\":5,\"tokens_ok\":0,"
		"\"concurrent\":false,\"verdict\":\"FAIL\","
		"\"reason\":\"malformed: 'a\\\"b\\\\c\\u0001'\",\"elapsed_ms\":42}\n");
	assert_null(memchr(buf, '\n', (size_t)n - 1)); /* exactly one line */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
