/* SPDX-License-Identifier: MIT */
#include "v6lab/token.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "v6lab/io.h"
#include "v6lab/util.h"
#include "v6lab/wrap.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

bool token_make(int index, token_t out)
{
	unsigned char rnd[V6_TOKEN_RANDOM_LEN];
	if (index < 1 || index > V6_MAX_CLIENTS ||
	    getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return false;
	snprintf(out, V6_TOKEN_PREFIX_LEN + 1, "client%d:", index);
	for (int i = 0; i < V6_TOKEN_RANDOM_LEN; i++)
		out[V6_TOKEN_PREFIX_LEN + i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	out[V6_TOKEN_LEN] = '\0';
	v6_trace_token(V6_TOKEN_GENERATED, out, "");
	return true;
}

bool token_valid(const char *s, size_t len)
{
	if (len != V6_TOKEN_LEN || memcmp(s, "client", 6) != 0 || s[6] < '1' || s[6] > '9' ||
	    s[7] != ':')
		return false;
	for (size_t i = V6_TOKEN_PREFIX_LEN; i < len; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return true;
}

int token_index(const char *tok)
{
	return tok[6] - '0';
}

const char *token_frame_name(enum token_frame f)
{
	switch (f) {
	case TOKEN_OK: return "ok";
	case TOKEN_MALFORMED: return "malformed token";
	case TOKEN_OVERSIZED: return "no line end within 30 bytes (oversized)";
	case TOKEN_TRUNCATED: return "connection closed in the middle of the token";
	case TOKEN_TIMEOUT: return "no complete token before the timeout";
	case TOKEN_IO_ERROR: return "read error (connection reset?)";
	}
	return "?";
}

static enum token_frame read_token_line(int fd, int timeout_ms, token_t tok)
{
	struct rbuf rb;
	char line[V6_TOKEN_WIRE_LEN + 1];
	size_t partial = 0;

	rbuf_init(&rb, fd);
	ssize_t n = read_until(&rb, "\n", line, sizeof(line), now_ms() + timeout_ms, &partial);
	if (n == 0)
		return TOKEN_TRUNCATED;
	if (n < 0)
		return errno == ETIMEDOUT ? TOKEN_TIMEOUT
		       : errno == EMSGSIZE ? TOKEN_OVERSIZED
					   : TOKEN_IO_ERROR;
	/* "clientK:" + 20 + "\r\n"; a bare "\n" is accepted too. */
	size_t len = (size_t)n - 1;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (!token_valid(line, len))
		return TOKEN_MALFORMED;
	memcpy(tok, line, V6_TOKEN_LEN);
	tok[V6_TOKEN_LEN] = '\0';
	return TOKEN_OK;
}

enum token_frame token_read(int fd, int timeout_ms, token_t tok)
{
	enum token_frame f = read_token_line(fd, timeout_ms, tok);
	/* tok is only filled on TOKEN_OK: a failure has no token, only its reason. */
	v6_trace_token(V6_TOKEN_RECEIVED, f == TOKEN_OK ? tok : "", token_frame_name(f));
	return f;
}
