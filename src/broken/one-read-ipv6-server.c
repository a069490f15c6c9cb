/* SPDX-License-Identifier: MIT */
/*
 * BROKEN ON PURPOSE (a teaching and test helper, never installed): the IPv6 server with
 * one classic mistake. The child reads the token with a single read(fd, buf, 30) and
 * takes what it returned as the whole token. TCP may deliver the 30 bytes in several
 * pieces (over a tunnel, or when the client writes them in parts): then the token is cut.
 * Fix: read in a loop until the line end (token_read, read_until).
 *
 * The code is src/broken/broken-ipv6-server.h, the reference server cut down; the lines
 * marked MISTAKE there are the difference. scripts/v6trace lint finds it:
 * tutorials/04-classic-mistakes.md.
 */
#include "broken-ipv6-server.h"

int main(int argc, char **argv)
{
	static const struct mistake m = { .one_read = true };
	return broken_ipv6_server_main(argc, argv, &m);
}
