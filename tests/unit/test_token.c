/* SPDX-License-Identifier: MIT */
/* The token's form: "clientK:" + 20 [A-Za-z0-9], byte 6 = K. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "v6lab/token.h"

static void made_tokens_are_valid(void **state)
{
	(void)state;
	token_t a, b;
	for (int k = 1; k <= V6_MAX_CLIENTS; k++) {
		assert_true(token_make(k, a));
		assert_int_equal(strlen(a), V6_TOKEN_LEN);
		assert_true(token_valid(a, strlen(a)));
		assert_int_equal(token_index(a), k);
		assert_int_equal(a[6], '0' + k);
	}
	assert_true(token_make(1, a));
	assert_true(token_make(1, b));
	assert_string_not_equal(a, b); /* 62^20 possibilities: equal means no randomness */
	assert_false(token_make(0, a));
	assert_false(token_make(10, a));
}

static void validity(void **state)
{
	(void)state;
	const char *good = "client5:Zz09abcdefghijklmnop";
	assert_true(token_valid(good, strlen(good)));
	assert_false(token_valid(good, strlen(good) - 1));
	assert_false(token_valid("client0:Zz09abcdefghijklmnop", 28));
	assert_false(token_valid("Client5:Zz09abcdefghijklmnop", 28));
	assert_false(token_valid("client5;Zz09abcdefghijklmnop", 28));
	assert_false(token_valid("client5:Zz09abcdefghijklmn p", 28));
	assert_false(token_valid("client5:Zz09abcdefghijklmno" "\xff", 28)); /* 28 bytes, last 0xff */
}

static void record_fits_an_atomic_pipe_write(void **state)
{
	(void)state;
	assert_true(sizeof(struct token_record) <= 512); /* POSIX guarantees PIPE_BUF >= 512 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(made_tokens_are_valid),
		cmocka_unit_test(validity),
		cmocka_unit_test(record_fits_an_atomic_pipe_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
