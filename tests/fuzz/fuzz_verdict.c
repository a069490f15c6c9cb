/* SPDX-License-Identifier: MIT */
/* verdict_check on any reply, then the verdict line and the grade log line built from it
 * (the reply also stands in for the student id and peer, to fuzz the JSON escaping).
 * Byte 0: how many tokens were issued (1..9). */
#include <string.h>

#include "fuzz.h"
#include "v6lab/grades.h"
#include "v6lab/verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const issued_text[V6_MAX_CLIENTS] = {
		"client1:AAAAAAAAAAAAAAAAAAAA", "client2:BBBBBBBBBBBBBBBBBBBB",
		"client3:CCCCCCCCCCCCCCCCCCCC", "client4:DDDDDDDDDDDDDDDDDDDD",
		"client5:EEEEEEEEEEEEEEEEEEEE", "client6:FFFFFFFFFFFFFFFFFFFF",
		"client7:GGGGGGGGGGGGGGGGGGGG", "client8:HHHHHHHHHHHHHHHHHHHH",
		"client9:IIIIIIIIIIIIIIIIIIII",
	};
	token_t issued[V6_MAX_CLIENTS];
	char reply[2049], line[V6_VERDICT_LINE_MAX], json[4096];

	if (size < 1 || size > 2048)
		return 0;
	int n = 1 + data[0] % V6_MAX_CLIENTS;
	for (int i = 0; i < n; i++)
		memcpy(issued[i], issued_text[i], sizeof(token_t));
	memcpy(reply, data + 1, size - 1);
	reply[size - 1] = '\0';

	struct verdict v;
	verdict_check(reply, issued, n, (enum concurrency)(data[0] / V6_MAX_CLIENTS % 3), &v);
	FUZZ_CHECK(v.expected == n && v.ok >= 0 && v.ok <= n);
	FUZZ_CHECK(v.pass == (v.reason[0] == '\0'));
	FUZZ_CHECK(!v.pass || v.ok == n);
	int len = verdict_line(&v, line, sizeof(line)); /* the size ipv4-server gives it */
	FUZZ_CHECK(len > 0 && (size_t)len < sizeof(line)); /* never cut: one whole line */
	FUZZ_CHECK(line[len - 1] == '\n' && memchr(line, '\n', (size_t)len) == line + len - 1);

	struct grade g = { .student = reply, .peer = reply, .v6addr = "::1", .v6port = 7002,
			   .verdict = &v, .elapsed_ms = 1 };
	len = grades_format(&g, 1700000000, json, sizeof(json));
	FUZZ_CHECK(len > 0 && (size_t)len < sizeof(json)); /* the log's line never cut */
	FUZZ_CHECK(json[0] == '{' && json[len - 2] == '}' && json[len - 1] == '\n');
	for (int i = 0; i < len - 1; i++) /* one line: no raw control character inside */
		FUZZ_CHECK((unsigned char)json[i] >= 0x20 && json[i] != 0x7f);
	return 0;
}
