/* SPDX-License-Identifier: MIT */
/*
 * How the course server cuts what it sends into TCP segments (ipv4-server --framing).
 *
 * TCP carries bytes, not messages, so a correct client reads until a prompt is complete
 * (read_until() in io.h). The 2021 students' clients did not: each called read() exactly
 * twice before every answer, because the course server sent every question as two packets,
 * the colour escape and then the text. FRAMING_2021 sends the same two segments, so that
 * their programs can be graded; the other two show why relying on it is fragile.
 */
#ifndef V6LAB_SEGMENTS_H
#define V6LAB_SEGMENTS_H

#include <stdbool.h>

enum framing {
	FRAMING_2021,	/* colour alone, a gap, then the text: two segments per question */
	FRAMING_MERGED, /* one write per message: colour and text in one segment */
	FRAMING_BYTES,	/* one byte per write */
};
/* "2021", "merged" or "bytes". */
bool framing_parse(const char *s, enum framing *f);

/*
 * The gap between the colour and the text in FRAMING_2021. The text must arrive after the
 * client's first read() has returned the colour and its second read() waits, or the two
 * land in one read() and the second read() blocks for ever. Measured with a read-twice
 * client on loopback, 5 questions x 200-300 sessions per gap: with the machine at load
 * 1.5, 2 ms was enough; at load 8-11 on 2 cores (four busy loops and a build), 20 ms let
 * 2 questions in 1500 merge, 50 ms 1, 100 ms none. It costs 6 x 100 ms a session.
 */
#define V6_FRAMING_GAP_MS 100

/* Each write leaves as a segment of its own, at once (TCP_NODELAY). 0, or -1 with errno. */
int framing_begin(int fd);

/*
 * Send one message: colour (NULL: none) then text, cut as f says. Without a colour every
 * framing but FRAMING_BYTES sends it in one write. Returns 0, or -1 with errno.
 */
int framing_send(int fd, enum framing f, const char *colour, const char *text);

#endif
