/* SPDX-License-Identifier: MIT */
/*
 * BROKEN ON PURPOSE (a teaching and test helper, never installed): the "concurrent" server
 * of the seed. It forks a child per connection, but then waits for that child's token on
 * the pipe before accepting the next connection, so it serves one client at a time.
 * Everything else is right (children reaped, queue filled): the course server gives PASS
 * with "concurrent: no". Fix: wait on the listening socket and the pipe at once (poll), as
 * src/roles/ipv6-server.c does.
 *
 * The code is src/broken/broken-ipv6-server.h, the reference server cut down; the lines
 * marked MISTAKE there are the difference. scripts/v6trace lint finds it:
 * tutorials/04-classic-mistakes.md.
 */
#include "broken-ipv6-server.h"

int main(int argc, char **argv)
{
	static const struct mistake m = { .sequential = true };
	return broken_ipv6_server_main(argc, argv, &m);
}
