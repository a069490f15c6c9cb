/* SPDX-License-Identifier: MIT */
/* read_until and token_read on a real stream (a socketpair) carrying the input, then EOF.
 * Byte 0: the delimiter ("\n" or "\n> ") and the size of the caller's buffer. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "v6lab/io.h"
#include "v6lab/token.h"
#include "v6lab/util.h"

/* A stream that holds data then EOF (input is at most 16 KiB: fits the socket buffer). */
static int stream_of(const uint8_t *data, size_t size)
{
	int sv[2];
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	FUZZ_CHECK(size == 0 || write(sv[1], data, size) == (ssize_t)size);
	close(sv[1]);
	return sv[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 16384)
		return 0;
	const char *delim = data[0] & 1 ? "\n> " : "\n";
	size_t outsz = (data[0] & 0x80) ? 4096 : 1 + (data[0] >> 1) % 64;
	const uint8_t *in = data + 1;
	size_t n = size - 1;

	struct rbuf rb;
	int fd = stream_of(in, n);
	rbuf_init(&rb, fd);
	char *out = malloc(outsz); /* exactly outsz: ASan sees any byte past it */
	size_t pos = 0, partial = 0;
	for (;;) {
		ssize_t r = read_until(&rb, delim, out, outsz, now_ms() + 1000, &partial);
		if (r <= 0) {
			if (r == 0) /* EOF: the rest, cut to the buffer */
				FUZZ_CHECK(partial < outsz && memcmp(out, in + pos, partial) == 0);
			break;
		}
		/* a whole message: what came next on the stream, ending with the delimiter */
		size_t len = (size_t)r, dl = strlen(delim);
		FUZZ_CHECK(len < outsz && len >= dl && out[len] == '\0');
		FUZZ_CHECK(pos + len <= n && memcmp(out, in + pos, len) == 0);
		FUZZ_CHECK(memcmp(out + len - dl, delim, dl) == 0);
		FUZZ_CHECK(memmem(out, len - 1, delim, dl) == NULL || memmem(out, len, delim, dl) == out + len - dl);
		pos += len;
	}
	free(out);
	close(fd);

	/* The student's server reading one token. */
	token_t tok;
	fd = stream_of(in, n);
	enum token_frame f = token_read(fd, 1000, tok);
	close(fd);
	FUZZ_CHECK(f != TOKEN_TIMEOUT); /* EOF is there: never a timeout */
	if (f == TOKEN_OK) {
		FUZZ_CHECK(token_valid(tok, strlen(tok)));
		FUZZ_CHECK(memcmp(tok, in, V6_TOKEN_LEN) == 0);
	}
	return 0;
}
