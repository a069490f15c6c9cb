/* SPDX-License-Identifier: MIT */
/*
 * BROKEN ON PURPOSE (a teaching and test helper, never installed): the IPv6 server with
 * one classic mistake. The parent never closes the listening socket after the last
 * token: until the process exits, a 6th client is queued by the kernel instead of
 * refused. Fix: Close(listen_fd) once the tokens are in.
 *
 * The code is src/broken/broken-ipv6-server.h, the reference server cut down; the lines
 * marked MISTAKE there are the difference. scripts/v6trace lint finds it:
 * tutorials/04-classic-mistakes.md.
 */
#include "broken-ipv6-server.h"

int main(int argc, char **argv)
{
	static const struct mistake m = { .never_close_listen = true };
	return broken_ipv6_server_main(argc, argv, &m);
}
