/* SPDX-License-Identifier: MIT */
/* proto_question_number on whatever a course server (or a tunnel) delivers. */
#include <string.h>

#include "fuzz.h"
#include "v6lab/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char prompt[4097], q[256];
	if (size > 4096)
		return 0;
	memcpy(prompt, data, size);
	prompt[size] = '\0';
	int n = proto_question_number(prompt);
	FUZZ_CHECK(n >= 0 && n <= V6_QUESTIONS);
	FUZZ_CHECK(n == 0 || strstr(prompt, V6_PROMPT_END) != NULL);

	/* Our own prompt after any banner line is always understood. */
	int k = size ? 1 + data[0] % V6_QUESTIONS : 1;
	proto_question(k, 5, q, sizeof(q));
	char *nl = memchr(prompt, '\n', size < 200 ? size : 200);
	size_t keep = nl ? (size_t)(nl - prompt) + 1 : 0; /* a first line, if any */
	if (memchr(prompt, '\0', keep) == NULL && keep + strlen(q) < sizeof(prompt) &&
	    !memmem(prompt, keep, V6_PROMPT_END, 3)) {
		memcpy(prompt + keep, q, strlen(q) + 1);
		FUZZ_CHECK(proto_question_number(prompt) == k);
	}
	return 0;
}
