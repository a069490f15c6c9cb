/* SPDX-License-Identifier: MIT */
/*
 * Tokens: what each course IPv6 client sends, and how the student's server passes it on.
 * On the wire: "clientK:" + 20 characters [A-Za-z0-9] + "\r\n" = 30 bytes (K = 1..9,
 * byte 6 is K). The token itself is the 28 printable characters.
 *
 * The one definition of the token's format: the programs (src/lib/token.c), the trace
 * layer's token finder (trace/tokens.c) and scripts/v6trace (scripts/v6tracelib/spec.py
 * reads the V6_TOKEN_* defines below) all take it from here.
 */
#ifndef V6LAB_TOKEN_H
#define V6LAB_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define V6_TOKEN_PREFIX "client" /* then K and ':' */
#define V6_TOKEN_PREFIX_LEN 8       /* "clientK:" */
#define V6_TOKEN_RANDOM_LEN 20
#define V6_TOKEN_LEN (V6_TOKEN_PREFIX_LEN + V6_TOKEN_RANDOM_LEN)
#define V6_TOKEN_WIRE_LEN (V6_TOKEN_LEN + 2)
#define V6_MAX_CLIENTS 9

typedef char token_t[V6_TOKEN_LEN + 1];

/* A fresh random token for client index (1..9). False if no randomness was available. */
bool token_make(int index, token_t out);
/* Does s[0..len) have the token's form? */
bool token_valid(const char *s, size_t len);
/* The client number K of a valid token. */
int token_index(const char *tok);

enum token_frame {
	TOKEN_OK,
	TOKEN_MALFORMED, /* a line, but not "clientK:" + 20 [A-Za-z0-9] */
	TOKEN_OVERSIZED, /* no line end within V6_TOKEN_WIRE_LEN bytes */
	TOKEN_TRUNCATED, /* the peer closed before the line end */
	TOKEN_TIMEOUT,	 /* nothing complete within the read timeout */
	TOKEN_IO_ERROR,	 /* reset or another read error */
};
const char *token_frame_name(enum token_frame f);

/* Read one token line from a connected socket (whatever the segments); fills tok on TOKEN_OK.
 * Traces the token's arrival (V6_TOKEN_RECEIVED, the outcome as detail) either way. */
enum token_frame token_read(int fd, int timeout_ms, token_t tok);

/* What a child of the IPv6 server writes to the pipe: one fixed-size record, smaller than
 * PIPE_BUF so the write is atomic even when several children write at once. */
struct token_record {
	int32_t pid;
	int32_t status; /* enum token_frame */
	char peer[56];
	token_t token;
};

#endif
