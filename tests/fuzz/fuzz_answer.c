/* SPDX-License-Identifier: MIT */
/* proto_chomp + proto_check_answer: byte 0 picks the question (0..7, 0 and 7 invalid),
 * the rest is the student's line. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "v6lab/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct prefix6 allow[3];
	static bool ready;
	if (!ready) {
		ready = parse_prefix6("::1/128", &allow[0]) && parse_prefix6("2001::/32", &allow[1]) &&
			parse_prefix6("2001:db8::/33", &allow[2]);
		FUZZ_CHECK(ready);
	}
	if (size < 1 || size > 2 * V6_ANSWER_MAX)
		return 0;
	char line[2 * V6_ANSWER_MAX + 1], why[384];
	memcpy(line, data + 1, size - 1);
	line[size - 1] = '\0';
	int q = data[0] % (V6_QUESTIONS + 2);
	struct answers a;
	memset(&a, 0, sizeof(a));

	char *answer = proto_chomp(line);
	enum answer_check r = proto_check_answer(q, answer, allow, 3, &a, why, sizeof(why));
	FUZZ_CHECK(r == ANSWER_OK || r == ANSWER_RETRY || r == ANSWER_FAIL);
	FUZZ_CHECK(r == ANSWER_OK ? why[0] == '\0' : why[0] != '\0'); /* a refusal says why */
	if (r == ANSWER_OK && q == Q_STUDENT_ID) {
		size_t n = strlen(a.student);
		FUZZ_CHECK(n >= 1 && n < sizeof(a.student) && strcmp(a.student, answer) == 0);
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(isdigit((unsigned char)a.student[i]));
	}
	if (r == ANSWER_OK && q == Q_V6_PORT)
		FUZZ_CHECK(a.port >= 1);
	if (r == ANSWER_OK && q == Q_V6_ADDR) {
		bool inside = false;
		for (int i = 0; i < 3; i++)
			inside |= prefix6_contains(&allow[i], &a.addr);
		FUZZ_CHECK(inside && a.v6addr[0] != '\0');
	}
	return 0;
}
