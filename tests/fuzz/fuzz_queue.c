/* SPDX-License-Identifier: MIT */
/* queue_take_tokens on a real System V queue filled from the input, then the end message:
 * records are [type][length][bytes], any type 1..4, up to 1023 bytes (more than the 256 a
 * token message has). Run with -timeout=0: the queue code uses SIGALRM itself. */
#include <errno.h>
#include <string.h>
#include <sys/msg.h>
#include <unistd.h>

#include "fuzz.h"
#include "v6lab/queue.h"
#include "v6lab/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct { long type; char text[1024]; } m;
	key_t key = (key_t)(0x46000000 | (getpid() & 0xffffff));
	char err[256];
	token_t toks[V6_MAX_CLIENTS];

	int id = queue_create(key, err, sizeof(err));
	FUZZ_CHECK(id >= 0);
	size_t i = 0, bytes = 0;
	while (i + 2 <= size) {
		m.type = 1 + data[i] % 4;
		size_t len = data[i + 1] * 4u;
		i += 2;
		if (len > size - i)
			len = size - i;
		if (bytes + len > 12000)
			break; /* leave room for the end message */
		memcpy(m.text, data + i, len);
		i += len;
		bytes += len;
		if (msgsnd(id, &m, len, IPC_NOWAIT) < 0)
			break;
	}
	m.type = V6_MSG_END;
	strcpy(m.text, "0");
	FUZZ_CHECK(msgsnd(id, &m, 2, IPC_NOWAIT) == 0);

	int n = queue_take_tokens(key, toks, V6_MAX_CLIENTS, now_ms() + 2000, -1, err, sizeof(err));
	FUZZ_CHECK(n >= 0 && n <= V6_MAX_CLIENTS); /* the end message is always there */
	for (int k = 0; k < n; k++)
		FUZZ_CHECK(token_valid(toks[k], strlen(toks[k])));
	FUZZ_CHECK(msgget(key, 0) < 0 && errno == ENOENT); /* removed once read */
	return 0;
}
